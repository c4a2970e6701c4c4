/* libreco — choosing the backend that holds a model's memory and runs its math.
 *
 * Built in: "cpu" (BLIS sgemm plus fused loops, threads) and, when the library
 * was built with CUDA, "cuda". "auto" picks the first that opens, CUDA first.
 * Third parties add backends with reco_backend_register (reco/backend_impl.h). */
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

/* Returns the backend's name ("cpu", ...), owned by the backend. */
RECO_API const char *reco_backend_name(const reco_backend *backend);

#ifdef __cplusplus
}
#endif

#endif
