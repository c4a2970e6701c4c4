/* The CPU backend's thread pool: every thread runs its part of a task with
 * denormal floats flushed to zero, and the calling thread gets its own
 * float mode back (x86; elsewhere the mode is left alone). */
#include <stdatomic.h>
#include <stdint.h>

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

#include "cpu_pool.h"
#include "helpers.h"

#define MXCSR_FLAGS 0x3fu /* the sticky exception flags, not the mode */

/* 1e-30 * 1e-10 is 1e-40, a denormal: 0 when flushed. */
static float denormal_product(void)
{
    volatile float tiny = 1e-30f, scale = 1e-10f;
    return tiny * scale;
}

typedef struct flush_check {
    atomic_uint flushed; /* threads whose product was 0 */
    atomic_uint ran;
} flush_check;

static void check_task(void *argument, size_t thread, size_t n_threads)
{
    (void)thread;
    (void)n_threads;
    flush_check *check = argument;
    if (denormal_product() == 0.0f)
        atomic_fetch_add(&check->flushed, 1);
    atomic_fetch_add(&check->ran, 1);
}

/* loop index: 1 or 2 threads. */
START_TEST(tasks_flush_denormals_and_the_caller_keeps_its_mode)
{
#if defined(__x86_64__) || defined(__i386__)
    size_t n_threads = (size_t)_i + 1;
    cpu_pool *pool = reco_cpu_pool_create(n_threads);
    ck_assert_ptr_nonnull(pool);
    ck_assert_float_ne(denormal_product(), 0.0f); /* the default mode keeps denormals */
    unsigned mode = _mm_getcsr() & ~MXCSR_FLAGS;
    for (int inline_allowed = 0; inline_allowed <= 1; inline_allowed++) {
        flush_check check = {0};
        if (inline_allowed)
            reco_cpu_pool_run_or_inline(pool, check_task, &check);
        else
            reco_cpu_pool_run(pool, check_task, &check);
        ck_assert_uint_ge(atomic_load(&check.ran), 1);
        ck_assert_uint_eq(atomic_load(&check.flushed), atomic_load(&check.ran));
        ck_assert_uint_eq(_mm_getcsr() & ~MXCSR_FLAGS, mode);
        ck_assert_float_ne(denormal_product(), 0.0f);
    }
    reco_cpu_pool_release(pool);
#else
    (void)_i;
#endif
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("cpu_pool");
    TCase *tcase = test_case(suite, "tasks");
    tcase_add_loop_test(tcase, tasks_flush_denormals_and_the_caller_keeps_its_mode, 0, 2);
    return run_suite(suite);
}
