/* The allocation functions of backends/common/reco_alloc.h: the caller's
 * allocator when reco_set_allocator installed one, the C library's
 * otherwise; and their test hook, a countdown that, when it reaches zero,
 * fails that one allocation. */
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "error.h"
#include "reco/common.h"
#include "reco_alloc.h"

static atomic_size_t countdown; /* 0: no failure planned */
static atomic_size_t made;

/* The C library's functions behind the caller's signatures. */
static void *libc_malloc(void *user, size_t size)
{
    (void)user;
    return malloc(size);
}

static void *libc_calloc(void *user, size_t count, size_t size)
{
    (void)user;
    return calloc(count, size);
}

static void *libc_realloc(void *user, void *memory, size_t size)
{
    (void)user;
    return realloc(memory, size);
}

static void libc_free(void *user, void *memory)
{
    (void)user;
    free(memory);
}

/* Set once, before the first allocation, and read only after: no lock. */
static struct {
    reco_malloc_fn *malloc_fn;
    reco_calloc_fn *calloc_fn;
    reco_realloc_fn *realloc_fn;
    reco_free_fn *free_fn;
    void *user;
} allocator = {libc_malloc, libc_calloc, libc_realloc, libc_free, NULL};
static atomic_int allocated; /* whether any allocation was made */

/* Whether this allocation is the one planned to fail. */
static int planned_failure(void)
{
    if (!atomic_load_explicit(&allocated, memory_order_relaxed))
        atomic_store_explicit(&allocated, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&made, 1, memory_order_relaxed);
    size_t left = atomic_load_explicit(&countdown, memory_order_relaxed);
    while (left > 0) {
        if (atomic_compare_exchange_weak_explicit(&countdown, &left, left - 1,
                                                  memory_order_relaxed, memory_order_relaxed))
            return left == 1;
    }
    return 0;
}

reco_status reco_set_allocator(reco_malloc_fn *malloc_fn, reco_calloc_fn *calloc_fn,
                               reco_realloc_fn *realloc_fn, reco_free_fn *free_fn, void *user)
{
    int none = !malloc_fn && !calloc_fn && !realloc_fn && !free_fn;
    if (!none && (!malloc_fn || !calloc_fn || !realloc_fn || !free_fn))
        return reco_fail(RECO_ERR_INVALID_ARGUMENT,
                         "an allocator needs all four functions (or none, for the C library's)");
    if (atomic_load(&allocated))
        return reco_fail(RECO_ERR_STATE, "reco_set_allocator must come before any other "
                                         "libreco call that allocates memory");
    allocator.malloc_fn = none ? libc_malloc : malloc_fn;
    allocator.calloc_fn = none ? libc_calloc : calloc_fn;
    allocator.realloc_fn = none ? libc_realloc : realloc_fn;
    allocator.free_fn = none ? libc_free : free_fn;
    allocator.user = none ? NULL : user;
    return RECO_OK;
}

void *reco_malloc(size_t size)
{
    return planned_failure() ? NULL : allocator.malloc_fn(allocator.user, size ? size : 1);
}

void *reco_malloc_array(size_t count, size_t size)
{
    size_t bytes;
    return reco_size_mul(count, size, &bytes) ? reco_malloc(bytes) : NULL;
}

void *reco_calloc(size_t count, size_t size)
{
    if (count == 0 || size == 0)
        count = size = 1;
    return planned_failure() ? NULL : allocator.calloc_fn(allocator.user, count, size);
}

void *reco_realloc(void *memory, size_t size)
{
    return planned_failure() ? NULL
                             : allocator.realloc_fn(allocator.user, memory, size ? size : 1);
}

void reco_free(void *memory)
{
    if (memory)
        allocator.free_fn(allocator.user, memory);
}

/* An aligned block is carved from a larger one of reco_malloc's, whose
 * address is kept in the pointer-sized slot just below the block: any
 * allocator then serves aligned memory too. */
void *reco_aligned_alloc(size_t alignment, size_t size)
{
    size_t bytes;
    if (alignment < alignof(void *) || !reco_size_add(size, alignment + sizeof(void *), &bytes))
        return NULL;
    char *base = reco_malloc(bytes);
    if (!base)
        return NULL;
    uintptr_t start = (uintptr_t)(base + sizeof(void *));
    char *block = base + sizeof(void *) + (alignment - start % alignment) % alignment;
    ((void **)block)[-1] = base;
    return block;
}

void reco_aligned_free(void *memory)
{
    if (memory)
        reco_free(((void **)memory)[-1]);
}

size_t reco_alloc_fail_at(size_t n)
{
    atomic_store(&countdown, n);
    return atomic_exchange(&made, 0);
}
