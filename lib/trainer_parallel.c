/* The trainer as one rank of a data-parallel job: each rank trains its
 * share of every batch, the ranks' gradients are summed by the exchange
 * the data-parallel module gave (libreco-mpi) on the host, or by the
 * backend on its devices (NCCL), and every rank takes the same step.
 * Nothing here knows MPI or NCCL. */
#include <string.h>

#include "trainer_impl.h"

void reco_trainer_free_parallel(reco_trainer *trainer)
{
    reco_sparse_gradient_free(&trainer->parallel.gradient);
}

/* Host buffers for a gradient of the model's current shape. */
static reco_status size_gradient(reco_trainer *trainer)
{
    const reco_net_desc *net = &trainer->model->net;
    data_parallel *parallel = &trainer->parallel;
    if (parallel->gradient.dense && parallel->layout_version == trainer->model->layout_version)
        return RECO_OK;
    reco_trainer_free_parallel(trainer);
    reco_sparse_gradient *g = &parallel->gradient;
    *g = (reco_sparse_gradient){.n_dense = net->n_dense};
    for (int t = 0; t < RECO_N_TABLES; t++) {
        g->dim[t] = net->table_dim[t];
        if (net->table_dim[t])
            g->capacity[t % 2] = net->table_rows[t];
    }
    reco_status status = reco_sparse_gradient_alloc(g);
    if (status == RECO_OK)
        parallel->layout_version = trainer->model->layout_version;
    return status;
}

reco_status reco_trainer_set_data_parallel(reco_trainer *trainer, size_t rank, size_t world,
                                           reco_gradient_exchange_fn exchange, void *user_data)
{
    CHECK_TRAINER(trainer);
    if (world == 0 || rank >= world || (world > 1 && !exchange))
        return reco_fail(RECO_ERR_INVALID_ARGUMENT,
                         "rank %zu of %zu: expected rank < world and an exchange function", rank,
                         world);
    const reco_backend_kernel_ops *kernels = &ops_of(trainer)->kernels;
    if (world > 1 && (!kernels->gradient_export || !kernels->gradient_import))
        return reco_fail(RECO_ERR_BACKEND_UNAVAILABLE,
                         "backend '%s' cannot train data-parallel (no gradient export)",
                         ops_of(trainer)->name);
    trainer->parallel.mode = world > 1 ? PARALLEL_HOST : PARALLEL_ALONE;
    trainer->parallel.rank = rank;
    trainer->parallel.world = world;
    trainer->parallel.exchange = exchange;
    trainer->parallel.user_data = user_data;
    return RECO_OK;
}

reco_status reco_trainer_set_rows_exchange(reco_trainer *trainer, reco_rows_exchange_fn exchange,
                                           void *user_data)
{
    CHECK_TRAINER(trainer);
    trainer->parallel.rows_exchange = exchange;
    trainer->parallel.rows_user_data = user_data;
    return RECO_OK;
}

reco_status reco_trainer_set_device_parallel(reco_trainer *trainer, size_t rank, size_t world)
{
    CHECK_TRAINER(trainer);
    if (world == 0 || rank >= world)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "rank %zu of %zu: expected rank < world", rank,
                         world);
    if (!ops_of(trainer)->kernels.gradient_reduce)
        return reco_fail(RECO_ERR_BACKEND_UNAVAILABLE,
                         "backend '%s' sums no gradients on its devices", ops_of(trainer)->name);
    trainer->parallel = (data_parallel){.mode = PARALLEL_DEVICE,
                                        .rank = rank,
                                        .world = world,
                                        .gradient = trainer->parallel.gradient,
                                        .layout_version = trainer->parallel.layout_version};
    return RECO_OK;
}

/* Multiplies this rank's gradient and loss by its share of the batch. */
static void scale_gradient(const reco_net_desc *net, reco_sparse_gradient *g, float scale)
{
    for (int t = 0; t < RECO_N_TABLES; t++)
        for (size_t i = 0; g->values[t] && i < g->n_rows[t % 2] * net->table_dim[t]; i++)
            g->values[t][i] *= scale;
    for (size_t i = 0; i < net->n_dense; i++)
        g->dense[i] *= scale;
    g->loss *= scale;
}

reco_status reco_trainer_backend_control(reco_trainer *trainer, reco_backend_control_op op,
                                         void *arg)
{
    CHECK_TRAINER(trainer);
    const reco_backend_device_ops *device = &ops_of(trainer)->device;
    return device->control ? device->control(context_of(trainer), op, arg) : RECO_OK;
}

/* One batch with the gradients summed where the backend keeps them. */
static reco_status device_step(reco_trainer *trainer, const reco_batch *local, size_t global_n,
                               float learning_rate, double *loss)
{
    const reco_backend_ops *ops = ops_of(trainer);
    reco_backend_context *context = context_of(trainer);
    reco_model *model = trainer->model;
    *loss = 0.0;
    /* a rank without rows would hold the last batch's gradients: every rank
     * skips alike a final batch smaller than the group */
    if (global_n < trainer->parallel.world)
        return RECO_OK;
    float scale = local->mean_reduction ? (float)local->n / (float)global_n : 1.0f;
    reco_status status = ops->kernels.forward_backward(context, &model->net, &model->params,
                                                       trainer->workspace, local, loss);
    if (status == RECO_OK)
        status =
            ops->kernels.gradient_reduce(context, &model->net, trainer->workspace, scale, loss);
    if (status == RECO_OK)
        status = ops->kernels.optimizer_step(context, &model->net, &model->params,
                                             trainer->workspace, trainer->optimizer_state,
                                             &trainer->optimizer, learning_rate, ++trainer->step);
    return status;
}

reco_status reco_trainer_parallel_step(reco_trainer *trainer, const reco_batch *global,
                                       float learning_rate, double *loss)
{
    const reco_backend_ops *ops = ops_of(trainer);
    reco_backend_context *context = context_of(trainer);
    reco_model *model = trainer->model;
    const data_parallel *parallel = &trainer->parallel;
    size_t begin = reco_share(global->n, parallel->rank, parallel->world);
    size_t end = reco_share(global->n, parallel->rank + 1, parallel->world);
    reco_batch local = *global;
    local.offset += begin;
    local.n = end - begin;
    if (parallel->mode == PARALLEL_DEVICE)
        return device_step(trainer, &local, global->n, learning_rate, loss);
    reco_status status = size_gradient(trainer);
    if (status != RECO_OK)
        return status;
    reco_sparse_gradient *g = &trainer->parallel.gradient;
    g->loss = 0.0;
    if (local.n > 0) {
        status = ops->kernels.forward_backward(context, &model->net, &model->params,
                                               trainer->workspace, &local, &g->loss);
        if (status == RECO_OK)
            status = ops->kernels.gradient_export(context, &model->net, trainer->workspace, g);
        /* a mean over this rank's rows becomes its part of the batch's mean */
        if (status == RECO_OK && local.mean_reduction)
            scale_gradient(&model->net, g, (float)local.n / (float)global->n);
    } else {
        g->n_rows[0] = g->n_rows[1] = 0;
        memset(g->dense, 0, model->net.n_dense * sizeof *g->dense);
    }
    const reco_sparse_gradient *sum = NULL;
    if (status == RECO_OK)
        status = parallel->exchange(g, &sum, parallel->user_data);
    if (status == RECO_OK)
        status = ops->kernels.gradient_import(context, &model->net, trainer->workspace, sum);
    if (status == RECO_OK)
        status = ops->kernels.optimizer_step(context, &model->net, &model->params,
                                             trainer->workspace, trainer->optimizer_state,
                                             &trainer->optimizer, learning_rate, ++trainer->step);
    *loss = status == RECO_OK ? sum->loss : 0.0;
    return status;
}
