/* The allocation functions of backends/common/reco_alloc.h and their test
 * hook: a countdown that, when it reaches zero, fails that one allocation. */
#include <stdatomic.h>
#include <stdlib.h>

#include "reco/common.h"
#include "reco_alloc.h"

static atomic_size_t countdown; /* 0: no failure planned */
static atomic_size_t made;

/* Whether this allocation is the one planned to fail. */
static int planned_failure(void)
{
    atomic_fetch_add_explicit(&made, 1, memory_order_relaxed);
    size_t left = atomic_load_explicit(&countdown, memory_order_relaxed);
    while (left > 0) {
        if (atomic_compare_exchange_weak_explicit(&countdown, &left, left - 1,
                                                  memory_order_relaxed, memory_order_relaxed))
            return left == 1;
    }
    return 0;
}

void *reco_malloc(size_t size)
{
    return planned_failure() ? NULL : malloc(size);
}

void *reco_malloc_array(size_t count, size_t size)
{
    size_t bytes;
    return reco_size_mul(count, size, &bytes) ? reco_malloc(bytes ? bytes : 1) : NULL;
}

void *reco_calloc(size_t count, size_t size)
{
    return planned_failure() ? NULL : calloc(count, size);
}

void *reco_realloc(void *memory, size_t size)
{
    return planned_failure() ? NULL : realloc(memory, size);
}

void *reco_aligned_alloc(size_t alignment, size_t size)
{
    size_t rounded = (size + alignment - 1) / alignment * alignment;
    if (rounded < size)
        return NULL;
    return planned_failure() ? NULL : aligned_alloc(alignment, rounded ? rounded : alignment);
}

size_t reco_alloc_fail_at(size_t n)
{
    atomic_store(&countdown, n);
    return atomic_exchange(&made, 0);
}

void reco_free(void *memory)
{
    free(memory);
}
