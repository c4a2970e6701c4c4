/* libreco — common definitions: status codes, errors, version, export macro.
 *
 * Every fallible libreco call returns a reco_status and writes its results
 * through out-parameters, which come last. On failure the thread-local
 * reco_last_error() holds a human-readable detail. The library never prints,
 * never exits and never aborts on behalf of the caller.
 *
 * Threads. libreco keeps no global state that calls share, except the
 * backend registry (see reco_backend_register), and the rule is:
 *   - Calls on different handles may run at the same time on any threads,
 *     also when the handles share a backend or a vocabulary (a model and a
 *     trainer on one backend, a train and a test set from one split).
 *   - Calls that read a handle may run at the same time as each other on
 *     that handle; a call that changes a handle runs alone on it: no other
 *     call on that handle (nor, for a dataset's vocabulary, on the datasets
 *     that share it) may overlap it. Each header says which of its calls
 *     change their handle. In short: a trained model serves many threads at
 *     once (predict, recommend, similar items, embeddings, ids, save,
 *     evaluation with one reco_metrics per thread); a dataset is shared
 *     read-only by any number of trainers, evaluations and samplers; a
 *     trainer and a reco_metrics are used by one thread at a time; a
 *     backend by any number.
 *   - The details of reco_last_error() are per thread.
 * "Read" and "change" are about what the caller can observe: caches a
 * reading call fills (a dataset's per-user item lists, a model's scratch
 * memory) are built once, under locks of their own. */
#ifndef RECO_COMMON_H
#define RECO_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(RECO_BUILDING)
#define RECO_API __declspec(dllexport)
#elif defined(__GNUC__)
#define RECO_API __attribute__((visibility("default")))
#else
#define RECO_API
#endif

#define RECO_VERSION_MAJOR 0
#define RECO_VERSION_MINOR 1
#define RECO_VERSION_PATCH 0
#define RECO_VERSION_NUMBER \
    (RECO_VERSION_MAJOR * 10000 + RECO_VERSION_MINOR * 100 + RECO_VERSION_PATCH)
#define RECO_VERSION_STRINGIFY_(x) #x
#define RECO_VERSION_STRINGIFY(x) RECO_VERSION_STRINGIFY_(x)
/* "MAJOR.MINOR.PATCH" of this header, as a string literal. */
#define RECO_VERSION_STRING                                                  \
    RECO_VERSION_STRINGIFY(RECO_VERSION_MAJOR)                               \
    "." RECO_VERSION_STRINGIFY(RECO_VERSION_MINOR) "." RECO_VERSION_STRINGIFY( \
        RECO_VERSION_PATCH)

/* Status codes. The numeric values are part of the ABI and never change. */
typedef enum reco_status {
    RECO_OK = 0,
    RECO_ERR_INVALID_ARGUMENT = 1,  /* a NULL handle, a bad size, a bad option */
    RECO_ERR_OUT_OF_MEMORY = 2,     /* an allocation failed */
    RECO_ERR_IO = 3,                /* a file could not be opened, read or written */
    RECO_ERR_PARSE = 4,             /* a text input is malformed (file:line in detail) */
    RECO_ERR_FORMAT = 5,            /* a binary file is truncated, corrupt or too new */
    RECO_ERR_OUT_OF_RANGE = 6,      /* an id, index or value outside what is valid */
    RECO_ERR_BACKEND_UNAVAILABLE = 7, /* the asked-for backend is not built or has no device */
    RECO_ERR_BACKEND = 8,           /* the backend failed (device error, kernel failure) */
    RECO_ERR_STATE = 9,             /* the call is not valid in the object's current state */
    RECO_ERR_INTERRUPTED = 10       /* the caller's callback asked to stop */
} reco_status;

/* Returns a short constant English name for a status ("parse error").
 * Unknown values give "unknown status". The string is static: do not free. */
RECO_API const char *reco_status_string(reco_status status);

/* Returns the detail of the last failure on the calling thread, for example
 * "ratings.dat:1234: expected 4 fields separated by '::', got 3".
 * Meaningful right after a call returned a status other than RECO_OK; the
 * buffer is thread-local and overwritten by the next failure on this thread. */
RECO_API const char *reco_last_error(void);

/* Returns the library's version as "MAJOR.MINOR.PATCH" (static string). */
RECO_API const char *reco_version_string(void);

/* Returns RECO_VERSION_NUMBER of the library actually linked, so a program
 * can compare it with the header it was compiled against. */
RECO_API int reco_version_number(void);

/* Releases memory that a libreco call handed to the caller as raw bytes
 * (reco_model_save_buffer's), through the allocator libreco allocated it
 * with. NULL is a no-op. */
RECO_API void reco_free(void *memory);

/* An allocator's functions, as the C library's but with the `user` pointer
 * given to reco_set_allocator first. They may be called from any thread. */
typedef void *reco_malloc_fn(void *user, size_t size);
typedef void *reco_calloc_fn(void *user, size_t count, size_t size);
typedef void *reco_realloc_fn(void *user, void *memory, size_t size);
typedef void reco_free_fn(void *user, void *memory);

/* Makes every later allocation of libreco and its CPU backend go through
 * these functions (as SQLITE_CONFIG_MALLOC or ZSTD_customMem), for the rest
 * of the process; all four NULL restore the C library's. Call it first,
 * before any other libreco call: once libreco has allocated anything it
 * returns RECO_ERR_STATE and changes nothing. Sizes asked for are never 0;
 * aligned memory is carved from malloc_fn's. Memory of the libraries
 * libreco uses (BLIS, zlib, a GPU backend module) is not included.
 * RECO_ERR_INVALID_ARGUMENT when some but not all four are NULL. */
RECO_API reco_status reco_set_allocator(reco_malloc_fn *malloc_fn, reco_calloc_fn *calloc_fn,
                                        reco_realloc_fn *realloc_fn, reco_free_fn *free_fn,
                                        void *user);

#ifdef __cplusplus
}
#endif

#endif
