/* The backend registry: built-in backends first, then registered ones. */
#include <stdlib.h>
#include <string.h>

#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

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

/* Whether an NVIDIA driver is there to give the CUDA module a device: its
 * control node, or WSL's GPU node. Without one "auto" does not load the
 * module: its cuBLAS and NCCL take 0.1-0.2 s to load, for nothing. */
static int nvidia_driver_present(void)
{
    return access("/dev/nvidiactl", F_OK) == 0 || access("/dev/dxg", F_OK) == 0;
}

/* Returns the CUDA backend's ops, or NULL with the reason recorded. */
static const reco_backend_ops *cuda_backend(void)
{
    pthread_once(&cuda_once, load_cuda);
    if (!cuda_ops)
        reco_fail(RECO_ERR_BACKEND_UNAVAILABLE, "%s", cuda_error);
    return cuda_ops;
}

/* The first entry a backend must have and lacks, or NULL; the rest are
 * optional (backend_impl.h). */
static const char *missing_entry(const reco_backend_ops *ops)
{
    const reco_backend_device_ops *device = &ops->device;
    const reco_backend_kernel_ops *kernels = &ops->kernels;
    const struct {
        const char *name;
        int present;
    } required[] = {
        {"name", ops->name != NULL},
        {"device.create", device->create != NULL},
        {"device.destroy", device->destroy != NULL},
        {"device.buffer_alloc", device->buffer_alloc != NULL},
        {"device.buffer_free", device->buffer_free != NULL},
        {"device.buffer_upload", device->buffer_upload != NULL},
        {"device.buffer_download", device->buffer_download != NULL},
        {"kernels.workspace_create", kernels->workspace_create != NULL},
        {"kernels.workspace_destroy", kernels->workspace_destroy != NULL},
        {"kernels.forward", kernels->forward != NULL},
        {"kernels.forward_backward", kernels->forward_backward != NULL},
        {"kernels.take_loss", kernels->take_loss != NULL},
        {"kernels.gradient_download", kernels->gradient_download != NULL},
        {"kernels.optimizer_create", kernels->optimizer_create != NULL},
        {"kernels.optimizer_destroy", kernels->optimizer_destroy != NULL},
        {"kernels.optimizer_step", kernels->optimizer_step != NULL},
    };
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        if (!required[i].present)
            return required[i].name;
    if (!kernels->gradient_export != !kernels->gradient_import)
        return kernels->gradient_export ? "kernels.gradient_import" : "kernels.gradient_export";
    return NULL;
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
    const char *missing = missing_entry(ops);
    if (missing)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT,
                         "backend ops: %s is missing (required, or by its pair)", missing);
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
    reco_status status = ops->device.create(&backend->context);
    if (status != RECO_OK) {
        reco_free(backend);
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
        const reco_backend_ops *cuda = nvidia_driver_present() ? cuda_backend() : NULL;
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
    backend->ops->device.destroy(backend->context);
    reco_free(backend);
}

/* Sets or reads a knob through the backend's control entry; a backend
 * without one has no knobs. */
static reco_status control(const reco_backend *backend, reco_backend_control_op op, void *arg)
{
    if (!backend->ops->device.control)
        return RECO_OK;
    return backend->ops->device.control(backend->context, op, arg);
}

reco_status reco_backend_set_fast_math(reco_backend *backend, int enabled)
{
    if (!backend)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL backend");
    int flag = enabled != 0;
    return control(backend, RECO_CONTROL_SET_FAST_MATH, &flag);
}

reco_status reco_backend_set_threads(reco_backend *backend, size_t threads)
{
    if (!backend)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL backend");
    if (threads > RECO_MAX_THREADS)
        return reco_fail(RECO_ERR_OUT_OF_RANGE, "%zu threads: expected 0 to %d", threads,
                         RECO_MAX_THREADS);
    return control(backend, RECO_CONTROL_SET_THREADS, &threads);
}

reco_status reco_backend_describe(const reco_backend *backend, char *text, size_t size)
{
    if (!backend || !text || size == 0)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL backend or text, or a size of 0");
    reco_backend_text line = {{0}};
    snprintf(line.text, sizeof line.text, "%s", backend->ops->name);
    reco_status status = control(backend, RECO_CONTROL_DESCRIBE, &line);
    line.text[sizeof line.text - 1] = '\0';
    snprintf(text, size, "%s", line.text);
    return status;
}

size_t reco_backend_threads(const reco_backend *backend)
{
    if (!backend)
        return 0;
    size_t threads = 1;
    return control(backend, RECO_CONTROL_GET_THREADS, &threads) == RECO_OK ? threads : 1;
}

const char *reco_backend_name(const reco_backend *backend)
{
    return backend ? backend->ops->name : NULL;
}

reco_status reco_backend_fail(reco_status status, const char *detail)
{
    return reco_fail(status, "%s", detail ? detail : "backend failure");
}
