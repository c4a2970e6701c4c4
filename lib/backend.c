/* The backend registry: built-in backends first, then registered ones. */
#include <stdlib.h>
#include <string.h>

#include <pthread.h>
#include <stdio.h>

#include "backend_handle.h"
#include "error.h"
#include "plugin.h"
#include "reco_alloc.h"

extern const reco_backend_ops reco_backend_cpu_ops;

#define MAX_BACKENDS 16
#define RECO_MAX_THREADS 1024

static const reco_backend_ops *registered[MAX_BACKENDS] = {&reco_backend_cpu_ops};
static size_t n_registered = 1;

/* The CUDA module is loaded once, on the first open that asks for it. */
static pthread_once_t cuda_once = PTHREAD_ONCE_INIT;
static const reco_backend_ops *cuda_ops;
static char cuda_error[512];

static void load_cuda(void)
{
    cuda_ops = reco_plugin_load("cuda");
    if (!cuda_ops)
        snprintf(cuda_error, sizeof cuda_error, "%s", reco_last_error());
}

/* Returns the CUDA backend's ops, or NULL with the reason recorded. */
static const reco_backend_ops *cuda_backend(void)
{
    pthread_once(&cuda_once, load_cuda);
    if (!cuda_ops)
        reco_fail(RECO_ERR_BACKEND_UNAVAILABLE, "%s", cuda_error);
    return cuda_ops;
}

static int ops_complete(const reco_backend_ops *ops)
{
    return ops->name && ops->create && ops->destroy && ops->set_threads && ops->synchronize &&
           ops->buffer_alloc && ops->buffer_free && ops->buffer_upload &&
           ops->buffer_download && ops->buffer_zero && ops->workspace_create &&
           ops->workspace_destroy && ops->forward && ops->forward_backward && ops->take_loss &&
           ops->gradient_download && ops->optimizer_create && ops->optimizer_destroy &&
           ops->optimizer_step;
}

static const reco_backend_ops *find(const char *name)
{
    for (size_t i = 0; i < n_registered; i++)
        if (strcmp(registered[i]->name, name) == 0)
            return registered[i];
    return NULL;
}

reco_status reco_backend_check_ops(const reco_backend_ops *ops)
{
    if (!ops || ops->struct_size != sizeof(reco_backend_ops) ||
        ops->abi_version != RECO_BACKEND_ABI_VERSION)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT,
                         "backend ops: expected struct_size %zu and abi_version %d",
                         sizeof(reco_backend_ops), RECO_BACKEND_ABI_VERSION);
    if (!ops_complete(ops))
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "backend ops: a function is missing");
    return RECO_OK;
}

reco_status reco_backend_register(const reco_backend_ops *ops)
{
    reco_status status = reco_backend_check_ops(ops);
    if (status != RECO_OK)
        return status;
    if (strcmp(ops->name, "auto") == 0 || strcmp(ops->name, "cuda") == 0 || find(ops->name))
        return reco_fail(RECO_ERR_STATE, "a backend named '%s' exists already", ops->name);
    if (n_registered == MAX_BACKENDS)
        return reco_fail(RECO_ERR_OUT_OF_RANGE, "at most %d backends", MAX_BACKENDS);
    registered[n_registered++] = ops;
    return RECO_OK;
}

static reco_status open_ops(const reco_backend_ops *ops, reco_backend **out)
{
    reco_backend *backend = reco_calloc(1, sizeof *backend);
    if (!backend)
        return reco_fail_oom();
    reco_status status = ops->create(&backend->context);
    if (status != RECO_OK) {
        free(backend);
        return status;
    }
    atomic_init(&backend->references, 1);
    backend->ops = ops;
    *out = backend;
    return RECO_OK;
}

reco_status reco_backend_open(const char *name, reco_backend **out)
{
    if (!out)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL output");
    *out = NULL;
    if (!name)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL backend name");
    if (strcmp(name, "auto") == 0) {
        const reco_backend_ops *cuda = cuda_backend();
        if (cuda && open_ops(cuda, out) == RECO_OK)
            return RECO_OK;
        for (size_t i = 0; i < n_registered; i++)
            if (open_ops(registered[i], out) == RECO_OK)
                return RECO_OK;
        return reco_fail(RECO_ERR_BACKEND_UNAVAILABLE, "no backend could be opened");
    }
    if (strcmp(name, "cuda") == 0) {
        const reco_backend_ops *cuda = cuda_backend();
        return cuda ? open_ops(cuda, out) : RECO_ERR_BACKEND_UNAVAILABLE;
    }
    const reco_backend_ops *ops = find(name);
    if (!ops)
        return reco_fail(RECO_ERR_BACKEND_UNAVAILABLE, "unknown backend '%s'", name);
    return open_ops(ops, out);
}

void reco_backend_retain(reco_backend *backend)
{
    atomic_fetch_add(&backend->references, 1);
}

void reco_backend_free(reco_backend *backend)
{
    if (!backend || atomic_fetch_sub(&backend->references, 1) != 1)
        return;
    backend->ops->destroy(backend->context);
    free(backend);
}

reco_status reco_backend_set_fast_math(reco_backend *backend, int enabled)
{
    if (!backend)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL backend");
    if (!backend->ops->set_fast_math)
        return RECO_OK;
    return backend->ops->set_fast_math(backend->context, enabled != 0);
}

reco_status reco_backend_set_threads(reco_backend *backend, size_t threads)
{
    if (!backend)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL backend");
    if (threads > RECO_MAX_THREADS)
        return reco_fail(RECO_ERR_OUT_OF_RANGE, "%zu threads: expected 0 to %d", threads,
                         RECO_MAX_THREADS);
    return backend->ops->set_threads(backend->context, threads);
}

size_t reco_backend_threads(const reco_backend *backend)
{
    if (!backend)
        return 0;
    return backend->ops->threads ? backend->ops->threads(backend->context) : 1;
}

const char *reco_backend_name(const reco_backend *backend)
{
    return backend ? backend->ops->name : NULL;
}

reco_status reco_backend_fail(reco_status status, const char *detail)
{
    return reco_fail(status, "%s", detail ? detail : "backend failure");
}
