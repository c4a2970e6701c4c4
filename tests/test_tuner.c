/* The tuner: seeded draws inside each family's space, successive halving's
 * rungs and survivors, the budget, the choice, and a refit that reproduces
 * the chosen trial's validation value. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "helpers.h"
#include "reco/reco.h"

/* A synthetic set split leave-one-out: training rows, and validation rows
 * with 20 sampled negatives each. */
typedef struct holdout {
    reco_dataset *all, *train, *valid;
    reco_backend *backend;
} holdout;

static holdout make_holdout(void)
{
    holdout h = {0};
    RECO_ASSERT_OK(reco_dataset_synthetic(60, 80, 1200, 3, &h.all));
    RECO_ASSERT_OK(reco_dataset_split_leave_one_out(h.all, &h.train, &h.valid));
    RECO_ASSERT_OK(reco_dataset_sample_test_negatives(h.valid, h.all, 20, 5));
    RECO_ASSERT_OK(reco_backend_open("cpu", &h.backend));
    return h;
}

static void free_holdout(holdout *h)
{
    reco_backend_free(h->backend);
    reco_dataset_free(h->all);
    reco_dataset_free(h->train);
    reco_dataset_free(h->valid);
}

enum { MAX_REPORTS = 64 };

/* What the report callback saw, rung by rung. */
typedef struct reports {
    size_t count, stop_after;
    size_t id[MAX_REPORTS], epochs[MAX_REPORTS];
    double score[MAX_REPORTS], factors[MAX_REPORTS], decay[MAX_REPORTS], unobserved[MAX_REPORTS];
} reports;

static int record(const reco_trial *trial, void *user_data)
{
    reports *r = user_data;
    ck_assert_uint_lt(r->count, MAX_REPORTS);
    r->id[r->count] = reco_trial_id(trial);
    r->epochs[r->count] = reco_trial_epochs(trial);
    r->score[r->count] = reco_trial_score(trial);
    r->factors[r->count] = reco_trial_setting(trial, RECO_SETTING_FACTORS);
    r->decay[r->count] = reco_trial_setting(trial, RECO_SETTING_WEIGHT_DECAY);
    r->unobserved[r->count] = reco_trial_setting(trial, RECO_SETTING_UNOBSERVED_WEIGHT);
    r->count++;
    return r->stop_after && r->count >= r->stop_after;
}

static reco_tuner *ials_tuner(uint64_t seed, size_t trials, reports *seen)
{
    reco_tuner *tuner;
    RECO_ASSERT_OK(reco_tuner_new(RECO_MODEL_IALS, RECO_LOSS_BCE, &tuner));
    RECO_ASSERT_OK(reco_tuner_set_budget(tuner, 0.0, trials));
    RECO_ASSERT_OK(reco_tuner_set_max_epochs(tuner, 3));
    RECO_ASSERT_OK(reco_tuner_set_seed(tuner, seed));
    RECO_ASSERT_OK(reco_tuner_set_threads(tuner, 1));
    RECO_ASSERT_OK(reco_tuner_set_report(tuner, record, seen));
    return tuner;
}

START_TEST(test_one_round_halves)
{
    holdout h = make_holdout();
    reports seen = {0};
    reco_tuner *tuner = ials_tuner(7, 0, &seen);
    RECO_ASSERT_OK(reco_tuner_run(tuner, h.backend, h.train, h.valid, RECO_METRIC_HR, 10));
    /* 9 trials of 1 epoch, then the best 3 to 3 epochs */
    ck_assert_uint_eq(reco_tuner_trials_run(tuner), 9);
    ck_assert_uint_eq(seen.count, 12);
    double third_best = -1.0, best = -1.0;
    for (size_t i = 0; i < 9; i++) {
        ck_assert_uint_eq(seen.id[i], i + 1);
        ck_assert_uint_eq(seen.epochs[i], 1);
        size_t better = 0;
        for (size_t j = 0; j < 9; j++)
            better += seen.score[j] > seen.score[i];
        if (better == 2)
            third_best = seen.score[i];
        if (i == 0) { /* the first trial runs the builder's defaults */
            ck_assert(isnan(seen.factors[i]) && isnan(seen.decay[i]) && isnan(seen.unobserved[i]));
            continue;
        }
        /* iALS's space: {64, 128, 192, 256} factors, lambda and alpha0 log-uniform */
        ck_assert(seen.factors[i] == 64 || seen.factors[i] == 128 || seen.factors[i] == 192 ||
                  seen.factors[i] == 256);
        ck_assert(seen.decay[i] >= 2e-3 && seen.decay[i] <= 2e-2);
        ck_assert(seen.unobserved[i] >= 0.03 && seen.unobserved[i] <= 1.0);
    }
    for (size_t i = 9; i < 12; i++) {
        ck_assert_uint_eq(seen.epochs[i], 3);
        /* a survivor was among the best three of the first rung */
        size_t first = seen.id[i] - 1;
        ck_assert(third_best < 0.0 || seen.score[first] >= third_best);
    }
    for (size_t i = 0; i < 12; i++)
        best = seen.score[i] > best ? seen.score[i] : best;
    const reco_trial *chosen = reco_tuner_best(tuner);
    ck_assert_ptr_nonnull(chosen);
    ck_assert_double_eq(reco_trial_score(chosen), best);
    ck_assert(best > 0.0 && best <= 1.0);
    reco_tuner_free(tuner);
    free_holdout(&h);
}
END_TEST

START_TEST(test_seed_repeats_its_trials)
{
    holdout h = make_holdout();
    reports first = {0}, again = {0}, other = {0};
    reco_tuner *a = ials_tuner(7, 4, &first), *b = ials_tuner(7, 4, &again),
               *c = ials_tuner(8, 4, &other);
    RECO_ASSERT_OK(reco_tuner_run(a, h.backend, h.train, h.valid, RECO_METRIC_HR, 10));
    RECO_ASSERT_OK(reco_tuner_run(b, h.backend, h.train, h.valid, RECO_METRIC_HR, 10));
    RECO_ASSERT_OK(reco_tuner_run(c, h.backend, h.train, h.valid, RECO_METRIC_HR, 10));
    ck_assert_uint_eq(reco_tuner_trials_run(a), 4); /* the trial budget */
    ck_assert_uint_eq(first.count, again.count);
    for (size_t i = 0; i < first.count; i++) {
        ck_assert(first.decay[i] == again.decay[i] || (isnan(first.decay[i]) && isnan(again.decay[i])));
        ck_assert_double_eq(first.score[i], again.score[i]);
    }
    ck_assert(first.decay[1] != other.decay[1]);
    char text_a[256], text_b[256];
    reco_trial_flags(reco_tuner_best(a), text_a, sizeof text_a);
    reco_trial_flags(reco_tuner_best(b), text_b, sizeof text_b);
    ck_assert_str_eq(text_a, text_b);
    reco_tuner_free(a);
    reco_tuner_free(b);
    reco_tuner_free(c);
    free_holdout(&h);
}
END_TEST

START_TEST(test_report_can_stop)
{
    holdout h = make_holdout();
    reports seen = {.stop_after = 2};
    reco_tuner *tuner = ials_tuner(7, 0, &seen);
    RECO_ASSERT_OK(reco_tuner_run(tuner, h.backend, h.train, h.valid, RECO_METRIC_HR, 10));
    ck_assert_uint_eq(reco_tuner_trials_run(tuner), 2);
    ck_assert_uint_eq(seen.count, 2);
    reco_tuner_free(tuner);
    free_holdout(&h);
}
END_TEST

/* EASE is a closed form: refitting the chosen lambda on the same rows gives
 * the chosen trial's model, hence its validation value. */
START_TEST(test_fit_best_reproduces_the_choice)
{
    holdout h = make_holdout();
    reco_tuner *tuner;
    RECO_ASSERT_OK(reco_tuner_new(RECO_MODEL_EASE, RECO_LOSS_BCE, &tuner));
    RECO_ASSERT_OK(reco_tuner_set_budget(tuner, 0.0, 5));
    RECO_ASSERT_OK(reco_tuner_run(tuner, h.backend, h.train, h.valid, RECO_METRIC_NDCG, 10));
    ck_assert_uint_eq(reco_tuner_trials_run(tuner), 5);
    const reco_trial *best = reco_tuner_best(tuner);
    double lambda = reco_trial_setting(best, RECO_SETTING_WEIGHT_DECAY);
    /* the defaults' trial (lambda 1000) or a drawn lambda */
    ck_assert(isnan(lambda) || (lambda >= 10.0 && lambda <= 1e4));
    ck_assert(isnan(reco_trial_setting(best, RECO_SETTING_FACTORS)));
    char text[256], expected[256] = "--epochs 1";
    if (!isnan(lambda))
        snprintf(expected, sizeof expected, "--weight-decay %.3g --epochs 1", lambda);
    ck_assert_uint_eq(reco_trial_flags(best, text, sizeof text), strlen(expected));
    ck_assert_str_eq(text, expected);
    ck_assert_uint_eq(reco_trial_flags(best, text, 8), strlen(expected)); /* truncated */
    ck_assert_str_eq(text, isnan(lambda) ? "--epoch" : "--weigh");

    reco_model *model;
    RECO_ASSERT_OK(reco_tuner_fit_best(tuner, h.backend, h.train, &model));
    reco_metrics *metrics;
    RECO_ASSERT_OK(reco_metrics_new(&metrics));
    RECO_ASSERT_OK(reco_metrics_evaluate_sampled(metrics, model, h.valid));
    double ndcg;
    RECO_ASSERT_OK(reco_metrics_get(metrics, RECO_METRIC_NDCG, &ndcg));
    ck_assert_double_eq_tol(ndcg, reco_trial_score(best), 1e-12);
    reco_metrics_free(metrics);
    reco_model_free(model);
    reco_tuner_free(tuner);
    free_holdout(&h);
}
END_TEST

/* For rating errors the lowest validation value wins. */
START_TEST(test_errors_choose_the_lowest)
{
    holdout h = make_holdout();
    reco_dataset *train, *valid;
    RECO_ASSERT_OK(reco_dataset_split_random(h.all, 0.2, 1, 0, &train, &valid));
    reports seen = {0};
    reco_tuner *tuner;
    RECO_ASSERT_OK(reco_tuner_new(RECO_MODEL_MF, RECO_LOSS_MSE, &tuner));
    RECO_ASSERT_OK(reco_tuner_set_budget(tuner, 0.0, 3));
    RECO_ASSERT_OK(reco_tuner_set_max_epochs(tuner, 2));
    RECO_ASSERT_OK(reco_tuner_set_report(tuner, record, &seen));
    RECO_ASSERT_OK(reco_tuner_run(tuner, h.backend, train, valid, RECO_METRIC_RMSE, 10));
    double lowest = INFINITY;
    for (size_t i = 0; i < seen.count; i++)
        lowest = seen.score[i] < lowest ? seen.score[i] : lowest;
    ck_assert(isfinite(lowest));
    ck_assert_double_eq(reco_trial_score(reco_tuner_best(tuner)), lowest);
    /* MF with MSE draws Adam's rate and biases, no negatives */
    ck_assert_uint_eq(seen.id[1], 2);
    ck_assert(seen.decay[1] >= 2e-4 && seen.decay[1] <= 3e-3);
    ck_assert(isnan(seen.factors[0]));
    reco_tuner_free(tuner);
    reco_dataset_free(train);
    reco_dataset_free(valid);
    free_holdout(&h);
}
END_TEST

/* MF on implicit data, one thread, with a budget of time and trials. */
static reco_tuner *mf_tuner(double seconds, size_t trials, size_t max_epochs, reports *seen)
{
    reco_tuner *tuner;
    RECO_ASSERT_OK(reco_tuner_new(RECO_MODEL_MF, RECO_LOSS_BCE, &tuner));
    RECO_ASSERT_OK(reco_tuner_set_budget(tuner, seconds, trials));
    RECO_ASSERT_OK(reco_tuner_set_max_epochs(tuner, max_epochs));
    RECO_ASSERT_OK(reco_tuner_set_threads(tuner, 1));
    RECO_ASSERT_OK(reco_tuner_set_report(tuner, record, seen));
    return tuner;
}

static int keep_validation(const reco_epoch_report *report, void *user_data)
{
    double *values = user_data;
    values[report->epoch] = report->validation;
    return 0;
}

/* A trial scores its best epoch averaged with its neighbours: the defaults'
 * trial, trained in two rungs (1 epoch, then to 4), against the same model
 * trained here in one fit whose epochs are averaged by hand. */
START_TEST(test_score_averages_neighbouring_epochs)
{
    holdout h = make_holdout();
    reports seen = {0};
    reco_tuner *tuner = mf_tuner(0.0, 1, 4, &seen);
    RECO_ASSERT_OK(reco_tuner_run(tuner, h.backend, h.train, h.valid, RECO_METRIC_HR, 10));
    ck_assert_uint_eq(seen.count, 2);
    ck_assert_uint_eq(seen.epochs[1], 4);

    reco_model *model;
    reco_trainer *trainer;
    RECO_ASSERT_OK(reco_model_new(RECO_MODEL_MF, reco_dataset_n_users(h.train),
                                  reco_dataset_n_items(h.train), &model));
    RECO_ASSERT_OK(reco_model_set_vocabulary(model, h.train));
    RECO_ASSERT_OK(reco_model_init(model, h.backend, 42));
    RECO_ASSERT_OK(reco_trainer_new(model, &trainer));
    RECO_ASSERT_OK(reco_trainer_set_loss(trainer, RECO_LOSS_BCE));
    RECO_ASSERT_OK(reco_trainer_set_seed(trainer, 42));
    RECO_ASSERT_OK(reco_trainer_set_threads(trainer, 1));
    RECO_ASSERT_OK(reco_trainer_set_validation(trainer, h.valid, h.train, RECO_METRIC_HR, 10));
    double hr[4];
    RECO_ASSERT_OK(reco_trainer_set_epoch_callback(trainer, keep_validation, hr));
    RECO_ASSERT_OK(reco_trainer_fit(trainer, h.train, 4));
    const double smoothed[4] = {(hr[0] + hr[1]) / 2, (hr[0] + hr[1] + hr[2]) / 3,
                                (hr[1] + hr[2] + hr[3]) / 3, (hr[2] + hr[3]) / 2};
    size_t best = 0;
    for (size_t e = 1; e < 4; e++)
        best = smoothed[e] > smoothed[best] ? e : best;
    const reco_trial *chosen = reco_tuner_best(tuner);
    ck_assert_double_eq_tol(reco_trial_score(chosen), smoothed[best], 1e-12);
    ck_assert_uint_eq(reco_trial_best_epoch(chosen), best + 1);
    /* the first rung's one epoch scores its value alone */
    ck_assert_double_eq_tol(seen.score[0], hr[0], 1e-12);
    reco_trainer_free(trainer);
    reco_model_free(model);
    reco_tuner_free(tuner);

    /* MF with BCE draws 64 or 128 factors, 8 negatives, SGD */
    reco_tuner *drawn;
    reports draws = {0};
    RECO_ASSERT_OK(reco_tuner_new(RECO_MODEL_MF, RECO_LOSS_BCE, &drawn));
    RECO_ASSERT_OK(reco_tuner_set_budget(drawn, 0.0, 4));
    RECO_ASSERT_OK(reco_tuner_set_max_epochs(drawn, 1));
    RECO_ASSERT_OK(reco_tuner_set_report(drawn, record, &draws));
    RECO_ASSERT_OK(reco_tuner_run(drawn, h.backend, h.train, h.valid, RECO_METRIC_HR, 10));
    ck_assert_uint_eq(draws.count, 4);
    for (size_t i = 1; i < draws.count; i++) {
        ck_assert(draws.factors[i] == 64 || draws.factors[i] == 128);
        ck_assert(draws.decay[i] >= 1.5e-5 && draws.decay[i] <= 5e-5);
    }
    reco_tuner_free(drawn);
    free_holdout(&h);
}
END_TEST

/* When the time is spent, the trial training stops after its epoch: a first
 * rung of 10000 epochs (seconds of work here) ends within a 0.2 s budget. */
START_TEST(test_time_budget_stops_a_trial)
{
    holdout h = make_holdout();
    reports seen = {0};
    reco_tuner *tuner = mf_tuner(0.2, 0, 30000, &seen);
    time_t started = time(NULL);
    RECO_ASSERT_OK(reco_tuner_run(tuner, h.backend, h.train, h.valid, RECO_METRIC_HR, 10));
    ck_assert_int_lt((int)(time(NULL) - started), 30);
    ck_assert_uint_eq(reco_tuner_trials_run(tuner), 1);
    ck_assert_uint_eq(seen.count, 1);
    ck_assert_uint_ge(seen.epochs[0], 1);
    ck_assert_uint_lt(seen.epochs[0], 10000);
    ck_assert_uint_le(reco_trial_best_epoch(reco_tuner_best(tuner)), seen.epochs[0]);
    reco_tuner_free(tuner);
    free_holdout(&h);
}
END_TEST

START_TEST(test_bad_arguments)
{
    holdout h = make_holdout();
    reco_tuner *tuner;
    EXPECT_STATUS(reco_tuner_new((reco_model_kind)99, RECO_LOSS_BCE, &tuner),
                  RECO_ERR_INVALID_ARGUMENT, "no such kind");
    RECO_ASSERT_OK(reco_tuner_new(RECO_MODEL_IALS, RECO_LOSS_BCE, &tuner));
    EXPECT_STATUS(reco_tuner_set_budget(tuner, -1.0, 0), RECO_ERR_INVALID_ARGUMENT, "budget");
    ck_assert_ptr_null(reco_tuner_best(tuner));
    reco_model *model;
    EXPECT_STATUS(reco_tuner_fit_best(tuner, h.backend, h.train, &model), RECO_ERR_STATE,
                  "has not run");
    reco_dataset *empty;
    const int64_t none[1] = {0};
    RECO_ASSERT_OK(reco_dataset_from_arrays(none, none, NULL, NULL, 0, &empty));
    EXPECT_STATUS(reco_tuner_run(tuner, h.backend, h.train, empty, RECO_METRIC_HR, 10),
                  RECO_ERR_INVALID_ARGUMENT, "validation set is empty");
    EXPECT_STATUS(reco_tuner_run(tuner, NULL, h.train, h.valid, RECO_METRIC_HR, 10),
                  RECO_ERR_INVALID_ARGUMENT, "needs a backend");
    reco_dataset_free(empty);
    reco_tuner_free(tuner);
    free_holdout(&h);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("tuner");
    TCase *tc = test_case(suite, "tuner");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_one_round_halves);
    tcase_add_test(tc, test_seed_repeats_its_trials);
    tcase_add_test(tc, test_report_can_stop);
    tcase_add_test(tc, test_fit_best_reproduces_the_choice);
    tcase_add_test(tc, test_errors_choose_the_lowest);
    tcase_add_test(tc, test_score_averages_neighbouring_epochs);
    tcase_add_test(tc, test_time_budget_stops_a_trial);
    tcase_add_test(tc, test_bad_arguments);
    return run_suite(suite);
}
