/* Internal: every heap allocation of libreco and its CPU backend goes
 * through these, so that a test can make the n-th one fail and check that
 * each call survives it (lib/alloc.c; SQLite's test_malloc.c is the model),
 * and so that reco_set_allocator can route them all to the caller's
 * allocator. Memory they return is released with reco_free (never free()),
 * reco_aligned_alloc's with reco_aligned_free. A size of 0 allocates 1 byte. */
#ifndef RECO_ALLOC_H
#define RECO_ALLOC_H

#include <stddef.h>

void *reco_malloc(size_t size);
void *reco_calloc(size_t count, size_t size);
void *reco_realloc(void *memory, size_t size);
/* count * size elements, or NULL when the product overflows a size_t. */
void *reco_malloc_array(size_t count, size_t size);
/* Releases what the functions above returned (exported: reco/common.h). */
void reco_free(void *memory);

/* Writes a * b (or a + b) to *result; returns 0 instead when it overflows:
 * every size computed from input goes through one of these. */
static inline int reco_size_mul(size_t a, size_t b, size_t *result)
{
    return !__builtin_mul_overflow(a, b, result);
}

static inline int reco_size_add(size_t a, size_t b, size_t *result)
{
    return !__builtin_add_overflow(a, b, result);
}

/* `size` bytes starting at a multiple of `alignment` (a power of two);
 * released with reco_aligned_free. */
void *reco_aligned_alloc(size_t alignment, size_t size);
void reco_aligned_free(void *memory);

/* Test hook, not exported from libreco.so: from now on, the n-th
 * allocation (1 = the next) fails, once; 0 turns failures off. Returns the
 * number of allocations made since the previous call. */
size_t reco_alloc_fail_at(size_t n);

#endif
