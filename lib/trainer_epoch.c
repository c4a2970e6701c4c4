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

/* An epoch's batches as they run, window after window. */
typedef struct epoch_run {
    size_t steps; /* batches in the epoch */
    size_t step;  /* batches run so far */
    size_t samples_done;
    double loss_sum; /* of batches whose loss was read */
    double started;
} epoch_run;

/* Runs the batches of one window of samples, which holds whole batches
 * (the epoch's last may be short). */
static reco_status run_window(reco_trainer *trainer, size_t window, epoch_run *run)
{
    const reco_backend_ops *ops = ops_of(trainer);
    reco_backend_context *context = context_of(trainer);
    reco_model *model = trainer->model;
    reco_status status = RECO_OK;
    for (size_t offset = 0; offset < window && status == RECO_OK; offset += trainer->batch_size) {
        size_t rows = window - offset < trainer->batch_size ? window - offset : trainer->batch_size;
        reco_batch batch = make_batch(trainer, offset, rows);
        double batch_loss = 0.0;
        /* without a callback to tell, the loss stays on the backend until the
         * epoch ends: a device backend then never waits between batches */
        double *wanted = trainer->progress ? &batch_loss : NULL;
        float learning_rate = (float)trainer->learning_rate;
        if (trainer->parallel.mode != PARALLEL_ALONE) {
            status = reco_trainer_parallel_step(trainer, &batch, learning_rate, &batch_loss);
        } else if (ops->kernels.train_step) {
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
        run->loss_sum += batch_loss;
        run->step++;
        run->samples_done += rows;
        if (status == RECO_OK && trainer->progress) {
            double elapsed = reco_seconds_now() - run->started;
            reco_progress progress = {
                .struct_size = sizeof progress,
                .epoch = trainer->epoch,
                .step = run->step,
                .steps = run->steps,
                .loss = run->loss_sum / (double)run->step,
                .samples_per_second = elapsed > 0.0 ? (double)run->samples_done / elapsed : 0.0,
            };
            if (trainer->progress(&progress, trainer->progress_data))
                status = reco_fail(RECO_ERR_INTERRUPTED,
                                   "stopped by the progress callback "
                                   "at epoch %zu, step %zu",
                                   trainer->epoch, run->step);
        }
    }
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
                             .epoch = trainer->epoch,
                             .negative_epoch = trainer->fixed_negatives ? 0 : trainer->epoch};
}

/* Counts the epoch's samples, and refuses an epoch that would need a
 * negative for a user who has every item (rows: NULL when the plan draws
 * no negatives). */
static reco_status count_samples(const reco_dataset *train, const reco_user_rows *rows,
                                 const reco_epoch_plan *plan, size_t *n_samples)
{
    if (!reco_size_mul(train->size, plan->pairs ? 1 : 1 + plan->negatives, n_samples))
        return reco_fail(RECO_ERR_OUT_OF_RANGE, "%zu rows with %zu negatives: too many samples",
                         train->size, plan->negatives);
    size_t n_items = reco_dataset_n_items(train);
    for (size_t u = 0; plan->negatives > 0 && u < rows->n_users; u++)
        if (rows->offsets[u + 1] - rows->offsets[u] >= n_items)
            return reco_fail_no_negative(train, (int32_t)u);
    return RECO_OK;
}

/* Uploads `train` (rows, and per-user item lists unless `rows` is NULL)
 * unless it is there already. */
static reco_status upload_dataset(reco_trainer *trainer, const reco_dataset *train,
                                  const reco_user_rows *rows)
{
    device_dataset *device = &trainer->device_data;
    if (device->serial == train->serial && device->n_users == reco_dataset_n_users(train) &&
        device->n_items == reco_dataset_n_items(train) && (!rows || device->buffers[3]))
        return RECO_OK;
    reco_trainer_free_device_dataset(trainer);
    size_t n = train->size;
    const void *host[5] = {train->users, train->items, train->ratings, rows ? rows->offsets : NULL,
                           rows ? rows->items : NULL};
    size_t bytes[5] = {n * sizeof(int32_t), n * sizeof(int32_t),
                       train->ratings ? n * sizeof(float) : 0,
                       rows ? (rows->n_users + 1) * sizeof *rows->offsets : 0,
                       rows ? rows->offsets[rows->n_users] * sizeof(int32_t) : 0};
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
        device->buffers[3], device->buffers[4], device->n_users,    device->n_items,
        train->serial};
    return RECO_OK;
}

/* Samples an epoch is made in at a time: whole batches, about a million
 * samples (16 MB of buffers), so that an epoch's memory does not grow with
 * the data. Not static: the tests make it small. */
size_t reco_epoch_window_samples = (size_t)1 << 20;

static size_t window_capacity(const reco_trainer *trainer, size_t n_samples)
{
    size_t batches = reco_epoch_window_samples / trainer->batch_size;
    size_t window = (batches ? batches : 1) * trainer->batch_size;
    return window < n_samples ? window : n_samples;
}

/* Host memory for the windows of a backend without epoch_samples. */
typedef struct host_window {
    reco_sample_source source;
    reco_sample_sink sink;
} host_window;

static reco_status host_window_make(const reco_dataset *train, const reco_user_rows *rows,
                                    const reco_epoch_plan *plan, size_t capacity, host_window *w)
{
    w->source =
        reco_sample_source_make(train->users, train->items, train->ratings, train->size,
                                rows->offsets, rows->items, reco_dataset_n_items(train), plan);
    w->sink = (reco_sample_sink){reco_malloc_array(capacity, sizeof(int32_t)),
                                 reco_malloc_array(capacity, sizeof(int32_t)),
                                 reco_malloc_array(capacity, sizeof(float)),
                                 plan->pairs ? reco_malloc_array(capacity, sizeof(int32_t)) : NULL};
    if (!w->sink.users || !w->sink.items || !w->sink.targets || (plan->pairs && !w->sink.negatives))
        return reco_fail_oom();
    return RECO_OK;
}

static void host_window_free(host_window *w)
{
    reco_free(w->sink.users);
    reco_free(w->sink.items);
    reco_free(w->sink.targets);
    reco_free(w->sink.negatives);
}

/* Makes places [plan->first, plan->first + plan->count) of the epoch in the
 * trainer's buffers: on the backend's device when it can, else on the host
 * (`host` non-NULL), then uploaded. */
static reco_status make_window(reco_trainer *trainer, const reco_epoch_plan *plan,
                               host_window *host)
{
    if (!host) {
        reco_epoch_buffers out = {trainer->buffers.users, trainer->buffers.items,
                                  trainer->buffers.targets, trainer->buffers.negatives};
        return ops_of(trainer)->kernels.epoch_samples(context_of(trainer),
                                                      &trainer->device_data.data, plan, &out);
    }
    if (reco_epoch_build(&host->source, plan->first, plan->count, &host->sink, reco_run_serially,
                         NULL) != 0)
        return reco_fail_oom();
    return upload_samples(trainer, host->sink.users, host->sink.items, host->sink.targets,
                          host->sink.negatives, plan->count);
}

/* Makes and runs the epoch window by window. */
static reco_status run_epoch(reco_trainer *trainer, const reco_dataset *train,
                             const reco_user_rows *rows, reco_epoch_plan *plan, size_t n_samples,
                             double *mean_loss)
{
    size_t capacity = window_capacity(trainer, n_samples);
    int on_device = ops_of(trainer)->kernels.epoch_samples != NULL;
    host_window host = {0};
    epoch_run run = {.steps = (n_samples + trainer->batch_size - 1) / trainer->batch_size,
                     .started = reco_seconds_now()};
    reco_status status = prepare(trainer, trainer->batch_size, capacity);
    if (status == RECO_OK)
        status = on_device ? upload_dataset(trainer, train, rows)
                           : host_window_make(train, rows, plan, capacity, &host);
    for (plan->first = 0; plan->first < n_samples && status == RECO_OK; plan->first += capacity) {
        plan->count = n_samples - plan->first < capacity ? n_samples - plan->first : capacity;
        status = make_window(trainer, plan, on_device ? NULL : &host);
        if (status == RECO_OK)
            status = run_window(trainer, plan->count, &run);
    }
    host_window_free(&host);
    double deferred = 0.0;
    if (trainer->workspace) {
        /* the running total is read, or reset after a failure */
        reco_status taken =
            ops_of(trainer)->kernels.take_loss(context_of(trainer), trainer->workspace, &deferred);
        if (status == RECO_OK)
            status = taken;
    }
    if (mean_loss)
        *mean_loss = (run.loss_sum + deferred) / (double)run.steps;
    return status;
}

/* MF on explicit ratings with the squared loss, batch size 1 and SGD
 * (no momentum) or Adagrad goes rating by rating through the backend's
 * mf_epoch, when it has one and no ranks share the training. */
static int per_rating(const reco_trainer *trainer, const reco_dataset *train)
{
    const reco_optimizer_config *o = &trainer->optimizer;
    return ops_of(trainer)->kernels.mf_epoch && trainer->model->kind == RECO_MODEL_MF &&
           trainer->loss == RECO_LOSS_MSE && train->ratings && trainer->batch_size == 1 &&
           !o->dense_embeddings && trainer->parallel.mode == PARALLEL_ALONE &&
           trainer->model->output == RECO_ACTIVATION_IDENTITY &&
           ((o->kind == RECO_OPTIMIZER_SGD && o->momentum == 0.0f) ||
            o->kind == RECO_OPTIMIZER_ADAGRAD);
}

/* The epoch through mf_epoch; the mean loss is per rating, as batches of
 * one report it. */
static reco_status run_per_rating(reco_trainer *trainer, const reco_dataset *train,
                                  reco_epoch_plan *plan, size_t n_samples, double *mean_loss)
{
    reco_status status = prepare(trainer, 1, 1);
    if (status == RECO_OK)
        status = upload_dataset(trainer, train, NULL);
    double loss = 0.0;
    plan->first = 0;
    plan->count = n_samples;
    reco_model *model = trainer->model;
    double started = reco_seconds_now();
    if (status == RECO_OK)
        status = ops_of(trainer)->kernels.mf_epoch(
            context_of(trainer), trainer->workspace, &model->net, &model->params,
            trainer->optimizer_state, &trainer->optimizer, (float)trainer->learning_rate,
            &trainer->device_data.data, plan, &loss);
    if (status == RECO_OK)
        trainer->step += n_samples;
    double mean = n_samples ? loss / (double)n_samples : 0.0, elapsed = reco_seconds_now() - started;
    if (status == RECO_OK && trainer->progress) {
        reco_progress progress = {.struct_size = sizeof progress,
                                  .epoch = trainer->epoch,
                                  .step = n_samples,
                                  .steps = n_samples,
                                  .loss = mean,
                                  .samples_per_second =
                                      elapsed > 0.0 ? (double)n_samples / elapsed : 0.0};
        if (trainer->progress(&progress, trainer->progress_data))
            status = reco_fail(RECO_ERR_INTERRUPTED,
                               "stopped by the progress callback at "
                               "epoch %zu",
                               trainer->epoch);
    }
    if (mean_loss)
        *mean_loss = mean;
    return status;
}

static reco_status set_global_bias(reco_trainer *trainer, float bias)
{
    reco_model *model = trainer->model;
    return ops_of(trainer)->device.buffer_upload(context_of(trainer), model->params.dense,
                                                 model->net.head_b_offset * sizeof(float), &bias,
                                                 sizeof bias);
}

/* Biased MF on explicit ratings starts its global bias at the training
 * mean, as libmf and Surprise do, instead of spending its first epochs
 * learning the offset; a bias that is not its initial 0 (a loaded or
 * trained model) is left alone. *moved says whether it was set. */
static reco_status start_at_the_mean(reco_trainer *trainer, const reco_dataset *train, int *moved)
{
    reco_model *model = trainer->model;
    const reco_net_desc *net = &model->net;
    *moved = 0;
    if (trainer->step > 0 || model->kind != RECO_MODEL_MF || !net->train_head_bias ||
        trainer->loss != RECO_LOSS_MSE || !train->ratings)
        return RECO_OK;
    float bias;
    reco_status status = ops_of(trainer)->device.buffer_download(
        context_of(trainer), model->params.dense, net->head_b_offset * sizeof(float), &bias,
        sizeof bias);
    if (status != RECO_OK || bias != 0.0f)
        return status;
    double sum = 0.0;
    for (size_t i = 0; i < train->size; i++)
        sum += train->ratings[i];
    status = set_global_bias(trainer, (float)(sum / (double)train->size));
    *moved = status == RECO_OK;
    return status;
}

/* Lazy rows owe the steps they sat idle since last touched: they get them
 * as the epoch ends, so that the model evaluated and saved is the one dense
 * steps give. */
static reco_status settle_rows(reco_trainer *trainer)
{
    reco_backend_optimizer_settle_fn *settle = ops_of(trainer)->kernels.optimizer_settle;
    reco_model *model = trainer->model;
    if (!settle || !trainer->optimizer_state)
        return RECO_OK;
    return settle(context_of(trainer), &model->net, &model->params, trainer->optimizer_state,
                  &trainer->optimizer, (float)trainer->learning_rate, trainer->step);
}

/* Lazy steps replay the momentum of a row's idle steps, not their weight
 * decay (reco_idle_steps): with weight decay, tables that hold at most 4
 * batches' rows are stepped densely, as torch does, for at most 4x the lazy
 * optimizer's work. */
static int dense_for_epoch(const reco_trainer *trainer)
{
    if (trainer->dense_request >= 0)
        return trainer->dense_request;
    if (trainer->optimizer.weight_decay <= 0.0f)
        return 0;
    size_t rows_a_batch = trainer->batch_size * (trainer->loss == RECO_LOSS_BPR ? 3 : 2);
    return trainer->model->n_users + trainer->model->n_items <= 4 * rows_a_batch;
}

/* One epoch of any family; reco_trainer_epoch then keeps the seen items. */
static reco_status run_one_epoch(reco_trainer *trainer, const reco_dataset *train,
                                 double *mean_loss)
{
    CHECK_TRAINER(trainer);
    trainer->optimizer.dense_embeddings = dense_for_epoch(trainer);
    reco_status status = check_dataset(trainer, train);
    if (status != RECO_OK)
        return status;
    if (trainer->model->kind == RECO_MODEL_IALS || reco_kind_is_item_item(trainer->model->kind)) {
        status = trainer->model->kind == RECO_MODEL_IALS
                     ? reco_trainer_ials_epoch(trainer, train, mean_loss)
                     : reco_trainer_item_item_epoch(trainer, train, mean_loss);
        trainer->epoch++;
        return status;
    }
    reco_epoch_plan plan = epoch_plan(trainer, train);
    const reco_user_rows *rows = NULL;
    size_t n_samples = 0;
    /* rating by rating draws no negatives: no per-user item lists to build */
    int rating_by_rating = per_rating(trainer, train);
    if (!rating_by_rating)
        status = reco_dataset_user_rows(train, &rows);
    if (status == RECO_OK)
        status = count_samples(train, rows, &plan, &n_samples);
    int moved = 0;
    if (status == RECO_OK)
        status = start_at_the_mean(trainer, train, &moved);
    if (status == RECO_OK)
        status = rating_by_rating ? run_per_rating(trainer, train, &plan, n_samples, mean_loss)
                                  : run_epoch(trainer, train, rows, &plan, n_samples, mean_loss);
    if (status != RECO_OK && moved && trainer->step == 0)
        set_global_bias(trainer, 0.0f); /* an epoch that failed before its first step */
    if (status == RECO_OK)
        status = settle_rows(trainer);
    if (status == RECO_OK && ops_of(trainer)->device.synchronize)
        status = ops_of(trainer)->device.synchronize(context_of(trainer));
    trainer->epoch++;
    trainer->requested_learning_rate *= trainer->lr_decay;
    reco_trainer_apply_semantics(trainer);
    return status;
}

/* Keeps the training pairs as the model's seen items (its history), built
 * once per training set; the item-item kinds keep theirs as they fit. */
static reco_status keep_seen(reco_trainer *trainer, const reco_dataset *train)
{
    reco_model *model = trainer->model;
    if (reco_kind_is_item_item(model->kind) ||
        (model->history.offsets && trainer->seen_serial == train->serial))
        return RECO_OK;
    reco_status status = reco_model_replace_seen(model, train);
    if (status == RECO_OK)
        trainer->seen_serial = train->serial;
    return status;
}

reco_status reco_trainer_epoch(reco_trainer *trainer, const reco_dataset *train, double *mean_loss)
{
    reco_status status = run_one_epoch(trainer, train, mean_loss);
    if (status == RECO_OK)
        status = keep_seen(trainer, train);
    return status;
}
