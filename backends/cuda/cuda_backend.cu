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

static reco_status cuda_create(reco_backend_context **out)
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

static void cuda_destroy(reco_backend_context *opaque)
{
    cuda_context *context = (cuda_context *)opaque;
    cudaStreamSynchronize(context->stream);
    cuda_group_leave(context);
    cublasDestroy(context->blas);
    cudaFree(context->blas_workspace);
    cudaStreamDestroy(context->stream);
    pthread_mutex_destroy(&context->call_lock);
    free(context);
}

static reco_status cuda_synchronize(reco_backend_context *context)
{
    return cuda_check(cudaStreamSynchronize(context->stream), "synchronize");
}

static reco_status cuda_buffer_alloc(reco_backend_context *context, size_t bytes,
                                     reco_backend_buffer **buffer)
{
    (void)context;
    return cuda_check(cudaMalloc((void **)buffer, bytes ? bytes : 1), "cudaMalloc");
}

static void cuda_buffer_free(reco_backend_context *context, reco_backend_buffer *buffer)
{
    cudaStreamSynchronize(context->stream);
    cudaFree(buffer);
}

static reco_status cuda_buffer_upload(reco_backend_context *context, reco_backend_buffer *buffer,
                                      size_t offset, const void *host, size_t bytes)
{
    reco_status status = cuda_check(cudaMemcpyAsync((char *)buffer + offset, host, bytes,
                                                    cudaMemcpyHostToDevice, context->stream),
                                    "upload");
    /* the host memory may be reused as soon as we return */
    return status == RECO_OK ? cuda_synchronize(context) : status;
}

static reco_status cuda_buffer_download(reco_backend_context *context,
                                        const reco_backend_buffer *buffer, size_t offset,
                                        void *host, size_t bytes)
{
    reco_status status = cuda_check(cudaMemcpyAsync(host, (const char *)buffer + offset, bytes,
                                                    cudaMemcpyDeviceToHost, context->stream),
                                    "download");
    return status == RECO_OK ? cuda_synchronize(context) : status;
}

/* One device: no thread knob. Fast math: TF32 tensor-core products.
 * Device groups: NCCL (cuda_group.cu). */
static reco_status cuda_control(reco_backend_context *context, reco_backend_control_op op,
                                void *arg)
{
    if (op == RECO_CONTROL_GROUP_ID)
        return cuda_group_id(context, (reco_backend_group *)arg);
    if (op == RECO_CONTROL_JOIN_GROUP)
        return cuda_group_join(context, (const reco_backend_group *)arg);
    if (op == RECO_CONTROL_DESCRIBE) {
        cudaDeviceProp properties;
        reco_status status = cuda_check(cudaGetDeviceProperties(&properties, context->device),
                                        "cudaGetDeviceProperties");
        reco_backend_text *line = (reco_backend_text *)arg;
        if (status == RECO_OK)
            snprintf(line->text, sizeof line->text,
                     "cuda: device %d, %s (compute %d.%d, %.0f GiB), TF32 %s, NCCL %s",
                     context->device, properties.name, properties.major, properties.minor,
                     (double)properties.totalGlobalMem / (1u << 30),
                     context->fast_math ? "on" : "off",
#ifdef RECO_WITH_NCCL
                     context->group ? "in a group" : "available"
#else
                     "not built"
#endif
            );
        return status;
    }
    if (op != RECO_CONTROL_SET_FAST_MATH)
        return RECO_OK;
    int enabled = *(const int *)arg;
    cublasMath_t mode = enabled ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH;
    reco_status status = cublas_check(cublasSetMathMode(context->blas, mode), "cublasSetMathMode");
    if (status == RECO_OK)
        context->fast_math = enabled != 0;
    return status;
}

/* An entry of the table that holds the context's call lock while it runs. */
template <typename F, F entry> struct serialized;
template <typename R, typename... A, R (*entry)(reco_backend_context *, A...)>
struct serialized<R (*)(reco_backend_context *, A...), entry> {
    static R call(reco_backend_context *context, A... args)
    {
        struct hold {
            pthread_mutex_t *lock;
            explicit hold(pthread_mutex_t *l) : lock(l) { pthread_mutex_lock(lock); }
            ~hold() { pthread_mutex_unlock(lock); }
        } held(&context->call_lock);
        return entry(context, args...);
    }
};
#define SERIALIZED(entry) serialized<decltype(&entry), &entry>::call

/* C++20 designated initializers, in declaration order. */
static const reco_backend_ops cuda_ops = {
    .struct_size = sizeof(reco_backend_ops),
    .abi_version = RECO_BACKEND_ABI_VERSION,
    .name = "cuda",
    .device =
        {
            .create = cuda_create,
            .destroy = cuda_destroy,
            .control = SERIALIZED(cuda_control),
            .synchronize = SERIALIZED(cuda_synchronize),
            .buffer_alloc = SERIALIZED(cuda_buffer_alloc),
            .buffer_free = SERIALIZED(cuda_buffer_free),
            .buffer_upload = SERIALIZED(cuda_buffer_upload),
            .buffer_download = SERIALIZED(cuda_buffer_download),
        },
    .kernels =
        {
            .workspace_create = SERIALIZED(cuda_workspace_create),
            .workspace_destroy = SERIALIZED(cuda_workspace_destroy),
            .forward = SERIALIZED(cuda_forward),
            .score_items = NULL, /* the core's predict path already runs on the GPU */
            .forward_backward = SERIALIZED(cuda_forward_backward),
            .take_loss = SERIALIZED(cuda_take_loss),
            .gradient_download = SERIALIZED(cuda_gradient_download),
            .optimizer_create = SERIALIZED(cuda_optimizer_create),
            .optimizer_destroy = SERIALIZED(cuda_optimizer_destroy),
            .optimizer_step = SERIALIZED(cuda_optimizer_step),
            .train_step = SERIALIZED(cuda_train_step),
            .epoch_samples = SERIALIZED(cuda_epoch_samples),
            .gradient_export = NULL, /* data-parallel through gradient_reduce (NCCL) */
            .gradient_import = NULL,
#ifdef RECO_WITH_NCCL
            .gradient_reduce = SERIALIZED(cuda_gradient_reduce),
#else
            .gradient_reduce = NULL,
#endif
            .optimizer_settle = SERIALIZED(cuda_optimizer_settle),
        },
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
