/* Regression guards for the documented figures, in the "slow" suite (left
 * out of the default run: `meson test -C build --suite slow`): the HR@10
 * each family reaches on the synthetic NCF setup (README: NeuMF from about
 * 0.10 untrained to about 0.39 after five epochs) after a fixed number of
 * epochs, within bands a broken gradient, optimizer, sampler or metric
 * leaves; and the time of a NeuMF epoch against a reference loop timed in
 * the same run, so that the machine's speed cancels out. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "helpers.h"
#include "reco/reco.h"
#include "reference_net.h"

/* What each family is trained with (library defaults otherwise), the HR@10
 * band it must land in, and its last epoch's mean training loss. The bands
 * are the values measured on this setup (2 threads, a Sapphire Rapids host;
 * the AVX2 kernels give the same) +-0.03, about twice the noise of HR@10
 * over 943 test users, well below what a real regression costs (an
 * untrained model scores 0.10; one that saw the test items, near 1). HR@10
 * saturates within an epoch on this data, so the loss, which keeps moving,
 * is held within 2%: a third of the learning rate puts NeuMF's 6% off,
 * BPR-MF's 24%. EASE and item-kNN are closed forms without a loss (NaN). */
typedef struct family {
    const char *name;
    reco_model_kind kind;
    reco_loss loss;
    size_t epochs;
    double low, high;
    double last_loss;
} family;

static const family families[] = {
    {"NeuMF", RECO_MODEL_NEUMF, RECO_LOSS_BCE, 5, 0.36, 0.42, 0.37735},   /* HR 0.393 */
    {"GMF", RECO_MODEL_GMF, RECO_LOSS_BCE, 5, 0.33, 0.39, 0.41524},       /* 0.364 */
    {"MLP", RECO_MODEL_MLP, RECO_LOSS_BCE, 5, 0.34, 0.40, 0.41216},       /* 0.367 */
    {"MF", RECO_MODEL_MF, RECO_LOSS_BCE, 5, 0.33, 0.39, 0.41656},         /* 0.361 */
    {"BPR-MF", RECO_MODEL_MF, RECO_LOSS_BPR, 5, 0.34, 0.40, 0.48612},     /* 0.371 */
    {"iALS", RECO_MODEL_IALS, RECO_LOSS_BCE, 10, 0.26, 0.32, 0.61323},    /* 0.294 */
    {"EASE", RECO_MODEL_EASE, RECO_LOSS_BCE, 1, 0.35, 0.41, NAN},         /* 0.383 */
    {"item-kNN", RECO_MODEL_ITEM_KNN, RECO_LOSS_BCE, 1, 0.35, 0.41, NAN}, /* 0.379 */
};
#define N_FAMILIES (sizeof families / sizeof families[0])

/* The README's setup: 943 users, 1682 items, 100,000 ratings, leave-one-out,
 * 99 test negatives a user (seed 000's synthetic data). */
static loo_split ncf_setup(void)
{
    return loo_split_synthetic(943, 1682, 100000, 42, 42);
}

static double hr_at_10(const reco_model *model, const reco_dataset *test)
{
    reco_metrics *metrics = NULL;
    double hr;
    RECO_ASSERT_OK(reco_metrics_new(&metrics));
    RECO_ASSERT_OK(reco_metrics_evaluate_sampled(metrics, model, test));
    RECO_ASSERT_OK(reco_metrics_get(metrics, RECO_METRIC_HR, &hr));
    reco_metrics_free(metrics);
    return hr;
}

static int keep_last_report(const reco_epoch_report *report, void *user_data)
{
    *(reco_epoch_report *)user_data = *report;
    return 0;
}

/* loop index: the family */
START_TEST(each_family_reaches_its_documented_hr)
{
    const family *f = &families[_i];
    loo_split data = ncf_setup();
    reco_backend *backend = open_backend("cpu");
    RECO_ASSERT_OK(reco_backend_set_threads(backend, 2));
    training_setup t = training_setup_new(backend, f->kind, reco_dataset_n_users(data.all),
                                          reco_dataset_n_items(data.all), 42);
    int by_gradient = f->kind <= RECO_MODEL_NEUMF;
    /* an untrained item-item model has nothing to score with */
    double untrained = f->kind <= RECO_MODEL_IALS ? hr_at_10(t.model, data.test) : 0.1;
    if (by_gradient)
        RECO_ASSERT_OK(reco_trainer_set_loss(t.trainer, f->loss));
    reco_epoch_report last = {0};
    RECO_ASSERT_OK(reco_trainer_set_epoch_callback(t.trainer, keep_last_report, &last));
    RECO_ASSERT_OK(reco_trainer_fit(t.trainer, data.train, f->epochs));
    double hr = hr_at_10(t.model, data.test);
    printf("%s: HR@10 %.4f untrained, %.4f after %zu epochs (band %.2f to %.2f), loss %.5f\n",
           f->name, untrained, hr, f->epochs, f->low, f->high, last.loss);
    ck_assert_uint_eq(last.epoch, f->epochs - 1);
    if (isnan(f->last_loss))
        ck_assert_msg(isnan(last.loss), "%s: loss %g, expected none", f->name, last.loss);
    else
        ck_assert_msg(fabs(last.loss - f->last_loss) <= 0.02 * f->last_loss,
                      "%s: last epoch's loss %g, expected %g +-2%%", f->name, last.loss,
                      f->last_loss);
    /* 100 candidates a user: a model that knows nothing ranks 10% first 10 */
    ck_assert_msg(untrained > 0.06 && untrained < 0.14, "%s untrained: HR@10 %g", f->name,
                  untrained);
    ck_assert_msg(hr >= f->low && hr <= f->high, "%s: HR@10 %g outside %g to %g", f->name, hr,
                  f->low, f->high);
    training_setup_free(&t);
    loo_split_free(&data);
}
END_TEST

static double seconds_now(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + 1e-9 * (double)now.tv_nsec;
}

enum { REFERENCE_BATCHES = 200, BATCH = 256, TURNS = 5 };

/* The reference loop: the double-precision NeuMF forward and backward
 * (tests/reference_net.c) of REFERENCE_BATCHES batches of BCE rows, one
 * sample at a time, as a measure of this machine's speed right now. */
static double time_reference_loop(const reco_model *model, const reco_dataset *train)
{
    reference_shape shape = {.kind = RECO_MODEL_NEUMF,
                             .n_users = reco_model_n_users(model),
                             .n_items = reco_model_n_items(model),
                             .factors = 8,
                             .layers = {64, 32, 16, 8},
                             .n_layers = 4,
                             .output = RECO_ACTIVATION_IDENTITY};
    size_t count = reference_parameter_count(&shape);
    ck_assert_uint_eq(count, reco_model_parameter_count(model));
    float *params = malloc(count * sizeof *params);
    double *gradient = malloc(count * sizeof *gradient);
    float targets[BATCH];
    ck_assert(params && gradient);
    RECO_ASSERT_OK(reco_model_get_parameters(model, params));
    for (int i = 0; i < BATCH; i++)
        targets[i] = (float)(i % 5 == 0); /* a positive, then 4 negatives */
    double start = seconds_now(), checksum = 0.0;
    for (size_t b = 0; b < REFERENCE_BATCHES; b++) {
        reference_batch batch = {reco_dataset_users(train) + b * BATCH,
                                 reco_dataset_items(train) + b * BATCH,
                                 NULL,
                                 targets,
                                 BATCH,
                                 RECO_LOSS_BCE};
        checksum += reference_loss_and_gradient(&shape, params, &batch, gradient);
    }
    double elapsed = seconds_now() - start;
    ck_assert(isfinite(checksum));
    free(params);
    free(gradient);
    return elapsed;
}

static double time_epoch(reco_trainer *trainer, const reco_dataset *train)
{
    double start = seconds_now();
    RECO_ASSERT_OK(reco_trainer_epoch(trainer, train, NULL));
    return seconds_now() - start;
}

/* A NeuMF epoch on 1 thread (sampling included) against the reference
 * loop, per sample, each the fastest of TURNS turns taken alternately so
 * that a busy moment of the machine hits both. Measured: 0.071 to 0.078
 * (an epoch's 495,285 samples take 0.14 s, 3.5M a second; the reference's
 * 51,200, 0.19 s). The bound, 0.15, fails an epoch twice as slow: a
 * kernel fallen back to plain loops, lost vectorization, a step serialized
 * or repeated. */
START_TEST(an_epoch_keeps_its_speed_against_a_reference_loop)
{
    loo_split data = ncf_setup();
    reco_backend *backend = open_backend("cpu");
    RECO_ASSERT_OK(reco_backend_set_threads(backend, 1));
    training_setup t = training_setup_new(backend, RECO_MODEL_NEUMF, reco_dataset_n_users(data.all),
                                          reco_dataset_n_items(data.all), 42);
    ck_assert_uint_ge(reco_dataset_size(data.train), REFERENCE_BATCHES * BATCH);
    time_epoch(t.trainer, data.train); /* warm: item lists, workspaces, pages */
    double epoch = INFINITY, reference = INFINITY;
    for (int turn = 0; turn < TURNS; turn++) {
        epoch = fmin(epoch, time_epoch(t.trainer, data.train));
        reference = fmin(reference, time_reference_loop(t.model, data.train));
    }
    double epoch_samples = 5.0 * (double)reco_dataset_size(data.train); /* 4 negatives each */
    double ratio = (epoch / epoch_samples) / (reference / (REFERENCE_BATCHES * BATCH));
    printf("NeuMF epoch %.3f s for %.0f samples, reference loop %.3f s for %d: %.4f a sample\n",
           epoch, epoch_samples, reference, REFERENCE_BATCHES * BATCH, ratio);
    ck_assert_msg(ratio < 0.15, "an epoch's sample costs %.4f of the reference's (bound 0.15)",
                  ratio);
    training_setup_free(&t);
    loo_split_free(&data);
}
END_TEST

/* 1 when built without optimization or with a sanitizer, which change
 * the library's speed and the reference's unequally. */
static int timings_mean_nothing(void)
{
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) || !defined(__OPTIMIZE__)
    return 1;
#else
    return 0;
#endif
}

/* `test_slow` checks the HR@10 figures; `test_slow timing` the epoch's
 * time, alone (meson runs it with nothing beside it), or skips (exit 77)
 * in a build whose timings mean nothing. */
int main(int argc, char **argv)
{
    int timing = argc > 1 && strcmp(argv[1], "timing") == 0;
    if (timing && timings_mean_nothing())
        skip_program("a sanitized or unoptimized build's timings say nothing of its speed");
    Suite *suite = suite_create("slow");
    TCase *tcase = test_case(suite, "documented figures");
    tcase_set_timeout(tcase, 300);
    if (timing)
        tcase_add_test(tcase, an_epoch_keeps_its_speed_against_a_reference_loop);
    else
        tcase_add_loop_test(tcase, each_family_reaches_its_documented_hr, 0, N_FAMILIES);
    return run_suite(suite);
}
