/* CUDA backend: context, device buffers and the ops table. All work is queued
 * on one stream; calls that hand results to the host synchronize it. */
#include <stdio.h>
#include <stdlib.h>

#include "cuda_internal.h"

reco_status cuda_check(cudaError_t err, const char *what)
{
    if (err == cudaSuccess)
        return RECO_OK;
    char detail[256];
    snprintf(detail, sizeof detail, "cuda backend: %s: %s", what, cudaGetErrorString(err));
    cudaGetLastError(); /* clear a sticky non-fatal error */
    return reco_backend_fail(err == cudaErrorMemoryAllocation ? RECO_ERR_OUT_OF_MEMORY
                                                              : RECO_ERR_BACKEND,
                             detail);
}

reco_status cublas_check(cublasStatus_t err, const char *what)
{
    if (err == CUBLAS_STATUS_SUCCESS)
        return RECO_OK;
    char detail[256];
    snprintf(detail, sizeof detail, "cuda backend: %s: cuBLAS status %d", what, (int)err);
    return reco_backend_fail(err == CUBLAS_STATUS_ALLOC_FAILED ? RECO_ERR_OUT_OF_MEMORY
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
        return reco_backend_fail(RECO_ERR_BACKEND_UNAVAILABLE,
                                 "backend 'cuda': no CUDA device is present");
    }
    cuda_context *context = (cuda_context *)calloc(1, sizeof *context);
    if (!context)
        return reco_backend_fail(RECO_ERR_OUT_OF_MEMORY, "out of memory");
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

/* The module's one export, found by lib/plugin.c with dlsym. */
extern "C" __attribute__((visibility("default"))) const reco_backend_ops reco_backend_cuda_ops = {
    sizeof(reco_backend_ops),
    RECO_BACKEND_ABI_VERSION,
    "cuda",
    cuda_create,
    cuda_destroy,
    cuda_set_threads,
    cuda_synchronize,
    cuda_buffer_alloc,
    cuda_buffer_free,
    cuda_buffer_upload,
    cuda_buffer_download,
    cuda_buffer_zero,
    cuda_workspace_create,
    cuda_workspace_destroy,
    cuda_forward,
    NULL, /* score_items: the core's predict path already runs on the GPU */
    cuda_forward_backward,
    cuda_take_loss,
    cuda_gradient_download,
    cuda_optimizer_create,
    cuda_optimizer_destroy,
    cuda_optimizer_step,
    cuda_train_step,
    cuda_epoch_samples,
    cuda_set_fast_math,
};
