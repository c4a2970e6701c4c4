/* CPU backend: context, buffers and the ops table. Buffers are 64-byte
 * aligned host memory. */
#include <blis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_blas.h"
#include "cpu_gemm.h"
#include "cpu_budget.h"
#include "cpu_internal.h"
#include "reco_alloc.h"

cpu_pool *reco_cpu_context_pool(cpu_context *context)
{
    pthread_mutex_lock(&context->pool_lock);
    cpu_pool *pool = context->pool;
    reco_cpu_pool_retain(pool);
    pthread_mutex_unlock(&context->pool_lock);
    return pool;
}

static reco_status cpu_create(reco_backend_context **out)
{
    cpu_context *context = reco_calloc(1, sizeof *context);
    if (!context)
        return reco_backend_fail(RECO_ERR_OUT_OF_MEMORY, "out of memory");
    reco_cpu_blas_kernels(); /* settled before any product */
    context->pool = reco_cpu_pool_create(reco_cpu_budget_threads());
    if (!context->pool) {
        reco_free(context);
        return reco_backend_fail(RECO_ERR_OUT_OF_MEMORY,
                                 "cpu backend: cannot start threads (out of memory)");
    }
    pthread_mutex_init(&context->pool_lock, NULL);
    *out = context;
    return RECO_OK;
}

static void cpu_destroy(reco_backend_context *context)
{
    reco_cpu_pool_release(context->pool);
    pthread_mutex_destroy(&context->pool_lock);
    reco_free(context);
}

static reco_status set_threads(cpu_context *context, size_t n_threads)
{
    size_t wanted = n_threads ? n_threads : reco_cpu_budget_threads();
    if (wanted > CPU_BUDGET_MAX_THREADS)
        return reco_backend_fail(RECO_ERR_OUT_OF_RANGE, "cpu backend: more than 1024 threads");
    cpu_pool *current = reco_cpu_context_pool(context);
    size_t have = reco_cpu_pool_threads(current);
    reco_cpu_pool_release(current);
    if (wanted == have)
        return RECO_OK;
    cpu_pool *pool = reco_cpu_pool_create(wanted);
    if (!pool)
        return reco_backend_fail(RECO_ERR_OUT_OF_MEMORY,
                                 "cpu backend: cannot start threads (out of memory)");
    pthread_mutex_lock(&context->pool_lock);
    cpu_pool *old = context->pool;
    context->pool = pool;
    pthread_mutex_unlock(&context->pool_lock);
    reco_cpu_pool_release(old); /* its threads stop when the calls using it return */
    return RECO_OK;
}

static reco_status cpu_control(reco_backend_context *context, reco_backend_control_op op, void *arg)
{
    if (op == RECO_CONTROL_SET_THREADS)
        return set_threads(context, *(const size_t *)arg);
    if (op == RECO_CONTROL_GET_THREADS || op == RECO_CONTROL_DESCRIBE) {
        cpu_pool *pool = reco_cpu_context_pool(context);
        size_t threads = reco_cpu_pool_threads(pool);
        reco_cpu_pool_release(pool);
        if (op == RECO_CONTROL_GET_THREADS)
            *(size_t *)arg = threads;
        else
            snprintf(((reco_backend_text *)arg)->text, sizeof((reco_backend_text *)arg)->text,
                     "cpu: %zu thread%s, BLIS %s with its %s kernels (%s), small products %s",
                     threads, threads == 1 ? "" : "s", bli_info_get_version_str(),
                     reco_cpu_blas_kernels(), reco_cpu_blas_reason(),
                     reco_cpu_gemm_name(reco_cpu_gemm_kernel()));
    }
    return RECO_OK;
}

static reco_status cpu_buffer_alloc(reco_backend_context *context, size_t bytes,
                                    reco_backend_buffer **buffer)
{
    (void)context;
    *buffer = reco_aligned_alloc(64, ((bytes ? bytes : 1) + 63) / 64 * 64);
    if (!*buffer)
        return reco_backend_fail(RECO_ERR_OUT_OF_MEMORY, "cpu backend: out of memory");
    return RECO_OK;
}

static void cpu_buffer_free(reco_backend_context *context, reco_backend_buffer *buffer)
{
    (void)context;
    reco_aligned_free(buffer);
}

static reco_status cpu_buffer_upload(reco_backend_context *context, reco_backend_buffer *buffer,
                                     size_t offset, const void *host, size_t bytes)
{
    (void)context;
    memcpy((char *)buffer + offset, host, bytes);
    return RECO_OK;
}

static reco_status cpu_buffer_download(reco_backend_context *context,
                                       const reco_backend_buffer *buffer, size_t offset, void *host,
                                       size_t bytes)
{
    (void)context;
    memcpy(host, (const char *)buffer + offset, bytes);
    return RECO_OK;
}

const reco_backend_ops reco_backend_cpu_ops = {
    .struct_size = sizeof(reco_backend_ops),
    .abi_version = RECO_BACKEND_ABI_VERSION,
    .name = "cpu",
    .device =
        {
            .create = cpu_create,
            .destroy = cpu_destroy,
            .control = cpu_control,
            /* a step in flight (cpu_net.c) lands at its workspace's next call */
            .synchronize = NULL,
            .buffer_alloc = cpu_buffer_alloc,
            .buffer_free = cpu_buffer_free,
            .buffer_upload = cpu_buffer_upload,
            .buffer_download = cpu_buffer_download,
        },
    .kernels =
        {
            .workspace_create = reco_cpu_workspace_create,
            .workspace_destroy = reco_cpu_workspace_destroy,
            .forward = reco_cpu_forward,
            .score_items = reco_cpu_score_items,
            .rank_items = reco_cpu_rank_items,
            .forward_backward = reco_cpu_forward_backward,
            .take_loss = reco_cpu_take_loss,
            .gradient_download = reco_cpu_gradient_download,
            .optimizer_create = reco_cpu_optimizer_create,
            .optimizer_destroy = reco_cpu_optimizer_destroy,
            .optimizer_step = reco_cpu_optimizer_step,
            .train_step = reco_cpu_train_step,
            .epoch_samples = reco_cpu_epoch_samples,
            .gradient_export = reco_cpu_gradient_export,
            .gradient_import = reco_cpu_gradient_import,
            .mf_epoch = reco_cpu_mf_epoch,
            .optimizer_settle = reco_cpu_optimizer_settle,
            .ials_solve = reco_cpu_ials_solve,
            .ease_fit = reco_cpu_ease_fit,
            .item_neighbours = reco_cpu_item_neighbours,
        },
};
