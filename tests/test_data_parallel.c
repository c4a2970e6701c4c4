/* Data-parallel training without MPI: ranks are threads of this process,
 * and their exchange sums the gradients with reco_sparse_gradient_sum in
 * rank order, as libreco-mpi does across processes. Two ranks each train
 * half of every 256-sample batch; their models stay bit for bit equal to
 * each other and end within rounding of one trainer on the whole batches.
 * Also: the sum's row order and values by hand, and refused settings. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "reco/backend_impl.h"
#include "reco/reco.h"

enum { RANKS = 2 };

/* What the ranks share: each one's local gradient, a barrier, and one sum
 * per rank (every rank computes the same sum, as MPI ranks do). */
typedef struct exchange_room {
    pthread_barrier_t barrier;
    const reco_sparse_gradient *parts[RANKS];
    reco_sparse_gradient sums[RANKS];
} exchange_room;

typedef struct rank_seat {
    exchange_room *room;
    size_t rank;
} rank_seat;

static reco_status exchange(const reco_sparse_gradient *local, const reco_sparse_gradient **sum,
                            void *user_data)
{
    rank_seat *seat = user_data;
    exchange_room *room = seat->room;
    reco_sparse_gradient *mine = &room->sums[seat->rank];
    reco_status status = RECO_OK;
    if (!mine->dense) {
        *mine = (reco_sparse_gradient){.n_dense = local->n_dense};
        memcpy(mine->capacity, local->capacity, sizeof mine->capacity);
        memcpy(mine->dim, local->dim, sizeof mine->dim);
        status = reco_sparse_gradient_alloc(mine);
    }
    room->parts[seat->rank] = local;
    pthread_barrier_wait(&room->barrier);
    if (status == RECO_OK)
        status = reco_sparse_gradient_sum(room->parts, RANKS, mine);
    /* nobody may change its local gradient before every rank has summed */
    pthread_barrier_wait(&room->barrier);
    *sum = mine;
    return status;
}

typedef struct rank_job {
    rank_seat seat;
    const reco_dataset *train;
    reco_model_kind kind;
    size_t world;
    float *parameters;
    size_t count;
    reco_status status;
} rank_job;

static void *train_rank(void *argument)
{
    rank_job *job = argument;
    reco_backend *backend = NULL;
    reco_model *model = NULL;
    reco_trainer *trainer = NULL;
    reco_status status = reco_backend_open("cpu", &backend);
    if (status == RECO_OK)
        status = reco_backend_set_threads(backend, 1);
    if (status == RECO_OK)
        status = reco_model_new(job->kind, reco_dataset_n_users(job->train),
                                reco_dataset_n_items(job->train), &model);
    if (status == RECO_OK)
        status = reco_model_init(model, backend, 5);
    if (status == RECO_OK)
        status = reco_trainer_new(model, &trainer);
    if (status == RECO_OK && job->world > 1)
        status = reco_trainer_set_data_parallel(trainer, job->seat.rank, job->world, exchange,
                                                &job->seat);
    if (status == RECO_OK)
        status = reco_trainer_fit(trainer, job->train, 2);
    if (status == RECO_OK) {
        job->count = reco_model_parameter_count(model);
        job->parameters = malloc(job->count * sizeof(float));
        status = job->parameters ? reco_model_get_parameters(model, job->parameters)
                                 : RECO_ERR_OUT_OF_MEMORY;
    }
    job->status = status;
    reco_trainer_free(trainer);
    reco_model_free(model);
    reco_backend_free(backend);
    return NULL;
}

/* loop index: GMF, NeuMF */
START_TEST(two_ranks_train_like_one)
{
    reco_model_kind kind = _i == 0 ? RECO_MODEL_GMF : RECO_MODEL_NEUMF;
    reco_dataset *train;
    RECO_ASSERT_OK(reco_dataset_synthetic(120, 200, 3000, 3, &train));
    rank_job alone = {.train = train, .kind = kind, .world = 1};
    train_rank(&alone);
    RECO_ASSERT_OK(alone.status);
    exchange_room room = {0};
    ck_assert_int_eq(pthread_barrier_init(&room.barrier, NULL, RANKS), 0);
    rank_job jobs[RANKS];
    pthread_t threads[RANKS];
    for (size_t r = 0; r < RANKS; r++) {
        jobs[r] = (rank_job){.seat = {&room, r}, .train = train, .kind = kind, .world = RANKS};
        ck_assert_int_eq(pthread_create(&threads[r], NULL, train_rank, &jobs[r]), 0);
    }
    for (size_t r = 0; r < RANKS; r++)
        pthread_join(threads[r], NULL);
    for (size_t r = 0; r < RANKS; r++) {
        RECO_ASSERT_OK(jobs[r].status);
        ck_assert_uint_eq(jobs[r].count, alone.count);
    }
    /* every rank took the same steps */
    ck_assert_mem_eq(jobs[0].parameters, jobs[1].parameters, alone.count * sizeof(float));
    /* and the steps of one trainer on whole batches, to the order of the sums */
    double error = relative_error(alone.parameters, jobs[0].parameters, alone.count);
    printf("kind %d: 2 ranks against 1, relative parameter error %.2e\n", kind, error);
    ck_assert_msg(error < 1e-5, "kind %d: 2 ranks against 1 differ by %g", kind, error);
    ck_assert_msg(error > 0.0 || kind == RECO_MODEL_GMF, "no rounding at all: suspicious");
    for (size_t r = 0; r < RANKS; r++) {
        free(jobs[r].parameters);
        reco_sparse_gradient_free(&room.sums[r]);
    }
    free(alone.parameters);
    pthread_barrier_destroy(&room.barrier);
    reco_dataset_free(train);
}
END_TEST

/* A gradient of 2 user rows, 3 item rows, a 2-wide user and item table and
 * 3 dense values. */
static reco_sparse_gradient small_gradient(void)
{
    reco_sparse_gradient g = {.capacity = {4, 5}, .dim = {2, 2}, .n_dense = 3};
    RECO_ASSERT_OK(reco_sparse_gradient_alloc(&g));
    return g;
}

START_TEST(sums_follow_rank_order)
{
    reco_sparse_gradient a = small_gradient(), b = small_gradient(), sum = small_gradient();
    a.n_rows[0] = 2;
    a.rows[0][0] = 3, a.rows[0][1] = 1;
    memcpy(a.values[0], (const float[]){1, 2, 3, 4}, 4 * sizeof(float));
    a.n_rows[1] = 1;
    a.rows[1][0] = 4;
    memcpy(a.values[1], (const float[]){5, 6}, 2 * sizeof(float));
    memcpy(a.dense, (const float[]){1, 1, 1}, 3 * sizeof(float));
    a.loss = 0.25;
    b.n_rows[0] = 2;
    b.rows[0][0] = 0, b.rows[0][1] = 3;
    memcpy(b.values[0], (const float[]){10, 20, 30, 40}, 4 * sizeof(float));
    b.n_rows[1] = 0;
    memcpy(b.dense, (const float[]){2, 3, 4}, 3 * sizeof(float));
    b.loss = 0.5;
    const reco_sparse_gradient *parts[] = {&a, &b};
    RECO_ASSERT_OK(reco_sparse_gradient_sum(parts, 2, &sum));
    /* rows by first appearance: 3, 1 (from a), then 0 (from b); row 3 summed */
    ck_assert_uint_eq(sum.n_rows[0], 3);
    ck_assert_int_eq(sum.rows[0][0], 3);
    ck_assert_int_eq(sum.rows[0][1], 1);
    ck_assert_int_eq(sum.rows[0][2], 0);
    const float users[] = {31, 42, 3, 4, 10, 20};
    ck_assert_mem_eq(sum.values[0], users, sizeof users);
    ck_assert_uint_eq(sum.n_rows[1], 1);
    ck_assert_int_eq(sum.rows[1][0], 4);
    const float dense[] = {3, 4, 5};
    ck_assert_mem_eq(sum.dense, dense, sizeof dense);
    ck_assert_double_eq(sum.loss, 0.75);
    /* another shape, the output among the parts, a row out of range */
    reco_sparse_gradient other = {.capacity = {4, 5}, .dim = {2, 3}, .n_dense = 3};
    RECO_ASSERT_OK(reco_sparse_gradient_alloc(&other));
    const reco_sparse_gradient *mixed[] = {&a, &other};
    ck_assert_int_eq(reco_sparse_gradient_sum(mixed, 2, &sum), RECO_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(reco_sparse_gradient_sum(parts, 2, &a), RECO_ERR_INVALID_ARGUMENT);
    b.rows[0][0] = 9;
    ck_assert_int_eq(reco_sparse_gradient_sum(parts, 2, &sum), RECO_ERR_INVALID_ARGUMENT);
    ck_assert_str_eq(reco_last_error(), "gradient row 9 out of range");
    reco_sparse_gradient_free(&a);
    reco_sparse_gradient_free(&b);
    reco_sparse_gradient_free(&sum);
    reco_sparse_gradient_free(&other);
}
END_TEST

START_TEST(settings_are_checked)
{
    training_setup t = training_setup_new(open_backend("cpu"), RECO_MODEL_GMF, 10, 10, 1);
    ck_assert_int_eq(reco_trainer_set_data_parallel(t.trainer, 2, 2, exchange, NULL),
                     RECO_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(reco_trainer_set_data_parallel(t.trainer, 0, 2, NULL, NULL),
                     RECO_ERR_INVALID_ARGUMENT);
    /* the CPU backend sums no gradients on a device */
    ck_assert_int_eq(reco_trainer_set_device_parallel(t.trainer, 0, 1),
                     RECO_ERR_BACKEND_UNAVAILABLE);
    ck_assert_str_eq(reco_last_error(), "backend 'cpu' sums no gradients on its devices");
    /* nor does it join device groups: the id stays unmade */
    reco_backend_group group = {.rank = 0, .world = 2};
    RECO_ASSERT_OK(reco_trainer_backend_control(t.trainer, RECO_CONTROL_GROUP_ID, &group));
    ck_assert_int_eq(group.made, 0);
    ck_assert_int_eq(reco_trainer_set_data_parallel(t.trainer, 0, 0, exchange, NULL),
                     RECO_ERR_INVALID_ARGUMENT);
    RECO_ASSERT_OK(reco_trainer_set_data_parallel(t.trainer, 0, 1, NULL, NULL));
    training_setup_free(&t);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("data_parallel");
    TCase *tcase = test_case(suite, "ranks as threads");
    tcase_add_loop_test(tcase, two_ranks_train_like_one, 0, 2);
    tcase_add_test(tcase, sums_follow_rank_order);
    tcase_add_test(tcase, settings_are_checked);
    return run_suite(suite);
}
