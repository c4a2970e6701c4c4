/* libreco-mpi: data-parallel training over MPI. A trainer attached here
 * trains its share of every batch; its exchange sends the sparse gradient
 * (touched rows only) and the dense gradient to every rank with
 * MPI_Allgatherv, and each rank sums all of them in rank order with
 * reco_sparse_gradient_sum, so the ranks take bit-identical steps without
 * trusting MPI's reduction order. A backend that sums gradients on its
 * devices (CUDA with NCCL) does that instead: MPI only carries its group's
 * id. The solver families (iALS) share out rows instead: each rank solves
 * its share of a side and MPI_Allgatherv puts every rank's rows in every
 * rank's table. Errors are reported through libreco's reco_last_error();
 * MPI's own error handler is the communicator's. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reco/backend_impl.h"
#include "reco/mpi.h"

struct reco_mpi_trainer {
    reco_trainer *trainer;
    MPI_Comm comm; /* a duplicate: our messages never meet the caller's */
    int rank, world;
    uint64_t *counts; /* world x 2: rows of each side */
    int *sizes, *offsets;
    int32_t *rows[2];
    size_t rows_capacity[2];
    float *values[RECO_N_TABLES];
    size_t values_capacity[RECO_N_TABLES];
    float *dense; /* world x n_dense */
    double *losses;
    double *sums; /* world x the rows exchange's sums */
    size_t sums_capacity;
    reco_sparse_gradient *parts; /* views into the received buffers */
    const reco_sparse_gradient **part_list;
    reco_sparse_gradient sum;
};

static reco_status mpi_failed(int code, const char *call)
{
    char text[MPI_MAX_ERROR_STRING], detail[MPI_MAX_ERROR_STRING + 64];
    int length = 0;
    if (MPI_Error_string(code, text, &length) != MPI_SUCCESS)
        snprintf(text, sizeof text, "error %d", code);
    snprintf(detail, sizeof detail, "libreco-mpi: %s failed: %s", call, text);
    return reco_backend_fail(RECO_ERR_BACKEND, detail);
}

#define MPI_CHECK(call)                                                                            \
    do {                                                                                           \
        int code_ = (call);                                                                        \
        if (code_ != MPI_SUCCESS)                                                                  \
            return mpi_failed(code_, #call);                                                       \
    } while (0)

static reco_status out_of_memory(void)
{
    return reco_backend_fail(RECO_ERR_OUT_OF_MEMORY, "libreco-mpi: out of memory");
}

/* Makes *buffer hold at least `needed` elements of `size` bytes. */
static int grow(void **buffer, size_t *capacity, size_t needed, size_t size)
{
    if (needed <= *capacity)
        return 1;
    void *grown = realloc(*buffer, needed * size);
    if (!grown)
        return 0;
    *buffer = grown;
    *capacity = needed;
    return 1;
}

/* MPI counts are ints: sizes and offsets of each rank's share, or 0 when
 * the total would not fit one. */
static int layout(reco_mpi_trainer *m, int side, size_t width)
{
    size_t offset = 0;
    for (int r = 0; r < m->world; r++) {
        size_t size = (size_t)m->counts[2 * r + side] * width;
        if (size > INT_MAX || offset > (size_t)INT_MAX - size)
            return 0;
        m->sizes[r] = (int)size;
        m->offsets[r] = (int)offset;
        offset += size;
    }
    return 1;
}

/* Receives every rank's rows and values of one side into the views. */
static reco_status gather_side(reco_mpi_trainer *m, const reco_sparse_gradient *local, int side)
{
    size_t total = 0;
    for (int r = 0; r < m->world; r++)
        total += m->counts[2 * r + side];
    if (!layout(m, side, 1))
        return reco_backend_fail(RECO_ERR_OUT_OF_RANGE, "libreco-mpi: a gradient too large");
    if (!grow((void **)&m->rows[side], &m->rows_capacity[side], total + 1, sizeof(int32_t)))
        return out_of_memory();
    MPI_CHECK(MPI_Allgatherv(local->rows[side], (int)local->n_rows[side], MPI_INT32_T,
                             m->rows[side], m->sizes, m->offsets, MPI_INT32_T, m->comm));
    for (int r = 0; r < m->world; r++) {
        m->parts[r].n_rows[side] = m->counts[2 * r + side];
        m->parts[r].rows[side] = m->rows[side] + m->offsets[r];
    }
    for (int t = side; t < RECO_N_TABLES; t += 2) {
        size_t dim = local->dim[t];
        if (!dim)
            continue;
        if (!layout(m, side, dim))
            return reco_backend_fail(RECO_ERR_OUT_OF_RANGE, "libreco-mpi: a gradient too large");
        if (!grow((void **)&m->values[t], &m->values_capacity[t], total * dim + 1, sizeof(float)))
            return out_of_memory();
        MPI_CHECK(MPI_Allgatherv(local->values[t], (int)(local->n_rows[side] * dim), MPI_FLOAT,
                                 m->values[t], m->sizes, m->offsets, MPI_FLOAT, m->comm));
        for (int r = 0; r < m->world; r++)
            m->parts[r].values[t] = m->values[t] + m->offsets[r];
    }
    return RECO_OK;
}

/* The shape of `local` on the views and the sum, the first time. */
static reco_status take_shape(reco_mpi_trainer *m, const reco_sparse_gradient *local)
{
    if (m->sum.dense)
        return RECO_OK;
    if (local->n_dense > INT_MAX)
        return reco_backend_fail(RECO_ERR_OUT_OF_RANGE, "libreco-mpi: a dense part too large");
    m->sum = (reco_sparse_gradient){.n_dense = local->n_dense};
    memcpy(m->sum.capacity, local->capacity, sizeof m->sum.capacity);
    memcpy(m->sum.dim, local->dim, sizeof m->sum.dim);
    m->dense = malloc((size_t)m->world * local->n_dense * sizeof(float) + 1);
    if (!m->dense)
        return out_of_memory();
    for (int r = 0; r < m->world; r++) {
        m->parts[r] = m->sum;
        m->parts[r].dense = m->dense + (size_t)r * local->n_dense;
        m->part_list[r] = &m->parts[r];
    }
    return reco_sparse_gradient_alloc(&m->sum);
}

static reco_status exchange(const reco_sparse_gradient *local, const reco_sparse_gradient **sum,
                            void *user_data)
{
    reco_mpi_trainer *m = user_data;
    reco_status status = take_shape(m, local);
    if (status != RECO_OK)
        return status;
    uint64_t mine[2] = {local->n_rows[0], local->n_rows[1]};
    MPI_CHECK(MPI_Allgather(mine, 2, MPI_UINT64_T, m->counts, 2, MPI_UINT64_T, m->comm));
    for (int side = 0; side < 2 && status == RECO_OK; side++)
        status = gather_side(m, local, side);
    if (status != RECO_OK)
        return status;
    MPI_CHECK(MPI_Allgather(local->dense, (int)local->n_dense, MPI_FLOAT, m->dense,
                            (int)local->n_dense, MPI_FLOAT, m->comm));
    MPI_CHECK(MPI_Allgather(&local->loss, 1, MPI_DOUBLE, m->losses, 1, MPI_DOUBLE, m->comm));
    for (int r = 0; r < m->world; r++)
        m->parts[r].loss = m->losses[r];
    status = reco_sparse_gradient_sum(m->part_list, (size_t)m->world, &m->sum);
    *sum = &m->sum;
    return status;
}

/* The rows exchange: every rank's share of `table` to every rank, in place,
 * and the sums added in rank order. */
static reco_status exchange_rows(float *table, size_t dim, const size_t *row_starts, double *sums,
                                 size_t n_sums, void *user_data)
{
    reco_mpi_trainer *m = user_data;
    for (int r = 0; r < m->world; r++) {
        size_t first = row_starts[r] * dim, count = (row_starts[r + 1] - row_starts[r]) * dim;
        if (first > INT_MAX || count > INT_MAX)
            return reco_backend_fail(RECO_ERR_OUT_OF_RANGE,
                                     "libreco-mpi: a rank's share of rows exceeds MPI's int counts");
        m->offsets[r] = (int)first;
        m->sizes[r] = (int)count;
    }
    MPI_CHECK(MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, table, m->sizes, m->offsets,
                             MPI_FLOAT, m->comm));
    if (!grow((void **)&m->sums, &m->sums_capacity, (size_t)m->world * n_sums, sizeof *m->sums))
        return out_of_memory();
    MPI_CHECK(MPI_Allgather(sums, (int)n_sums, MPI_DOUBLE, m->sums, (int)n_sums, MPI_DOUBLE,
                            m->comm));
    for (size_t i = 0; i < n_sums; i++) {
        sums[i] = 0.0;
        for (int r = 0; r < m->world; r++)
            sums[i] += m->sums[(size_t)r * n_sums + i];
    }
    return RECO_OK;
}

void reco_mpi_trainer_free(reco_mpi_trainer *m)
{
    if (!m)
        return;
    if (m->trainer) {
        reco_trainer_set_data_parallel(m->trainer, 0, 1, NULL, NULL);
        reco_trainer_set_rows_exchange(m->trainer, NULL, NULL);
    }
    if (m->comm != MPI_COMM_NULL)
        MPI_Comm_free(&m->comm);
    free(m->counts);
    free(m->sizes);
    free(m->offsets);
    for (int side = 0; side < 2; side++)
        free(m->rows[side]);
    for (int t = 0; t < RECO_N_TABLES; t++)
        free(m->values[t]);
    free(m->dense);
    free(m->losses);
    free(m->sums);
    free(m->parts);
    free(m->part_list);
    reco_sparse_gradient_free(&m->sum);
    free(m);
}

/* When the trainer's backend sums gradients on its devices (the CUDA
 * backend with NCCL), every rank joins one device group: rank 0 makes its
 * id and MPI carries it to the others. *on_device says whether it did. */
static reco_status join_device_group(reco_mpi_trainer *m, reco_trainer *trainer, int *on_device)
{
    reco_backend_group group = {.rank = m->rank, .world = m->world};
    reco_status status = RECO_OK;
    if (m->rank == 0)
        status = reco_trainer_backend_control(trainer, RECO_CONTROL_GROUP_ID, &group);
    int made = status == RECO_OK && group.made;
    MPI_CHECK(MPI_Bcast(&made, 1, MPI_INT, 0, m->comm));
    if (status != RECO_OK || !made)
        return status;
    MPI_CHECK(MPI_Bcast(group.id, (int)sizeof group.id, MPI_UNSIGNED_CHAR, 0, m->comm));
    status = reco_trainer_backend_control(trainer, RECO_CONTROL_JOIN_GROUP, &group);
    *on_device = status == RECO_OK;
    return status;
}

reco_status reco_mpi_trainer_new(reco_trainer *trainer, MPI_Comm comm, reco_mpi_trainer **out)
{
    if (!trainer || !out)
        return reco_backend_fail(RECO_ERR_INVALID_ARGUMENT, "libreco-mpi: NULL argument");
    *out = NULL;
    reco_mpi_trainer *m = calloc(1, sizeof *m);
    if (!m)
        return out_of_memory();
    m->comm = MPI_COMM_NULL;
    reco_status status = RECO_OK;
    int code = MPI_Comm_dup(comm, &m->comm);
    if (code == MPI_SUCCESS)
        code = MPI_Comm_rank(m->comm, &m->rank);
    if (code == MPI_SUCCESS)
        code = MPI_Comm_size(m->comm, &m->world);
    if (code != MPI_SUCCESS) {
        status = mpi_failed(code, "MPI_Comm_dup");
        goto fail;
    }
    size_t world = (size_t)m->world;
    m->counts = calloc(2 * world, sizeof *m->counts);
    m->sizes = calloc(world, sizeof *m->sizes);
    m->offsets = calloc(world, sizeof *m->offsets);
    m->losses = calloc(world, sizeof *m->losses);
    m->parts = calloc(world, sizeof *m->parts);
    m->part_list = calloc(world, sizeof *m->part_list);
    if (!m->counts || !m->sizes || !m->offsets || !m->losses || !m->parts || !m->part_list) {
        status = out_of_memory();
        goto fail;
    }
    int on_device = 0;
    status = join_device_group(m, trainer, &on_device);
    if (status == RECO_OK)
        status = on_device
                     ? reco_trainer_set_device_parallel(trainer, (size_t)m->rank, world)
                     : reco_trainer_set_data_parallel(trainer, (size_t)m->rank, world, exchange, m);
    if (status == RECO_OK && !on_device)
        status = reco_trainer_set_rows_exchange(trainer, exchange_rows, m);
    if (status != RECO_OK)
        goto fail;
    m->trainer = trainer;
    *out = m;
    return RECO_OK;
fail:
    reco_mpi_trainer_free(m);
    return status;
}

/* The rows of `source` as external ids, ratings and timestamps. */
typedef struct row_arrays {
    uint64_t n, has_ratings, has_timestamps;
    int64_t *users, *items, *timestamps;
    float *ratings;
} row_arrays;

static void row_arrays_free(row_arrays *a)
{
    free(a->users);
    free(a->items);
    free(a->timestamps);
    free(a->ratings);
}

static reco_status row_arrays_alloc(row_arrays *a)
{
    size_t n = (size_t)a->n + 1;
    a->users = malloc(n * sizeof *a->users);
    a->items = malloc(n * sizeof *a->items);
    a->ratings = a->has_ratings ? malloc(n * sizeof *a->ratings) : NULL;
    a->timestamps = a->has_timestamps ? malloc(n * sizeof *a->timestamps) : NULL;
    if (!a->users || !a->items || (a->has_ratings && !a->ratings) ||
        (a->has_timestamps && !a->timestamps))
        return out_of_memory();
    return RECO_OK;
}

static reco_status row_arrays_of(const reco_dataset *source, row_arrays *a)
{
    const int32_t *users = reco_dataset_users(source), *items = reco_dataset_items(source);
    const float *ratings = reco_dataset_ratings(source);
    const int64_t *timestamps = reco_dataset_timestamps(source);
    *a = (row_arrays){.n = reco_dataset_size(source),
                      .has_ratings = ratings != NULL,
                      .has_timestamps = timestamps != NULL};
    reco_status status = row_arrays_alloc(a);
    for (size_t i = 0; i < a->n && status == RECO_OK; i++) {
        status = reco_dataset_user_id(source, users[i], &a->users[i]);
        if (status == RECO_OK)
            status = reco_dataset_item_id(source, items[i], &a->items[i]);
    }
    if (status == RECO_OK && ratings)
        memcpy(a->ratings, ratings, a->n * sizeof *ratings);
    if (status == RECO_OK && timestamps)
        memcpy(a->timestamps, timestamps, a->n * sizeof *timestamps);
    return status;
}

/* MPI_Bcast in pieces of at most INT_MAX elements. */
static reco_status broadcast(void *buffer, size_t count, MPI_Datatype type, size_t size, int root,
                             MPI_Comm comm)
{
    for (size_t done = 0; done < count;) {
        size_t piece = count - done < INT_MAX ? count - done : INT_MAX;
        MPI_CHECK(MPI_Bcast((char *)buffer + done * size, (int)piece, type, root, comm));
        done += piece;
    }
    return RECO_OK;
}

reco_status reco_mpi_dataset_broadcast(const reco_dataset *source, int root, MPI_Comm comm,
                                       reco_dataset **out)
{
    if (!out)
        return reco_backend_fail(RECO_ERR_INVALID_ARGUMENT, "libreco-mpi: NULL output");
    *out = NULL;
    int rank;
    MPI_CHECK(MPI_Comm_rank(comm, &rank));
    row_arrays a = {0};
    /* the root's verdict travels first, so that a failure there stops every rank */
    uint64_t header[4] = {0, 0, 0, RECO_OK};
    reco_status status = RECO_OK;
    if (rank == root) {
        status = source ? row_arrays_of(source, &a)
                        : reco_backend_fail(RECO_ERR_INVALID_ARGUMENT,
                                            "libreco-mpi: the root has no dataset");
        header[0] = a.n, header[1] = a.has_ratings, header[2] = a.has_timestamps;
        header[3] = (uint64_t)status;
    }
    MPI_CHECK(MPI_Bcast(header, 4, MPI_UINT64_T, root, comm));
    if (header[3] != RECO_OK) {
        row_arrays_free(&a);
        return rank == root ? status
                            : reco_backend_fail((reco_status)header[3],
                                                "libreco-mpi: the root could not send its data");
    }
    if (rank != root) {
        a = (row_arrays){.n = header[0], .has_ratings = header[1], .has_timestamps = header[2]};
        status = row_arrays_alloc(&a);
    }
    if (status == RECO_OK)
        status = broadcast(a.users, a.n, MPI_INT64_T, sizeof *a.users, root, comm);
    if (status == RECO_OK)
        status = broadcast(a.items, a.n, MPI_INT64_T, sizeof *a.items, root, comm);
    if (status == RECO_OK && a.has_ratings)
        status = broadcast(a.ratings, a.n, MPI_FLOAT, sizeof *a.ratings, root, comm);
    if (status == RECO_OK && a.has_timestamps)
        status = broadcast(a.timestamps, a.n, MPI_INT64_T, sizeof *a.timestamps, root, comm);
    if (status == RECO_OK)
        status = reco_dataset_from_arrays(a.users, a.items, a.ratings, a.timestamps, a.n, out);
    row_arrays_free(&a);
    return status;
}

reco_status reco_mpi_evaluate_sampled(reco_metrics *metrics, const reco_model *model,
                                      const reco_dataset *test, MPI_Comm comm, double *hr,
                                      double *ndcg)
{
    if (!metrics || !test || !hr || !ndcg)
        return reco_backend_fail(RECO_ERR_INVALID_ARGUMENT, "libreco-mpi: NULL argument");
    int rank, world;
    MPI_CHECK(MPI_Comm_rank(comm, &rank));
    MPI_CHECK(MPI_Comm_size(comm, &world));
    size_t n = reco_dataset_size(test);
    size_t first = n * (size_t)rank / (size_t)world;
    size_t end = n * ((size_t)rank + 1) / (size_t)world;
    reco_metrics_reset(metrics);
    reco_status status =
        reco_metrics_evaluate_sampled_rows(metrics, model, test, first, end - first);
    /* every rank takes part in the gather, failed or not: a hang is worse */
    double mine[3] = {0.0, 0.0, (double)(end - first)}, value;
    if (status == RECO_OK && reco_metrics_get(metrics, RECO_METRIC_HR, &value) == RECO_OK)
        mine[0] = value * mine[2];
    if (status == RECO_OK && reco_metrics_get(metrics, RECO_METRIC_NDCG, &value) == RECO_OK)
        mine[1] = value * mine[2];
    double *all = malloc(3 * (size_t)world * sizeof *all);
    if (!all)
        return out_of_memory();
    int code = MPI_Allgather(mine, 3, MPI_DOUBLE, all, 3, MPI_DOUBLE, comm);
    double sums[3] = {0.0, 0.0, 0.0};
    for (int r = 0; r < world; r++)
        for (int k = 0; k < 3; k++)
            sums[k] += all[3 * r + k];
    free(all);
    if (code != MPI_SUCCESS)
        return mpi_failed(code, "MPI_Allgather");
    if (status != RECO_OK)
        return status;
    *hr = sums[2] > 0.0 ? sums[0] / sums[2] : 0.0;
    *ndcg = sums[2] > 0.0 ? sums[1] / sums[2] : 0.0;
    return RECO_OK;
}
