/* What only the CUDA backend has: a loss kept on the device between
 * batches, device memory that runs out, and device groups (NCCL) that sum
 * data-parallel gradients on the GPUs. Its parity with the CPU
 * backend is checked by the conformance suite (test_backend_ops.c). Exit
 * 77 (skipped) when no CUDA device is present. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "reco/backend_impl.h"
#include "reco/reco.h"

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

/* NeuMF trained 2 epochs on the GPU, alone or as the one rank of a device
 * group (one NCCL communicator of one GPU: the whole data-parallel path,
 * forward and backward, the sum over the group, the step); NULL when the
 * backend was built without NCCL. */
static float *train_in_group(const reco_dataset *data, int in_group, size_t *count)
{
    training_setup t =
        training_setup_new(open_backend("cuda"), RECO_MODEL_NEUMF, reco_dataset_n_users(data),
                           reco_dataset_n_items(data), 4);
    if (in_group) {
        reco_backend_group group = {.rank = 0, .world = 1};
        RECO_ASSERT_OK(reco_trainer_backend_control(t.trainer, RECO_CONTROL_GROUP_ID, &group));
        if (!group.made) {
            training_setup_free(&t);
            return NULL;
        }
        RECO_ASSERT_OK(reco_trainer_backend_control(t.trainer, RECO_CONTROL_JOIN_GROUP, &group));
        RECO_ASSERT_OK(reco_trainer_set_device_parallel(t.trainer, 0, 1));
    }
    RECO_ASSERT_OK(reco_trainer_fit(t.trainer, data, 2));
    *count = reco_model_parameter_count(t.model);
    float *parameters = malloc(*count * sizeof(float));
    ck_assert_ptr_nonnull(parameters);
    RECO_ASSERT_OK(reco_model_get_parameters(t.model, parameters));
    training_setup_free(&t);
    return parameters;
}

START_TEST(a_device_group_of_one_trains_like_the_trainer_alone)
{
    reco_dataset *data;
    RECO_ASSERT_OK(reco_dataset_synthetic(200, 300, 6000, 8, &data));
    size_t count = 0, group_count = 0;
    float *alone = train_in_group(data, 0, &count);
    float *grouped = train_in_group(data, 1, &group_count);
    if (!grouped) {
        printf("skipped: the cuda backend was built without NCCL\n");
    } else {
        ck_assert_uint_eq(group_count, count);
        double error = relative_error(alone, grouped, count);
        printf("a device group of one against the trainer alone: relative error %.2e\n", error);
        /* the same sums, in the group's path (forward_backward, the NCCL sum,
         * the step) against the fused one: float rounding and atomics' order */
        ck_assert_msg(error < 1e-4, "parameters differ by %g", error);
    }
    free(alone);
    free(grouped);
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
    reco_model *small;
    RECO_ASSERT_OK(reco_model_new(RECO_MODEL_GMF, 30, 40, &small));
    RECO_ASSERT_OK(reco_model_init(small, cuda, 1));
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
    TCase *tcase = test_case(suite, "device");
    tcase_set_timeout(tcase, 600);
    tcase_add_test(tcase, training_steps_with_and_without_a_callback_agree);
    tcase_add_test(tcase, out_of_device_memory_is_an_error);
    tcase_add_test(tcase, a_device_group_of_one_trains_like_the_trainer_alone);
    return run_suite(suite);
}
