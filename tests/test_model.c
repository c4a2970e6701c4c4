/* Backends and models: opening, registration, configuration checks, the
 * parameter layout, prediction by hand and NeuMF from pretrained parts. */
#define _GNU_SOURCE /* dl_iterate_phdr */
#include <link.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "reco/backend_impl.h"
#include "reco/reco.h"

START_TEST(backends_open_by_name)
{
    reco_backend *backend = NULL;
    RECO_ASSERT_OK(reco_backend_open("cpu", &backend));
    ck_assert_str_eq(reco_backend_name(backend), "cpu");
    reco_backend_free(backend);
    RECO_ASSERT_OK(reco_backend_open("auto", &backend));
    ck_assert_ptr_nonnull(reco_backend_name(backend));
    reco_backend_free(backend);
    RECO_ASSERT_OK(reco_backend_open("cpu", &backend));
    RECO_ASSERT_OK(reco_backend_set_fast_math(backend, 1)); /* nothing to trade */
    reco_backend_free(backend);
    ck_assert_int_eq(reco_backend_set_fast_math(NULL, 1), RECO_ERR_INVALID_ARGUMENT);
    char line[8];
    ck_assert_int_eq(reco_backend_describe(NULL, line, sizeof line), RECO_ERR_INVALID_ARGUMENT);
    /* a short buffer gets the line's start, terminated */
    backend = open_backend("cpu");
    RECO_ASSERT_OK(reco_backend_describe(backend, line, sizeof line));
    ck_assert_uint_eq(strlen(line), sizeof line - 1);
    ck_assert_int_eq(strncmp(line, "cpu: ", 5), 0);
    reco_backend_free(backend);
    ck_assert_int_eq(reco_backend_open("tpu", &backend), RECO_ERR_BACKEND_UNAVAILABLE);
    ck_assert_str_eq(reco_last_error(), "unknown backend 'tpu'");
    ck_assert_ptr_null(backend);
    reco_backend_free(NULL);
}
END_TEST

static int is_cuda_module(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    (void)data;
    return info->dlpi_name && strstr(info->dlpi_name, "libreco-cuda") != NULL;
}

/* 1 when this machine has an NVIDIA driver node (or the module is loaded
 * already): "auto" may then load the CUDA module. */
static int has_cuda_driver(void)
{
    return access("/dev/nvidiactl", F_OK) == 0 || access("/dev/dxg", F_OK) == 0 ||
           dl_iterate_phdr(is_cuda_module, NULL) != 0;
}

/* Without an NVIDIA driver "auto" opens the CPU backend without loading the
 * CUDA module (and its cuBLAS), which could only say there is no device.
 * Run alone (`test_model without-driver`), which skips where a driver is. */
START_TEST(auto_leaves_the_cuda_module_alone_without_a_driver)
{
    ck_assert(!has_cuda_driver());
    reco_backend *backend;
    RECO_ASSERT_OK(reco_backend_open("auto", &backend));
    ck_assert_str_eq(reco_backend_name(backend), "cpu");
    ck_assert_int_eq(dl_iterate_phdr(is_cuda_module, NULL), 0);
    reco_backend_free(backend);
}
END_TEST

START_TEST(registration_checks_the_table)
{
    reco_backend_ops ops = {0};
    ck_assert_int_eq(reco_backend_register(&ops), RECO_ERR_INVALID_ARGUMENT);
    ops.struct_size = sizeof ops;
    ops.abi_version = RECO_BACKEND_ABI_VERSION;
    ops.name = "partial";
    ck_assert_int_eq(reco_backend_register(&ops), RECO_ERR_INVALID_ARGUMENT);
    ck_assert_str_eq(reco_last_error(),
                     "backend ops: device.create is missing (required, or by its pair)");
    ck_assert_int_eq(reco_backend_register(NULL), RECO_ERR_INVALID_ARGUMENT);
    /* a backend's failure reads like the library's */
    ck_assert_int_eq(reco_backend_fail(RECO_ERR_BACKEND, "my backend: kernel failed"),
                     RECO_ERR_BACKEND);
    ck_assert_str_eq(reco_last_error(), "my backend: kernel failed");
}
END_TEST

START_TEST(model_configuration_is_checked)
{
    reco_model *model = NULL;
    ck_assert_int_eq(reco_model_new(RECO_MODEL_NEUMF, 0, 5, &model), RECO_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(reco_model_new((reco_model_kind)7, 5, 5, &model), RECO_ERR_INVALID_ARGUMENT);
    RECO_ASSERT_OK(reco_model_new(RECO_MODEL_NEUMF, 5, 5, &model));
    const size_t odd[] = {7, 4}, many[] = {8, 8, 8, 8, 8, 8, 8, 8, 8, 8};
    ck_assert_int_eq(reco_model_set_layers(model, odd, 2), RECO_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(reco_model_set_layers(model, many, 10), RECO_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(reco_model_set_factors(model, 0), RECO_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(reco_model_set_dropout(model, 1.0f), RECO_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(reco_model_set_biases(model, 1), RECO_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(reco_model_set_init_std(model, -1.0f), RECO_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(reco_model_set_output(model, (reco_activation)5), RECO_ERR_INVALID_ARGUMENT);
    const int32_t zero = 0;
    float score;
    ck_assert_int_eq(reco_model_predict(model, &zero, &zero, 1, &score), RECO_ERR_STATE);
    /* default NeuMF: 8 factors, 64,32,16,8 */
    size_t expected = 5 * 8 * 2 + 5 * 32 * 2 + (64 * 32 + 32) + (32 * 16 + 16) + (16 * 8 + 8) +
                      (8 + 8) + 1;
    ck_assert_uint_eq(reco_model_parameter_count(model), expected);
    reco_backend *backend;
    RECO_ASSERT_OK(reco_backend_open("cpu", &backend));
    RECO_ASSERT_OK(reco_model_init(model, backend, 1));
    reco_backend_free(backend); /* the model keeps its own reference */
    ck_assert_int_eq(reco_model_set_factors(model, 4), RECO_ERR_STATE);
    const int32_t bad = 5;
    ck_assert_int_eq(reco_model_predict(model, &zero, &bad, 1, &score), RECO_ERR_OUT_OF_RANGE);
    RECO_ASSERT_OK(reco_model_predict(model, &zero, &zero, 1, &score));
    ck_assert(isfinite(score));
    reco_model_free(model);
    reco_model_free(NULL);
}
END_TEST

START_TEST(initialization_follows_the_recipe)
{
    reco_backend *backend;
    RECO_ASSERT_OK(reco_backend_open("cpu", &backend));
    reco_model *model;
    RECO_ASSERT_OK(reco_model_new(RECO_MODEL_MLP, 2000, 10, &model));
    RECO_ASSERT_OK(reco_model_init(model, backend, 9));
    size_t count = reco_model_parameter_count(model);
    float *params = malloc(count * sizeof *params);
    RECO_ASSERT_OK(reco_model_get_parameters(model, params));
    /* user MLP table: 2000 x 32 draws of N(0, 0.01) */
    double sum = 0.0, squares = 0.0;
    for (size_t i = 0; i < 2000 * 32; i++) {
        sum += params[i];
        squares += (double)params[i] * params[i];
    }
    double mean = sum / 64000.0, std = sqrt(squares / 64000.0 - mean * mean);
    ck_assert_double_eq_tol(mean, 0.0, 3e-4);
    ck_assert_double_eq_tol(std, 0.01, 3e-4);
    /* first layer 64 -> 32: Xavier-uniform bound sqrt(6 / 96) = 0.25, biases zero */
    const float *layer = params + 2000 * 32 + 10 * 32;
    float largest = 0.0f;
    for (size_t i = 0; i < 64 * 32; i++)
        largest = fabsf(layer[i]) > largest ? fabsf(layer[i]) : largest;
    ck_assert(largest <= 0.25f && largest > 0.24f);
    for (size_t i = 0; i < 32; i++)
        ck_assert_float_eq(layer[64 * 32 + i], 0.0f);
    free(params);
    reco_model_free(model);
    reco_backend_free(backend);
}
END_TEST

START_TEST(xavier_embeddings_follow_each_tables_shape)
{
    reco_backend *backend;
    RECO_ASSERT_OK(reco_backend_open("cpu", &backend));
    reco_model *model;
    RECO_ASSERT_OK(reco_model_new(RECO_MODEL_MF, 610, 9742, &model));
    RECO_ASSERT_OK(reco_model_set_factors(model, 32));
    RECO_ASSERT_OK(reco_model_set_xavier_embeddings(model, 1));
    RECO_ASSERT_OK(reco_model_init(model, backend, 4));
    ck_assert_int_eq(reco_model_set_xavier_embeddings(model, 0), RECO_ERR_STATE);
    float *params = malloc(reco_model_parameter_count(model) * sizeof *params);
    RECO_ASSERT_OK(reco_model_get_parameters(model, params));
    /* seed 004's bounds: sqrt(6 / (610 + 32)) = 0.0967, sqrt(6 / (9742 + 32)) = 0.0248;
     * uniform, so the largest draw nears the bound and the variance is bound^2 / 3 */
    const double bounds[2] = {sqrt(6.0 / 642.0), sqrt(6.0 / 9774.0)};
    const size_t rows[2] = {610, 9742};
    const float *table = params;
    for (int t = 0; t < 2; t++) {
        double largest = 0.0, squares = 0.0;
        for (size_t i = 0; i < rows[t] * 32; i++) {
            largest = fabs(table[i]) > largest ? fabs(table[i]) : largest;
            squares += (double)table[i] * table[i];
        }
        ck_assert(largest <= bounds[t] && largest > 0.99 * bounds[t]);
        ck_assert_double_eq_tol(squares / (double)(rows[t] * 32), bounds[t] * bounds[t] / 3.0,
                                0.05 * bounds[t] * bounds[t] / 3.0);
        table += rows[t] * 32;
    }
    free(params);
    reco_model_free(model);
    reco_backend_free(backend);
}
END_TEST

START_TEST(mf_with_biases_predicts_by_hand)
{
    reco_backend *backend;
    RECO_ASSERT_OK(reco_backend_open("cpu", &backend));
    reco_model *model;
    RECO_ASSERT_OK(reco_model_new(RECO_MODEL_MF, 2, 2, &model));
    RECO_ASSERT_OK(reco_model_set_factors(model, 2));
    RECO_ASSERT_OK(reco_model_set_biases(model, 1));
    RECO_ASSERT_OK(reco_model_init(model, backend, 1));
    /* P (2x2), Q (2x2), user bias (2), item bias (2), head w (2, ones), mu */
    const float params[] = {1, 2, 3, 4, 0.5f, -1, 2, 0, 0.1f, 0.2f, 0.3f, 0.4f, 1, 1, 3.5f};
    ck_assert_uint_eq(reco_model_parameter_count(model), 15);
    RECO_ASSERT_OK(reco_model_set_parameters(model, params));
    const int32_t users[] = {0, 1}, items[] = {0, 1};
    float scores[2];
    RECO_ASSERT_OK(reco_model_predict(model, users, items, 2, scores));
    ck_assert_float_eq_tol(scores[0], 1 * 0.5f + 2 * -1 + 0.1f + 0.3f + 3.5f, 1e-6f);
    ck_assert_float_eq_tol(scores[1], 3 * 2 + 4 * 0 + 0.2f + 0.4f + 3.5f, 1e-6f);
    reco_model_free(model);
    reco_backend_free(backend);
}
END_TEST

static reco_model *initialized(reco_backend *backend, reco_model_kind kind, uint64_t seed)
{
    reco_model *model;
    RECO_ASSERT_OK(reco_model_new(kind, 6, 7, &model));
    const size_t layers[] = {8, 4, 2};
    if (kind == RECO_MODEL_MLP)
        RECO_ASSERT_OK(reco_model_set_layers(model, layers, 3));
    RECO_ASSERT_OK(reco_model_set_factors(model, 3));
    RECO_ASSERT_OK(reco_model_set_init_std(model, 0.5f));
    RECO_ASSERT_OK(reco_model_init(model, backend, seed));
    return model;
}

START_TEST(neumf_from_pretrained_mixes_the_logits)
{
    reco_backend *backend;
    RECO_ASSERT_OK(reco_backend_open("cpu", &backend));
    reco_model *gmf = initialized(backend, RECO_MODEL_GMF, 1);
    reco_model *mlp = initialized(backend, RECO_MODEL_MLP, 2);
    reco_model *neumf = NULL;
    RECO_ASSERT_OK(reco_model_neumf_from_pretrained(gmf, mlp, 0.3f, &neumf));
    ck_assert_int_eq(reco_model_kind_of(neumf), RECO_MODEL_NEUMF);
    int32_t users[42], items[42];
    for (int i = 0; i < 42; i++) {
        users[i] = i % 6;
        items[i] = i / 6;
    }
    float from_gmf[42], from_mlp[42], mixed[42];
    RECO_ASSERT_OK(reco_model_predict(gmf, users, items, 42, from_gmf));
    RECO_ASSERT_OK(reco_model_predict(mlp, users, items, 42, from_mlp));
    RECO_ASSERT_OK(reco_model_predict(neumf, users, items, 42, mixed));
    for (int i = 0; i < 42; i++)
        ck_assert_float_eq_tol(mixed[i], 0.3f * from_gmf[i] + 0.7f * from_mlp[i], 1e-5f);
    reco_model *wrong = NULL;
    ck_assert_int_eq(reco_model_neumf_from_pretrained(mlp, gmf, 0.5f, &wrong),
                     RECO_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(reco_model_neumf_from_pretrained(gmf, mlp, 1.5f, &wrong),
                     RECO_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_null(wrong);
    reco_model_free(neumf);
    reco_model_free(gmf);
    reco_model_free(mlp);
    reco_backend_free(backend);
}
END_TEST

/* The suite; `test_model without-driver` runs the driverless case alone,
 * or exits 77 (a skip) on a machine with an NVIDIA driver. */
int main(int argc, char **argv)
{
    Suite *suite = suite_create("model");
    if (argc > 1 && strcmp(argv[1], "without-driver") == 0) {
        if (has_cuda_driver())
            skip_program("an NVIDIA driver node is here, or the CUDA module is loaded already");
        TCase *driverless = test_case(suite, "without a driver");
        tcase_add_test(driverless, auto_leaves_the_cuda_module_alone_without_a_driver);
        return run_suite(suite);
    }
    TCase *backends = test_case(suite, "backends");
    tcase_add_test(backends, backends_open_by_name);
    tcase_add_test(backends, registration_checks_the_table);
    TCase *models = test_case(suite, "models");
    tcase_add_test(models, model_configuration_is_checked);
    tcase_add_test(models, initialization_follows_the_recipe);
    tcase_add_test(models, mf_with_biases_predicts_by_hand);
    tcase_add_test(models, xavier_embeddings_follow_each_tables_shape);
    tcase_add_test(models, neumf_from_pretrained_mixes_the_logits);
    return run_suite(suite);
}
