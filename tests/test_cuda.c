/* The CUDA backend against the CPU backend: the same model, batch and seed
 * must give the same loss, gradient, scores and training run within float
 * tolerance. Exit 77 (skipped) when no CUDA device is present. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "reco/reco.h"

/* Tolerances: relative error of whole vectors (losses, gradients,
 * parameters after training) and absolute error of scores. The two backends
 * sum in different orders (cuBLAS, atomics), so bits differ. */
#define GRADIENT_TOLERANCE 1e-4
#define TF32_TOLERANCE 1e-2
#define SCORE_TOLERANCE 1e-5f
/* After three epochs, per optimizer. Adam's normalized steps keep the runs
 * within rounding. SGD with momentum and lr 0.05 amplifies the order in
 * which the GPU's atomics add (it varies from run to run). Adagrad's first
 * step moves every parameter by about lr * g / |g|, so a gradient that is
 * exactly zero on one backend and a rounding residue on the other moves by
 * 0 or by lr. The last two agree in quality (HR@10), not in bits. */
static const double trained_tolerance[3] = {0.1, 0.3, 1e-4};
/* HR@10 over 300 test users moves in steps of 1/300: within three users,
 * and within six for Adagrad, whose runs part ways as said above. */
static const double hr_tolerance[3] = {0.01, 0.02, 0.01};

static reco_model *small_model(reco_backend *backend, reco_model_kind kind, float dropout)
{
    reco_model *model;
    RECO_ASSERT_OK(reco_model_new(kind, 30, 40, &model));
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

static double relative_error(const float *a, const float *b, size_t n)
{
    double difference = 0.0, norm = 0.0;
    for (size_t i = 0; i < n; i++) {
        difference += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        norm += (double)a[i] * a[i];
    }
    return sqrt(difference) / fmax(sqrt(norm), 1e-30);
}

static const reco_model_kind kinds[] = {RECO_MODEL_MF, RECO_MODEL_GMF, RECO_MODEL_MLP,
                                        RECO_MODEL_NEUMF};

/* loop index: kind (4) x loss (3) x TF32 (2) */
START_TEST(gradients_agree)
{
    reco_model_kind kind = kinds[_i / 6];
    reco_loss loss = (reco_loss)(_i / 2 % 3);
    int fast_math = _i % 2;
    reco_backend *cpu = open_backend("cpu"), *cuda = open_backend("cuda");
    RECO_ASSERT_OK(reco_backend_set_fast_math(cuda, fast_math));
    reco_model *on_cpu = small_model(cpu, kind, 0.25f), *on_cuda = small_model(cuda, kind, 0.25f);
    enum { ROWS = 200 };
    int32_t users[ROWS], items[ROWS], negatives[ROWS];
    float targets[ROWS];
    for (int i = 0; i < ROWS; i++) {
        users[i] = (i * 7) % 30;
        items[i] = (i * 13) % 40;
        negatives[i] = (i * 11 + 5) % 40;
        targets[i] = loss == RECO_LOSS_MSE ? (float)(1 + i % 5) : (float)(i % 2);
    }
    size_t count = reco_model_parameter_count(on_cpu);
    float *gradient_cpu = malloc(count * sizeof(float)), *gradient_cuda = malloc(count * sizeof(float));
    reco_trainer *trainer_cpu, *trainer_cuda;
    RECO_ASSERT_OK(reco_trainer_new(on_cpu, &trainer_cpu));
    RECO_ASSERT_OK(reco_trainer_new(on_cuda, &trainer_cuda));
    RECO_ASSERT_OK(reco_trainer_set_loss(trainer_cpu, loss));
    RECO_ASSERT_OK(reco_trainer_set_loss(trainer_cuda, loss));
    double loss_cpu, loss_cuda;
    RECO_ASSERT_OK(reco_trainer_batch_gradient(trainer_cpu, users, items, targets, negatives, ROWS,
                                               &loss_cpu, gradient_cpu));
    RECO_ASSERT_OK(reco_trainer_batch_gradient(trainer_cuda, users, items, targets, negatives, ROWS,
                                               &loss_cuda, gradient_cuda));
    /* TF32 keeps 10 mantissa bits of the matrix products' inputs */
    double tolerance = fast_math ? TF32_TOLERANCE : GRADIENT_TOLERANCE;
    ck_assert_msg(fabs(loss_cpu - loss_cuda) <= tolerance * fabs(loss_cpu), "loss %g vs %g",
                  loss_cpu, loss_cuda);
    double error = relative_error(gradient_cpu, gradient_cuda, count);
    ck_assert_msg(error < tolerance, "kind %d loss %d TF32 %d: gradient error %g", kind, loss,
                  fast_math, error);
    free(gradient_cpu);
    free(gradient_cuda);
    reco_trainer_free(trainer_cpu);
    reco_trainer_free(trainer_cuda);
    reco_model_free(on_cpu);
    reco_model_free(on_cuda);
    reco_backend_free(cpu);
    reco_backend_free(cuda);
}
END_TEST

START_TEST(scores_agree)
{
    reco_backend *cpu = open_backend("cpu"), *cuda = open_backend("cuda");
    for (int k = 0; k < 4; k++) {
        reco_model *on_cpu = small_model(cpu, kinds[k], 0.0f);
        reco_model *on_cuda = small_model(cuda, kinds[k], 0.0f);
        int32_t users[1200], items[1200];
        float scores_cpu[1200], scores_cuda[1200];
        for (int i = 0; i < 1200; i++) {
            users[i] = i % 30;
            items[i] = i / 30;
        }
        RECO_ASSERT_OK(reco_model_predict(on_cpu, users, items, 1200, scores_cpu));
        RECO_ASSERT_OK(reco_model_predict(on_cuda, users, items, 1200, scores_cuda));
        for (int i = 0; i < 1200; i++)
            ck_assert_float_eq_tol(scores_cpu[i], scores_cuda[i], SCORE_TOLERANCE);
        reco_model_free(on_cpu);
        reco_model_free(on_cuda);
    }
    reco_backend_free(cpu);
    reco_backend_free(cuda);
}
END_TEST

/* Trains NeuMF for 3 epochs on one backend; returns HR@10 and parameters. */
static double train_neumf(const char *name, int optimizer, int dense, int device_sampling,
                          float *params, size_t *count)
{
    loo_split data = loo_split_synthetic(300, 400, 15000, 3, 4);
    training_setup t = training_setup_new(open_backend(name), RECO_MODEL_NEUMF,
                                          reco_dataset_n_users(data.all),
                                          reco_dataset_n_items(data.all), 5);
    reco_model *model = t.model;
    reco_trainer *trainer = t.trainer;
    RECO_ASSERT_OK(reco_trainer_set_threads(trainer, 1));
    RECO_ASSERT_OK(reco_trainer_set_optimizer(trainer, (reco_optimizer)optimizer));
    RECO_ASSERT_OK(reco_trainer_set_learning_rate(trainer, optimizer == 2 ? 0.001 : 0.05));
    RECO_ASSERT_OK(reco_trainer_set_momentum(trainer, optimizer == 0 ? 0.9 : 0.0));
    RECO_ASSERT_OK(reco_trainer_set_weight_decay(trainer, 1e-5));
    RECO_ASSERT_OK(reco_trainer_set_dense_embeddings(trainer, dense));
    RECO_ASSERT_OK(reco_trainer_set_device_sampling(trainer, device_sampling));
    RECO_ASSERT_OK(reco_trainer_fit(trainer, data.train, 3));
    reco_metrics *metrics;
    double hr;
    RECO_ASSERT_OK(reco_metrics_new(&metrics));
    RECO_ASSERT_OK(reco_metrics_evaluate_sampled(metrics, model, data.test));
    RECO_ASSERT_OK(reco_metrics_get(metrics, RECO_METRIC_HR, &hr));
    *count = reco_model_parameter_count(model);
    RECO_ASSERT_OK(reco_model_get_parameters(model, params));
    reco_metrics_free(metrics);
    training_setup_free(&t);
    loo_split_free(&data);
    return hr;
}

/* loop index: optimizer (SGD, Adagrad, Adam) x embedding mode (lazy, dense) */
START_TEST(training_runs_agree)
{
    static float cpu_params[200000], cuda_params[200000];
    size_t cpu_count, cuda_count;
    int optimizer = _i / 2, dense = _i % 2;
    /* host sampling on both: the same samples, so the runs can be compared */
    double hr_cpu = train_neumf("cpu", optimizer, dense, 0, cpu_params, &cpu_count);
    double hr_cuda = train_neumf("cuda", optimizer, dense, 0, cuda_params, &cuda_count);
    ck_assert_uint_eq(cpu_count, cuda_count);
    double error = relative_error(cpu_params, cuda_params, cpu_count);
    printf("optimizer %d dense %d: HR@10 cpu %.4f cuda %.4f, parameter error %.2e\n", optimizer,
           dense, hr_cpu, hr_cuda, error);
    ck_assert_msg(error < trained_tolerance[optimizer], "parameters differ by %g", error);
    ck_assert_msg(fabs(hr_cpu - hr_cuda) <= hr_tolerance[optimizer] + 1e-9, "HR@10 %g vs %g",
                  hr_cpu, hr_cuda);
}
END_TEST

START_TEST(device_sampling_trains_as_well)
{
    static float params[200000];
    size_t count;
    double host = train_neumf("cuda", 2, 0, 0, params, &count);
    double device = train_neumf("cuda", 2, 0, 1, params, &count);
    printf("HR@10 with host sampling %.4f, with device sampling %.4f\n", host, device);
    ck_assert_msg(device > 0.28 && device > host - 0.03, "HR@10 %g (host sampling %g)", device,
                  host);
}
END_TEST

static int record_loss(const reco_progress *progress, void *user_data)
{
    *(double *)user_data = progress->loss;
    return 0;
}

/* One epoch of GMF on the GPU in 256-row batches and a shorter last one:
 * the loss read batch by batch (a progress callback) and the loss kept on
 * the device until the epoch ends agree, and so do the parameters (to the
 * GPU's atomics, whose order varies); a second epoch, the same steps at
 * other offsets, moves them. */
START_TEST(training_steps_with_and_without_a_callback_agree)
{
    reco_dataset *data;
    RECO_ASSERT_OK(reco_dataset_synthetic(80, 120, 1800, 6, &data));
    static float with[20000], without[20000], again[20000];
    double callback_loss = 0.0, epoch_loss[2];
    size_t count = 0;
    for (int run = 0; run < 2; run++) {
        training_setup t = training_setup_new(open_backend("cuda"), RECO_MODEL_GMF,
                                              reco_dataset_n_users(data),
                                              reco_dataset_n_items(data), 2);
        if (run == 0)
            RECO_ASSERT_OK(reco_trainer_set_progress(t.trainer, record_loss, &callback_loss));
        RECO_ASSERT_OK(reco_trainer_epoch(t.trainer, data, &epoch_loss[run]));
        count = reco_model_parameter_count(t.model);
        ck_assert_uint_le(count, 20000);
        RECO_ASSERT_OK(reco_model_get_parameters(t.model, run == 0 ? with : without));
        if (run == 1) {
            RECO_ASSERT_OK(reco_trainer_epoch(t.trainer, data, NULL));
            RECO_ASSERT_OK(reco_model_get_parameters(t.model, again));
        }
        training_setup_free(&t);
    }
    ck_assert_double_eq_tol(callback_loss, epoch_loss[0], 1e-12);
    ck_assert_double_eq_tol(epoch_loss[0], epoch_loss[1], 1e-6);
    double moved = 0.0;
    for (size_t i = 0; i < count; i++) {
        ck_assert_float_eq_tol(with[i], without[i], 1e-5f);
        moved += fabs((double)again[i] - (double)without[i]);
    }
    ck_assert(moved > 1e-3);
    reco_dataset_free(data);
}
END_TEST

START_TEST(out_of_device_memory_is_an_error)
{
    reco_backend *cuda = open_backend("cuda");
    reco_model *huge;
    RECO_ASSERT_OK(reco_model_new(RECO_MODEL_GMF, 2000000000, 10, &huge));
    RECO_ASSERT_OK(reco_model_set_factors(huge, 4096));
    ck_assert_int_eq(reco_model_init(huge, cuda, 1), RECO_ERR_OUT_OF_MEMORY);
    ck_assert_ptr_nonnull(strstr(reco_last_error(), "cuda backend"));
    reco_model_free(huge);
    /* the backend still works afterwards */
    reco_model *small = small_model(cuda, RECO_MODEL_GMF, 0.0f);
    reco_model_free(small);
    reco_backend_free(cuda);
}
END_TEST

int main(void)
{
    reco_backend *probe = NULL;
    reco_status status = reco_backend_open("cuda", &probe);
    if (status == RECO_ERR_BACKEND_UNAVAILABLE) {
        printf("skipped: %s\n", reco_last_error());
        return 77;
    }
    reco_backend_free(probe);
    /* a CUDA context does not survive fork(): run the tests in this process */
    setenv("CK_FORK", "no", 1);
    Suite *suite = suite_create("cuda");
    TCase *tcase = test_case(suite, "parity with the CPU backend");
    tcase_set_timeout(tcase, 600);
    tcase_add_loop_test(tcase, gradients_agree, 0, 24);
    tcase_add_test(tcase, scores_agree);
    tcase_add_loop_test(tcase, training_runs_agree, 0, 6);
    tcase_add_test(tcase, device_sampling_trains_as_well);
    tcase_add_test(tcase, training_steps_with_and_without_a_callback_agree);
    tcase_add_test(tcase, out_of_device_memory_is_an_error);
    return run_suite(suite);
}
