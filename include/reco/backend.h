/* libreco — choosing the backend that holds a model's memory and runs its math.
 *
 * Built in: "cpu" (BLIS sgemm plus fused loops, threads) and, when the library
 * was built with CUDA, "cuda". "auto" picks the first that opens, CUDA first
 * (only where an NVIDIA driver's device node is: /dev/nvidiactl, or /dev/dxg).
 * Third parties add backends with reco_backend_register (reco/backend_impl.h).
 *
 * Concurrency: a backend is shared safely by every model and trainer made on
 * it, from any threads. The CPU backend runs one parallel task at a time on
 * its threads; a scoring call that finds them busy computes on its calling
 * thread instead of waiting, so that serving threads all progress. */
#ifndef RECO_BACKEND_H
#define RECO_BACKEND_H

#include "reco/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct reco_backend reco_backend;

/* Opens a backend by name ("cpu", "cuda", "auto" or a registered name).
 * RECO_ERR_BACKEND_UNAVAILABLE when it is unknown, not built or has no
 * device. The caller owns *out; models keep their own reference, so the
 * backend may be freed before the models made on it. */
RECO_API reco_status reco_backend_open(const char *name, reco_backend **out);

/* Drops the caller's reference; NULL is a no-op. */
RECO_API void reco_backend_free(reco_backend *backend);

/* Lets the backend trade float precision for speed (default off): on CUDA,
 * TF32 tensor cores for the matrix products (10-bit mantissas in, FP32
 * sums). The CPU backend has nothing to trade and ignores it. */
RECO_API reco_status reco_backend_set_fast_math(reco_backend *backend, int enabled);

/* Sets the threads the backend computes with, for every model, trainer and
 * evaluation on it: 1 to 1024, or 0 for the default, the process's CPU
 * budget (the CPUs of its affinity mask, capped by its cgroup CPU quota,
 * rounded up; the environment variable RECO_NUM_THREADS, read when the
 * backend opens and when 0 is set, overrides it). Calls already running
 * finish with the threads they started with. A device backend ignores it.
 * RECO_ERR_OUT_OF_RANGE above 1024; RECO_ERR_OUT_OF_MEMORY if threads
 * cannot be started (the old count then stays). */
RECO_API reco_status reco_backend_set_threads(reco_backend *backend, size_t threads);

/* Returns the threads the backend computes with (1 for a device backend,
 * 0 for NULL). */
RECO_API size_t reco_backend_threads(const reco_backend *backend);

/* Returns the backend's name ("cpu", ...), owned by the backend. */
RECO_API const char *reco_backend_name(const reco_backend *backend);

/* Writes one line saying what the backend computes with (the CPU backend:
 * its threads and BLIS kernels, and why those; CUDA: the device) to text,
 * at most size bytes with the terminating NUL. RECO_ERR_INVALID_ARGUMENT
 * for a NULL backend or text or a zero size. */
RECO_API reco_status reco_backend_describe(const reco_backend *backend, char *text, size_t size);

#ifdef __cplusplus
}
#endif

#endif
