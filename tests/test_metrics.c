/* Metrics against hand-computed values: an MF model whose score is a fixed
 * number per item, so every ranking below can be worked out on paper. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "reco/reco.h"

/* item 0..5 scores; items 1 and 2 tie */
static const float item_scores[6] = {0.9f, 0.5f, 0.5f, 0.1f, 0.7f, 0.3f};

typedef struct world {
    reco_dataset *train;
    reco_dataset *test;
    reco_backend *backend;
    reco_model *model;
} world;

/* train: user 9 rated items 0..5 (fixing their indices), user 1 rated item 0.
 * test (shared vocabulary): user 1 -> {1, 3}, user 2 -> {5}, user 3 -> {0, 4, 1, 2}. */
static world make_world(void)
{
    world w = {0};
    const char *train = write_temp_text("train.tsv", "9\t0\n9\t1\n9\t2\n9\t3\n9\t4\n9\t5\n1\t0\n");
    const char *test = write_temp_text("test.tsv", "1\t1\n1\t3\n2\t5\n3\t0\n3\t4\n3\t1\n3\t2\n");
    RECO_ASSERT_OK(reco_dataset_read(train, RECO_FORMAT_PAIRS, &w.train));
    RECO_ASSERT_OK(reco_dataset_read_shared(test, RECO_FORMAT_PAIRS, w.train, &w.test));
    RECO_ASSERT_OK(reco_backend_open("cpu", &w.backend));
    RECO_ASSERT_OK(reco_model_new(RECO_MODEL_MF, 4, 6, &w.model));
    RECO_ASSERT_OK(reco_model_set_factors(w.model, 1));
    RECO_ASSERT_OK(reco_model_init(w.model, w.backend, 1));
    float params[4 + 6 + 2] = {1, 1, 1, 1};
    memcpy(params + 4, item_scores, sizeof item_scores);
    params[10] = 1.0f; /* head weight; head bias 0 */
    RECO_ASSERT_OK(reco_model_set_parameters(w.model, params));
    return w;
}

static void free_world(world *w)
{
    reco_model_free(w->model);
    reco_backend_free(w->backend);
    reco_dataset_free(w->train);
    reco_dataset_free(w->test);
}

static double get(const reco_metrics *metrics, reco_metric metric)
{
    double value = NAN;
    RECO_ASSERT_OK(reco_metrics_get(metrics, metric, &value));
    return value;
}

START_TEST(full_ranking_by_hand)
{
    world w = make_world();
    reco_metrics *metrics;
    RECO_ASSERT_OK(reco_metrics_new(&metrics));
    RECO_ASSERT_OK(reco_metrics_set_k(metrics, 3));
    RECO_ASSERT_OK(reco_metrics_evaluate_ranking(metrics, w.model, w.test, w.train));
    /* user 1 (item 0 excluded): top 4, 1, 2 -> one of its two relevant, at rank 2;
     * user 2: top 0, 4, 1 -> none of {5}; user 3: top 0, 4, 1 -> three of four */
    ck_assert_uint_eq(reco_metrics_count(metrics, RECO_METRIC_HR), 3);
    ck_assert_double_eq_tol(get(metrics, RECO_METRIC_HR), 2.0 / 3.0, 1e-9);
    ck_assert_double_eq_tol(get(metrics, RECO_METRIC_RECALL), (0.5 + 0.0 + 0.75) / 3.0, 1e-9);
    ck_assert_double_eq_tol(get(metrics, RECO_METRIC_PRECISION), (1.0 / 3 + 0 + 1) / 3.0, 1e-9);
    double ndcg_user1 = (1.0 / log2(3.0)) / (1.0 + 1.0 / log2(3.0));
    ck_assert_double_eq_tol(get(metrics, RECO_METRIC_NDCG), (ndcg_user1 + 0 + 1) / 3.0, 1e-9);
    ck_assert_double_eq_tol(get(metrics, RECO_METRIC_MAP), (0.5 / 2.0 + 0 + 1) / 3.0, 1e-9);
    ck_assert_int_eq(reco_metrics_get(metrics, RECO_METRIC_RMSE, &(double){0}), RECO_ERR_STATE);
    reco_metrics_free(metrics);
    free_world(&w);
}
END_TEST

START_TEST(sampled_protocol_and_ties_by_hand)
{
    world w = make_world();
    reco_dataset *all, *loo_train, *loo_test;
    /* leave-one-out on pairs without timestamps: the last row per user */
    const char *rows = write_temp_text("all.tsv", "9\t0\n9\t1\n9\t2\n9\t3\n9\t4\n9\t5\n"
                                                   "1\t0\n1\t1\n2\t0\n2\t3\n");
    RECO_ASSERT_OK(reco_dataset_read(rows, RECO_FORMAT_PAIRS, &all));
    RECO_ASSERT_OK(reco_dataset_split_leave_one_out(all, &loo_train, &loo_test));
    /* test rows: user 9 -> 5, user 1 -> 1, user 2 -> 3 */
    const char *negatives = write_temp_text("t.negative", "(9,5)\t3\n"
                                                          "(1,1)\t2\t3\t5\n"
                                                          "(2,3)\t0\t4\n");
    RECO_ASSERT_OK(reco_dataset_read_test_negatives(loo_test, negatives));
    reco_metrics *metrics;
    RECO_ASSERT_OK(reco_metrics_new(&metrics));
    RECO_ASSERT_OK(reco_metrics_set_k(metrics, 2));
    RECO_ASSERT_OK(reco_metrics_evaluate_sampled(metrics, w.model, loo_test));
    /* user 9: 0.3 over 0.1, rank 0; user 1: 0.5 ties item 2, pessimistic rank 1;
     * user 2: 0.1 under 0.9 and 0.7, rank 2, a miss at K = 2 */
    ck_assert_double_eq_tol(get(metrics, RECO_METRIC_HR), 2.0 / 3.0, 1e-9);
    ck_assert_double_eq_tol(get(metrics, RECO_METRIC_NDCG), (1.0 + 1.0 / log2(3.0)) / 3.0, 1e-9);
    RECO_ASSERT_OK(reco_metrics_set_tie_policy(metrics, RECO_TIES_OPTIMISTIC));
    reco_metrics_reset(metrics);
    RECO_ASSERT_OK(reco_metrics_evaluate_sampled(metrics, w.model, loo_test));
    ck_assert_double_eq_tol(get(metrics, RECO_METRIC_NDCG), 2.0 / 3.0, 1e-9);
    /* a range of the rows: users 1 and 2 only (optimistic: ranks 0 and 2) */
    reco_metrics_reset(metrics);
    RECO_ASSERT_OK(reco_metrics_evaluate_sampled_rows(metrics, w.model, loo_test, 1, 2));
    ck_assert_uint_eq(reco_metrics_count(metrics, RECO_METRIC_HR), 2);
    ck_assert_double_eq_tol(get(metrics, RECO_METRIC_HR), 0.5, 1e-9);
    ck_assert_int_eq(reco_metrics_evaluate_sampled_rows(metrics, w.model, loo_test, 2, 2),
                     RECO_ERR_OUT_OF_RANGE);
    ck_assert_int_eq(reco_metrics_evaluate_sampled(metrics, w.model, w.test), RECO_ERR_STATE);
    reco_metrics_free(metrics);
    reco_dataset_free(all);
    reco_dataset_free(loo_train);
    reco_dataset_free(loo_test);
    free_world(&w);
}
END_TEST

/* The sampled protocol scores many test rows' candidates in one call (4096
 * pairs a call): over 200 rows of 100 candidates (5 calls, rows cut at the
 * calls' edges) it must give what scoring the rows one at a time gives. */
START_TEST(sampled_rows_scored_together_as_one_by_one)
{
    loo_split split = loo_split_synthetic(200, 300, 6000, 4, 5);
    training_setup setup = training_setup_new(open_backend("cpu"), RECO_MODEL_NEUMF, 200, 300, 8);
    reco_metrics *together, *one_by_one;
    RECO_ASSERT_OK(reco_metrics_new(&together));
    RECO_ASSERT_OK(reco_metrics_new(&one_by_one));
    RECO_ASSERT_OK(reco_metrics_set_k(together, 10));
    RECO_ASSERT_OK(reco_metrics_set_k(one_by_one, 10));
    RECO_ASSERT_OK(reco_metrics_evaluate_sampled(together, setup.model, split.test));
    for (size_t row = 0; row < reco_dataset_size(split.test); row++)
        RECO_ASSERT_OK(
            reco_metrics_evaluate_sampled_rows(one_by_one, setup.model, split.test, row, 1));
    ck_assert_uint_eq(reco_metrics_count(together, RECO_METRIC_HR), 200);
    ck_assert_uint_eq(reco_metrics_count(one_by_one, RECO_METRIC_HR), 200);
    ck_assert_double_eq(get(together, RECO_METRIC_HR), get(one_by_one, RECO_METRIC_HR));
    ck_assert_double_eq(get(together, RECO_METRIC_NDCG), get(one_by_one, RECO_METRIC_NDCG));
    double hr = get(together, RECO_METRIC_HR);
    ck_assert(hr > 0.0 && hr < 1.0); /* an untrained model ranks some positives in, some out */
    reco_metrics_free(together);
    reco_metrics_free(one_by_one);
    training_setup_free(&setup);
    loo_split_free(&split);
}
END_TEST

START_TEST(rating_errors_by_hand)
{
    world w = make_world();
    const char *rated = write_temp_text("rated.tsv", "1\t0\t1.0\n1\t4\t0.2\n");
    reco_dataset *test;
    RECO_ASSERT_OK(reco_dataset_read_shared(rated, RECO_FORMAT_TSV, w.train, &test));
    reco_metrics *metrics;
    RECO_ASSERT_OK(reco_metrics_new(&metrics));
    RECO_ASSERT_OK(reco_metrics_evaluate_ratings(metrics, w.model, test));
    /* errors -0.1 and +0.5 */
    ck_assert_double_eq_tol(get(metrics, RECO_METRIC_MSE), 0.13, 1e-6);
    ck_assert_double_eq_tol(get(metrics, RECO_METRIC_RMSE), sqrt(0.13), 1e-6);
    ck_assert_double_eq_tol(get(metrics, RECO_METRIC_MAE), 0.3, 1e-6);
    ck_assert_uint_eq(reco_metrics_count(metrics, RECO_METRIC_RMSE), 2);
    ck_assert_int_eq(reco_metrics_evaluate_ratings(metrics, w.model, w.test), RECO_ERR_STATE);
    ck_assert_int_eq(reco_metrics_set_k(metrics, 0), RECO_ERR_INVALID_ARGUMENT);
    ck_assert_str_eq(reco_metric_name(RECO_METRIC_NDCG), "NDCG");
    reco_metrics_free(metrics);
    reco_dataset_free(test);
    free_world(&w);
}
END_TEST

START_TEST(validation_keeps_the_best_epoch)
{
    loo_split data = loo_split_synthetic(200, 300, 10000, 2, 3);
    reco_dataset *train = data.train, *valid = data.test;
    training_setup t = training_setup_new(open_backend("cpu"), RECO_MODEL_GMF, 200,
                                          reco_dataset_n_items(data.all), 1);
    reco_trainer *trainer = t.trainer;
    RECO_ASSERT_OK(reco_trainer_set_early_stopping(trainer, 2));
    ck_assert_int_eq(reco_trainer_fit(trainer, train, 1), RECO_ERR_STATE);
    /* a learning rate this large makes the validation value wander */
    RECO_ASSERT_OK(reco_trainer_set_learning_rate(trainer, 0.05));
    RECO_ASSERT_OK(reco_trainer_set_validation(trainer, valid, train, RECO_METRIC_NDCG, 10));
    RECO_ASSERT_OK(reco_trainer_fit(trainer, train, 12));
    size_t best_epoch;
    double best, last, now;
    RECO_ASSERT_OK(reco_trainer_best(trainer, &best_epoch, &best));
    RECO_ASSERT_OK(reco_trainer_last_validation(trainer, &last));
    ck_assert(best >= last);
    /* the model holds the best epoch's parameters again */
    reco_metrics *metrics;
    RECO_ASSERT_OK(reco_metrics_new(&metrics));
    RECO_ASSERT_OK(reco_metrics_evaluate_sampled(metrics, t.model, valid));
    RECO_ASSERT_OK(reco_metrics_get(metrics, RECO_METRIC_NDCG, &now));
    ck_assert_double_eq_tol(now, best, 1e-12);
    reco_metrics_free(metrics);
    training_setup_free(&t);
    loo_split_free(&data);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("metrics");
    TCase *tcase = test_case(suite, "metrics");
    tcase_add_test(tcase, full_ranking_by_hand);
    tcase_add_test(tcase, sampled_protocol_and_ties_by_hand);
    tcase_add_test(tcase, sampled_rows_scored_together_as_one_by_one);
    tcase_add_test(tcase, rating_errors_by_hand);
    tcase_set_timeout(tcase, 300);
    tcase_add_test(tcase, validation_keeps_the_best_epoch);
    return run_suite(suite);
}
