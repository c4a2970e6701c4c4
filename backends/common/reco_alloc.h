/* Internal: every heap allocation of libreco and its CPU backend goes
 * through these, so that a test can make the n-th one fail and check that
 * each call survives it (lib/alloc.c; SQLite's test_malloc.c is the model).
 * Memory they return is released with free(). */
#ifndef RECO_ALLOC_H
#define RECO_ALLOC_H

#include <stddef.h>

void *reco_malloc(size_t size);
void *reco_calloc(size_t count, size_t size);
void *reco_realloc(void *memory, size_t size);
/* size is rounded up to a multiple of alignment, as aligned_alloc wants. */
void *reco_aligned_alloc(size_t alignment, size_t size);

/* Test hook, not exported from libreco.so: from now on, the n-th
 * allocation (1 = the next) fails, once; 0 turns failures off. Returns the
 * number of allocations made since the previous call. */
size_t reco_alloc_fail_at(size_t n);

#endif
