/* libreco-mpi under `mpirun -n 2`: the dataset broadcast from rank 0; two
 * ranks with 128 rows each of every 256-row batch stay bit for bit equal
 * to each other and within rounding of one trainer on whole batches (run
 * on rank 0 alone); the shared-out evaluation equals one rank's. Check
 * runs without fork (MPI does not survive one); every rank runs the same
 * tests in the same order, since the calls are collective. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "reco/mpi.h"

static int rank, world;

/* The training set on every rank: rank 0 makes it, the others receive it. */
static reco_dataset *shared_data(void)
{
    reco_dataset *made = NULL, *data = NULL;
    if (rank == 0)
        RECO_ASSERT_OK(reco_dataset_synthetic(150, 220, 4000, 9, &made));
    RECO_ASSERT_OK(reco_mpi_dataset_broadcast(made, 0, MPI_COMM_WORLD, &data));
    reco_dataset_free(made);
    return data;
}

START_TEST(the_dataset_reaches_every_rank)
{
    reco_dataset *data = shared_data();
    uint64_t mine[3] = {reco_dataset_size(data), reco_dataset_n_users(data), 0};
    for (size_t i = 0; i < reco_dataset_size(data); i++) {
        int64_t user, item;
        RECO_ASSERT_OK(reco_dataset_user_id(data, reco_dataset_users(data)[i], &user));
        RECO_ASSERT_OK(reco_dataset_item_id(data, reco_dataset_items(data)[i], &item));
        mine[2] = mine[2] * 1000003u + (uint64_t)user * 7919u + (uint64_t)item;
    }
    uint64_t first[3];
    memcpy(first, mine, sizeof first);
    MPI_Bcast(first, 3, MPI_UINT64_T, 0, MPI_COMM_WORLD);
    ck_assert_uint_eq(mine[0], 4000);
    ck_assert_mem_eq(mine, first, sizeof mine);
    reco_dataset_free(data);
}
END_TEST

/* A NeuMF trained 2 epochs on `train`, data-parallel over MPI_COMM_WORLD
 * or alone; the caller frees the setup. */
static training_setup train_neumf(const reco_dataset *train, int parallel)
{
    training_setup t =
        training_setup_new(open_backend("cpu"), RECO_MODEL_NEUMF, reco_dataset_n_users(train),
                           reco_dataset_n_items(train), 21);
    RECO_ASSERT_OK(reco_backend_set_threads(t.backend, 1));
    reco_mpi_trainer *mpi = NULL;
    if (parallel)
        RECO_ASSERT_OK(reco_mpi_trainer_new(t.trainer, MPI_COMM_WORLD, &mpi));
    RECO_ASSERT_OK(reco_trainer_fit(t.trainer, train, 2));
    reco_mpi_trainer_free(mpi);
    return t;
}

/* Trains with `train_model` over the ranks: every rank must hold the same
 * bytes; rank 0 also trains alone and compares: within `tolerance` (and
 * above 0: NeuMF's sums differ in order), or byte for byte when `exact`. */
static void expect_ranks_like_one(training_setup (*train_model)(const reco_dataset *, int),
                                  const char *what, double tolerance, int exact)
{
    reco_dataset *data = shared_data();
    training_setup parallel = train_model(data, 1);
    size_t count = reco_model_parameter_count(parallel.model);
    float *mine = malloc(count * sizeof(float)), *first = malloc(count * sizeof(float));
    ck_assert(mine && first);
    RECO_ASSERT_OK(reco_model_get_parameters(parallel.model, mine));
    memcpy(first, mine, count * sizeof(float));
    MPI_Bcast(first, (int)count, MPI_FLOAT, 0, MPI_COMM_WORLD);
    ck_assert_mem_eq(mine, first, count * sizeof(float));
    if (rank == 0) {
        training_setup alone = train_model(data, 0);
        float *expected = malloc(count * sizeof(float));
        ck_assert_ptr_nonnull(expected);
        RECO_ASSERT_OK(reco_model_get_parameters(alone.model, expected));
        double error = relative_error(expected, mine, count);
        printf("%s, %d ranks against 1: relative parameter error %.2e\n", what, world, error);
        ck_assert_msg(error <= tolerance, "%s: parameters differ by %g", what, error);
        if (exact)
            ck_assert_mem_eq(expected, mine, count * sizeof(float));
        else
            ck_assert_msg(error > 0.0, "%s: the ranks' sums should differ in order", what);
        free(expected);
        training_setup_free(&alone);
    }
    free(mine);
    free(first);
    training_setup_free(&parallel);
    reco_dataset_free(data);
}

START_TEST(ranks_train_like_one_trainer)
{
    expect_ranks_like_one(train_neumf, "NeuMF", 1e-5, 0);
}
END_TEST

/* An iALS model trained 3 epochs (CG), over the ranks or alone. */
static training_setup train_ials(const reco_dataset *train, int parallel)
{
    training_setup t = {open_backend("cpu"), NULL, NULL};
    RECO_ASSERT_OK(reco_model_new(RECO_MODEL_IALS, reco_dataset_n_users(train),
                                  reco_dataset_n_items(train), &t.model));
    RECO_ASSERT_OK(reco_model_set_factors(t.model, 16));
    RECO_ASSERT_OK(reco_model_init(t.model, t.backend, 5));
    RECO_ASSERT_OK(reco_trainer_new(t.model, &t.trainer));
    reco_mpi_trainer *mpi = NULL;
    if (parallel)
        RECO_ASSERT_OK(reco_mpi_trainer_new(t.trainer, MPI_COMM_WORLD, &mpi));
    RECO_ASSERT_OK(reco_trainer_fit(t.trainer, train, 3));
    reco_mpi_trainer_free(mpi);
    return t;
}

/* Each rank solves its share of the rows and the rows are gathered: every
 * rank ends with one rank's model, byte for byte. */
START_TEST(ials_ranks_solve_like_one_rank)
{
    expect_ranks_like_one(train_ials, "iALS", 1e-5, 1);
}
END_TEST

START_TEST(shared_out_evaluation_equals_one_rank)
{
    reco_dataset *data = shared_data(), *train, *test;
    RECO_ASSERT_OK(reco_dataset_split_leave_one_out(data, &train, &test));
    RECO_ASSERT_OK(reco_dataset_sample_test_negatives(test, data, 50, 3));
    training_setup t = train_neumf(train, 1);
    reco_metrics *metrics;
    RECO_ASSERT_OK(reco_metrics_new(&metrics));
    double hr, ndcg, expected_hr, expected_ndcg;
    RECO_ASSERT_OK(reco_mpi_evaluate_sampled(metrics, t.model, test, MPI_COMM_WORLD, &hr, &ndcg));
    reco_metrics_reset(metrics);
    RECO_ASSERT_OK(reco_metrics_evaluate_sampled(metrics, t.model, test));
    RECO_ASSERT_OK(reco_metrics_get(metrics, RECO_METRIC_HR, &expected_hr));
    RECO_ASSERT_OK(reco_metrics_get(metrics, RECO_METRIC_NDCG, &expected_ndcg));
    ck_assert_double_eq_tol(hr, expected_hr, 1e-12);
    ck_assert_double_eq_tol(ndcg, expected_ndcg, 1e-12);
    ck_assert(hr > 0.0);
    reco_metrics_free(metrics);
    training_setup_free(&t);
    reco_dataset_free(train);
    reco_dataset_free(test);
    reco_dataset_free(data);
}
END_TEST

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &world);
    setenv("CK_FORK", "no", 1);
    Suite *suite = suite_create("mpi");
    TCase *tcase = test_case(suite, "data-parallel over MPI");
    tcase_set_timeout(tcase, 300);
    tcase_add_test(tcase, the_dataset_reaches_every_rank);
    tcase_add_test(tcase, ranks_train_like_one_trainer);
    tcase_add_test(tcase, shared_out_evaluation_equals_one_rank);
    tcase_add_test(tcase, ials_ranks_solve_like_one_rank);
    int failed = run_suite(suite) != EXIT_SUCCESS, any = 0;
    MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    MPI_Finalize();
    return any ? EXIT_FAILURE : EXIT_SUCCESS;
}
