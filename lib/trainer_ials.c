/* The iALS family's epoch (Rendle, Krichene, Zhang, Koren, "Revisiting the
 * Performance of iALS on Item Recommendation Benchmarks", RecSys 2022): one
 * alternation, every user's factors solved with the items fixed, then every
 * item's with the users fixed, by the backend's ials_solve. The training set
 * goes to the backend once, as sparse rows both ways, and stays while the
 * same dataset trains. */
#include <stdlib.h>
#include <string.h>

#include "reco_alloc.h"
#include "sparse_rows.h"
#include "trainer_impl.h"

void reco_trainer_free_ials(reco_trainer *trainer)
{
    for (int side = 0; side < 2; side++)
        reco_sparse_buffers_free(trainer->model->backend, trainer->ials.buffers[side]);
    trainer->ials.serial = 0;
}

/* One side's rows on the backend, with c = 1 + confidence x value (none
 * when every c is 1). */
static reco_status upload_side(reco_trainer *trainer, const reco_sparse_rows *rows,
                               size_t model_rows, reco_backend_buffer **buffers)
{
    size_t entries = rows->offsets[rows->n_rows];
    float confidence = trainer->ials.confidence;
    float *weights = confidence > 0.0f ? reco_malloc_array(entries + 1, sizeof *weights) : NULL;
    if (confidence > 0.0f && !weights)
        return reco_fail_oom();
    for (size_t e = 0; weights && e < entries; e++)
        weights[e] = 1.0f + confidence * rows->values[e];
    reco_status status =
        reco_sparse_rows_upload(trainer->model->backend, rows, model_rows, weights, buffers);
    reco_free(weights);
    return status;
}

/* Puts `train` on the backend unless it is there with this confidence. */
static reco_status prepare_data(reco_trainer *trainer, const reco_dataset *train)
{
    ials_state *ials = &trainer->ials;
    if (ials->serial == train->serial && ials->uploaded_confidence == ials->confidence)
        return RECO_OK;
    reco_trainer_free_ials(trainer);
    const reco_model *model = trainer->model;
    size_t model_rows[2] = {model->n_users, model->n_items};
    reco_sparse_rows rows[2] = {{0}, {0}};
    reco_status status = reco_sparse_rows_build(train, &rows[0]);
    if (status == RECO_OK)
        status = reco_sparse_rows_transpose(&rows[0], &rows[1]);
    for (int side = 0; side < 2 && status == RECO_OK; side++)
        status = upload_side(trainer, &rows[side], model_rows[side], ials->buffers[side]);
    if (status == RECO_OK)
        ials->entries = rows[0].offsets[rows[0].n_rows];
    reco_sparse_rows_free(&rows[0]);
    reco_sparse_rows_free(&rows[1]);
    if (status != RECO_OK) {
        reco_trainer_free_ials(trainer);
        return status;
    }
    ials->serial = train->serial;
    ials->uploaded_confidence = ials->confidence;
    ials->n_rows[0] = model_rows[0];
    ials->n_rows[1] = model_rows[1];
    return RECO_OK;
}

/* Rank r of a data-parallel job solves rows [starts[r], starts[r + 1]) of
 * each side: equal shares of the rows. */
static void row_shares(size_t n_rows, size_t world, size_t *starts)
{
    for (size_t r = 0; r <= world; r++)
        starts[r] = n_rows * r / world;
}

/* After this rank solved its share of `table`: every rank's rows, and the
 * loss summed over the ranks, through the module's exchange. */
static reco_status exchange_rows(reco_trainer *trainer, reco_backend_buffer *table,
                                 size_t n_rows, const size_t *starts, reco_ials_loss *loss)
{
    const reco_backend_device_ops *device = &ops_of(trainer)->device;
    size_t dim = trainer->model->factors, bytes = n_rows * dim * sizeof(float);
    float *host = reco_malloc(bytes ? bytes : 1);
    if (!host)
        return reco_fail_oom();
    double sums[2] = {loss->fit, loss->penalty};
    reco_status status = device->buffer_download(context_of(trainer), table, 0, host, bytes);
    if (status == RECO_OK)
        status = trainer->parallel.rows_exchange(host, dim, starts, sums, 2,
                                                 trainer->parallel.rows_user_data);
    if (status == RECO_OK)
        status = device->buffer_upload(context_of(trainer), table, 0, host, bytes);
    loss->fit = sums[0];
    loss->penalty = sums[1];
    reco_free(host);
    return status;
}

/* Solves side 0 (users) or 1 (items) with the other fixed: this rank's
 * share of the rows, then (data-parallel) every rank's. */
static reco_status solve_side(reco_trainer *trainer, int side, reco_ials_loss *loss)
{
    const ials_state *ials = &trainer->ials;
    reco_model *model = trainer->model;
    int solved = side ? RECO_TABLE_ITEM_GMF : RECO_TABLE_USER_GMF;
    int fixed = side ? RECO_TABLE_USER_GMF : RECO_TABLE_ITEM_GMF;
    size_t world = trainer->parallel.world, rank = trainer->parallel.rank;
    size_t *starts = reco_malloc_array(world + 1, sizeof *starts);
    if (!starts)
        return reco_fail_oom();
    row_shares(ials->n_rows[side], world, starts);
    reco_ials_half half = {
        .rows = {ials->buffers[side][0], ials->buffers[side][1], ials->buffers[side][2],
                 ials->n_rows[side], ials->n_rows[!side]},
        .dim = model->factors,
        .unobserved_weight = ials->unobserved_weight,
        .regularization = trainer->optimizer.weight_decay,
        .solver = ials->solver,
        .cg_steps = ials->cg_steps,
        /* the objective is read after the item half, which sees the final users */
        .with_fit = side == 1,
        .row_begin = starts[rank],
        .row_end = starts[rank + 1],
    };
    reco_status status = ops_of(trainer)->kernels.ials_solve(
        context_of(trainer), &half, model->params.tables[solved], model->params.tables[fixed], loss);
    if (status == RECO_OK && world > 1)
        status = exchange_rows(trainer, model->params.tables[solved], ials->n_rows[side], starts,
                               loss);
    reco_free(starts);
    return status;
}

/* Tells the progress callback that `halves` of the epoch's two are done. */
static reco_status report(reco_trainer *trainer, size_t halves, double loss, double started)
{
    if (!trainer->progress)
        return RECO_OK;
    double elapsed = reco_seconds_now() - started;
    reco_progress progress = {
        .struct_size = sizeof progress,
        .epoch = trainer->epoch,
        .step = halves,
        .steps = 2,
        .loss = loss,
        .samples_per_second =
            elapsed > 0.0 ? (double)trainer->ials.entries * (double)halves / elapsed : 0.0};
    if (trainer->progress(&progress, trainer->progress_data))
        return reco_fail(RECO_ERR_INTERRUPTED, "stopped by the progress callback at epoch %zu",
                         trainer->epoch);
    return RECO_OK;
}

reco_status reco_trainer_ials_epoch(reco_trainer *trainer, const reco_dataset *train,
                                    double *mean_loss)
{
    if (!ops_of(trainer)->kernels.ials_solve)
        return reco_fail(RECO_ERR_BACKEND_UNAVAILABLE,
                         "the %s backend cannot train iALS yet (no ials_solve); use the cpu "
                         "backend",
                         ops_of(trainer)->name);
    if (trainer->parallel.mode == PARALLEL_DEVICE ||
        (trainer->parallel.mode == PARALLEL_HOST && !trainer->parallel.rows_exchange))
        return reco_fail(RECO_ERR_STATE, "iALS trains over ranks only with a rows exchange "
                                         "(reco_trainer_set_rows_exchange; libreco-mpi sets one)");
    double started = reco_seconds_now();
    reco_status status = prepare_data(trainer, train);
    reco_ials_loss users = {0.0, 0.0}, items = {0.0, 0.0};
    if (status == RECO_OK)
        status = solve_side(trainer, 0, &users);
    size_t entries = trainer->ials.entries ? trainer->ials.entries : 1;
    /* half way the objective is not known (the item half computes it): the
     * callback sees the last epoch's */
    if (status == RECO_OK)
        status = report(trainer, 1, trainer->ials.objective, started);
    if (status == RECO_OK)
        status = solve_side(trainer, 1, &items);
    /* the objective at the epoch's end: the item half saw the final users */
    double objective = (items.fit + items.penalty + users.penalty) / (double)entries;
    if (status == RECO_OK)
        status = report(trainer, 2, objective, started);
    if (status == RECO_OK) {
        trainer->step += 2;
        trainer->ials.objective = objective;
        trainer->model->ials_regularization = trainer->optimizer.weight_decay;
        trainer->model->ials_unobserved_weight = trainer->ials.unobserved_weight;
    }
    if (mean_loss)
        *mean_loss = objective;
    return status;
}
