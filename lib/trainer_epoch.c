/* One epoch: its samples (negatives and the shuffle, on the host or the
 * backend's device), the batch loop through the backend, progress; and the
 * gradient of one batch. */
#include <stdlib.h>

#include "reco_alloc.h"
#include "reco_epoch_build.h"
#include "trainer_impl.h"

/* Makes sure workspace, optimizer state and epoch buffers are in place. */
static reco_status prepare(reco_trainer *trainer, size_t batch_rows, size_t samples)
{
    const reco_backend_ops *ops = ops_of(trainer);
    reco_backend_context *context = context_of(trainer);
    const reco_net_desc *net = &trainer->model->net;
    reco_status status = RECO_OK;
    if (trainer->layout_version != trainer->model->layout_version) {
        /* the model's tables grew (fold-in): gradients and moments follow */
        reco_trainer_free_workspace(trainer);
        reco_trainer_reset_optimizer(trainer);
        trainer->layout_version = trainer->model->layout_version;
    }
    /* a workspace's slices follow the backend's thread count */
    size_t threads = reco_backend_threads(trainer->model->backend);
    if (trainer->workspace_rows < batch_rows || trainer->workspace_threads != threads) {
        reco_trainer_free_workspace(trainer);
        status = ops->kernels.workspace_create(context, net, batch_rows, &trainer->workspace);
        if (status != RECO_OK)
            return status;
        trainer->workspace_rows = batch_rows;
        trainer->workspace_threads = threads;
    }
    if (!trainer->optimizer_state) {
        status = ops->kernels.optimizer_create(context, net, &trainer->optimizer,
                                               &trainer->optimizer_state);
        if (status != RECO_OK)
            return status;
    }
    if (trainer->buffers.capacity < samples) {
        reco_trainer_free_buffers(trainer);
        size_t bytes = samples * sizeof(int32_t);
        status = ops->device.buffer_alloc(context, bytes, &trainer->buffers.users);
        if (status == RECO_OK)
            status = ops->device.buffer_alloc(context, bytes, &trainer->buffers.items);
        if (status == RECO_OK)
            status = ops->device.buffer_alloc(context, samples * sizeof(float),
                                              &trainer->buffers.targets);
        if (status == RECO_OK)
            status = ops->device.buffer_alloc(context, bytes, &trainer->buffers.negatives);
        if (status != RECO_OK) {
            reco_trainer_free_buffers(trainer);
            return status;
        }
        trainer->buffers.capacity = samples;
    }
    return RECO_OK;
}

static reco_status upload_samples(reco_trainer *trainer, const int32_t *users,
                                  const int32_t *items, const float *targets,
                                  const int32_t *negatives, size_t n)
{
    const reco_backend_ops *ops = ops_of(trainer);
    reco_backend_context *context = context_of(trainer);
    reco_status status =
        ops->device.buffer_upload(context, trainer->buffers.users, 0, users, n * sizeof *users);
    if (status == RECO_OK)
        status =
            ops->device.buffer_upload(context, trainer->buffers.items, 0, items, n * sizeof *items);
    if (status == RECO_OK && targets)
        status = ops->device.buffer_upload(context, trainer->buffers.targets, 0, targets,
                                           n * sizeof *targets);
    if (status == RECO_OK && negatives)
        status = ops->device.buffer_upload(context, trainer->buffers.negatives, 0, negatives,
                                           n * sizeof *negatives);
    return status;
}

static reco_batch make_batch(const reco_trainer *trainer, size_t offset, size_t n)
{
    return (reco_batch){
        .users = trainer->buffers.users,
        .items = trainer->buffers.items,
        .targets = trainer->buffers.targets,
        .negatives = trainer->buffers.negatives,
        .offset = offset,
        .n = n,
        .loss = trainer->loss,
        .mean_reduction = trainer->loss == RECO_LOSS_MSE ? trainer->mean_reduction : 1,
        .dropout_seed = trainer->seed ^ (STREAM_DROPOUT + trainer->step * 0x9e3779b97f4a7c15ull),
    };
}

reco_status reco_trainer_batch_gradient(reco_trainer *trainer, const int32_t *users,
                                        const int32_t *items, const float *targets,
                                        const int32_t *negative_items, size_t n, double *loss,
                                        float *gradient)
{
    CHECK_TRAINER(trainer);
    if (n == 0 || !users || !items || !loss)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "empty batch or NULL argument");
    int bpr = trainer->loss == RECO_LOSS_BPR;
    if (bpr ? !negative_items : !targets)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "%s", bpr ? "BPR needs negative_items"
                                                              : "BCE and MSE need targets");
    reco_status status = reco_model_check_pairs(trainer->model, users, items, n);
    if (status == RECO_OK && bpr)
        status = reco_model_check_pairs(trainer->model, users, negative_items, n);
    if (status == RECO_OK)
        status = prepare(trainer, n, n);
    if (status == RECO_OK)
        status = upload_samples(trainer, users, items, targets, negative_items, n);
    if (status != RECO_OK)
        return status;
    reco_batch batch = make_batch(trainer, 0, n);
    status = ops_of(trainer)->kernels.forward_backward(context_of(trainer), &trainer->model->net,
                                                       &trainer->model->params, trainer->workspace,
                                                       &batch, loss);
    if (status == RECO_OK && gradient)
        status = ops_of(trainer)->kernels.gradient_download(
            context_of(trainer), &trainer->model->net, trainer->workspace, gradient);
    return status;
}

static double seconds_now(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + 1e-9 * (double)now.tv_nsec;
}

static reco_status check_dataset(const reco_trainer *trainer, const reco_dataset *train)
{
    if (!train)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL dataset");
    if (train->size == 0)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "the training set is empty");
    if (reco_dataset_n_users(train) > trainer->model->n_users ||
        reco_dataset_n_items(train) > trainer->model->n_items)
        return reco_fail(RECO_ERR_OUT_OF_RANGE,
                         "the dataset has %zu users and %zu items; the model %zu and %zu",
                         reco_dataset_n_users(train), reco_dataset_n_items(train),
                         trainer->model->n_users, trainer->model->n_items);
    if (trainer->loss == RECO_LOSS_MSE && !train->ratings && trainer->negatives == 0)
        return reco_fail(RECO_ERR_STATE,
                         "MSE on implicit data needs negatives (reco_trainer_set_negatives)");
    return RECO_OK;
}

static reco_status run_batches(reco_trainer *trainer, size_t n_samples, double *mean_loss)
{
    const reco_backend_ops *ops = ops_of(trainer);
    reco_backend_context *context = context_of(trainer);
    reco_model *model = trainer->model;
    size_t steps = (n_samples + trainer->batch_size - 1) / trainer->batch_size;
    double loss_sum = 0.0, started = seconds_now();
    reco_status status = RECO_OK;
    for (size_t step = 0; step < steps && status == RECO_OK; step++) {
        size_t offset = step * trainer->batch_size;
        size_t rows = n_samples - offset < trainer->batch_size ? n_samples - offset
                                                               : trainer->batch_size;
        reco_batch batch = make_batch(trainer, offset, rows);
        double batch_loss = 0.0;
        /* without a callback to tell, the loss stays on the backend until the
         * epoch ends: a device backend then never waits between batches */
        double *wanted = trainer->progress ? &batch_loss : NULL;
        float learning_rate = (float)trainer->learning_rate;
        if (ops->kernels.train_step) {
            status = ops->kernels.train_step(
                context, &model->net, &model->params, trainer->workspace, trainer->optimizer_state,
                &trainer->optimizer, learning_rate, ++trainer->step, &batch, wanted);
        } else {
            status = ops->kernels.forward_backward(context, &model->net, &model->params,
                                                   trainer->workspace, &batch, wanted);
            if (status == RECO_OK)
                status = ops->kernels.optimizer_step(
                    context, &model->net, &model->params, trainer->workspace,
                    trainer->optimizer_state, &trainer->optimizer, learning_rate, ++trainer->step);
        }
        loss_sum += batch_loss;
        if (status == RECO_OK && trainer->progress) {
            double elapsed = seconds_now() - started;
            reco_progress progress = {
                .struct_size = sizeof progress,
                .epoch = trainer->epoch,
                .step = step + 1,
                .steps = steps,
                .loss = loss_sum / (double)(step + 1),
                .samples_per_second = elapsed > 0.0 ? (double)(offset + rows) / elapsed : 0.0,
            };
            if (trainer->progress(&progress, trainer->progress_data))
                status = reco_fail(RECO_ERR_INTERRUPTED, "stopped by the progress callback "
                                   "at epoch %zu, step %zu", trainer->epoch, step + 1);
        }
    }
    double deferred = 0.0;
    reco_status taken = ops->kernels.take_loss(context, trainer->workspace, &deferred);
    if (status == RECO_OK)
        status = taken;
    if (mean_loss)
        *mean_loss = (loss_sum + deferred) / (double)steps;
    return status;
}

/* What an epoch of `train` is made of. */
static reco_epoch_plan epoch_plan(const reco_trainer *trainer, const reco_dataset *train)
{
    int bpr = trainer->loss == RECO_LOSS_BPR;
    int explicit_mse = trainer->loss == RECO_LOSS_MSE && train->ratings;
    return (reco_epoch_plan){.negatives = bpr            ? 1
                                          : explicit_mse ? 0
                                                         : trainer->negatives,
                             .pairs = bpr,
                             .explicit_targets = explicit_mse,
                             .seed = trainer->seed,
                             .epoch = trainer->epoch};
}

/* Counts the epoch's samples, and refuses an epoch that would need a
 * negative for a user who has every item. */
static reco_status count_samples(const reco_dataset *train, const reco_user_rows *rows,
                                 const reco_epoch_plan *plan, size_t *n_samples)
{
    *n_samples = train->size * (plan->pairs ? 1 : 1 + plan->negatives);
    if (*n_samples > UINT32_MAX)
        return reco_fail(RECO_ERR_OUT_OF_RANGE, "%zu samples in an epoch: at most 2^32 - 1",
                         *n_samples);
    size_t n_items = reco_dataset_n_items(train);
    for (size_t u = 0; plan->negatives > 0 && u < rows->n_users; u++)
        if (rows->offsets[u + 1] - rows->offsets[u] >= n_items)
            return reco_fail(RECO_ERR_OUT_OF_RANGE,
                             "user %lld interacted with every item: no negative to draw",
                             (long long)train->vocab->users.ids[u]);
    return RECO_OK;
}

/* Uploads `train` (rows and per-user item lists) unless it is there already. */
static reco_status upload_dataset(reco_trainer *trainer, const reco_dataset *train,
                                  const reco_user_rows *rows)
{
    device_dataset *device = &trainer->device_data;
    if (device->serial == train->serial && device->n_users == reco_dataset_n_users(train) &&
        device->n_items == reco_dataset_n_items(train))
        return RECO_OK;
    reco_trainer_free_device_dataset(trainer);
    size_t n = train->size;
    const void *host[5] = {train->users, train->items, train->ratings, rows->offsets, rows->items};
    size_t bytes[5] = {n * sizeof(int32_t), n * sizeof(int32_t),
                       train->ratings ? n * sizeof(float) : 0,
                       (rows->n_users + 1) * sizeof *rows->offsets,
                       rows->offsets[rows->n_users] * sizeof(int32_t)};
    const reco_backend_ops *ops = ops_of(trainer);
    reco_status status = RECO_OK;
    for (int i = 0; i < 5 && status == RECO_OK; i++) {
        if (!host[i])
            continue;
        status = ops->device.buffer_alloc(context_of(trainer), bytes[i], &device->buffers[i]);
        if (status == RECO_OK)
            status = ops->device.buffer_upload(context_of(trainer), device->buffers[i], 0, host[i],
                                               bytes[i]);
    }
    if (status != RECO_OK) {
        reco_trainer_free_device_dataset(trainer);
        return status;
    }
    device->serial = train->serial;
    device->n_users = reco_dataset_n_users(train);
    device->n_items = reco_dataset_n_items(train);
    device->data = (reco_epoch_data){
        device->buffers[0], device->buffers[1], device->buffers[2], n,
        device->buffers[3], device->buffers[4], rows->n_users,      device->n_items};
    return RECO_OK;
}

/* Builds the epoch's samples on the backend's device: no host copy. */
static reco_status device_samples(reco_trainer *trainer, const reco_dataset *train,
                                  const reco_user_rows *rows, const reco_epoch_plan *plan)
{
    reco_epoch_buffers out = {trainer->buffers.users, trainer->buffers.items,
                              trainer->buffers.targets, trainer->buffers.negatives};
    reco_status status = upload_dataset(trainer, train, rows);
    if (status == RECO_OK)
        status = ops_of(trainer)->kernels.epoch_samples(context_of(trainer),
                                                        &trainer->device_data.data, plan, &out);
    return status;
}

/* Builds the epoch's samples on the host, on this thread, and uploads them. */
static reco_status host_samples(reco_trainer *trainer, const reco_dataset *train,
                                const reco_user_rows *rows, const reco_epoch_plan *plan,
                                size_t n_samples)
{
    reco_sample_source source = {.row_users = train->users,
                                 .row_items = train->items,
                                 .ratings = train->ratings,
                                 .user_offsets = rows->offsets,
                                 .user_items = rows->items,
                                 .n_rows = train->size,
                                 .n_items = reco_dataset_n_items(train),
                                 .negatives = plan->negatives,
                                 .pairs = plan->pairs,
                                 .explicit_targets = plan->explicit_targets,
                                 .stream = reco_sampling_stream(plan->seed, plan->epoch)};
    reco_sample_sink sink = {reco_malloc_array(n_samples + 1, sizeof(int32_t)),
                             reco_malloc_array(n_samples + 1, sizeof(int32_t)),
                             reco_malloc_array(n_samples + 1, sizeof(float)),
                             plan->pairs ? reco_malloc_array(n_samples + 1, sizeof(int32_t))
                                         : NULL};
    reco_status status = RECO_OK;
    if (!sink.users || !sink.items || !sink.targets || (plan->pairs && !sink.negatives) ||
        reco_epoch_build(&source, &sink, reco_run_serially, NULL, 1) != 0)
        status = reco_fail_oom();
    if (status == RECO_OK)
        status = upload_samples(trainer, sink.users, sink.items, sink.targets, sink.negatives,
                                n_samples);
    free(sink.users);
    free(sink.items);
    free(sink.targets);
    free(sink.negatives);
    return status;
}

reco_status reco_trainer_epoch(reco_trainer *trainer, const reco_dataset *train, double *mean_loss)
{
    CHECK_TRAINER(trainer);
    reco_status status = check_dataset(trainer, train);
    if (status != RECO_OK)
        return status;
    reco_epoch_plan plan = epoch_plan(trainer, train);
    const reco_user_rows *rows = NULL;
    size_t n_samples = 0;
    status = reco_dataset_user_rows(train, &rows);
    if (status == RECO_OK)
        status = count_samples(train, rows, &plan, &n_samples);
    if (status == RECO_OK)
        status = prepare(trainer, trainer->batch_size, n_samples);
    if (status == RECO_OK)
        status = ops_of(trainer)->kernels.epoch_samples
                     ? device_samples(trainer, train, rows, &plan)
                     : host_samples(trainer, train, rows, &plan, n_samples);
    if (status != RECO_OK)
        return status;
    status = run_batches(trainer, n_samples, mean_loss);
    if (status == RECO_OK && ops_of(trainer)->device.synchronize)
        status = ops_of(trainer)->device.synchronize(context_of(trainer));
    trainer->epoch++;
    trainer->learning_rate *= trainer->lr_decay;
    return status;
}
