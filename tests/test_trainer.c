/* The trainer: optimizer steps against hand-computed values, lazy versus
 * dense embedding updates, learning on synthetic data, determinism, the
 * progress callback and the configuration checks. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "reco/reco.h"

/* Bands, not exact values: BLIS picks its kernels by CPU, so the last bits
 * of a long run differ between machines (here: HR@10 0.35, RMSE 0.66x). */
#define HR_BAND_LOW 0.28
#define RMSE_BAND_FACTOR 0.8

typedef struct setup {
    reco_backend *backend;
    reco_model *model;
    reco_trainer *trainer;
    reco_dataset *data;
} setup;

static void setup_free(setup *f)
{
    reco_trainer_free(f->trainer);
    reco_model_free(f->model);
    reco_backend_free(f->backend);
    reco_dataset_free(f->data);
}

/* MF with one factor on one rating 3 of (user 0, item 0); p = 0.5, q = 2, so
 * the prediction is 1, the error -2, dL/dp = 2 * -2 * 2 = -8, dL/dq = -2. */
static setup one_rating(size_t n_items, reco_optimizer optimizer, double learning_rate)
{
    setup f = {0};
    const int64_t user_ids[] = {0}, item_ids[] = {0};
    const float rating[] = {3.0f};
    RECO_ASSERT_OK(reco_dataset_from_arrays(user_ids, item_ids, rating, NULL, 1, &f.data));
    RECO_ASSERT_OK(reco_backend_open("cpu", &f.backend));
    RECO_ASSERT_OK(reco_model_new(RECO_MODEL_MF, 1, n_items, &f.model));
    RECO_ASSERT_OK(reco_model_set_factors(f.model, 1));
    RECO_ASSERT_OK(reco_model_init(f.model, f.backend, 1));
    float params[16] = {0.5f, 2.0f, 2.0f, 2.0f};
    params[1 + n_items] = 1.0f; /* head weight, then head bias 0 */
    params[2 + n_items] = 0.0f;
    RECO_ASSERT_OK(reco_model_set_parameters(f.model, params));
    RECO_ASSERT_OK(reco_trainer_new(f.model, &f.trainer));
    RECO_ASSERT_OK(reco_trainer_set_loss(f.trainer, RECO_LOSS_MSE));
    RECO_ASSERT_OK(reco_trainer_set_optimizer(f.trainer, optimizer));
    RECO_ASSERT_OK(reco_trainer_set_learning_rate(f.trainer, learning_rate));
    return f;
}

static void expect_parameters(setup *f, float p, float q)
{
    float params[8];
    RECO_ASSERT_OK(reco_model_get_parameters(f->model, params));
    ck_assert_float_eq_tol(params[0], p, 2e-6f);
    ck_assert_float_eq_tol(params[1], q, 2e-6f);
}

START_TEST(sgd_step_by_hand)
{
    setup f = one_rating(1, RECO_OPTIMIZER_SGD, 0.1);
    RECO_ASSERT_OK(reco_trainer_fit(f.trainer, f.data, 1));
    expect_parameters(&f, 0.5f + 0.8f, 2.0f + 0.2f);
    setup_free(&f);
}
END_TEST

START_TEST(sgd_momentum_and_weight_decay_by_hand)
{
    setup f = one_rating(1, RECO_OPTIMIZER_SGD, 0.01);
    RECO_ASSERT_OK(reco_trainer_set_momentum(f.trainer, 0.9));
    RECO_ASSERT_OK(reco_trainer_set_weight_decay(f.trainer, 0.01));
    RECO_ASSERT_OK(reco_trainer_fit(f.trainer, f.data, 1));
    expect_parameters(&f, 0.57995f, 2.0198f);
    RECO_ASSERT_OK(reco_trainer_fit(f.trainer, f.data, 1));
    expect_parameters(&f, 0.72571582f, 2.05862815f);
    setup_free(&f);
}
END_TEST

START_TEST(adagrad_step_by_hand)
{
    setup f = one_rating(1, RECO_OPTIMIZER_ADAGRAD, 0.1);
    RECO_ASSERT_OK(reco_trainer_fit(f.trainer, f.data, 1));
    /* p - lr * g / sqrt(g^2) */
    expect_parameters(&f, 0.6f, 2.1f);
    setup_free(&f);
}
END_TEST

START_TEST(adagrad_epsilon_by_hand)
{
    setup f = one_rating(1, RECO_OPTIMIZER_ADAGRAD, 0.1);
    RECO_ASSERT_OK(reco_trainer_set_epsilon(f.trainer, 1.0));
    ck_assert_int_eq(reco_trainer_set_epsilon(f.trainer, 0.0), RECO_ERR_INVALID_ARGUMENT);
    RECO_ASSERT_OK(reco_trainer_fit(f.trainer, f.data, 1));
    /* p - lr * g / (|g| + 1): 0.5 + 0.8 / 9, 2 + 0.2 / 3 */
    expect_parameters(&f, 0.5f + 0.8f / 9.0f, 2.0f + 0.2f / 3.0f);
    setup_free(&f);
}
END_TEST

START_TEST(mse_sum_reduction_scales_loss_and_gradient)
{
    setup f = one_rating(2, RECO_OPTIMIZER_SGD, 0.1);
    const int32_t users[3] = {0, 0, 0}, items[3] = {0, 1, 0};
    const float targets[3] = {3.0f, 1.0f, 2.0f};
    double mean_loss, sum_loss;
    float mean_grad[16], sum_grad[16];
    RECO_ASSERT_OK(reco_trainer_batch_gradient(f.trainer, users, items, targets, NULL, 3,
                                               &mean_loss, mean_grad));
    RECO_ASSERT_OK(reco_trainer_set_mean_reduction(f.trainer, 0));
    RECO_ASSERT_OK(reco_trainer_batch_gradient(f.trainer, users, items, targets, NULL, 3, &sum_loss,
                                               sum_grad));
    /* predictions 0.5 * 2 = 1 for both items: errors -2, 0, -1 */
    ck_assert_double_eq_tol(sum_loss, 4.0 + 0.0 + 1.0, 1e-6);
    ck_assert_double_eq_tol(mean_loss, 5.0 / 3.0, 1e-6);
    for (size_t i = 0; i < reco_model_parameter_count(f.model); i++)
        ck_assert_float_eq_tol(sum_grad[i], 3.0f * mean_grad[i], 1e-5f);
    ck_assert_float_eq_tol(sum_grad[0], 2.0f * (-2.0f * 2.0f + 0.0f * 2.0f - 1.0f * 2.0f), 1e-5f);
    setup_free(&f);
}
END_TEST

START_TEST(adam_steps_by_hand)
{
    setup f = one_rating(1, RECO_OPTIMIZER_ADAM, 0.1);
    RECO_ASSERT_OK(reco_trainer_fit(f.trainer, f.data, 1));
    expect_parameters(&f, 0.6f, 2.1f); /* the first Adam step moves by lr */
    RECO_ASSERT_OK(reco_trainer_fit(f.trainer, f.data, 1));
    expect_parameters(&f, 0.69966255f, 2.20008903f);
    setup_free(&f);
}
END_TEST

START_TEST(adamw_decays_outside_the_moments)
{
    /* the decay shrinks p by lr x wd first (0.5 -> 0.475, 2 -> 1.9); the
     * first Adam step then moves by lr against the gradient's sign. Adam's
     * L2 would enter the gradient instead: 0.6 and 2.1 */
    setup f = one_rating(1, RECO_OPTIMIZER_ADAMW, 0.1);
    RECO_ASSERT_OK(reco_trainer_set_weight_decay(f.trainer, 0.5));
    RECO_ASSERT_OK(reco_trainer_fit(f.trainer, f.data, 1));
    expect_parameters(&f, 0.475f + 0.1f, 1.9f + 0.1f);
    setup_free(&f);
    f = one_rating(1, RECO_OPTIMIZER_ADAM, 0.1);
    RECO_ASSERT_OK(reco_trainer_set_weight_decay(f.trainer, 0.5));
    RECO_ASSERT_OK(reco_trainer_fit(f.trainer, f.data, 1));
    expect_parameters(&f, 0.6f, 2.1f);
    setup_free(&f);
}
END_TEST

START_TEST(per_example_settings_scale_by_the_batch)
{
    /* batch 4, per example: rate 0.1 x 4, decay 0.4 / 4 on the batch mean;
     * p = 0.5 - 0.4 (-8 + 0.1 x 0.5), q = 2 - 0.4 (-2 + 0.1 x 2) */
    setup f = one_rating(1, RECO_OPTIMIZER_SGD, 0.1);
    RECO_ASSERT_OK(reco_trainer_set_weight_decay(f.trainer, 0.4));
    RECO_ASSERT_OK(reco_trainer_set_batch_size(f.trainer, 4));
    RECO_ASSERT_OK(reco_trainer_set_per_example(f.trainer, 1));
    RECO_ASSERT_OK(reco_trainer_fit(f.trainer, f.data, 1));
    expect_parameters(&f, 0.5f + 0.4f * 7.95f, 2.0f + 0.4f * 1.8f);
    setup_free(&f);
    /* turned off again: the settings as given, p = 0.5 - 0.1 (-8 + 0.4 x 0.5) */
    f = one_rating(1, RECO_OPTIMIZER_SGD, 0.1);
    RECO_ASSERT_OK(reco_trainer_set_weight_decay(f.trainer, 0.4));
    RECO_ASSERT_OK(reco_trainer_set_batch_size(f.trainer, 4));
    RECO_ASSERT_OK(reco_trainer_set_per_example(f.trainer, 1));
    RECO_ASSERT_OK(reco_trainer_set_per_example(f.trainer, 0));
    RECO_ASSERT_OK(reco_trainer_fit(f.trainer, f.data, 1));
    expect_parameters(&f, 0.5f + 0.1f * 7.8f, 2.0f + 0.1f * 1.2f);
    setup_free(&f);
}
END_TEST

START_TEST(lazy_and_dense_embedding_updates_differ_as_documented)
{
    float lazy[8], dense[8];
    for (int mode = 0; mode < 2; mode++) {
        /* item 1 is never in a batch: with weight decay, only the dense mode,
         * like torch.optim.Adam on nn.Embedding, moves it */
        setup f = one_rating(2, RECO_OPTIMIZER_ADAM, 0.1);
        RECO_ASSERT_OK(reco_trainer_set_weight_decay(f.trainer, 0.5));
        RECO_ASSERT_OK(reco_trainer_set_dense_embeddings(f.trainer, mode));
        RECO_ASSERT_OK(reco_trainer_fit(f.trainer, f.data, 2));
        RECO_ASSERT_OK(reco_model_get_parameters(f.model, mode ? dense : lazy));
        setup_free(&f);
    }
    ck_assert_float_eq(lazy[2], 2.0f);
    /* Adam moves a parameter by about lr per step: two steps of decay */
    ck_assert_float_eq_tol(dense[2], 2.0f - 0.2f, 1e-3f);
    ck_assert_float_eq(lazy[0], dense[0]); /* touched rows agree */
}
END_TEST

/* The default steps densely with weight decay on tables of at most 4
 * batches' rows (here 1 user and 8 items, batch 256), lazily without weight
 * decay or on larger tables (9 rows against batches of 1 sample: 8 rows). */
START_TEST(default_embedding_updates_follow_weight_decay_and_size)
{
    float got[3][16], dense[3][16], lazy[3][16];
    for (int mode = -1; mode <= 1; mode++) {
        for (int c = 0; c < 3; c++) {
            setup f = one_rating(8, RECO_OPTIMIZER_ADAM, 0.1);
            if (c != 1)
                RECO_ASSERT_OK(reco_trainer_set_weight_decay(f.trainer, 0.5));
            if (c == 2)
                RECO_ASSERT_OK(reco_trainer_set_batch_size(f.trainer, 1));
            RECO_ASSERT_OK(reco_trainer_set_dense_embeddings(f.trainer, mode));
            RECO_ASSERT_OK(reco_trainer_fit(f.trainer, f.data, 2));
            RECO_ASSERT_OK(reco_model_get_parameters(f.model, mode < 0 ? got[c]
                                                              : mode   ? dense[c]
                                                                       : lazy[c]));
            setup_free(&f);
        }
    }
    ck_assert_float_eq(got[0][2], dense[0][2]); /* weight decay, small tables: dense */
    ck_assert_float_ne(got[0][2], lazy[0][2]);
    ck_assert_float_eq(got[1][2], lazy[1][2]); /* no weight decay: lazy */
    ck_assert_float_eq(got[2][2], lazy[2][2]); /* 3 rows > 4 x 2: lazy */
    ck_assert_float_ne(got[2][2], dense[2][2]);
}
END_TEST

/* Share of test users whose test item ranks in the top 10 of itself and
 * its negatives; ties count against the test item. */
static double hit_ratio_at_10(reco_model *model, const reco_dataset *test)
{
    size_t hits = 0, rows = reco_dataset_size(test);
    for (size_t row = 0; row < rows; row++) {
        size_t n_negatives;
        const int32_t *negatives = reco_dataset_test_negatives(test, row, &n_negatives);
        int32_t users[128], items[128];
        float scores[128];
        items[0] = reco_dataset_items(test)[row];
        memcpy(items + 1, negatives, n_negatives * sizeof *items);
        for (size_t i = 0; i <= n_negatives; i++)
            users[i] = reco_dataset_users(test)[row];
        RECO_ASSERT_OK(reco_model_predict(model, users, items, n_negatives + 1, scores));
        size_t above = 0;
        for (size_t i = 1; i <= n_negatives; i++)
            above += scores[i] >= scores[0];
        hits += above < 10;
    }
    return (double)hits / (double)rows;
}

START_TEST(neumf_learns_the_synthetic_preferences)
{
    loo_split data = loo_split_synthetic(300, 400, 15000, 3, 4);
    training_setup t = training_setup_new(open_backend("cpu"), RECO_MODEL_NEUMF,
                                          reco_dataset_n_users(data.all),
                                          reco_dataset_n_items(data.all), 5);
    RECO_ASSERT_OK(reco_trainer_set_threads(t.trainer, 2));
    double before = hit_ratio_at_10(t.model, data.test), first_loss, last_loss;
    RECO_ASSERT_OK(reco_trainer_epoch(t.trainer, data.train, &first_loss));
    RECO_ASSERT_OK(reco_trainer_fit(t.trainer, data.train, 6));
    RECO_ASSERT_OK(reco_trainer_epoch(t.trainer, data.train, &last_loss));
    double after = hit_ratio_at_10(t.model, data.test);
    ck_assert_msg(last_loss < first_loss - 0.05, "loss %g -> %g", first_loss, last_loss);
    ck_assert_msg(before < 0.25 && after > HR_BAND_LOW, "HR@10 %g -> %g", before, after);
    training_setup_free(&t);
    loo_split_free(&data);
}
END_TEST

static double rmse(reco_model *model, const reco_dataset *test)
{
    size_t n = reco_dataset_size(test);
    float *scores = malloc(n * sizeof *scores);
    RECO_ASSERT_OK(
        reco_model_predict(model, reco_dataset_users(test), reco_dataset_items(test), n, scores));
    double sum = 0.0;
    for (size_t i = 0; i < n; i++)
        sum += (scores[i] - reco_dataset_ratings(test)[i]) * (scores[i] - reco_dataset_ratings(test)[i]);
    free(scores);
    return sqrt(sum / (double)n);
}

/* Biased MF on explicit ratings starts its global bias at the training
 * mean (3.5 here); a bias already away from 0 is left alone. */
START_TEST(biased_mf_starts_at_the_training_mean)
{
    const int64_t users[] = {1, 1, 2, 2, 3, 3}, items[] = {10, 20, 10, 30, 20, 30};
    const float ratings[] = {1, 2, 3, 4, 5, 6};
    reco_dataset *data;
    RECO_ASSERT_OK(reco_dataset_from_arrays(users, items, ratings, NULL, 6, &data));
    reco_backend *backend = open_backend("cpu");
    reco_model *model;
    RECO_ASSERT_OK(reco_model_new(RECO_MODEL_MF, 3, 3, &model));
    RECO_ASSERT_OK(reco_model_set_biases(model, 1));
    RECO_ASSERT_OK(reco_model_init(model, backend, 1));
    size_t count = reco_model_parameter_count(model);
    float *parameters = malloc(count * sizeof *parameters);
    ck_assert_ptr_nonnull(parameters);
    for (int round = 0; round < 2; round++) {
        reco_trainer *trainer;
        RECO_ASSERT_OK(reco_trainer_new(model, &trainer));
        RECO_ASSERT_OK(reco_trainer_set_loss(trainer, RECO_LOSS_MSE));
        RECO_ASSERT_OK(reco_trainer_set_optimizer(trainer, RECO_OPTIMIZER_SGD));
        /* a step too small to move anything visibly */
        RECO_ASSERT_OK(reco_trainer_set_learning_rate(trainer, 1e-12));
        RECO_ASSERT_OK(reco_trainer_epoch(trainer, data, NULL));
        RECO_ASSERT_OK(reco_model_get_parameters(model, parameters));
        /* the global bias is the flat vector's last value */
        ck_assert_float_eq_tol(parameters[count - 1], round == 0 ? 3.5f : 7.0f, 1e-6f);
        reco_trainer_free(trainer);
        /* a bias set by hand (as a trained one) stays */
        parameters[count - 1] = 7.0f;
        RECO_ASSERT_OK(reco_model_set_parameters(model, parameters));
    }
    free(parameters);
    reco_model_free(model);
    reco_backend_free(backend);
    reco_dataset_free(data);
}
END_TEST

START_TEST(mf_beats_the_global_mean)
{
    reco_dataset *all, *train, *test;
    RECO_ASSERT_OK(reco_dataset_synthetic(300, 400, 30000, 8, &all));
    RECO_ASSERT_OK(reco_dataset_split_random(all, 0.2, 9, 0, &train, &test));
    double mean = 0.0, baseline = 0.0;
    for (size_t i = 0; i < reco_dataset_size(train); i++)
        mean += reco_dataset_ratings(train)[i];
    mean /= (double)reco_dataset_size(train);
    for (size_t i = 0; i < reco_dataset_size(test); i++)
        baseline += pow(reco_dataset_ratings(test)[i] - mean, 2.0);
    baseline = sqrt(baseline / (double)reco_dataset_size(test));
    reco_backend *backend;
    reco_model *model;
    reco_trainer *trainer;
    RECO_ASSERT_OK(reco_backend_open("cpu", &backend));
    RECO_ASSERT_OK(reco_model_new(RECO_MODEL_MF, reco_dataset_n_users(all),
                                  reco_dataset_n_items(all), &model));
    RECO_ASSERT_OK(reco_model_set_biases(model, 1));
    RECO_ASSERT_OK(reco_model_set_init_std(model, 0.1f));
    RECO_ASSERT_OK(reco_model_init(model, backend, 5));
    RECO_ASSERT_OK(reco_trainer_new(model, &trainer));
    RECO_ASSERT_OK(reco_trainer_set_loss(trainer, RECO_LOSS_MSE));
    RECO_ASSERT_OK(reco_trainer_set_learning_rate(trainer, 0.01));
    RECO_ASSERT_OK(reco_trainer_set_weight_decay(trainer, 1e-4));
    RECO_ASSERT_OK(reco_trainer_set_batch_size(trainer, 64));
    RECO_ASSERT_OK(reco_trainer_fit(trainer, train, 15));
    double achieved = rmse(model, test);
    ck_assert_msg(achieved < RMSE_BAND_FACTOR * baseline, "RMSE %g, global mean %g", achieved,
                  baseline);
    reco_trainer_free(trainer);
    reco_model_free(model);
    reco_backend_free(backend);
    reco_dataset_free(all);
    reco_dataset_free(train);
    reco_dataset_free(test);
}
END_TEST

/* 1200 synthetic ratings of 60 users on 80 items, and a trainer of a model
 * of `kind` (dropout as given) on them. */
typedef struct small_job {
    reco_dataset *data;
    training_setup setup;
} small_job;

static small_job small_job_make(reco_model_kind kind, float dropout, uint64_t seed)
{
    small_job job;
    RECO_ASSERT_OK(reco_dataset_synthetic(60, 80, 1200, 1, &job.data));
    job.setup = training_setup_with_dropout(open_backend("cpu"), kind, 60, 80, dropout, seed);
    return job;
}

static void small_job_free(small_job *job)
{
    training_setup_free(&job->setup);
    reco_dataset_free(job->data);
}

/* An epoch rating by rating needs no per-user item lists and uploads none;
 * an epoch with negatives on the same data after it must get them. */
START_TEST(a_sampled_epoch_after_one_rating_by_rating_has_its_item_lists)
{
    small_job job = small_job_make(RECO_MODEL_MF, 0.0f, 3);
    RECO_ASSERT_OK(reco_trainer_set_loss(job.setup.trainer, RECO_LOSS_MSE));
    RECO_ASSERT_OK(reco_trainer_set_optimizer(job.setup.trainer, RECO_OPTIMIZER_SGD));
    RECO_ASSERT_OK(reco_trainer_set_batch_size(job.setup.trainer, 1));
    double loss;
    RECO_ASSERT_OK(reco_trainer_epoch(job.setup.trainer, job.data, &loss));
    RECO_ASSERT_OK(reco_trainer_set_loss(job.setup.trainer, RECO_LOSS_BCE));
    RECO_ASSERT_OK(reco_trainer_set_negatives(job.setup.trainer, 4));
    RECO_ASSERT_OK(reco_trainer_set_batch_size(job.setup.trainer, 32));
    RECO_ASSERT_OK(reco_trainer_epoch(job.setup.trainer, job.data, &loss));
    ck_assert(loss > 0.0 && loss < 1.0); /* BCE of logits near 0 is about log 2 */
    small_job_free(&job);
}
END_TEST

static int count_steps(const reco_progress *progress, void *user_data)
{
    (void)progress;
    ++*(size_t *)user_data;
    return 0;
}

/* The CPU backend returns from a step before its other threads finish their
 * part, unless the step's loss is wanted (a progress callback wants it): a
 * trainer without a callback takes the same steps, bit for bit, and reports
 * the same epoch losses. */
START_TEST(steps_in_flight_train_as_steps_that_complete)
{
    static float params[2][20000];
    double losses[2][2];
    size_t steps = 0, count = 0;
    for (int run = 0; run < 2; run++) {
        small_job job = small_job_make(RECO_MODEL_NEUMF, 0.0f, 4);
        RECO_ASSERT_OK(reco_trainer_set_threads(job.setup.trainer, 2));
        RECO_ASSERT_OK(reco_trainer_set_batch_size(job.setup.trainer, 64));
        if (run == 1)
            RECO_ASSERT_OK(reco_trainer_set_progress(job.setup.trainer, count_steps, &steps));
        for (int epoch = 0; epoch < 2; epoch++)
            RECO_ASSERT_OK(reco_trainer_epoch(job.setup.trainer, job.data, &losses[run][epoch]));
        count = reco_model_parameter_count(job.setup.model);
        ck_assert_uint_le(count, 20000);
        RECO_ASSERT_OK(reco_model_get_parameters(job.setup.model, params[run]));
        small_job_free(&job);
    }
    ck_assert_uint_gt(steps, 0);
    ck_assert_mem_eq(params[0], params[1], count * sizeof(float));
    ck_assert_double_eq(losses[0][0], losses[1][0]);
    ck_assert_double_eq(losses[0][1], losses[1][1]);
}
END_TEST

static void train_once(uint64_t seed, reco_loss loss, float *params, size_t *count)
{
    small_job job = small_job_make(RECO_MODEL_NEUMF, 0.2f, seed);
    RECO_ASSERT_OK(reco_trainer_set_loss(job.setup.trainer, loss));
    RECO_ASSERT_OK(reco_trainer_set_seed(job.setup.trainer, seed));
    RECO_ASSERT_OK(reco_trainer_set_threads(job.setup.trainer, 2));
    RECO_ASSERT_OK(reco_trainer_fit(job.setup.trainer, job.data, 2));
    *count = reco_model_parameter_count(job.setup.model);
    RECO_ASSERT_OK(reco_model_get_parameters(job.setup.model, params));
    small_job_free(&job);
}

START_TEST(same_seed_same_bytes)
{
    static float a[200000], b[200000], c[200000];
    size_t count_a, count_b, count_c;
    reco_loss loss = _i == 0 ? RECO_LOSS_BCE : RECO_LOSS_BPR;
    train_once(11, loss, a, &count_a);
    train_once(11, loss, b, &count_b);
    train_once(12, loss, c, &count_c);
    ck_assert_uint_eq(count_a, count_b);
    ck_assert_mem_eq(a, b, count_a * sizeof *a);
    ck_assert(memcmp(a, c, count_a * sizeof *a) != 0);
}
END_TEST

static int stop_at_third(const reco_progress *progress, void *user_data)
{
    size_t *calls = user_data;
    ck_assert_uint_eq(progress->struct_size, sizeof *progress);
    ck_assert_uint_eq(progress->step, *calls + 1);
    ck_assert(progress->loss > 0.0);
    return ++*calls == 3;
}

START_TEST(progress_callback_can_stop)
{
    reco_dataset *data;
    RECO_ASSERT_OK(reco_dataset_synthetic(50, 60, 1000, 1, &data));
    training_setup t = training_setup_new(open_backend("cpu"), RECO_MODEL_GMF, 50, 60, 1);
    size_t calls = 0;
    RECO_ASSERT_OK(reco_trainer_set_progress(t.trainer, stop_at_third, &calls));
    ck_assert_int_eq(reco_trainer_fit(t.trainer, data, 3), RECO_ERR_INTERRUPTED);
    ck_assert_uint_eq(calls, 3);
    training_setup_free(&t);
    reco_dataset_free(data);
}
END_TEST

START_TEST(configuration_is_checked)
{
    setup f = one_rating(1, RECO_OPTIMIZER_ADAM, 0.1);
    ck_assert_int_eq(reco_trainer_set_learning_rate(f.trainer, 0.0), RECO_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(reco_trainer_set_learning_rate(f.trainer, NAN), RECO_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(reco_trainer_set_adam_betas(f.trainer, 0.9, 1.0), RECO_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(reco_trainer_set_momentum(f.trainer, -0.1), RECO_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(reco_trainer_set_batch_size(f.trainer, 0), RECO_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(reco_trainer_set_lr_decay(f.trainer, 1.5), RECO_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(reco_trainer_set_loss(f.trainer, (reco_loss)9), RECO_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(reco_trainer_set_optimizer(f.trainer, (reco_optimizer)9),
                     RECO_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(reco_trainer_set_negatives(f.trainer, 5000), RECO_ERR_INVALID_ARGUMENT);
    /* a dataset wider than the model */
    reco_dataset *wide;
    RECO_ASSERT_OK(reco_dataset_synthetic(3, 4, 6, 1, &wide));
    ck_assert_int_eq(reco_trainer_fit(f.trainer, wide, 1), RECO_ERR_OUT_OF_RANGE);
    reco_dataset_free(wide);
    reco_trainer *none = (reco_trainer *)1;
    reco_model *fresh;
    RECO_ASSERT_OK(reco_model_new(RECO_MODEL_MF, 2, 2, &fresh));
    ck_assert_int_eq(reco_trainer_new(fresh, &none), RECO_ERR_STATE);
    ck_assert_ptr_null(none);
    reco_model_free(fresh);
    setup_free(&f);
}
END_TEST

START_TEST(a_user_with_every_item_has_no_negatives)
{
    const int64_t users[] = {1, 1, 2}, items[] = {10, 11, 10};
    reco_dataset *data;
    RECO_ASSERT_OK(reco_dataset_from_arrays(users, items, NULL, NULL, 3, &data));
    training_setup t = training_setup_new(open_backend("cpu"), RECO_MODEL_GMF, 2, 2, 1);
    ck_assert_int_eq(reco_trainer_fit(t.trainer, data, 1), RECO_ERR_OUT_OF_RANGE);
    ck_assert_str_eq(reco_last_error(), "user 1 interacted with every item: no negative to draw");
    /* kept for the ABI: every backend samples by one law, so it changes nothing */
    RECO_ASSERT_OK(reco_trainer_set_device_sampling(t.trainer, 0));
    ck_assert_int_eq(reco_trainer_fit(t.trainer, data, 1), RECO_ERR_OUT_OF_RANGE);
    training_setup_free(&t);
    reco_dataset_free(data);
}
END_TEST

typedef struct epochs_seen {
    size_t count;
    reco_epoch_report last;
} epochs_seen;

static int stop_after_two(const reco_epoch_report *report, void *user_data)
{
    epochs_seen *seen = user_data;
    seen->last = *report;
    return ++seen->count == 2;
}

/* fit calls the epoch callback after every epoch, with the epoch's number,
 * loss and time, and stops when it asks */
START_TEST(fit_reports_each_epoch_and_stops_when_asked)
{
    setup f = one_rating(1, RECO_OPTIMIZER_SGD, 0.1);
    epochs_seen seen = {0};
    RECO_ASSERT_OK(reco_trainer_set_epoch_callback(f.trainer, stop_after_two, &seen));
    RECO_ASSERT_OK(reco_trainer_fit(f.trainer, f.data, 10));
    ck_assert_uint_eq(seen.count, 2);
    ck_assert_uint_eq(seen.last.struct_size, sizeof(reco_epoch_report));
    ck_assert_uint_eq(seen.last.epoch, 1);
    ck_assert(seen.last.loss > 0.0 && seen.last.seconds >= 0.0);
    ck_assert_int_eq(seen.last.validated, 0);
    RECO_ASSERT_OK(reco_trainer_set_epoch_callback(f.trainer, NULL, NULL));
    RECO_ASSERT_OK(reco_trainer_fit(f.trainer, f.data, 1));
    ck_assert_uint_eq(seen.count, 2);
    setup_free(&f);
}
END_TEST

START_TEST(learning_rate_decays_per_epoch)
{
    /* SGD steps of lr then lr * 0.5: compare with a fresh run at lr 0.05 */
    setup decayed = one_rating(1, RECO_OPTIMIZER_SGD, 0.1);
    RECO_ASSERT_OK(reco_trainer_set_lr_decay(decayed.trainer, 0.5));
    RECO_ASSERT_OK(reco_trainer_fit(decayed.trainer, decayed.data, 2));
    /* after step 1: p = 1.3, q = 2.2; error 1.3 * 2.2 - 3 = -0.14 */
    float p = 1.3f + 0.05f * 2.0f * 0.14f * 2.2f, q = 2.2f + 0.05f * 2.0f * 0.14f * 1.3f;
    expect_parameters(&decayed, p, q);
    setup_free(&decayed);
}
END_TEST

/* Early stopping on an error metric. The one-rating fixture's pair is
 * validated against VALID_RATING: SGD at EARLY_LR moves the prediction p x q
 * up from 1 towards the training rating 3 by steps that shrink, so the
 * validation error first falls, then rises (nearest after epoch 5, 0-based). */
#define VALID_RATING 2.5
#define EARLY_LR 0.02
#define MAX_EPOCHS 30

/* The prediction after each epoch, replayed in double: one SGD step on
 * (pq - 3)^2 an epoch (the gradient of MSE is 2 x error x the other factor). */
static void sgd_predictions(double *predictions, size_t epochs)
{
    double p = 0.5, q = 2.0;
    for (size_t e = 0; e < epochs; e++) {
        double error = p * q - 3.0;
        double step_p = EARLY_LR * 2.0 * error * q, step_q = EARLY_LR * 2.0 * error * p;
        p -= step_p;
        q -= step_q;
        predictions[e] = p * q;
    }
}

/* RMSE, MAE or MSE of a single validation row with this error. */
static double error_metric(reco_metric metric, double error)
{
    return metric == RECO_METRIC_MSE ? error * error : fabs(error);
}

typedef struct validation_log {
    size_t count;
    reco_epoch_report reports[MAX_EPOCHS];
} validation_log;

static int log_validation(const reco_epoch_report *report, void *user_data)
{
    validation_log *log = user_data;
    ck_assert_uint_lt(log->count, MAX_EPOCHS);
    log->reports[log->count++] = *report;
    return 0;
}

/* Fits the fixture for up to MAX_EPOCHS with validation by `metric` and the
 * given patience; returns the trainer's setup (the caller frees it). */
static setup fit_with_validation(reco_metric metric, size_t patience, reco_dataset **valid,
                                 validation_log *log)
{
    setup f = one_rating(1, RECO_OPTIMIZER_SGD, EARLY_LR);
    const int64_t user_ids[] = {0}, item_ids[] = {0};
    const float rating[] = {(float)VALID_RATING};
    RECO_ASSERT_OK(reco_dataset_from_arrays(user_ids, item_ids, rating, NULL, 1, valid));
    RECO_ASSERT_OK(reco_trainer_set_validation(f.trainer, *valid, NULL, metric, 10));
    RECO_ASSERT_OK(reco_trainer_set_early_stopping(f.trainer, patience));
    RECO_ASSERT_OK(reco_trainer_set_epoch_callback(f.trainer, log_validation, log));
    RECO_ASSERT_OK(reco_trainer_fit(f.trainer, f.data, MAX_EPOCHS));
    return f;
}

/* loop index: RMSE, MAE, MSE. Lower is better: the kept model is the one
 * of the lowest error (not the first or the last), fit stops 3 epochs after
 * it, and each epoch's value is the replay's. */
START_TEST(early_stopping_on_an_error_keeps_the_lowest)
{
    const reco_metric metrics[] = {RECO_METRIC_RMSE, RECO_METRIC_MAE, RECO_METRIC_MSE};
    reco_metric metric = metrics[_i];
    double predictions[MAX_EPOCHS];
    sgd_predictions(predictions, MAX_EPOCHS);
    /* the schedule by hand: errors 1.154, 0.844, 0.572, 0.339, 0.146, 0.010,
     * then 0.133, 0.228, 0.300 ... */
    const size_t best = 5;
    for (size_t e = 0; e < MAX_EPOCHS; e++)
        ck_assert(e == best || fabs(predictions[e] - VALID_RATING) >
                                   fabs(predictions[best] - VALID_RATING) + 0.1);
    reco_dataset *valid = NULL;
    validation_log log = {0};
    setup f = fit_with_validation(metric, 3, &valid, &log);
    ck_assert_uint_eq(log.count, best + 3 + 1);
    for (size_t e = 0; e < log.count; e++) {
        double expected = error_metric(metric, predictions[e] - VALID_RATING);
        ck_assert_int_eq(log.reports[e].validated, 1);
        ck_assert_double_eq_tol(log.reports[e].validation, expected, 1e-5);
        ck_assert_uint_eq(log.reports[e].best_epoch, e < best ? e : best);
    }
    size_t best_epoch;
    double best_value, kept_value;
    RECO_ASSERT_OK(reco_trainer_best(f.trainer, &best_epoch, &best_value));
    ck_assert_uint_eq(best_epoch, best);
    double lowest = error_metric(metric, predictions[best] - VALID_RATING);
    ck_assert_double_eq_tol(best_value, lowest, 1e-5);
    /* the kept model is epoch 5's: its prediction and its error */
    const int32_t zero[] = {0};
    float kept_prediction;
    RECO_ASSERT_OK(reco_model_predict(f.model, zero, zero, 1, &kept_prediction));
    ck_assert_double_eq_tol(kept_prediction, predictions[best], 1e-5);
    reco_metrics *metrics_handle = NULL;
    RECO_ASSERT_OK(reco_metrics_new(&metrics_handle));
    RECO_ASSERT_OK(reco_metrics_evaluate_ratings(metrics_handle, f.model, valid));
    RECO_ASSERT_OK(reco_metrics_get(metrics_handle, metric, &kept_value));
    ck_assert_double_eq_tol(kept_value, lowest, 1e-5);
    reco_metrics_free(metrics_handle);
    reco_dataset_free(valid);
    setup_free(&f);
}
END_TEST

/* loop index: patience 0 (never stop), 1, 2, 7. After the best epoch (5)
 * fit runs `patience` more epochs, each without a better value, and stops;
 * without patience it runs all MAX_EPOCHS and still keeps epoch 5. */
START_TEST(patience_counts_the_epochs_without_improvement)
{
    const size_t patiences[] = {0, 1, 2, 7}, best = 5;
    size_t patience = patiences[_i];
    reco_dataset *valid = NULL;
    validation_log log = {0};
    setup f = fit_with_validation(RECO_METRIC_RMSE, patience, &valid, &log);
    size_t expected_epochs = patience ? best + patience + 1 : MAX_EPOCHS;
    ck_assert_uint_eq(log.count, expected_epochs);
    size_t best_epoch;
    RECO_ASSERT_OK(reco_trainer_best(f.trainer, &best_epoch, NULL));
    ck_assert_uint_eq(best_epoch, best);
    reco_dataset_free(valid);
    setup_free(&f);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("trainer");
    TCase *steps = test_case(suite, "optimizer steps");
    tcase_add_test(steps, sgd_step_by_hand);
    tcase_add_test(steps, biased_mf_starts_at_the_training_mean);
    tcase_add_test(steps, sgd_momentum_and_weight_decay_by_hand);
    tcase_add_test(steps, adagrad_step_by_hand);
    tcase_add_test(steps, adam_steps_by_hand);
    tcase_add_test(steps, adamw_decays_outside_the_moments);
    tcase_add_test(steps, per_example_settings_scale_by_the_batch);
    tcase_add_test(steps, adagrad_epsilon_by_hand);
    tcase_add_test(steps, mse_sum_reduction_scales_loss_and_gradient);
    tcase_add_test(steps, lazy_and_dense_embedding_updates_differ_as_documented);
    tcase_add_test(steps, default_embedding_updates_follow_weight_decay_and_size);
    tcase_add_test(steps, learning_rate_decays_per_epoch);
    tcase_add_test(steps, fit_reports_each_epoch_and_stops_when_asked);
    tcase_add_loop_test(steps, early_stopping_on_an_error_keeps_the_lowest, 0, 3);
    tcase_add_loop_test(steps, patience_counts_the_epochs_without_improvement, 0, 4);
    tcase_add_test(steps, configuration_is_checked);
    tcase_add_test(steps, a_user_with_every_item_has_no_negatives);
    tcase_add_test(steps, a_sampled_epoch_after_one_rating_by_rating_has_its_item_lists);
    tcase_add_test(steps, steps_in_flight_train_as_steps_that_complete);
    TCase *training = test_case(suite, "training");
    tcase_set_timeout(training, 300);
    tcase_add_test(training, neumf_learns_the_synthetic_preferences);
    tcase_add_test(training, mf_beats_the_global_mean);
    tcase_add_loop_test(training, same_seed_same_bytes, 0, 2);
    tcase_add_test(training, progress_callback_can_stop);
    return run_suite(suite);
}
