/* iALS: the row solves against values computed here in double precision
 * (a one-factor problem by hand, the stationarity of an exact half, the
 * objective the trainer reports), conjugate gradient against Cholesky,
 * monotone objective, thread counts, settings, files and a backend that
 * lacks the solver. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend_handle.h"
#include "helpers.h"

/* A model's user and item factor tables (MF layout: users, then items). */
typedef struct factors {
    size_t n_users, n_items, dim;
    float *values;
} factors;

static factors factors_of(const reco_model *model, size_t dim)
{
    factors f = {reco_model_n_users(model), reco_model_n_items(model), dim, NULL};
    f.values = malloc(reco_model_parameter_count(model) * sizeof *f.values);
    ck_assert_ptr_nonnull(f.values);
    RECO_ASSERT_OK(reco_model_get_parameters(model, f.values));
    return f;
}

static const float *user_row(const factors *f, size_t u)
{
    return f->values + u * f->dim;
}

static const float *item_row(const factors *f, size_t i)
{
    return f->values + (f->n_users + i) * f->dim;
}

static double dot(const float *a, const float *b, size_t n)
{
    double sum = 0.0;
    for (size_t k = 0; k < n; k++)
        sum += (double)a[k] * b[k];
    return sum;
}

/* A dataset of external ids 0..: pairs (users[k], items[k]). */
static reco_dataset *pairs(const int64_t *users, const int64_t *items, const float *ratings,
                           size_t n)
{
    reco_dataset *dataset;
    RECO_ASSERT_OK(reco_dataset_from_arrays(users, items, ratings, NULL, n, &dataset));
    return dataset;
}

/* 3 users x 3 items: user 0 has items 0 and 1, user 1 item 1, user 2 items
 * 0 and 2 (external ids equal to indices: first seen in that order). */
static const int64_t small_users[] = {0, 0, 1, 2, 2};
static const int64_t small_items[] = {0, 1, 1, 0, 2};
#define SMALL_PAIRS 5

static training_setup ials_setup(size_t n_users, size_t n_items, size_t dim, reco_solver solver,
                                 size_t cg_steps)
{
    training_setup setup = {open_backend("cpu"), NULL, NULL};
    RECO_ASSERT_OK(reco_model_new(RECO_MODEL_IALS, n_users, n_items, &setup.model));
    RECO_ASSERT_OK(reco_model_set_factors(setup.model, dim));
    RECO_ASSERT_OK(reco_model_init(setup.model, setup.backend, 7));
    RECO_ASSERT_OK(reco_trainer_new(setup.model, &setup.trainer));
    RECO_ASSERT_OK(reco_trainer_set_solver(setup.trainer, solver, cg_steps));
    return setup;
}

/* One factor, by hand: x_r = sum_j c_j y_j / (w0 sum_all y^2 + sum_j c_j y_j^2
 * + lambda (n_r + w0 n_columns)), users first with the initial items, then
 * items with the new users. */
static void one_factor_epoch(const float *ratings, double confidence, reco_solver solver)
{
    const double w0 = 0.5, lambda = 0.1;
    training_setup setup = ials_setup(3, 3, 1, solver, 1);
    RECO_ASSERT_OK(reco_trainer_set_unobserved_weight(setup.trainer, w0));
    RECO_ASSERT_OK(reco_trainer_set_weight_decay(setup.trainer, lambda));
    RECO_ASSERT_OK(reco_trainer_set_confidence(setup.trainer, confidence));
    /* users, items, then the dense part: the head fixed at 1, no bias */
    const float start[8] = {0.3f, -0.2f, 0.5f, 0.4f, 0.7f, -0.6f, 1.0f, 0.0f};
    ck_assert_uint_eq(reco_model_parameter_count(setup.model), 8);
    RECO_ASSERT_OK(reco_model_set_parameters(setup.model, start));
    reco_dataset *data = pairs(small_users, small_items, ratings, SMALL_PAIRS);
    double mean_loss;
    RECO_ASSERT_OK(reco_trainer_epoch(setup.trainer, data, &mean_loss));

    double user[3], item[3] = {start[3], start[4], start[5]};
    double c[SMALL_PAIRS];
    for (size_t k = 0; k < SMALL_PAIRS; k++)
        c[k] = 1.0 + confidence * (ratings ? ratings[k] : 1.0);
    for (int side = 0; side < 2; side++) {
        double *solved = side ? item : user;
        const double *fixed = side ? user : item;
        double gram = fixed[0] * fixed[0] + fixed[1] * fixed[1] + fixed[2] * fixed[2];
        for (int r = 0; r < 3; r++) {
            double numerator = 0.0, denominator = w0 * gram;
            int entries = 0;
            for (size_t k = 0; k < SMALL_PAIRS; k++) {
                int row = (int)(side ? small_items[k] : small_users[k]);
                int column = (int)(side ? small_users[k] : small_items[k]);
                if (row != r)
                    continue;
                numerator += c[k] * fixed[column];
                denominator += c[k] * fixed[column] * fixed[column];
                entries++;
            }
            solved[r] = numerator / (denominator + lambda * (entries + w0 * 3));
        }
    }
    float got[8];
    RECO_ASSERT_OK(reco_model_get_parameters(setup.model, got));
    for (int r = 0; r < 3; r++) {
        ck_assert_double_eq_tol(got[r], user[r], 1e-6);
        ck_assert_double_eq_tol(got[3 + r], item[r], 1e-6);
    }
    /* the objective per observed pair, at the epoch's end */
    double objective = 0.0;
    for (size_t k = 0; k < SMALL_PAIRS; k++) {
        double error = user[small_users[k]] * item[small_items[k]] - 1.0;
        objective += c[k] * error * error;
    }
    double user_sq = 0.0, item_sq = 0.0;
    for (int r = 0; r < 3; r++) {
        user_sq += user[r] * user[r];
        item_sq += item[r] * item[r];
    }
    objective += w0 * user_sq * item_sq;
    const int user_entries[3] = {2, 1, 2}, item_entries[3] = {2, 2, 1};
    for (int r = 0; r < 3; r++)
        objective += lambda * ((user_entries[r] + w0 * 3) * user[r] * user[r] +
                               (item_entries[r] + w0 * 3) * item[r] * item[r]);
    ck_assert_double_eq_tol(mean_loss, objective / SMALL_PAIRS, 1e-6);
    reco_dataset_free(data);
    training_setup_free(&setup);
}

START_TEST(one_factor_rows_are_solved_as_by_hand)
{
    one_factor_epoch(NULL, 0.0, RECO_SOLVER_CHOLESKY);
    /* one CG step solves a 1 x 1 system exactly */
    one_factor_epoch(NULL, 0.0, RECO_SOLVER_CG);
}
END_TEST

START_TEST(confidence_weighs_pairs_by_rating)
{
    const float ratings[SMALL_PAIRS] = {5.0f, 1.0f, 3.0f, 2.0f, 4.0f};
    one_factor_epoch(ratings, 0.4, RECO_SOLVER_CHOLESKY);
    one_factor_epoch(ratings, 0.0, RECO_SOLVER_CHOLESKY);
}
END_TEST

/* The gradient of the objective with respect to one row's factors x (of
 * the solved side), the fixed side's rows `fixed` (n_fixed x dim) and the
 * row's observed columns, divided by the norm of its largest term. */
static double relative_row_gradient(const float *x, const float *fixed, size_t n_fixed,
                                    const int32_t *observed, size_t n_observed, size_t dim,
                                    double w0, double lambda)
{
    double gradient[16] = {0}, scale = 1e-30;
    for (size_t k = 0; k < n_observed; k++) {
        const float *y = fixed + (size_t)observed[k] * dim;
        double error = dot(y, x, dim) - 1.0;
        for (size_t d = 0; d < dim; d++)
            gradient[d] += error * y[d];
    }
    for (size_t j = 0; j < n_fixed; j++) {
        double score = dot(fixed + j * dim, x, dim);
        for (size_t d = 0; d < dim; d++)
            gradient[d] += w0 * score * fixed[j * dim + d];
    }
    double lambda_r = lambda * ((double)n_observed + w0 * (double)n_fixed);
    double norm = 0.0;
    for (size_t d = 0; d < dim; d++) {
        scale = fmax(scale, fabs(lambda_r * x[d]));
        gradient[d] += lambda_r * x[d];
        norm += gradient[d] * gradient[d];
    }
    return sqrt(norm) / scale;
}

/* Item i's: its users in the data are its observed columns. */
static double relative_item_gradient(const factors *f, const reco_dataset *data, size_t item,
                                     double w0, double lambda)
{
    const int32_t *users = reco_dataset_users(data), *items = reco_dataset_items(data);
    int32_t *observed = malloc((reco_dataset_size(data) + 1) * sizeof *observed);
    ck_assert_ptr_nonnull(observed);
    size_t n_observed = 0;
    for (size_t k = 0; k < reco_dataset_size(data); k++)
        if ((size_t)items[k] == item)
            observed[n_observed++] = users[k];
    double gradient = relative_row_gradient(item_row(f, item), user_row(f, 0), f->n_users,
                                            observed, n_observed, f->dim, w0, lambda);
    free(observed);
    return gradient;
}

/* User u's, for its items. */
static double relative_user_gradient(const factors *f, const int32_t *items, size_t n_items,
                                     size_t user, double w0, double lambda)
{
    return relative_row_gradient(user_row(f, user), item_row(f, 0), f->n_items, items, n_items,
                                 f->dim, w0, lambda);
}

START_TEST(fold_in_and_refit_solve_a_user_exactly)
{
    loo_split split = loo_split_synthetic(60, 400, 2400, 3, 4);
    training_setup setup = ials_setup(60, 400, 8, RECO_SOLVER_CG, 3);
    RECO_ASSERT_OK(reco_trainer_set_weight_decay(setup.trainer, 0.02));
    RECO_ASSERT_OK(reco_trainer_set_unobserved_weight(setup.trainer, 0.5));
    RECO_ASSERT_OK(reco_trainer_fit(setup.trainer, split.train, 2));
    /* the model keeps the settings it was solved with, across a file */
    const char *path = temp_path("fold.reco");
    RECO_ASSERT_OK(reco_model_save(setup.model, path));
    reco_model *model;
    RECO_ASSERT_OK(reco_model_load(path, setup.backend, &model));
    const int32_t liked[] = {17, 3, 250, 3, 99}; /* a repeat counts once */
    int32_t user;
    RECO_ASSERT_OK(reco_model_fold_in(model, liked, 5, 0, 0, &user));
    ck_assert_int_eq(user, 60);
    ck_assert_uint_eq(reco_model_n_users(model), 61);
    factors f = factors_of(model, 8);
    const int32_t distinct[] = {3, 17, 99, 250};
    ck_assert_double_lt(relative_user_gradient(&f, distinct, 4, 60, 0.5, 0.02), 1e-3);
    /* with other settings the row is not the minimum: the check can fail */
    ck_assert_double_gt(relative_user_gradient(&f, distinct, 4, 60, 0.3, 0.007), 1e-2);
    float folded[8];
    memcpy(folded, user_row(&f, 60), sizeof folded);
    free(f.values);
    /* refitting user 5 to the same items gives the same row, and moves no other */
    factors before = factors_of(model, 8);
    RECO_ASSERT_OK(reco_model_refit_user(model, 5, distinct, 4));
    f = factors_of(model, 8);
    ck_assert_mem_eq(user_row(&f, 5), folded, sizeof folded);
    size_t n = reco_model_parameter_count(model);
    ck_assert_mem_eq(f.values, before.values, 5 * 8 * sizeof *f.values);
    ck_assert_mem_eq(f.values + 6 * 8, before.values + 6 * 8, (n - 6 * 8) * sizeof *f.values);
    free(f.values);
    free(before.values);
    ck_assert_int_eq(reco_model_refit_user(model, 61, distinct, 4), RECO_ERR_OUT_OF_RANGE);
    reco_model_free(model);
    reco_model *mf;
    RECO_ASSERT_OK(reco_model_new(RECO_MODEL_MF, 5, 5, &mf));
    RECO_ASSERT_OK(reco_model_init(mf, setup.backend, 1));
    EXPECT_STATUS(reco_model_refit_user(mf, 0, liked + 3, 1), RECO_ERR_STATE, "iALS");
    reco_model_free(mf);
    training_setup_free(&setup);
    loo_split_free(&split);
}
END_TEST

START_TEST(an_exact_half_leaves_no_gradient)
{
    loo_split split = loo_split_synthetic(60, 400, 2400, 3, 4);
    training_setup setup = ials_setup(60, 400, 8, RECO_SOLVER_CHOLESKY, 1);
    RECO_ASSERT_OK(reco_trainer_epoch(setup.trainer, split.train, NULL));
    RECO_ASSERT_OK(reco_trainer_epoch(setup.trainer, split.train, NULL));
    factors f = factors_of(setup.model, 8);
    /* the item half solved last: every item is at its minimum given the users */
    for (size_t i = 0; i < f.n_items; i++)
        ck_assert_double_lt(relative_item_gradient(&f, split.train, i, 0.3, 0.007), 1e-3);
    /* a perturbed item is not: the check can fail */
    f.values[(f.n_users + 5) * 8] += 0.05f;
    ck_assert_double_gt(relative_item_gradient(&f, split.train, 5, 0.3, 0.007), 1e-2);
    free(f.values);
    training_setup_free(&setup);
    loo_split_free(&split);
}
END_TEST

START_TEST(conjugate_gradient_reaches_the_exact_solution)
{
    loo_split split = loo_split_synthetic(60, 400, 2400, 3, 4);
    training_setup exact = ials_setup(60, 400, 8, RECO_SOLVER_CHOLESKY, 1);
    training_setup cg = ials_setup(60, 400, 8, RECO_SOLVER_CG, 16);
    training_setup short_cg = ials_setup(60, 400, 8, RECO_SOLVER_CG, 1);
    for (int epoch = 0; epoch < 3; epoch++) {
        RECO_ASSERT_OK(reco_trainer_epoch(exact.trainer, split.train, NULL));
        RECO_ASSERT_OK(reco_trainer_epoch(cg.trainer, split.train, NULL));
        RECO_ASSERT_OK(reco_trainer_epoch(short_cg.trainer, split.train, NULL));
    }
    size_t n = reco_model_parameter_count(exact.model);
    factors a = factors_of(exact.model, 8), b = factors_of(cg.model, 8),
            c = factors_of(short_cg.model, 8);
    ck_assert_double_lt(relative_error(a.values, b.values, n), 1e-4);
    /* one step from the current factors is not the solution */
    ck_assert_double_gt(relative_error(a.values, c.values, n), 1e-3);
    free(a.values);
    free(b.values);
    free(c.values);
    training_setup_free(&exact);
    training_setup_free(&cg);
    training_setup_free(&short_cg);
    loo_split_free(&split);
}
END_TEST

START_TEST(exact_alternation_never_raises_the_objective)
{
    loo_split split = loo_split_synthetic(200, 400, 8000, 5, 6);
    training_setup setup = ials_setup(200, 400, 16, RECO_SOLVER_CHOLESKY, 1);
    double previous = INFINITY;
    for (int epoch = 0; epoch < 8; epoch++) {
        double loss;
        RECO_ASSERT_OK(reco_trainer_epoch(setup.trainer, split.train, &loss));
        ck_assert(isfinite(loss));
        ck_assert_double_le(loss, previous * (1.0 + 1e-6));
        previous = loss;
    }
    training_setup_free(&setup);
    loo_split_free(&split);
}
END_TEST

START_TEST(it_learns_the_synthetic_data)
{
    loo_split split = loo_split_synthetic(943, 1682, 100000, 8, 9);
    training_setup setup = ials_setup(943, 1682, 32, RECO_SOLVER_CG, 3);
    reco_metrics *metrics;
    RECO_ASSERT_OK(reco_metrics_new(&metrics));
    double untrained, trained;
    RECO_ASSERT_OK(reco_metrics_evaluate_sampled(metrics, setup.model, split.test));
    RECO_ASSERT_OK(reco_metrics_get(metrics, RECO_METRIC_HR, &untrained));
    RECO_ASSERT_OK(reco_trainer_fit(setup.trainer, split.train, 8));
    reco_metrics_reset(metrics);
    RECO_ASSERT_OK(reco_metrics_evaluate_sampled(metrics, setup.model, split.test));
    RECO_ASSERT_OK(reco_metrics_get(metrics, RECO_METRIC_HR, &trained));
    ck_assert_double_lt(untrained, 0.2);
    ck_assert_double_gt(trained, untrained + 0.15);
    reco_metrics_free(metrics);
    training_setup_free(&setup);
    loo_split_free(&split);
}
END_TEST

/* The parameters after 3 epochs on `threads` threads. */
static float *trained_on(const reco_dataset *train, reco_solver solver, size_t threads)
{
    training_setup setup = ials_setup(300, 400, 24, solver, 3);
    RECO_ASSERT_OK(reco_backend_set_threads(setup.backend, threads));
    RECO_ASSERT_OK(reco_trainer_fit(setup.trainer, train, 3));
    float *values = malloc(reco_model_parameter_count(setup.model) * sizeof *values);
    ck_assert_ptr_nonnull(values);
    RECO_ASSERT_OK(reco_model_get_parameters(setup.model, values));
    training_setup_free(&setup);
    return values;
}

START_TEST(thread_counts_give_the_same_bytes)
{
    loo_split split = loo_split_synthetic(300, 400, 12000, 10, 11);
    size_t n = (300 + 400) * 24;
    for (int solver = RECO_SOLVER_CHOLESKY; solver <= RECO_SOLVER_CG; solver++) {
        float *one = trained_on(split.train, (reco_solver)solver, 1);
        for (size_t threads = 2; threads <= 3; threads++) {
            float *many = trained_on(split.train, (reco_solver)solver, threads);
            ck_assert_msg(memcmp(one, many, n * sizeof *one) == 0,
                          "solver %d: %zu threads differ from 1", solver, threads);
            free(many);
        }
        free(one);
    }
    loo_split_free(&split);
}
END_TEST

START_TEST(settings_are_checked)
{
    training_setup mf = training_setup_new(open_backend("cpu"), RECO_MODEL_MF, 5, 5, 1);
    EXPECT_STATUS(reco_trainer_set_unobserved_weight(mf.trainer, 0.5), RECO_ERR_STATE,
                  "iALS setting");
    EXPECT_STATUS(reco_trainer_set_solver(mf.trainer, RECO_SOLVER_CG, 3), RECO_ERR_STATE,
                  "iALS setting");
    training_setup_free(&mf);

    training_setup setup = ials_setup(5, 5, 4, RECO_SOLVER_CG, 3);
    ck_assert_int_eq(reco_trainer_set_unobserved_weight(setup.trainer, -1.0),
                     RECO_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(reco_trainer_set_confidence(setup.trainer, NAN), RECO_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(reco_trainer_set_solver(setup.trainer, RECO_SOLVER_CG, 0),
                  RECO_ERR_INVALID_ARGUMENT, "CG steps");
    ck_assert_int_eq(reco_trainer_set_solver(setup.trainer, (reco_solver)9, 3),
                     RECO_ERR_INVALID_ARGUMENT);
    training_setup_free(&setup);

    reco_model *model;
    RECO_ASSERT_OK(reco_model_new(RECO_MODEL_IALS, 5, 5, &model));
    ck_assert_int_eq(reco_model_set_biases(model, 1), RECO_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(reco_model_set_output(model, RECO_ACTIVATION_SIGMOID), RECO_ERR_INVALID_ARGUMENT,
                  "its output is the identity");
    ck_assert_str_eq(reco_model_kind_name(reco_model_kind_of(model)), "ials");
    ck_assert_ptr_null(reco_model_kind_name((reco_model_kind)99));
    reco_model_free(model);
}
END_TEST

START_TEST(no_regularization_at_all_is_refused_not_crashed)
{
    const int64_t users[] = {0, 1}, items[] = {0, 0};
    reco_dataset *data = pairs(users, items, NULL, 2);
    training_setup setup = ials_setup(2, 2, 2, RECO_SOLVER_CHOLESKY, 1);
    RECO_ASSERT_OK(reco_trainer_set_unobserved_weight(setup.trainer, 0.0));
    RECO_ASSERT_OK(reco_trainer_set_weight_decay(setup.trainer, 0.0));
    /* item 1 has no users: its system is zero */
    EXPECT_STATUS(reco_trainer_epoch(setup.trainer, data, NULL), RECO_ERR_INVALID_ARGUMENT,
                  "singular");
    reco_dataset_free(data);
    training_setup_free(&setup);
}
END_TEST

START_TEST(a_saved_model_scores_the_same)
{
    loo_split split = loo_split_synthetic(100, 400, 3000, 12, 13);
    training_setup setup = ials_setup(100, 400, 8, RECO_SOLVER_CG, 3);
    RECO_ASSERT_OK(reco_trainer_fit(setup.trainer, split.train, 2));
    RECO_ASSERT_OK(reco_model_set_vocabulary(setup.model, split.all));
    const char *path = temp_path("ials.reco");
    RECO_ASSERT_OK(reco_model_save(setup.model, path));
    reco_model *loaded;
    RECO_ASSERT_OK(reco_model_load(path, setup.backend, &loaded));
    ck_assert_int_eq(reco_model_kind_of(loaded), RECO_MODEL_IALS);
    int32_t items[10], again[10];
    float scores[10], scores_again[10];
    size_t n, n_again;
    RECO_ASSERT_OK(reco_model_recommend(setup.model, 3, 10, split.train, items, scores, &n));
    RECO_ASSERT_OK(reco_model_recommend(loaded, 3, 10, split.train, again, scores_again, &n_again));
    ck_assert_uint_eq(n, 10);
    ck_assert_uint_eq(n_again, n);
    ck_assert_mem_eq(items, again, sizeof items);
    ck_assert_mem_eq(scores, scores_again, sizeof scores);
    /* the score is the plain dot product of the factors */
    factors f = factors_of(loaded, 8);
    ck_assert_double_eq_tol(scores[0], dot(user_row(&f, 3), item_row(&f, (size_t)items[0]), 8),
                            1e-5);
    free(f.values);
    reco_model_free(loaded);
    training_setup_free(&setup);
    loo_split_free(&split);
}
END_TEST

START_TEST(a_backend_without_the_solver_says_so)
{
    reco_backend *cpu = open_backend("cpu");
    static reco_backend_ops lacking;
    lacking = *cpu->ops;
    lacking.name = "no-ials";
    lacking.kernels.ials_solve = NULL;
    RECO_ASSERT_OK(reco_backend_register(&lacking));
    reco_backend_free(cpu);
    training_setup setup = {open_backend("no-ials"), NULL, NULL};
    RECO_ASSERT_OK(reco_model_new(RECO_MODEL_IALS, 3, 3, &setup.model));
    RECO_ASSERT_OK(reco_model_init(setup.model, setup.backend, 1));
    RECO_ASSERT_OK(reco_trainer_new(setup.model, &setup.trainer));
    reco_dataset *data = pairs(small_users, small_items, NULL, SMALL_PAIRS);
    EXPECT_STATUS(reco_trainer_epoch(setup.trainer, data, NULL), RECO_ERR_BACKEND_UNAVAILABLE,
                  "cannot train iALS");
    reco_dataset_free(data);
    training_setup_free(&setup);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("ials");
    TCase *tc = test_case(suite, "ials");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, one_factor_rows_are_solved_as_by_hand);
    tcase_add_test(tc, confidence_weighs_pairs_by_rating);
    tcase_add_test(tc, an_exact_half_leaves_no_gradient);
    tcase_add_test(tc, conjugate_gradient_reaches_the_exact_solution);
    tcase_add_test(tc, exact_alternation_never_raises_the_objective);
    tcase_add_test(tc, it_learns_the_synthetic_data);
    tcase_add_test(tc, thread_counts_give_the_same_bytes);
    tcase_add_test(tc, settings_are_checked);
    tcase_add_test(tc, no_regularization_at_all_is_refused_not_crashed);
    tcase_add_test(tc, a_saved_model_scores_the_same);
    tcase_add_test(tc, fold_in_and_refit_solve_a_user_exactly);
    tcase_add_test(tc, a_backend_without_the_solver_says_so);
    return run_suite(suite);
}
