/* Finite-difference checks of the backward pass: every model kind with every
 * loss. The analytic gradient comes from reco_trainer_batch_gradient; the
 * numeric one from central differences of the same batch's loss. */
#include <math.h>
#include <stdlib.h>

#include "helpers.h"
#include "reco/reco.h"

enum { N_USERS = 4, N_ITEMS = 5, N_ROWS = 6 };

static const int32_t users[N_ROWS] = {0, 1, 2, 3, 0, 2};
static const int32_t items[N_ROWS] = {0, 1, 2, 3, 4, 1};
static const int32_t negatives[N_ROWS] = {1, 3, 4, 0, 2, 0};
static const float binary_targets[N_ROWS] = {1, 0, 1, 1, 0, 0};
static const float ratings[N_ROWS] = {4, 2, 5, 3, 1, 4};

static reco_model *small_model(reco_backend *backend, reco_model_kind kind,
                               reco_activation output)
{
    reco_model *model = NULL;
    RECO_ASSERT_OK(reco_model_new(kind, N_USERS, N_ITEMS, &model));
    const size_t layers[] = {6, 5, 3};
    RECO_ASSERT_OK(reco_model_set_factors(model, 3));
    if (kind == RECO_MODEL_MLP || kind == RECO_MODEL_NEUMF)
        RECO_ASSERT_OK(reco_model_set_layers(model, layers, 3));
    if (kind == RECO_MODEL_MF)
        RECO_ASSERT_OK(reco_model_set_biases(model, 1));
    RECO_ASSERT_OK(reco_model_set_output(model, output));
    RECO_ASSERT_OK(reco_model_set_init_std(model, 0.7f));
    RECO_ASSERT_OK(reco_model_init(model, backend, 1234));
    return model;
}

static double batch_loss(reco_trainer *trainer, const float *targets)
{
    double loss = 0.0;
    RECO_ASSERT_OK(reco_trainer_batch_gradient(trainer, users, items, targets, negatives, N_ROWS,
                                               &loss, NULL));
    return loss;
}

/* Relative error of the whole gradient vector, in double from float runs. */
static void check_gradient(reco_model_kind kind, reco_activation output, reco_loss loss)
{
    reco_backend *backend = NULL;
    RECO_ASSERT_OK(reco_backend_open("cpu", &backend));
    reco_model *model = small_model(backend, kind, output);
    reco_trainer *trainer = NULL;
    RECO_ASSERT_OK(reco_trainer_new(model, &trainer));
    RECO_ASSERT_OK(reco_trainer_set_loss(trainer, loss));
    RECO_ASSERT_OK(reco_trainer_set_threads(trainer, 2));
    const float *targets = loss == RECO_LOSS_MSE ? ratings : binary_targets;
    size_t count = reco_model_parameter_count(model);
    float *params = malloc(count * sizeof *params);
    float *analytic = malloc(count * sizeof *analytic);
    double loss_value = 0.0;
    RECO_ASSERT_OK(reco_trainer_batch_gradient(trainer, users, items, targets, negatives, N_ROWS,
                                               &loss_value, analytic));
    ck_assert(isfinite(loss_value) && loss_value > 0.0);
    RECO_ASSERT_OK(reco_model_get_parameters(model, params));
    double difference = 0.0, norm_analytic = 0.0, norm_numeric = 0.0;
    /* small enough to rarely cross a ReLU kink, large enough for float */
    const float step = 3e-3f;
    /* MF's head weights are fixed at one: their analytic gradient is zero by design */
    size_t fixed_begin = kind == RECO_MODEL_MF ? count - 1 - 3 : count;
    for (size_t i = 0; i < count; i++) {
        if (i >= fixed_begin && i < count - 1)
            continue;
        float saved = params[i];
        params[i] = saved + step;
        reco_model_set_parameters(model, params);
        double up = batch_loss(trainer, targets);
        params[i] = saved - step;
        reco_model_set_parameters(model, params);
        double down = batch_loss(trainer, targets);
        params[i] = saved;
        double numeric = (up - down) / (2.0 * (double)step);
        difference += (numeric - analytic[i]) * (numeric - analytic[i]);
        norm_analytic += (double)analytic[i] * analytic[i];
        norm_numeric += numeric * numeric;
    }
    reco_model_set_parameters(model, params);
    double relative = sqrt(difference) / fmax(sqrt(norm_analytic), sqrt(norm_numeric));
    ck_assert_msg(norm_analytic > 1e-6, "the gradient vanished");
    ck_assert_msg(relative < 1e-3, "kind %d output %d loss %d: relative error %g", kind, output,
                  loss, relative);
    free(params);
    free(analytic);
    reco_trainer_free(trainer);
    reco_model_free(model);
    reco_backend_free(backend);
}

static const reco_model_kind kinds[] = {RECO_MODEL_MF, RECO_MODEL_GMF, RECO_MODEL_MLP,
                                        RECO_MODEL_NEUMF};

START_TEST(bce_gradients)
{
    check_gradient(kinds[_i], RECO_ACTIVATION_IDENTITY, RECO_LOSS_BCE);
}
END_TEST

START_TEST(mse_gradients)
{
    check_gradient(kinds[_i], RECO_ACTIVATION_IDENTITY, RECO_LOSS_MSE);
    check_gradient(kinds[_i], RECO_ACTIVATION_SIGMOID, RECO_LOSS_MSE);
}
END_TEST

START_TEST(bpr_gradients)
{
    check_gradient(kinds[_i], RECO_ACTIVATION_IDENTITY, RECO_LOSS_BPR);
    check_gradient(kinds[_i], RECO_ACTIVATION_SIGMOID, RECO_LOSS_BPR);
}
END_TEST

START_TEST(relu_output_gradient)
{
    /* GMF + ReLU + MSE: the "MF + Linear + ReLU" model of the tutorials */
    check_gradient(RECO_MODEL_GMF, RECO_ACTIVATION_RELU, RECO_LOSS_MSE);
}
END_TEST

START_TEST(bce_loss_by_hand)
{
    /* MF, one factor, no biases: logit = p * q; set p = 0.5, q = 2 for both
     * rows' user and item, so both logits are 1 */
    reco_backend *backend = NULL;
    RECO_ASSERT_OK(reco_backend_open("cpu", &backend));
    reco_model *model = NULL;
    RECO_ASSERT_OK(reco_model_new(RECO_MODEL_MF, 1, 1, &model));
    RECO_ASSERT_OK(reco_model_set_factors(model, 1));
    RECO_ASSERT_OK(reco_model_init(model, backend, 1));
    ck_assert_uint_eq(reco_model_parameter_count(model), 4); /* p, q, head w, head b */
    const float params[] = {0.5f, 2.0f, 1.0f, 0.0f};
    RECO_ASSERT_OK(reco_model_set_parameters(model, params));
    reco_trainer *trainer = NULL;
    RECO_ASSERT_OK(reco_trainer_new(model, &trainer));
    const int32_t zero[2] = {0, 0};
    const float targets[2] = {1.0f, 0.0f};
    double loss;
    float gradient[4];
    RECO_ASSERT_OK(
        reco_trainer_batch_gradient(trainer, zero, zero, targets, NULL, 2, &loss, gradient));
    /* mean of softplus(-1) and softplus(1) = (0.3132617 + 1.3132617) / 2 */
    ck_assert_double_eq_tol(loss, 0.8132616875, 1e-7);
    /* dL/dlogit = ((s - 1) + s) / 2 = s - 0.5, s = sigmoid(1) = 0.7310586 */
    ck_assert_float_eq_tol(gradient[0], 0.2310586f * 2.0f, 1e-6f);
    ck_assert_float_eq_tol(gradient[1], 0.2310586f * 0.5f, 1e-6f);
    ck_assert_float_eq(gradient[2], 0.0f); /* MF's head is fixed */
    ck_assert_float_eq(gradient[3], 0.0f);
    reco_trainer_free(trainer);
    reco_model_free(model);
    reco_backend_free(backend);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("gradients");
    TCase *tcase = test_case(suite, "finite differences");
    tcase_add_loop_test(tcase, bce_gradients, 0, 4);
    tcase_add_loop_test(tcase, mse_gradients, 0, 4);
    tcase_add_loop_test(tcase, bpr_gradients, 0, 4);
    tcase_add_test(tcase, relu_output_gradient);
    tcase_add_test(tcase, bce_loss_by_hand);
    return run_suite(suite);
}
