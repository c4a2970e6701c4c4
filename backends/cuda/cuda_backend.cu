/* CUDA backend: context, device buffers and the ops table. All work is queued
 * on one stream; calls that hand results to the host synchronize it. */
#include <stdio.h>
#include <stdlib.h>

#include "cuda_internal.h"

/* The library that loaded the module, given to reco_backend_cuda_init. */
static const reco_module_host *host;

reco_status cuda_fail(reco_status status, const char *detail)
{
    return host->fail(status, detail);
}

reco_status cuda_check(cudaError_t err, const char *what)
{
    if (err == cudaSuccess)
        return RECO_OK;
    char detail[256];
    snprintf(detail, sizeof detail, "cuda backend: %s: %s", what, cudaGetErrorString(err));
    cudaGetLastError(); /* clear a sticky non-fatal error */
    return cuda_fail(err == cudaErrorMemoryAllocation ? RECO_ERR_OUT_OF_MEMORY
                                                              : RECO_ERR_BACKEND,
                             detail);
}

reco_status cublas_check(cublasStatus_t err, const char *what)
{
    if (err == CUBLAS_STATUS_SUCCESS)
        return RECO_OK;
    char detail[256];
    snprintf(detail, sizeof detail, "cuda backend: %s: cuBLAS status %d", what, (int)err);
    return cuda_fail(err == CUBLAS_STATUS_ALLOC_FAILED ? RECO_ERR_OUT_OF_MEMORY
                                                               : RECO_ERR_BACKEND,
                             detail);
}

/* cuBLAS's workspace: what NVIDIA recommends for Hopper. */
#define CUBLAS_WORKSPACE_BYTES ((size_t)32 << 20)

static reco_status cuda_create(void **out)
{
    int devices = 0;
    if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
        cudaGetLastError();
        return cuda_fail(RECO_ERR_BACKEND_UNAVAILABLE,
                                 "backend 'cuda': no CUDA device is present");
    }
    cuda_context *context = (cuda_context *)calloc(1, sizeof *context);
    if (!context)
        return cuda_fail(RECO_ERR_OUT_OF_MEMORY, "out of memory");
    pthread_mutex_init(&context->call_lock, NULL);
    reco_status status = cuda_check(cudaGetDevice(&context->device), "cudaGetDevice");
    if (status == RECO_OK)
        status = cuda_check(cudaStreamCreate(&context->stream), "cudaStreamCreate");
    if (status == RECO_OK)
        status = cublas_check(cublasCreate(&context->blas), "cublasCreate");
    if (status == RECO_OK)
        status = cublas_check(cublasSetStream(context->blas, context->stream), "cublasSetStream");
    if (status == RECO_OK)
        status = cublas_check(cublasSetPointerMode(context->blas, CUBLAS_POINTER_MODE_HOST),
                              "cublasSetPointerMode");
    /* cuBLAS may not allocate while a training step is captured as a graph */
    if (status == RECO_OK)
        status = cuda_check(cudaMalloc(&context->blas_workspace, CUBLAS_WORKSPACE_BYTES),
                            "cudaMalloc");
    if (status == RECO_OK)
        status = cublas_check(cublasSetWorkspace(context->blas, context->blas_workspace,
                                                 CUBLAS_WORKSPACE_BYTES),
                              "cublasSetWorkspace");
    if (status != RECO_OK) {
        cudaFree(context->blas_workspace);
        if (context->blas)
            cublasDestroy(context->blas);
        if (context->stream)
            cudaStreamDestroy(context->stream);
        pthread_mutex_destroy(&context->call_lock);
        free(context);
        return status;
    }
    *out = context;
    return RECO_OK;
}

static void cuda_destroy(void *opaque)
{
    cuda_context *context = (cuda_context *)opaque;
    cudaStreamSynchronize(context->stream);
    cublasDestroy(context->blas);
    cudaFree(context->blas_workspace);
    cudaStreamDestroy(context->stream);
    pthread_mutex_destroy(&context->call_lock);
    free(context);
}

static reco_status cuda_set_threads(void *context, size_t n_threads)
{
    (void)context;
    (void)n_threads;
    return RECO_OK;
}

static reco_status cuda_synchronize(void *opaque)
{
    cuda_context *context = (cuda_context *)opaque;
    return cuda_check(cudaStreamSynchronize(context->stream), "synchronize");
}

static reco_status cuda_buffer_alloc(void *context, size_t bytes, void **buffer)
{
    (void)context;
    return cuda_check(cudaMalloc(buffer, bytes ? bytes : 1), "cudaMalloc");
}

static void cuda_buffer_free(void *opaque, void *buffer)
{
    cuda_context *context = (cuda_context *)opaque;
    cudaStreamSynchronize(context->stream);
    cudaFree(buffer);
}

static reco_status cuda_buffer_upload(void *opaque, void *buffer, size_t offset,
                                      const void *host, size_t bytes)
{
    cuda_context *context = (cuda_context *)opaque;
    reco_status status = cuda_check(cudaMemcpyAsync((char *)buffer + offset, host, bytes,
                                                    cudaMemcpyHostToDevice, context->stream),
                                    "upload");
    /* the host memory may be reused as soon as we return */
    return status == RECO_OK ? cuda_synchronize(context) : status;
}

static reco_status cuda_buffer_download(void *opaque, const void *buffer, size_t offset,
                                        void *host, size_t bytes)
{
    cuda_context *context = (cuda_context *)opaque;
    reco_status status = cuda_check(cudaMemcpyAsync(host, (const char *)buffer + offset, bytes,
                                                    cudaMemcpyDeviceToHost, context->stream),
                                    "download");
    return status == RECO_OK ? cuda_synchronize(context) : status;
}

static reco_status cuda_buffer_zero(void *opaque, void *buffer, size_t bytes)
{
    cuda_context *context = (cuda_context *)opaque;
    return cuda_check(cudaMemsetAsync(buffer, 0, bytes, context->stream), "memset");
}

static reco_status cuda_set_fast_math(void *opaque, int enabled)
{
    cuda_context *context = (cuda_context *)opaque;
    cublasMath_t mode = enabled ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH;
    reco_status status = cublas_check(cublasSetMathMode(context->blas, mode), "cublasSetMathMode");
    if (status == RECO_OK)
        context->fast_math = enabled != 0;
    return status;
}

/* An entry of the table that holds the context's call lock while it runs. */
template <typename F, F entry> struct serialized;
template <typename R, typename... A, R (*entry)(void *, A...)>
struct serialized<R (*)(void *, A...), entry> {
    static R call(void *opaque, A... args)
    {
        struct hold {
            pthread_mutex_t *lock;
            explicit hold(pthread_mutex_t *l) : lock(l) { pthread_mutex_lock(lock); }
            ~hold() { pthread_mutex_unlock(lock); }
        } held(&((cuda_context *)opaque)->call_lock);
        return entry(opaque, args...);
    }
};
#define SERIALIZED(entry) serialized<decltype(&entry), &entry>::call

static const reco_backend_ops cuda_ops = {
    sizeof(reco_backend_ops),
    RECO_BACKEND_ABI_VERSION,
    "cuda",
    cuda_create,
    cuda_destroy,
    SERIALIZED(cuda_set_threads),
    SERIALIZED(cuda_synchronize),
    SERIALIZED(cuda_buffer_alloc),
    SERIALIZED(cuda_buffer_free),
    SERIALIZED(cuda_buffer_upload),
    SERIALIZED(cuda_buffer_download),
    SERIALIZED(cuda_buffer_zero),
    SERIALIZED(cuda_workspace_create),
    SERIALIZED(cuda_workspace_destroy),
    SERIALIZED(cuda_forward),
    NULL, /* score_items: the core's predict path already runs on the GPU */
    SERIALIZED(cuda_forward_backward),
    SERIALIZED(cuda_take_loss),
    SERIALIZED(cuda_gradient_download),
    SERIALIZED(cuda_optimizer_create),
    SERIALIZED(cuda_optimizer_destroy),
    SERIALIZED(cuda_optimizer_step),
    SERIALIZED(cuda_train_step),
    SERIALIZED(cuda_epoch_samples),
    SERIALIZED(cuda_set_fast_math),
    NULL, /* threads: one device */
};

/* The module's one export, called by lib/plugin.c. */
extern "C" __attribute__((visibility("default"))) reco_status
reco_backend_cuda_init(const reco_module_host *library, const reco_backend_ops **ops)
{
    if (!library || library->struct_size < sizeof(reco_module_host) || !library->fail)
        return RECO_ERR_BACKEND_UNAVAILABLE;
    host = library;
    if (library->abi_version != RECO_BACKEND_ABI_VERSION) {
        char detail[128];
        snprintf(detail, sizeof detail,
                 "backend 'cuda': module built for backend ABI %d, library has %u",
                 RECO_BACKEND_ABI_VERSION, (unsigned)library->abi_version);
        return cuda_fail(RECO_ERR_BACKEND_UNAVAILABLE, detail);
    }
    *ops = &cuda_ops;
    return RECO_OK;
}
