/* The backend conformance suite, in the manner of ggml's test-backend-ops.
 * First, every backend (the CPU backend included) against an independent
 * reference: a double-precision forward and backward of each model kind
 * written in the tests (reference_net.c), for the loss and gradient of a
 * batch and for scores. Then every other backend against the CPU backend:
 * forward (scores and rankings), forward_backward (loss and gradient of a
 * batch), the optimizers (training runs for each optimizer and embedding
 * mode, which also exercise train_step or optimizer_step) and the sampler
 * (epoch_samples against the law's host builder, byte for byte).
 *
 * It registers two variants of the CPU backend that leave optional entries
 * out, so that the core's fallbacks are held to the reference's bits:
 * "cpu-host-sampling" has no epoch_samples (the core builds the samples and
 * uploads them), and "cpu-minimal" has no optional entry but
 * optimizer_settle, which changes what is trained (no knobs, separate
 * forward_backward and optimizer_step, scoring through forward and ranking
 * on the host instead of rank_items, MF with
 * batch size 1 through batches of one instead of mf_epoch). These run the
 * CPU kernels, so their comparisons with "cpu" check the core's paths, not
 * the math: the math is held to the double reference.
 *
 * `test_backend_ops cuda` checks the CUDA backend alone and exits 77 (a
 * skip) when it cannot open; without an argument the CPU variants are
 * checked. Linked with the static library to reach the CPU backend's
 * table. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend_handle.h"
#include "helpers.h"
#include "reco/reco.h"
#include "reco_epoch_build.h"
#include "reference_net.h"

extern const reco_backend_ops reco_backend_cpu_ops;

/* How closely a backend must follow the reference: relative error of whole
 * vectors (losses, gradients, parameters after training), absolute error of
 * scores, HR@10 difference. Backends on the CPU kernels sum in the same
 * order and must agree bit for bit in training; CUDA sums in other orders
 * (cuBLAS, atomics). */
typedef struct conformance {
    const char *name;
    double gradient;
    double gradient_tf32; /* with fast math (TF32 keeps 10 mantissa bits) */
    float score;
    double trained[3]; /* per optimizer: SGD, Adagrad, Adam */
    double hr[3];
} conformance;

/* CUDA after three epochs: Adam's normalized steps keep the runs within
 * rounding; SGD with momentum amplifies the order in which the GPU's
 * atomics add; Adagrad's first step moves a parameter whose gradient is
 * exactly zero on one backend and a residue on the other by 0 or by lr.
 * HR@10 over 300 test users moves in steps of 1/300. */
static const conformance backends[] = {
    {"cpu-host-sampling", 0.0, 0.0, 0.0f, {0.0, 0.0, 0.0}, {0.0, 0.0, 0.0}},
    /* scoring through forward instead of score_items' products: rounding */
    {"cpu-minimal", 0.0, 0.0, 1e-6f, {0.0, 0.0, 0.0}, {0.0, 0.0, 0.0}},
    {"cuda", 1e-4, 1e-2, 1e-5f, {0.1, 0.3, 1e-4}, {0.01, 0.02, 0.01}},
};
#define N_BACKENDS (sizeof backends / sizeof backends[0])

static reco_backend_ops host_sampling_ops, minimal_ops;

/* The backend this run checks against the references ("cuda"), or NULL:
 * the CPU variants. */
static const char *only_backend;

static int selected(const char *name)
{
    return only_backend ? strcmp(name, only_backend) == 0 : strcmp(name, "cuda") != 0;
}

/* Called before the suite runs: no ck_assert here. */
static int register_variants(void)
{
    host_sampling_ops = reco_backend_cpu_ops;
    host_sampling_ops.name = "cpu-host-sampling";
    host_sampling_ops.kernels.epoch_samples = NULL;
    minimal_ops = host_sampling_ops;
    minimal_ops.name = "cpu-minimal";
    minimal_ops.device.control = NULL;
    minimal_ops.device.synchronize = NULL;
    minimal_ops.kernels.score_items = NULL;
    minimal_ops.kernels.rank_items = NULL;
    minimal_ops.kernels.train_step = NULL;
    minimal_ops.kernels.gradient_export = NULL;
    minimal_ops.kernels.gradient_import = NULL;
    minimal_ops.kernels.mf_epoch = NULL;
    if (reco_backend_register(&host_sampling_ops) != RECO_OK ||
        reco_backend_register(&minimal_ops) != RECO_OK) {
        fprintf(stderr, "cannot register the CPU variants: %s\n", reco_last_error());
        return -1;
    }
    return 0;
}

/* Opens backend `index` of the list, or returns NULL when this run does not
 * check it or it has no device. */
static reco_backend *try_open(size_t index)
{
    reco_backend *backend = NULL;
    if (!selected(backends[index].name))
        return NULL;
    reco_status status = reco_backend_open(backends[index].name, &backend);
    if (status == RECO_ERR_BACKEND_UNAVAILABLE) {
        printf("%s: not checked (%s)\n", backends[index].name, reco_last_error());
        return NULL;
    }
    RECO_ASSERT_OK(status);
    return backend;
}

static reco_model *small_model_with_output(reco_backend *backend, reco_model_kind kind,
                                           float dropout, reco_activation output)
{
    reco_model *model;
    RECO_ASSERT_OK(reco_model_new(kind, 30, 40, &model));
    RECO_ASSERT_OK(reco_model_set_output(model, output));
    const size_t layers[] = {16, 12, 8};
    if (kind == RECO_MODEL_MLP || kind == RECO_MODEL_NEUMF) {
        RECO_ASSERT_OK(reco_model_set_layers(model, layers, 3));
        RECO_ASSERT_OK(reco_model_set_dropout(model, dropout));
    }
    if (kind == RECO_MODEL_MF)
        RECO_ASSERT_OK(reco_model_set_biases(model, 1));
    RECO_ASSERT_OK(reco_model_set_factors(model, 6));
    RECO_ASSERT_OK(reco_model_set_init_std(model, 0.5f));
    RECO_ASSERT_OK(reco_model_init(model, backend, 77));
    return model;
}

static reco_model *small_model(reco_backend *backend, reco_model_kind kind, float dropout)
{
    return small_model_with_output(backend, kind, dropout, RECO_ACTIVATION_IDENTITY);
}

/* The double reference's view of small_model_with_output. */
static reference_shape small_shape(reco_model_kind kind, float dropout, reco_activation output)
{
    return (reference_shape){
        .kind = kind,
        .n_users = 30,
        .n_items = 40,
        .factors = 6,
        .layers = {16, 12, 8},
        .n_layers = 3,
        .biases = kind == RECO_MODEL_MF,
        .output = output,
        .dropout = dropout,
        /* a fresh trainer's first batch: its seed 0 xor the dropout stream
         * ("DROP") plus step 0 x the golden ratio */
        .dropout_seed = 0x44524f50ull,
    };
}

static const reco_model_kind kinds[] = {RECO_MODEL_MF, RECO_MODEL_GMF, RECO_MODEL_MLP,
                                        RECO_MODEL_NEUMF};

enum { ROWS = 200 };

/* The rows of one fixed batch: pairs that repeat users and items, ratings
 * 1..5 for MSE, labels 0 and 1 for BCE, a negative item for BPR. */
typedef struct fixed_batch {
    int32_t users[ROWS], items[ROWS], negatives[ROWS];
    float targets[ROWS];
} fixed_batch;

static void fixed_batch_fill(fixed_batch *b, reco_loss loss)
{
    for (int i = 0; i < ROWS; i++) {
        b->users[i] = (i * 7) % 30;
        b->items[i] = (i * 13) % 40;
        b->negatives[i] = (i * 11 + 5) % 40;
        b->targets[i] = loss == RECO_LOSS_MSE ? (float)(1 + i % 5) : (float)(i % 2);
    }
}

static double model_batch_gradient(reco_model *model, reco_loss loss, float *gradient)
{
    static fixed_batch b;
    fixed_batch_fill(&b, loss);
    reco_trainer *trainer;
    RECO_ASSERT_OK(reco_trainer_new(model, &trainer));
    RECO_ASSERT_OK(reco_trainer_set_loss(trainer, loss));
    double value;
    RECO_ASSERT_OK(reco_trainer_batch_gradient(trainer, b.users, b.items, b.targets, b.negatives,
                                               ROWS, &value, gradient));
    reco_trainer_free(trainer);
    return value;
}

/* The loss and gradient of the fixed batch (dropout 0.25 where there is a
 * tower: the masks are a function of the seed and sample). */
static double batch_gradient(reco_backend *backend, reco_model_kind kind, reco_loss loss,
                             float *gradient)
{
    reco_model *model = small_model(backend, kind, 0.25f);
    double value = model_batch_gradient(model, loss, gradient);
    reco_model_free(model);
    return value;
}

/* Opens a backend by name, or returns NULL when it has no device. */
static reco_backend *open_if_present(const char *name)
{
    reco_backend *backend = NULL;
    reco_status status = reco_backend_open(name, &backend);
    if (status == RECO_ERR_BACKEND_UNAVAILABLE)
        return NULL;
    RECO_ASSERT_OK(status);
    return backend;
}

/* Asserts each gradient element within `tolerance` x the largest of the
 * reference's (float sums of a few hundred terms), naming the worst. */
static void expect_gradient(const char *name, const float *got, const double *expected,
                            size_t count, double tolerance)
{
    double largest = 0.0, worst = 0.0;
    size_t worst_at = 0;
    for (size_t i = 0; i < count; i++)
        largest = fmax(largest, fabs(expected[i]));
    ck_assert_msg(largest > 1e-3, "%s: the reference gradient vanished", name);
    for (size_t i = 0; i < count; i++)
        if (fabs(got[i] - expected[i]) > worst) {
            worst = fabs(got[i] - expected[i]);
            worst_at = i;
        }
    ck_assert_msg(worst <= tolerance * largest,
                  "%s: gradient[%zu] %.9g, reference %.9g (largest %.3g)", name, worst_at,
                  got[worst_at], expected[worst_at], largest);
}

/* The names checked against the double reference: "cpu" and the run's. */
static const char *reference_checked(size_t index)
{
    return index == 0                           ? "cpu"
           : selected(backends[index - 1].name) ? backends[index - 1].name
                                                : NULL;
}

/* loop index: kind (4) x loss (3) x variant (2): identity output without
 * dropout, or sigmoid output with dropout 0.25 on the tower. The loss and
 * every gradient element of each backend against the double reference. */
START_TEST(forward_backward_matches_the_double_reference)
{
    reco_model_kind kind = kinds[_i / 6];
    reco_loss loss = (reco_loss)(_i / 2 % 3);
    int variant = _i % 2;
    float dropout = variant ? 0.25f : 0.0f;
    reco_activation output = variant ? RECO_ACTIVATION_SIGMOID : RECO_ACTIVATION_IDENTITY;
    reference_shape shape = small_shape(kind, dropout, output);
    static fixed_batch rows;
    fixed_batch_fill(&rows, loss);
    reference_batch batch = {rows.users, rows.items, rows.negatives, rows.targets, ROWS, loss};
    size_t count = reference_parameter_count(&shape);
    float *params = malloc(count * sizeof *params), *got = malloc(count * sizeof *got);
    double *expected = malloc(count * sizeof *expected);
    ck_assert(params && got && expected);
    for (size_t b = 0; b <= N_BACKENDS; b++) {
        const char *name = reference_checked(b);
        reco_backend *backend = name ? open_if_present(name) : NULL;
        if (!backend)
            continue;
        double tolerance = b == 0 ? 1e-5 : fmax(1e-5, backends[b - 1].gradient);
        reco_model *model = small_model_with_output(backend, kind, dropout, output);
        ck_assert_uint_eq(reco_model_parameter_count(model), count);
        RECO_ASSERT_OK(reco_model_get_parameters(model, params));
        double expected_loss = reference_loss_and_gradient(&shape, params, &batch, expected);
        double got_loss = model_batch_gradient(model, loss, got);
        char what[96];
        snprintf(what, sizeof what, "%s, kind %d, loss %d, variant %d", name, kind, loss, variant);
        ck_assert_msg(fabs(got_loss - expected_loss) <= tolerance * fabs(expected_loss),
                      "%s: loss %.9g, reference %.9g", what, got_loss, expected_loss);
        expect_gradient(what, got, expected, count, tolerance);
        reco_model_free(model);
        reco_backend_free(backend);
    }
    free(params);
    free(got);
    free(expected);
}
END_TEST

/* loop index: kind (4) x loss (3) x fast math (2). Each other backend
 * against the CPU backend at its tolerance; for the CPU variants that is a
 * CPU-vs-CPU comparison at zero tolerance (the same kernels through the
 * core's fallbacks), which says nothing of the math: the test above does. */
START_TEST(forward_backward_matches_the_reference)
{
    reco_model_kind kind = kinds[_i / 6];
    reco_loss loss = (reco_loss)(_i / 2 % 3);
    int fast_math = _i % 2;
    reco_backend *reference = open_backend("cpu");
    size_t count = 0;
    {
        reco_model *probe = small_model(reference, kind, 0.25f);
        count = reco_model_parameter_count(probe);
        reco_model_free(probe);
    }
    float *expected = malloc(count * sizeof(float)), *got = malloc(count * sizeof(float));
    ck_assert(expected && got);
    double expected_loss = batch_gradient(reference, kind, loss, expected);
    for (size_t b = 0; b < N_BACKENDS; b++) {
        reco_backend *backend = try_open(b);
        if (!backend)
            continue;
        RECO_ASSERT_OK(reco_backend_set_fast_math(backend, fast_math));
        double got_loss = batch_gradient(backend, kind, loss, got);
        double tolerance = fast_math ? backends[b].gradient_tf32 : backends[b].gradient;
        ck_assert_msg(fabs(expected_loss - got_loss) <= tolerance * fabs(expected_loss),
                      "%s kind %d loss %d: loss %.9g, reference %.9g", backends[b].name, kind, loss,
                      got_loss, expected_loss);
        double error = relative_error(expected, got, count);
        ck_assert_msg(error <= tolerance, "%s kind %d loss %d TF32 %d: gradient error %g",
                      backends[b].name, kind, loss, fast_math, error);
        reco_backend_free(backend);
    }
    free(expected);
    free(got);
    reco_backend_free(reference);
}
END_TEST

enum { PAIRS = 1200, TOP = 5 };

/* Scores of every (user, item) of the small model, and each user's top 5. */
static void score_all(reco_backend *backend, reco_model_kind kind, float *scores, int32_t *top)
{
    reco_model *model = small_model(backend, kind, 0.0f);
    int32_t users[PAIRS], items[PAIRS];
    for (int i = 0; i < PAIRS; i++) {
        users[i] = i % 30;
        items[i] = i / 30;
    }
    RECO_ASSERT_OK(reco_model_predict(model, users, items, PAIRS, scores));
    int32_t batch_users[30];
    for (int u = 0; u < 30; u++)
        batch_users[u] = u;
    size_t counts[30];
    float top_scores[30 * TOP];
    RECO_ASSERT_OK(
        reco_model_recommend_batch(model, batch_users, 30, TOP, NULL, top, top_scores, counts));
    for (int u = 0; u < 30; u++)
        ck_assert_uint_eq(counts[u], TOP);
    reco_model_free(model);
}

/* The CPU backend's scores of score_all's pairs against the double
 * reference's, from the same parameters. */
static void expect_reference_scores(reco_backend *cpu, reco_model_kind kind, const float *scores)
{
    reco_model *model = small_model(cpu, kind, 0.0f);
    reference_shape shape = small_shape(kind, 0.0f, RECO_ACTIVATION_IDENTITY);
    size_t count = reference_parameter_count(&shape);
    float *params = malloc(count * sizeof *params);
    static double expected[PAIRS];
    static int32_t users[PAIRS], items[PAIRS];
    ck_assert(params);
    RECO_ASSERT_OK(reco_model_get_parameters(model, params));
    for (int i = 0; i < PAIRS; i++) {
        users[i] = i % 30;
        items[i] = i / 30;
    }
    reference_scores(&shape, params, users, items, PAIRS, expected);
    for (int i = 0; i < PAIRS; i++)
        ck_assert_msg(fabs(scores[i] - expected[i]) <= 1e-5 * fmax(1.0, fabs(expected[i])),
                      "cpu kind %d pair %d: %.9g, double reference %.9g", kind, i, scores[i],
                      expected[i]);
    free(params);
    reco_model_free(model);
}

/* The CPU backend's scores against the double reference, then each other
 * backend's against the CPU backend's (for the CPU variants: forward in
 * place of score_items' products, CPU against CPU). */
START_TEST(scoring_matches_the_reference)
{
    reco_backend *reference = open_backend("cpu");
    for (int k = 0; k < 4; k++) {
        static float expected[PAIRS], got[PAIRS];
        static int32_t expected_top[30 * TOP], got_top[30 * TOP];
        score_all(reference, kinds[k], expected, expected_top);
        expect_reference_scores(reference, kinds[k], expected);
        for (size_t b = 0; b < N_BACKENDS; b++) {
            reco_backend *backend = try_open(b);
            if (!backend)
                continue;
            score_all(backend, kinds[k], got, got_top);
            for (int i = 0; i < PAIRS; i++)
                ck_assert_msg(fabsf(expected[i] - got[i]) <= backends[b].score,
                              "%s kind %d pair %d: %.9g, reference %.9g", backends[b].name,
                              kinds[k], i, got[i], expected[i]);
            ck_assert_msg(memcmp(expected_top, got_top, sizeof got_top) == 0,
                          "%s kind %d: another top %d", backends[b].name, kinds[k], TOP);
            reco_backend_free(backend);
        }
    }
    reco_backend_free(reference);
}
END_TEST

/* A model of rank_items' kinds on `backend`: loop index 0 MF with biases,
 * 1 MF with a sigmoid, 2 GMF (head weights) with a ReLU, 3 iALS, 4 EASE,
 * 5 item-kNN; dot-product ones with random parameters from `params` when
 * given (else made and written there), item-item ones fitted on `data`. */
static reco_model *ranked_model(reco_backend *backend, int which, const reco_dataset *data,
                                float *params, int made)
{
    static const reco_model_kind kinds[] = {RECO_MODEL_MF,   RECO_MODEL_MF,   RECO_MODEL_GMF,
                                            RECO_MODEL_IALS, RECO_MODEL_EASE, RECO_MODEL_ITEM_KNN};
    reco_model *model;
    RECO_ASSERT_OK(reco_model_new(kinds[which], reco_dataset_n_users(data),
                                  reco_dataset_n_items(data), &model));
    RECO_ASSERT_OK(reco_model_set_factors(model, 24));
    if (which == 0)
        RECO_ASSERT_OK(reco_model_set_biases(model, 1));
    if (which == 1 || which == 2)
        RECO_ASSERT_OK(reco_model_set_output(model, which == 1 ? RECO_ACTIVATION_SIGMOID
                                                               : RECO_ACTIVATION_RELU));
    if (which != 4 && which != 5)
        RECO_ASSERT_OK(reco_model_set_init_std(model, 0.5f));
    RECO_ASSERT_OK(reco_model_init(model, backend, 7));
    if (which >= 4) {
        reco_trainer *trainer;
        RECO_ASSERT_OK(reco_trainer_new(model, &trainer));
        RECO_ASSERT_OK(reco_trainer_set_weight_decay(trainer, 10.0));
        RECO_ASSERT_OK(reco_trainer_epoch(trainer, data, NULL));
        reco_trainer_free(trainer);
    } else if (made) {
        RECO_ASSERT_OK(reco_model_set_parameters(model, params));
    } else {
        RECO_ASSERT_OK(reco_model_get_parameters(model, params));
    }
    return model;
}

/* rank_items (the CPU backend's) against the core's host ranking (the
 * minimal variant's), over several blocks of users and items, the data's
 * items left out: the same items in the same order, the same scores but
 * for the products' rounding. */
START_TEST(ranking_matches_the_host_path)
{
    enum { K = 12 };
    size_t n_items = _i == 4 ? 700 : 2600;
    reco_dataset *data;
    RECO_ASSERT_OK(reco_dataset_synthetic(300, n_items, 9000, 5, &data));
    size_t n_users = reco_dataset_n_users(data);
    reco_backend *cpu = open_backend("cpu"), *minimal = open_backend("cpu-minimal");
    float *params = malloc(2 * (n_users + n_items) * 26 * sizeof *params + 64);
    reco_model *fast = ranked_model(cpu, _i, data, params, 0);
    reco_model *host = ranked_model(minimal, _i, data, params, 1);
    int32_t *users = malloc(n_users * sizeof *users), *top[2];
    float *scores[2];
    size_t *counts[2];
    for (size_t u = 0; u < n_users; u++)
        users[u] = (int32_t)(n_users - 1 - u); /* in no particular order */
    reco_model *models[2] = {fast, host};
    for (int m = 0; m < 2; m++) {
        top[m] = malloc(n_users * K * sizeof *top[m]);
        scores[m] = malloc(n_users * K * sizeof *scores[m]);
        counts[m] = malloc(n_users * sizeof *counts[m]);
        RECO_ASSERT_OK(reco_model_recommend_batch(models[m], users, n_users, K, data, top[m],
                                                  scores[m], counts[m]));
    }
    /* a few users one at a time (products instead of BLIS on the CPU) */
    for (size_t u = 0; u < 5; u++) {
        int32_t one[K];
        float one_scores[K];
        size_t n;
        RECO_ASSERT_OK(reco_model_recommend(fast, users[u], K, data, one, one_scores, &n));
        ck_assert_mem_eq(one, top[1] + u * K, sizeof one);
    }
    for (size_t u = 0; u < n_users; u++) {
        ck_assert_uint_eq(counts[0][u], K);
        ck_assert_uint_eq(counts[1][u], K);
        for (size_t i = 0; i < K; i++) {
            size_t at = u * K + i;
            ck_assert_msg(top[0][at] == top[1][at], "model %d user %d place %zu: item %d, host %d",
                          _i, users[u], i, top[0][at], top[1][at]);
            ck_assert_msg(fabsf(scores[0][at] - scores[1][at]) <=
                              1e-5f * (1.0f + fabsf(scores[1][at])),
                          "model %d user %d: score %.9g, host %.9g", _i, users[u], scores[0][at],
                          scores[1][at]);
        }
    }
    for (int m = 0; m < 2; m++) {
        free(top[m]);
        free(scores[m]);
        free(counts[m]);
    }
    free(users);
    free(params);
    reco_model_free(fast);
    reco_model_free(host);
    reco_backend_free(cpu);
    reco_backend_free(minimal);
    reco_dataset_free(data);
}
END_TEST

/* Trains NeuMF for 3 epochs; returns HR@10 and the parameters. */
static double train_neumf(reco_backend *backend, reco_optimizer optimizer, int dense, float *params,
                          size_t *count)
{
    loo_split data = loo_split_synthetic(300, 400, 15000, 3, 4);
    training_setup t = training_setup_new(backend, RECO_MODEL_NEUMF, reco_dataset_n_users(data.all),
                                          reco_dataset_n_items(data.all), 5);
    reco_trainer *trainer = t.trainer;
    RECO_ASSERT_OK(reco_trainer_set_optimizer(trainer, optimizer));
    RECO_ASSERT_OK(
        reco_trainer_set_learning_rate(trainer, optimizer == RECO_OPTIMIZER_ADAM ? 0.001 : 0.05));
    RECO_ASSERT_OK(reco_trainer_set_momentum(trainer, optimizer == RECO_OPTIMIZER_SGD ? 0.9 : 0.0));
    RECO_ASSERT_OK(reco_trainer_set_weight_decay(trainer, 1e-5));
    RECO_ASSERT_OK(reco_trainer_set_dense_embeddings(trainer, dense));
    RECO_ASSERT_OK(reco_trainer_fit(trainer, data.train, 3));
    reco_metrics *metrics;
    double hr;
    RECO_ASSERT_OK(reco_metrics_new(&metrics));
    RECO_ASSERT_OK(reco_metrics_evaluate_sampled(metrics, t.model, data.test));
    RECO_ASSERT_OK(reco_metrics_get(metrics, RECO_METRIC_HR, &hr));
    *count = reco_model_parameter_count(t.model);
    RECO_ASSERT_OK(reco_model_get_parameters(t.model, params));
    reco_metrics_free(metrics);
    training_setup_free(&t);
    loo_split_free(&data);
    return hr;
}

/* loop index: optimizer (SGD, Adagrad, Adam) x embedding mode (lazy, dense).
 * Every backend makes the same samples for a seed (one sampling law), so
 * the runs are comparable parameter by parameter. Against the CPU backend:
 * for the CPU variants a CPU-vs-CPU check of the core's fused and separate
 * step paths; the optimizer rules themselves are held to values computed by
 * hand in test_trainer.c. */
START_TEST(training_matches_the_reference)
{
    static float expected[200000], got[200000];
    size_t expected_count, got_count;
    reco_optimizer optimizer = (reco_optimizer)(_i / 2);
    int dense = _i % 2;
    double expected_hr =
        train_neumf(open_backend("cpu"), optimizer, dense, expected, &expected_count);
    for (size_t b = 0; b < N_BACKENDS; b++) {
        reco_backend *backend = try_open(b);
        if (!backend)
            continue;
        double hr = train_neumf(backend, optimizer, dense, got, &got_count);
        ck_assert_uint_eq(got_count, expected_count);
        double error = relative_error(expected, got, got_count);
        printf("%s, optimizer %d, dense %d: HR@10 %.4f (CPU backend %.4f), parameter error %.2e\n",
               backends[b].name, optimizer, dense, hr, expected_hr, error);
        ck_assert_msg(error <= backends[b].trained[optimizer], "%s: parameters differ by %g",
                      backends[b].name, error);
        ck_assert_msg(fabs(hr - expected_hr) <= backends[b].hr[optimizer] + 1e-9,
                      "%s: HR@10 %g, reference %g", backends[b].name, hr, expected_hr);
    }
}
END_TEST

/* One epoch of NeuMF on synthetic data (lr 0.05 and momentum 0.9 for SGD,
 * lr 0.001 and the given beta1 for Adam), lazy or dense; returns the loss. */
static double train_one_epoch(reco_optimizer optimizer, double beta1, int dense, float *params,
                              size_t *count)
{
    reco_dataset *data = NULL;
    RECO_ASSERT_OK(reco_dataset_synthetic(300, 400, 15000, 3, &data));
    training_setup t = training_setup_new(open_backend("cpu"), RECO_MODEL_NEUMF, 300, 400, 5);
    RECO_ASSERT_OK(reco_trainer_set_optimizer(t.trainer, optimizer));
    if (optimizer == RECO_OPTIMIZER_SGD) {
        RECO_ASSERT_OK(reco_trainer_set_learning_rate(t.trainer, 0.05));
        RECO_ASSERT_OK(reco_trainer_set_momentum(t.trainer, 0.9));
    } else {
        RECO_ASSERT_OK(reco_trainer_set_adam_betas(t.trainer, beta1, 0.999));
    }
    RECO_ASSERT_OK(reco_trainer_set_dense_embeddings(t.trainer, dense));
    double loss;
    RECO_ASSERT_OK(reco_trainer_epoch(t.trainer, data, &loss));
    RECO_ASSERT_OK(reco_model_get_parameters(t.model, params));
    *count = reco_model_parameter_count(t.model);
    training_setup_free(&t);
    reco_dataset_free(data);
    return loss;
}

/* loop index: SGD with momentum; Adam without a first moment; Adam. Lazy
 * steps replay, before a row's step and as the epoch ends, the steps it sat
 * idle (reco_idle_steps): what dense steps do to it meanwhile. Without a
 * first moment only the second decays, and lazy steps give dense steps'
 * parameters up to float rounding. With momentum the forward passes read
 * rows before their replay, and Adam's replay takes the bias corrections of
 * the step that replays: lazy steps then end near dense ones. Without the
 * replay, the losses differ by 2.2e-4, 1.8e-5 and 2.1e-3, the parameters
 * by 0.019, 0.031 and 0.096 (relative); with it by 5.5e-5, 0 and 5.7e-4,
 * and 0.017, 1.7e-7 and 0.073. */
START_TEST(lazy_steps_train_as_dense_steps)
{
    static float lazy[200000], dense[200000];
    reco_optimizer optimizer = _i == 0 ? RECO_OPTIMIZER_SGD : RECO_OPTIMIZER_ADAM;
    double beta1 = _i == 1 ? 0.0 : 0.9;
    size_t count;
    double lazy_loss = train_one_epoch(optimizer, beta1, 0, lazy, &count);
    double dense_loss = train_one_epoch(optimizer, beta1, 1, dense, &count);
    double error = relative_error(lazy, dense, count);
    printf("case %d: lazy loss %.6f, dense %.6f, parameter error %.2e\n", _i, lazy_loss, dense_loss,
           error);
    const double loss_bound[] = {1e-4, 1e-6, 1e-3}, parameter_bound[] = {0.0185, 1e-6, 0.085};
    ck_assert_double_le(fabs(lazy_loss - dense_loss), loss_bound[_i]);
    ck_assert_double_le(error, parameter_bound[_i]);
}
END_TEST

/* Adam without a first moment, where lazy steps give dense steps' values:
 * a dense epoch, then a lazy one, trains what two dense epochs train (the
 * dense steps kept each row's last step, so the lazy epoch replays only
 * its own idle steps). */
START_TEST(a_lazy_epoch_after_a_dense_one_replays_nothing_twice)
{
    static float params[2][200000];
    size_t count = 0;
    for (int run = 0; run < 2; run++) {
        reco_dataset *data = NULL;
        RECO_ASSERT_OK(reco_dataset_synthetic(300, 400, 15000, 3, &data));
        training_setup t = training_setup_new(open_backend("cpu"), RECO_MODEL_NEUMF, 300, 400, 5);
        RECO_ASSERT_OK(reco_trainer_set_adam_betas(t.trainer, 0.0, 0.999));
        RECO_ASSERT_OK(reco_trainer_set_dense_embeddings(t.trainer, 1));
        RECO_ASSERT_OK(reco_trainer_epoch(t.trainer, data, NULL));
        RECO_ASSERT_OK(reco_trainer_set_dense_embeddings(t.trainer, run));
        RECO_ASSERT_OK(reco_trainer_epoch(t.trainer, data, NULL));
        RECO_ASSERT_OK(reco_model_get_parameters(t.model, params[run]));
        count = reco_model_parameter_count(t.model);
        training_setup_free(&t);
        reco_dataset_free(data);
    }
    ck_assert_double_le(relative_error(params[0], params[1], count), 1e-6);
}
END_TEST

/* A training set of 50 users and 70 items, rows in no particular order;
 * user 3 has all but one item. */
enum { S_USERS = 50, S_ITEMS = 70, S_MAX_ROWS = S_USERS * S_ITEMS };

typedef struct sampler_fixture {
    int32_t users[S_MAX_ROWS], items[S_MAX_ROWS];
    float ratings[S_MAX_ROWS];
    size_t offsets[S_USERS + 1];
    int32_t user_items[S_MAX_ROWS];
    size_t n_rows;
} sampler_fixture;

static void sampler_fixture_make(sampler_fixture *f)
{
    f->n_rows = 0;
    for (int32_t u = 0; u < S_USERS; u++) {
        f->offsets[u] = f->n_rows;
        int32_t count = u == 3 ? S_ITEMS - 1 : 1 + (u * 7) % 13;
        for (int32_t item = 0, taken = 0; item < S_ITEMS && taken < count; item++) {
            if (u != 3 && (item * 5 + u) % 3 != 0)
                continue;
            f->user_items[f->n_rows++] = item;
            taken++;
        }
    }
    f->offsets[S_USERS] = f->n_rows;
    /* rows: a fixed permutation of the (user, item) pairs */
    for (size_t r = 0; r < f->n_rows; r++) {
        size_t from = (r * 37) % f->n_rows;
        int32_t user = 0;
        while (f->offsets[user + 1] <= from)
            user++;
        f->users[r] = user;
        f->items[r] = f->user_items[from];
        f->ratings[r] = (float)(1 + r % 5);
    }
}

/* Uploads `bytes` of `host` to a new buffer of the backend. */
static reco_backend_buffer *upload(reco_backend *backend, const void *host, size_t bytes)
{
    reco_backend_buffer *buffer = NULL;
    RECO_ASSERT_OK(backend->ops->device.buffer_alloc(backend->context, bytes, &buffer));
    RECO_ASSERT_OK(backend->ops->device.buffer_upload(backend->context, buffer, 0, host, bytes));
    return buffer;
}

/* The backend's epoch_samples against the host builder, for a plan. */
static void check_sampler(reco_backend *backend, const char *name, const sampler_fixture *f,
                          reco_epoch_plan plan)
{
    size_t n = plan.count ? plan.count : f->n_rows * (plan.pairs ? 1 : 1 + plan.negatives);
    plan.count = n;
    reco_sample_source source = reco_sample_source_make(f->users, f->items, f->ratings, f->n_rows,
                                                        f->offsets, f->user_items, S_ITEMS, &plan);
    int32_t *expected = calloc(3 * n + 1, sizeof(int32_t));
    int32_t *got = calloc(3 * n + 1, sizeof(int32_t));
    float *expected_targets = calloc(n + 1, sizeof(float));
    float *got_targets = calloc(n + 1, sizeof(float));
    ck_assert(expected && got && expected_targets && got_targets);
    reco_sample_sink sink = {expected, expected + n, expected_targets, expected + 2 * n};
    ck_assert_int_eq(reco_epoch_build(&source, plan.first, n, &sink, reco_run_serially, NULL), 0);

    reco_backend_context *context = backend->context;
    const reco_backend_device_ops *device = &backend->ops->device;
    reco_epoch_data data = {
        upload(backend, f->users, f->n_rows * sizeof(int32_t)),
        upload(backend, f->items, f->n_rows * sizeof(int32_t)),
        upload(backend, f->ratings, f->n_rows * sizeof(float)),
        f->n_rows,
        upload(backend, f->offsets, sizeof f->offsets),
        upload(backend, f->user_items, f->n_rows * sizeof(int32_t)),
        S_USERS,
        S_ITEMS,
        0,
    };
    reco_backend_buffer *out[4];
    for (int i = 0; i < 4; i++)
        RECO_ASSERT_OK(device->buffer_alloc(context, n * 4, &out[i]));
    reco_epoch_buffers buffers = {out[0], out[1], out[2], out[3]};
    RECO_ASSERT_OK(backend->ops->kernels.epoch_samples(context, &data, &plan, &buffers));
    RECO_ASSERT_OK(device->buffer_download(context, out[0], 0, got, n * 4));
    RECO_ASSERT_OK(device->buffer_download(context, out[1], 0, got + n, n * 4));
    RECO_ASSERT_OK(device->buffer_download(context, out[2], 0, got_targets, n * 4));
    if (plan.pairs)
        RECO_ASSERT_OK(device->buffer_download(context, out[3], 0, got + 2 * n, n * 4));
    ck_assert_msg(memcmp(expected, got, (plan.pairs ? 3 : 2) * n * 4) == 0,
                  "%s: other samples (negatives %zu, pairs %d, epoch %llu)", name, plan.negatives,
                  plan.pairs, (unsigned long long)plan.epoch);
    ck_assert_msg(memcmp(expected_targets, got_targets, n * 4) == 0, "%s: other targets", name);

    const reco_backend_buffer *inputs[5] = {data.users, data.items, data.ratings, data.user_offsets,
                                            data.user_items};
    for (int i = 0; i < 5; i++)
        device->buffer_free(context, (reco_backend_buffer *)inputs[i]);
    for (int i = 0; i < 4; i++)
        device->buffer_free(context, out[i]);
    free(expected);
    free(got);
    free(expected_targets);
    free(got_targets);
}

START_TEST(epoch_samples_follow_the_law)
{
    static sampler_fixture fixture;
    sampler_fixture_make(&fixture);
    const reco_epoch_plan plans[] = {
        {.negatives = 4, .seed = 7, .epoch = 0},
        {.negatives = 4, .seed = 7, .epoch = 3, .negative_epoch = 3},
        {.negatives = 4, .seed = 7, .epoch = 3}, /* fixed negatives: epoch 0's */
        {.negatives = 1, .pairs = 1, .seed = 11, .epoch = 1, .negative_epoch = 1},
        {.negatives = 0, .explicit_targets = 1, .seed = 5, .epoch = 2, .negative_epoch = 2},
        {.negatives = 4, .seed = 7, .epoch = 3, .first = 100, .count = 999, .negative_epoch = 3},
    };
    const char *names[] = {"cpu", "cuda"};
    for (size_t b = 0; b < 2; b++) {
        reco_backend *backend = NULL;
        if (!selected(names[b]) || reco_backend_open(names[b], &backend) != RECO_OK)
            continue;
        ck_assert_ptr_nonnull(backend->ops->kernels.epoch_samples);
        for (size_t p = 0; p < sizeof plans / sizeof plans[0]; p++)
            check_sampler(backend, names[b], &fixture, plans[p]);
        reco_backend_free(backend);
    }
}
END_TEST

/* A trainer of MF with the squared loss and batch size 1 on `threads`
 * threads of the backend: the per-rating path where the backend has one. */
static reco_trainer *per_rating_trainer(reco_backend *backend, const reco_dataset *train,
                                        size_t threads, reco_optimizer optimizer, int biases,
                                        reco_model **model)
{
    RECO_ASSERT_OK(reco_model_new(RECO_MODEL_MF, reco_dataset_n_users(train),
                                  reco_dataset_n_items(train), model));
    RECO_ASSERT_OK(reco_model_set_factors(*model, 12));
    RECO_ASSERT_OK(reco_model_set_biases(*model, biases));
    RECO_ASSERT_OK(reco_model_set_init_std(*model, 0.1f));
    RECO_ASSERT_OK(reco_model_init(*model, backend, 6));
    reco_trainer *trainer;
    RECO_ASSERT_OK(reco_trainer_new(*model, &trainer));
    RECO_ASSERT_OK(reco_trainer_set_loss(trainer, RECO_LOSS_MSE));
    RECO_ASSERT_OK(reco_trainer_set_optimizer(trainer, optimizer));
    RECO_ASSERT_OK(reco_trainer_set_learning_rate(trainer, 0.01));
    RECO_ASSERT_OK(reco_trainer_set_weight_decay(trainer, 1e-3));
    RECO_ASSERT_OK(reco_trainer_set_batch_size(trainer, 1));
    RECO_ASSERT_OK(reco_trainer_set_threads(trainer, threads));
    return trainer;
}

/* MF trained two epochs on `train` rating by rating: the parameters, and
 * the RMSE on `test` when it is not NULL. */
static double train_mf_per_rating(const char *backend_name, const reco_dataset *train,
                                  const reco_dataset *test, size_t threads,
                                  reco_optimizer optimizer, int biases, float *params,
                                  size_t *count)
{
    reco_backend *backend = open_backend(backend_name);
    reco_model *model;
    reco_trainer *trainer = per_rating_trainer(backend, train, threads, optimizer, biases, &model);
    RECO_ASSERT_OK(reco_trainer_fit(trainer, train, 2));
    double rmse = 0.0;
    if (test) {
        reco_metrics *metrics;
        RECO_ASSERT_OK(reco_metrics_new(&metrics));
        RECO_ASSERT_OK(reco_metrics_evaluate_ratings(metrics, model, test));
        RECO_ASSERT_OK(reco_metrics_get(metrics, RECO_METRIC_RMSE, &rmse));
        reco_metrics_free(metrics);
    }
    *count = reco_model_parameter_count(model);
    RECO_ASSERT_OK(reco_model_get_parameters(model, params));
    reco_trainer_free(trainer);
    reco_model_free(model);
    reco_backend_free(backend);
    return rmse;
}

/* PERMUTATION_RATINGS ratings of as many users on as many items, each user
 * and each item in one rating: no two share a row, so every order of them
 * trains the same model. */
enum { PERMUTATION_RATINGS = 8192 };

static reco_dataset *permutation_ratings(void)
{
    static int64_t users[PERMUTATION_RATINGS], items[PERMUTATION_RATINGS];
    static float ratings[PERMUTATION_RATINGS];
    for (size_t i = 0; i < PERMUTATION_RATINGS; i++) {
        users[i] = (int64_t)i;
        items[i] = (int64_t)((i * 2731) % PERMUTATION_RATINGS); /* 2731 is odd: a bijection */
        ratings[i] = (float)(1 + (i * 7) % 5);
    }
    reco_dataset *dataset;
    RECO_ASSERT_OK(
        reco_dataset_from_arrays(users, items, ratings, NULL, PERMUTATION_RATINGS, &dataset));
    return dataset;
}

/* loop index: SGD, Adagrad. mf_epoch steps every rating's rows once an
 * epoch with the rule batches of one use, on one thread or two (in blocks
 * of a grid): on ratings that share no row, where the order does not
 * matter, it gives what batches of one give (only the dot product's
 * summation order differs). CPU against CPU: the per-rating path against
 * the batch path, whose steps test_trainer.c checks by hand. */
START_TEST(per_rating_mf_steps_every_rating_once)
{
    /* two tables of 12 factors, and the dense part */
    static float batches[2 * 12 * PERMUTATION_RATINGS + 64],
        rated[2 * 12 * PERMUTATION_RATINGS + 64];
    size_t count;
    reco_optimizer optimizer = _i ? RECO_OPTIMIZER_ADAGRAD : RECO_OPTIMIZER_SGD;
    reco_dataset *train = permutation_ratings();
    train_mf_per_rating("cpu-minimal", train, NULL, 1, optimizer, 0, batches, &count);
    ck_assert_uint_le(count, sizeof batches / sizeof batches[0]);
    for (size_t threads = 1; threads <= 2; threads++) {
        train_mf_per_rating("cpu", train, NULL, threads, optimizer, 0, rated, &count);
        double error = relative_error(batches, rated, count);
        printf("MF per rating, optimizer %d, %zu threads: parameter error %.2e against batches "
               "of one (CPU against CPU)\n",
               optimizer, threads, error);
        ck_assert_msg(error < 1e-5, "per-rating parameters differ by %g", error);
    }
    reco_dataset_free(train);
}
END_TEST

/* loop index: SGD, Adagrad. On ratings that share rows (the grid's order,
 * the global bias stepped once a round) it gives the same model every time
 * for a thread count, and about the accuracy of batches of one (CPU against
 * CPU). */
START_TEST(per_rating_mf_is_deterministic_and_as_accurate)
{
    static float batches[8000], rated[8000], again[8000];
    size_t count;
    reco_optimizer optimizer = _i ? RECO_OPTIMIZER_ADAGRAD : RECO_OPTIMIZER_SGD;
    reco_dataset *all, *train, *test;
    RECO_ASSERT_OK(reco_dataset_synthetic(120, 90, 4000, 6, &all));
    RECO_ASSERT_OK(reco_dataset_split_random(all, 0.2, 6, 0, &train, &test));
    double rmse_batches =
        train_mf_per_rating("cpu-minimal", train, test, 1, optimizer, 1, batches, &count);
    for (size_t threads = 1; threads <= 2; threads++) {
        double rmse = train_mf_per_rating("cpu", train, test, threads, optimizer, 1, rated, &count);
        train_mf_per_rating("cpu", train, test, threads, optimizer, 1, again, &count);
        printf("MF per rating, optimizer %d, biased, %zu threads: RMSE %.5f (batches of one "
               "%.5f, CPU against CPU)\n",
               optimizer, threads, rmse, rmse_batches);
        ck_assert_mem_eq(rated, again, count * sizeof *rated);
        ck_assert_msg(fabs(rmse - rmse_batches) < 0.02 * rmse_batches,
                      "%zu threads: RMSE %g against %g", threads, rmse, rmse_batches);
    }
    reco_dataset_free(all);
    reco_dataset_free(train);
    reco_dataset_free(test);
}
END_TEST

/* The CPU backend keeps the ratings it packed for mf_epoch from epoch to
 * epoch: an epoch on other ratings of the same shape (the same rows, the
 * ratings halved) after one on the first must train on the new ones, as a
 * trainer that saw only those does. SGD: no state besides the parameters. */
START_TEST(per_rating_mf_repacks_other_ratings)
{
    static float initial[8000], trained[8000], expected[8000];
    reco_dataset *all, *first, *second;
    RECO_ASSERT_OK(reco_dataset_synthetic(120, 90, 4000, 6, &all));
    RECO_ASSERT_OK(reco_dataset_scale_ratings(all, 1.0f, &first));
    RECO_ASSERT_OK(reco_dataset_scale_ratings(all, 0.5f, &second));
    reco_backend *backend = open_backend("cpu");
    float *results[2] = {trained, expected};
    const reco_dataset *epoch_one[2] = {first, second};
    for (int run = 0; run < 2; run++) {
        reco_model *model;
        reco_trainer *trainer = per_rating_trainer(backend, all, 2, RECO_OPTIMIZER_SGD, 1, &model);
        RECO_ASSERT_OK(reco_model_get_parameters(model, initial));
        RECO_ASSERT_OK(reco_trainer_epoch(trainer, epoch_one[run], NULL));
        RECO_ASSERT_OK(reco_model_set_parameters(model, initial));
        RECO_ASSERT_OK(reco_trainer_epoch(trainer, second, NULL));
        RECO_ASSERT_OK(reco_model_get_parameters(model, results[run]));
        size_t count = reco_model_parameter_count(model);
        ck_assert_uint_le(count, 8000);
        if (run == 1)
            ck_assert_mem_eq(trained, expected, count * sizeof *trained);
        reco_trainer_free(trainer);
        reco_model_free(model);
    }
    reco_backend_free(backend);
    reco_dataset_free(all);
    reco_dataset_free(first);
    reco_dataset_free(second);
}
END_TEST

/* GMF trained three epochs on `backend_name`, negatives fixed or fresh. */
static void train_gmf(const char *backend_name, int fixed, float *params, size_t *count)
{
    loo_split data = loo_split_synthetic(80, 150, 3000, 8, 9);
    training_setup t =
        training_setup_new(open_backend(backend_name), RECO_MODEL_GMF,
                           reco_dataset_n_users(data.all), reco_dataset_n_items(data.all), 8);
    RECO_ASSERT_OK(reco_trainer_set_fixed_negatives(t.trainer, fixed));
    RECO_ASSERT_OK(reco_trainer_set_learning_rate(t.trainer, 0.01));
    RECO_ASSERT_OK(reco_trainer_fit(t.trainer, data.train, 3));
    *count = reco_model_parameter_count(t.model);
    RECO_ASSERT_OK(reco_model_get_parameters(t.model, params));
    training_setup_free(&t);
    loo_split_free(&data);
}

/* Fixed negatives reach both samplers (the backend's and the core's host
 * builder) alike, and change what is trained from the second epoch on. CPU
 * against CPU: the samplers differ, the kernels are the same. */
START_TEST(fixed_negatives_reach_every_sampler)
{
    static float device[8000], host[8000], fresh[8000];
    size_t count;
    train_gmf("cpu", 1, device, &count);
    train_gmf("cpu-host-sampling", 1, host, &count);
    train_gmf("cpu", 0, fresh, &count);
    ck_assert_mem_eq(device, host, count * sizeof *device);
    ck_assert(memcmp(device, fresh, count * sizeof *device) != 0);
}
END_TEST

START_TEST(half_a_pair_is_refused)
{
    reco_backend_ops half = reco_backend_cpu_ops;
    half.name = "cpu-half";
    half.kernels.gradient_import = NULL;
    ck_assert_int_eq(reco_backend_register(&half), RECO_ERR_INVALID_ARGUMENT);
    ck_assert_str_eq(reco_last_error(),
                     "backend ops: kernels.gradient_import is missing (required, or by its pair)");
}
END_TEST

/* A run for one named backend ("cuda") checks it against the references
 * only: the CPU-only tests run without an argument. */
int main(int argc, char **argv)
{
    only_backend = argc > 1 ? argv[1] : NULL;
    if (register_variants() != 0)
        return EXIT_FAILURE;
    if (only_backend) {
        reco_backend *probe = NULL;
        if (reco_backend_open(only_backend, &probe) != RECO_OK)
            skip_program(reco_last_error());
        reco_backend_free(probe);
    }
    /* a CUDA context does not survive fork(): run the tests in this process */
    setenv("CK_FORK", "no", 1);
    Suite *suite = suite_create("backend_ops");
    TCase *tcase = test_case(suite, "every backend against the references");
    tcase_set_timeout(tcase, 600);
    tcase_add_loop_test(tcase, forward_backward_matches_the_double_reference, 0, 24);
    tcase_add_loop_test(tcase, forward_backward_matches_the_reference, 0, 24);
    tcase_add_test(tcase, scoring_matches_the_reference);
    if (!only_backend)
        tcase_add_loop_test(tcase, ranking_matches_the_host_path, 0, 6);
    tcase_add_loop_test(tcase, training_matches_the_reference, 0, 6);
    tcase_add_test(tcase, epoch_samples_follow_the_law);
    if (!only_backend) {
        tcase_add_loop_test(tcase, lazy_steps_train_as_dense_steps, 0, 3);
        tcase_add_test(tcase, a_lazy_epoch_after_a_dense_one_replays_nothing_twice);
        tcase_add_loop_test(tcase, per_rating_mf_steps_every_rating_once, 0, 2);
        tcase_add_loop_test(tcase, per_rating_mf_is_deterministic_and_as_accurate, 0, 2);
        tcase_add_test(tcase, per_rating_mf_repacks_other_ratings);
        tcase_add_test(tcase, fixed_negatives_reach_every_sampler);
        tcase_add_test(tcase, half_a_pair_is_refused);
    }
    return run_suite(suite);
}
