/* The default thread count: the process's CPU budget (affinity mask, cgroup
 * quota, RECO_NUM_THREADS), the pieces that compute it, and the backend's
 * thread setter and getter. */
#define _GNU_SOURCE /* sched_setaffinity */
#include <sched.h>
#include <stdlib.h>

#include "cpu_budget.h"
#include "helpers.h"

START_TEST(cgroup_quotas_parse)
{
    ck_assert_double_eq(reco_cpu_budget_parse_cpu_max("150000 100000\n"), 1.5);
    ck_assert_double_eq(reco_cpu_budget_parse_cpu_max("50000 100000"), 0.5);
    ck_assert_double_eq(reco_cpu_budget_parse_cpu_max("max 100000\n"), 0.0);
    ck_assert_double_eq(reco_cpu_budget_parse_cpu_max("junk"), 0.0);
    ck_assert_double_eq(reco_cpu_budget_parse_cpu_max("100000 0"), 0.0);
    ck_assert_double_eq(reco_cpu_budget_parse_cfs("200000\n", "100000\n"), 2.0);
    ck_assert_double_eq(reco_cpu_budget_parse_cfs("-1\n", "100000\n"), 0.0);
}
END_TEST

START_TEST(a_quota_caps_the_affinity_rounded_up)
{
    ck_assert_uint_eq(reco_cpu_budget_combine(8, 0.0), 8);   /* no quota */
    ck_assert_uint_eq(reco_cpu_budget_combine(8, 1.5), 2);   /* rounded up */
    ck_assert_uint_eq(reco_cpu_budget_combine(8, 0.2), 1);   /* at least one */
    ck_assert_uint_eq(reco_cpu_budget_combine(2, 16.0), 2);  /* the mask is smaller */
    ck_assert_uint_eq(reco_cpu_budget_combine(0, 0.0), 1);
}
END_TEST

START_TEST(the_environment_overrides_when_it_holds_a_count)
{
    ck_assert_uint_eq(reco_cpu_budget_parse_override("3"), 3);
    ck_assert_uint_eq(reco_cpu_budget_parse_override("1024"), 1024);
    ck_assert_uint_eq(reco_cpu_budget_parse_override("0"), 0);
    ck_assert_uint_eq(reco_cpu_budget_parse_override("1025"), 0);
    ck_assert_uint_eq(reco_cpu_budget_parse_override("-2"), 0);
    ck_assert_uint_eq(reco_cpu_budget_parse_override("2x"), 0);
    ck_assert_uint_eq(reco_cpu_budget_parse_override(""), 0);
    ck_assert_uint_eq(reco_cpu_budget_parse_override(NULL), 0);
    setenv("RECO_NUM_THREADS", "3", 1);
    reco_backend *backend = open_backend("cpu");
    ck_assert_uint_eq(reco_backend_threads(backend), 3);
    setenv("RECO_NUM_THREADS", "5", 1);
    RECO_ASSERT_OK(reco_backend_set_threads(backend, 0)); /* read again on 0 */
    ck_assert_uint_eq(reco_backend_threads(backend), 5);
    unsetenv("RECO_NUM_THREADS");
    reco_backend_free(backend);
}
END_TEST

/* What `taskset -c 0` does, from inside: one CPU, so one thread. */
START_TEST(one_cpu_in_the_mask_gives_one_thread)
{
    unsetenv("RECO_NUM_THREADS");
    cpu_set_t mask, one;
    ck_assert_int_eq(sched_getaffinity(0, sizeof mask, &mask), 0);
    int first = 0;
    while (!CPU_ISSET(first, &mask))
        first++;
    CPU_ZERO(&one);
    CPU_SET(first, &one);
    ck_assert_int_eq(sched_setaffinity(0, sizeof one, &one), 0);
    ck_assert_uint_eq(reco_cpu_budget_threads(), 1);
    reco_backend *backend = open_backend("cpu");
    ck_assert_uint_eq(reco_backend_threads(backend), 1);
    reco_backend_free(backend);
    ck_assert_int_eq(sched_setaffinity(0, sizeof mask, &mask), 0);
    size_t budget = reco_cpu_budget_threads();
    ck_assert_uint_ge(budget, 1);
    ck_assert_uint_le(budget, (size_t)CPU_COUNT(&mask));
}
END_TEST

START_TEST(backend_threads_are_set_and_read)
{
    reco_backend *backend = open_backend("cpu");
    RECO_ASSERT_OK(reco_backend_set_threads(backend, 3));
    ck_assert_uint_eq(reco_backend_threads(backend), 3);
    ck_assert_int_eq(reco_backend_set_threads(backend, 1025), RECO_ERR_OUT_OF_RANGE);
    ck_assert_uint_eq(reco_backend_threads(backend), 3);
    ck_assert_int_eq(reco_backend_set_threads(NULL, 1), RECO_ERR_INVALID_ARGUMENT);
    ck_assert_uint_eq(reco_backend_threads(NULL), 0);
    /* the trainer's setter is the backend's */
    reco_model *model = NULL;
    reco_trainer *trainer = NULL;
    RECO_ASSERT_OK(reco_model_new(RECO_MODEL_GMF, 4, 4, &model));
    RECO_ASSERT_OK(reco_model_init(model, backend, 1));
    RECO_ASSERT_OK(reco_trainer_new(model, &trainer));
    RECO_ASSERT_OK(reco_trainer_set_threads(trainer, 2));
    ck_assert_uint_eq(reco_backend_threads(backend), 2);
    reco_trainer_free(trainer);
    reco_model_free(model);
    reco_backend_free(backend);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("cpu_budget");
    TCase *tcase = test_case(suite, "threads");
    tcase_add_test(tcase, cgroup_quotas_parse);
    tcase_add_test(tcase, a_quota_caps_the_affinity_rounded_up);
    tcase_add_test(tcase, the_environment_overrides_when_it_holds_a_count);
    tcase_add_test(tcase, one_cpu_in_the_mask_gives_one_thread);
    tcase_add_test(tcase, backend_threads_are_set_and_read);
    return run_suite(suite);
}
