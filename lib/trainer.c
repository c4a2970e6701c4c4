/* The trainer: configuration, epoch sample construction (negatives and the
 * shuffle), the batch loop through the backend, progress and stopping. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dataset_impl.h"
#include "error.h"
#include "model_impl.h"
#include "reco/trainer.h"
#include "rng.h"
#include "reco_alloc.h"

/* Random streams of one seed: sampling uses reco_dataset_sample_negatives'
 * own streams, the shuffle and dropout these. */
#define STREAM_SHUFFLE 0x5348554646ull
#define STREAM_DROPOUT 0x44524f50ull

typedef struct epoch_buffers {
    void *users;
    void *items;
    void *targets;
    void *negatives;
    size_t capacity;
} epoch_buffers;

typedef struct validation {
    const reco_dataset *valid;
    const reco_dataset *exclude;
    reco_metric metric;
    size_t k;
    size_t patience;
    int has_best;
    size_t best_epoch;
    double best_value;
    double last_value;
    int has_last;
    float *best_parameters;
} validation;

/* A training set uploaded for a backend that builds epochs on its device. */
typedef struct device_dataset {
    uint64_t serial; /* of the dataset uploaded; 0 when none */
    int64_t full_user; /* external id of a user with every item, or -1 */
    size_t n_users;
    size_t n_items;
    void *buffers[5]; /* users, items, ratings, user offsets, user items */
    reco_epoch_data data;
} device_dataset;

struct reco_trainer {
    reco_model *model;
    reco_loss loss;
    int mean_reduction;
    size_t negatives;
    reco_optimizer_config optimizer;
    double learning_rate;
    double lr_decay;
    size_t batch_size;
    uint64_t seed;
    int device_sampling;
    reco_progress_fn progress;
    void *progress_data;
    void *workspace;
    size_t workspace_rows;
    size_t workspace_threads; /* the backend's, when the workspace was made */
    void *optimizer_state;
    uint64_t step;
    size_t epoch;
    epoch_buffers buffers;
    unsigned layout_version; /* the model's, when workspace and state were made */
    validation validation;
    device_dataset device_data;
};

static const reco_backend_ops *ops_of(const reco_trainer *trainer)
{
    return trainer->model->backend->ops;
}

static void *context_of(const reco_trainer *trainer)
{
    return trainer->model->backend->context;
}

static void free_buffers(reco_trainer *trainer)
{
    void **buffers[] = {&trainer->buffers.users, &trainer->buffers.items,
                        &trainer->buffers.targets, &trainer->buffers.negatives};
    for (size_t i = 0; i < sizeof buffers / sizeof *buffers; i++) {
        if (*buffers[i])
            ops_of(trainer)->buffer_free(context_of(trainer), *buffers[i]);
        *buffers[i] = NULL;
    }
    trainer->buffers.capacity = 0;
}

static void free_device_dataset(reco_trainer *trainer)
{
    for (int i = 0; i < 5; i++)
        if (trainer->device_data.buffers[i])
            ops_of(trainer)->buffer_free(context_of(trainer), trainer->device_data.buffers[i]);
    memset(&trainer->device_data, 0, sizeof trainer->device_data);
}

static void reset_optimizer(reco_trainer *trainer)
{
    if (trainer->optimizer_state)
        ops_of(trainer)->optimizer_destroy(context_of(trainer), trainer->optimizer_state);
    trainer->optimizer_state = NULL;
}

static void free_workspace(reco_trainer *trainer)
{
    if (trainer->workspace)
        ops_of(trainer)->workspace_destroy(context_of(trainer), trainer->workspace);
    trainer->workspace = NULL;
    trainer->workspace_rows = 0;
}

reco_status reco_trainer_new(reco_model *model, reco_trainer **out)
{
    if (!out)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL output");
    *out = NULL;
    reco_status status = reco_model_check_ready(model);
    if (status != RECO_OK)
        return status;
    reco_trainer *trainer = reco_calloc(1, sizeof *trainer);
    if (!trainer)
        return reco_fail_oom();
    trainer->model = model;
    trainer->layout_version = model->layout_version;
    trainer->loss = RECO_LOSS_BCE;
    trainer->mean_reduction = 1;
    trainer->negatives = 4;
    trainer->optimizer = (reco_optimizer_config){
        .kind = RECO_OPTIMIZER_ADAM, .beta1 = 0.9f, .beta2 = 0.999f, .epsilon = 1e-8f};
    trainer->learning_rate = 1e-3;
    trainer->lr_decay = 1.0;
    trainer->batch_size = 256;
    trainer->device_sampling = 1;
    *out = trainer;
    return RECO_OK;
}

void reco_trainer_free(reco_trainer *trainer)
{
    if (!trainer)
        return;
    reset_optimizer(trainer);
    free_workspace(trainer);
    free_buffers(trainer);
    free_device_dataset(trainer);
    free(trainer->validation.best_parameters);
    free(trainer);
}

#define CHECK_TRAINER(trainer)                                                      \
    do {                                                                            \
        if (!(trainer))                                                             \
            return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL trainer");            \
    } while (0)

reco_status reco_trainer_set_loss(reco_trainer *trainer, reco_loss loss)
{
    CHECK_TRAINER(trainer);
    if (loss < RECO_LOSS_BCE || loss > RECO_LOSS_BPR)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "unknown loss %d", (int)loss);
    trainer->loss = loss;
    return RECO_OK;
}

reco_status reco_trainer_set_mean_reduction(reco_trainer *trainer, int mean)
{
    CHECK_TRAINER(trainer);
    trainer->mean_reduction = mean != 0;
    return RECO_OK;
}

reco_status reco_trainer_set_negatives(reco_trainer *trainer, size_t negatives)
{
    CHECK_TRAINER(trainer);
    if (negatives > 1000)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "%zu negatives: expected 0 to 1000",
                         negatives);
    trainer->negatives = negatives;
    return RECO_OK;
}

reco_status reco_trainer_set_optimizer(reco_trainer *trainer, reco_optimizer optimizer)
{
    CHECK_TRAINER(trainer);
    if (optimizer < RECO_OPTIMIZER_SGD || optimizer > RECO_OPTIMIZER_ADAM)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "unknown optimizer %d", (int)optimizer);
    if (trainer->optimizer.kind != (int)optimizer) {
        reset_optimizer(trainer); /* moments of another rule mean nothing */
        if (optimizer == RECO_OPTIMIZER_ADAGRAD && trainer->optimizer.epsilon == 1e-8f)
            trainer->optimizer.epsilon = 1e-10f;
        if (optimizer == RECO_OPTIMIZER_ADAM && trainer->optimizer.epsilon == 1e-10f)
            trainer->optimizer.epsilon = 1e-8f;
    }
    trainer->optimizer.kind = optimizer;
    return RECO_OK;
}

static reco_status check_range(double value, double low, double high, int low_open,
                               const char *what)
{
    int above = low_open ? value > low : value >= low;
    if (!(above && value <= high && isfinite(value)))
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "%s %g: expected %s%g, %g]", what, value,
                         low_open ? "(" : "[", low, high);
    return RECO_OK;
}

/* Stores value in *field when it is in range: a setter's whole body. */
static reco_status store_checked(double *field, double value, double low, double high,
                                 int low_open, const char *what)
{
    reco_status status = check_range(value, low, high, low_open, what);
    if (status == RECO_OK)
        *field = value;
    return status;
}

/* The same for the optimizer's float settings. */
static reco_status store_checked_float(float *field, double value, double low, double high,
                                       int low_open, const char *what)
{
    double checked = *field;
    reco_status status = store_checked(&checked, value, low, high, low_open, what);
    *field = (float)checked;
    return status;
}

reco_status reco_trainer_set_learning_rate(reco_trainer *trainer, double learning_rate)
{
    CHECK_TRAINER(trainer);
    return store_checked(&trainer->learning_rate, learning_rate, 0.0, 1e3, 1, "learning rate");
}

reco_status reco_trainer_set_momentum(reco_trainer *trainer, double momentum)
{
    CHECK_TRAINER(trainer);
    reco_status status = check_range(momentum, 0.0, 0.999999, 0, "momentum");
    if (status != RECO_OK)
        return status;
    if ((trainer->optimizer.momentum > 0.0f) != (momentum > 0.0))
        reset_optimizer(trainer);
    trainer->optimizer.momentum = (float)momentum;
    return RECO_OK;
}

reco_status reco_trainer_set_adam_betas(reco_trainer *trainer, double beta1, double beta2)
{
    CHECK_TRAINER(trainer);
    reco_status status = check_range(beta1, 0.0, 0.999999, 0, "beta1");
    if (status == RECO_OK)
        status = check_range(beta2, 0.0, 0.999999, 0, "beta2");
    if (status != RECO_OK)
        return status;
    trainer->optimizer.beta1 = (float)beta1;
    trainer->optimizer.beta2 = (float)beta2;
    return RECO_OK;
}

reco_status reco_trainer_set_epsilon(reco_trainer *trainer, double epsilon)
{
    CHECK_TRAINER(trainer);
    return store_checked_float(&trainer->optimizer.epsilon, epsilon, 0.0, 1.0, 1, "epsilon");
}

reco_status reco_trainer_set_weight_decay(reco_trainer *trainer, double weight_decay)
{
    CHECK_TRAINER(trainer);
    return store_checked_float(&trainer->optimizer.weight_decay, weight_decay, 0.0, 1e3, 0,
                               "weight decay");
}

reco_status reco_trainer_set_lr_decay(reco_trainer *trainer, double gamma)
{
    CHECK_TRAINER(trainer);
    return store_checked(&trainer->lr_decay, gamma, 0.0, 1.0, 1, "learning-rate decay");
}

reco_status reco_trainer_set_batch_size(reco_trainer *trainer, size_t batch_size)
{
    CHECK_TRAINER(trainer);
    if (batch_size < 1 || batch_size > ((size_t)1 << 24))
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "batch size %zu: expected 1 to 2^24",
                         batch_size);
    trainer->batch_size = batch_size;
    return RECO_OK;
}

reco_status reco_trainer_set_dense_embeddings(reco_trainer *trainer, int dense)
{
    CHECK_TRAINER(trainer);
    trainer->optimizer.dense_embeddings = dense != 0;
    return RECO_OK;
}

reco_status reco_trainer_set_seed(reco_trainer *trainer, uint64_t seed)
{
    CHECK_TRAINER(trainer);
    trainer->seed = seed;
    return RECO_OK;
}

reco_status reco_trainer_set_device_sampling(reco_trainer *trainer, int enabled)
{
    CHECK_TRAINER(trainer);
    trainer->device_sampling = enabled != 0;
    return RECO_OK;
}

reco_status reco_trainer_set_threads(reco_trainer *trainer, size_t threads)
{
    CHECK_TRAINER(trainer);
    if (threads > 1024)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "%zu threads: expected 0 to 1024", threads);
    return reco_backend_set_threads(trainer->model->backend, threads);
}

reco_status reco_trainer_set_progress(reco_trainer *trainer, reco_progress_fn callback,
                                      void *user_data)
{
    CHECK_TRAINER(trainer);
    trainer->progress = callback;
    trainer->progress_data = user_data;
    return RECO_OK;
}

/* Makes sure workspace, optimizer state and epoch buffers are in place. */
static reco_status prepare(reco_trainer *trainer, size_t batch_rows, size_t samples)
{
    const reco_backend_ops *ops = ops_of(trainer);
    void *context = context_of(trainer);
    const reco_net_desc *net = &trainer->model->net;
    reco_status status = RECO_OK;
    if (trainer->layout_version != trainer->model->layout_version) {
        /* the model's tables grew (fold-in): gradients and moments follow */
        free_workspace(trainer);
        reset_optimizer(trainer);
        trainer->layout_version = trainer->model->layout_version;
    }
    /* a workspace's slices follow the backend's thread count */
    size_t threads = reco_backend_threads(trainer->model->backend);
    if (trainer->workspace_rows < batch_rows || trainer->workspace_threads != threads) {
        free_workspace(trainer);
        status = ops->workspace_create(context, net, batch_rows, &trainer->workspace);
        if (status != RECO_OK)
            return status;
        trainer->workspace_rows = batch_rows;
        trainer->workspace_threads = threads;
    }
    if (!trainer->optimizer_state) {
        status = ops->optimizer_create(context, net, &trainer->optimizer,
                                       &trainer->optimizer_state);
        if (status != RECO_OK)
            return status;
    }
    if (trainer->buffers.capacity < samples) {
        free_buffers(trainer);
        size_t bytes = samples * sizeof(int32_t);
        status = ops->buffer_alloc(context, bytes, &trainer->buffers.users);
        if (status == RECO_OK)
            status = ops->buffer_alloc(context, bytes, &trainer->buffers.items);
        if (status == RECO_OK)
            status = ops->buffer_alloc(context, samples * sizeof(float), &trainer->buffers.targets);
        if (status == RECO_OK)
            status = ops->buffer_alloc(context, bytes, &trainer->buffers.negatives);
        if (status != RECO_OK) {
            free_buffers(trainer);
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
    void *context = context_of(trainer);
    reco_status status = ops->buffer_upload(context, trainer->buffers.users, 0, users,
                                            n * sizeof *users);
    if (status == RECO_OK)
        status = ops->buffer_upload(context, trainer->buffers.items, 0, items, n * sizeof *items);
    if (status == RECO_OK && targets)
        status = ops->buffer_upload(context, trainer->buffers.targets, 0, targets,
                                    n * sizeof *targets);
    if (status == RECO_OK && negatives)
        status = ops->buffer_upload(context, trainer->buffers.negatives, 0, negatives,
                                    n * sizeof *negatives);
    return status;
}

static int batch_loss_kind(reco_loss loss)
{
    return loss == RECO_LOSS_BPR ? RECO_BATCH_BPR
           : loss == RECO_LOSS_MSE ? RECO_BATCH_MSE
                                   : RECO_BATCH_BCE;
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
        .loss = batch_loss_kind(trainer->loss),
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
    status = ops_of(trainer)->forward_backward(context_of(trainer), &trainer->model->net,
                                               &trainer->model->params, trainer->workspace,
                                               &batch, loss);
    if (status == RECO_OK && gradient)
        status = ops_of(trainer)->gradient_download(context_of(trainer), &trainer->model->net,
                                                    trainer->workspace, gradient);
    return status;
}

/* One epoch's samples on the host, in training order. */
typedef struct epoch_samples {
    int32_t *users;
    int32_t *items;
    float *targets;
    int32_t *negatives; /* BPR */
    size_t n;
} epoch_samples;

static void epoch_samples_free(epoch_samples *samples)
{
    free(samples->users);
    free(samples->items);
    free(samples->targets);
    free(samples->negatives);
}

/* A uniform permutation of [0, n), seeded by the trainer's seed and epoch. */
static uint32_t *shuffled_order(const reco_trainer *trainer, size_t n)
{
    uint32_t *order = reco_malloc(n * sizeof *order + 1);
    if (!order)
        return NULL;
    reco_rng rng;
    reco_rng_seed(&rng, trainer->seed, STREAM_SHUFFLE + trainer->epoch);
    for (size_t i = 0; i < n; i++)
        order[i] = (uint32_t)i;
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)reco_rng_below(&rng, i);
        uint32_t swap = order[i - 1];
        order[i - 1] = order[j];
        order[j] = swap;
    }
    return order;
}

/* Draws the epoch's negatives and writes every sample straight to its
 * shuffled position: sample s is row s / per_row's positive (s % per_row ==
 * 0) or one of its negatives. */
static reco_status build_samples(reco_trainer *trainer, const reco_dataset *train,
                                 epoch_samples *samples)
{
    size_t rows = train->size;
    int bpr = trainer->loss == RECO_LOSS_BPR;
    int explicit_mse = trainer->loss == RECO_LOSS_MSE && train->ratings;
    size_t k = bpr ? 1 : explicit_mse ? 0 : trainer->negatives;
    size_t per_row = bpr ? 1 : 1 + k;
    size_t n = rows * per_row;
    if (n > UINT32_MAX)
        return reco_fail(RECO_ERR_OUT_OF_RANGE, "%zu samples in an epoch: at most 2^32 - 1", n);
    reco_status status = RECO_OK;
    int32_t *drawn = k ? reco_malloc_array(n, sizeof *drawn) : NULL;
    uint32_t *order = shuffled_order(trainer, n);
    samples->n = n;
    samples->users = reco_malloc(n * sizeof(int32_t) + 1);
    samples->items = reco_malloc(n * sizeof(int32_t) + 1);
    samples->targets = reco_malloc(n * sizeof(float) + 1);
    samples->negatives = bpr ? reco_malloc(n * sizeof(int32_t) + 1) : NULL;
    if (!order || !samples->users || !samples->items || !samples->targets ||
        (bpr && !samples->negatives) || (k && !drawn)) {
        status = reco_fail_oom();
        goto done;
    }
    if (k)
        status = reco_dataset_sample_negatives(train, k, trainer->seed, trainer->epoch, drawn);
    if (status != RECO_OK)
        goto done;
    for (size_t i = 0; i < n; i++) {
        size_t sample = order[i], row = sample / per_row, j = sample % per_row;
        samples->users[i] = train->users[row];
        if (bpr) {
            samples->items[i] = train->items[row];
            samples->negatives[i] = drawn[row];
            samples->targets[i] = 1.0f;
        } else if (j == 0) {
            samples->items[i] = train->items[row];
            samples->targets[i] = explicit_mse ? train->ratings[row] : 1.0f;
        } else {
            samples->items[i] = drawn[row * k + j - 1];
            samples->targets[i] = 0.0f;
        }
    }
done:
    free(drawn);
    free(order);
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
    void *context = context_of(trainer);
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
        if (ops->train_step) {
            status = ops->train_step(context, &model->net, &model->params, trainer->workspace,
                                     trainer->optimizer_state, &trainer->optimizer, learning_rate,
                                     ++trainer->step, &batch, wanted);
        } else {
            status = ops->forward_backward(context, &model->net, &model->params,
                                           trainer->workspace, &batch, wanted);
            if (status == RECO_OK)
                status = ops->optimizer_step(context, &model->net, &model->params,
                                             trainer->workspace, trainer->optimizer_state,
                                             &trainer->optimizer, learning_rate, ++trainer->step);
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
    reco_status taken = ops->take_loss(context, trainer->workspace, &deferred);
    if (status == RECO_OK)
        status = taken;
    if (mean_loss)
        *mean_loss = (loss_sum + deferred) / (double)steps;
    return status;
}

/* Uploads `train` (rows and per-user item lists) unless it is there already. */
static reco_status upload_dataset(reco_trainer *trainer, const reco_dataset *train)
{
    device_dataset *device = &trainer->device_data;
    if (device->serial == train->serial && device->n_users == reco_dataset_n_users(train) &&
        device->n_items == reco_dataset_n_items(train))
        return RECO_OK;
    free_device_dataset(trainer);
    reco_user_rows *rows = NULL;
    uint64_t *offsets = NULL;
    reco_status status = reco_user_rows_build(train, &rows);
    if (status == RECO_OK && !(offsets = reco_malloc((rows->n_users + 1) * sizeof *offsets)))
        status = reco_fail_oom();
    if (status != RECO_OK) {
        reco_user_rows_free(rows);
        return status;
    }
    device->full_user = -1;
    for (size_t u = 0; u <= rows->n_users; u++) {
        offsets[u] = rows->offsets[u];
        size_t degree = u < rows->n_users ? rows->offsets[u + 1] - rows->offsets[u] : 0;
        if (degree >= reco_dataset_n_items(train))
            device->full_user = train->vocab->users.ids[u];
    }
    size_t n = train->size;
    const void *host[5] = {train->users, train->items, train->ratings, offsets, rows->items};
    size_t bytes[5] = {n * sizeof(int32_t), n * sizeof(int32_t),
                       train->ratings ? n * sizeof(float) : 0,
                       (rows->n_users + 1) * sizeof *offsets,
                       rows->offsets[rows->n_users] * sizeof(int32_t)};
    const reco_backend_ops *ops = ops_of(trainer);
    for (int i = 0; i < 5 && status == RECO_OK; i++) {
        if (!host[i])
            continue;
        status = ops->buffer_alloc(context_of(trainer), bytes[i], &device->buffers[i]);
        if (status == RECO_OK)
            status = ops->buffer_upload(context_of(trainer), device->buffers[i], 0, host[i],
                                        bytes[i]);
    }
    if (status == RECO_OK) {
        device->serial = train->serial;
        device->n_users = reco_dataset_n_users(train);
        device->n_items = reco_dataset_n_items(train);
        device->data = (reco_epoch_data){device->buffers[0], device->buffers[1],
                                         device->buffers[2], n, device->buffers[3],
                                         device->buffers[4], rows->n_users, device->n_items};
    } else {
        free_device_dataset(trainer);
    }
    free(offsets);
    reco_user_rows_free(rows);
    return status;
}

/* Builds the epoch's samples on the backend's device: no host copy. */
static reco_status device_samples(reco_trainer *trainer, const reco_dataset *train, size_t *n_samples)
{
    int bpr = trainer->loss == RECO_LOSS_BPR;
    int explicit_mse = trainer->loss == RECO_LOSS_MSE && train->ratings;
    reco_epoch_plan plan = {.negatives = bpr ? 1 : explicit_mse ? 0 : trainer->negatives,
                            .pairs = bpr,
                            .explicit_targets = explicit_mse,
                            .seed = trainer->seed,
                            .epoch = trainer->epoch};
    *n_samples = train->size * (bpr ? 1 : 1 + plan.negatives);
    if (*n_samples > UINT32_MAX)
        return reco_fail(RECO_ERR_OUT_OF_RANGE, "%zu samples in an epoch: at most 2^32 - 1",
                         *n_samples);
    reco_status status = prepare(trainer, trainer->batch_size, *n_samples);
    if (status == RECO_OK)
        status = upload_dataset(trainer, train);
    if (status == RECO_OK && plan.negatives > 0 && trainer->device_data.full_user >= 0)
        return reco_fail(RECO_ERR_OUT_OF_RANGE,
                         "user %lld interacted with every item: no negative to draw",
                         (long long)trainer->device_data.full_user);
    if (status == RECO_OK)
        status = ops_of(trainer)->epoch_samples(context_of(trainer), &trainer->device_data.data,
                                                &plan, trainer->buffers.users,
                                                trainer->buffers.items, trainer->buffers.targets,
                                                trainer->buffers.negatives);
    return status;
}

/* Builds the epoch's samples on the host and uploads them. */
static reco_status host_samples(reco_trainer *trainer, const reco_dataset *train, size_t *n_samples)
{
    epoch_samples samples = {0};
    reco_status status = build_samples(trainer, train, &samples);
    if (status == RECO_OK)
        status = prepare(trainer, trainer->batch_size, samples.n);
    if (status == RECO_OK)
        status = upload_samples(trainer, samples.users, samples.items, samples.targets,
                                samples.negatives, samples.n);
    *n_samples = samples.n;
    epoch_samples_free(&samples);
    return status;
}

reco_status reco_trainer_epoch(reco_trainer *trainer, const reco_dataset *train, double *mean_loss)
{
    CHECK_TRAINER(trainer);
    reco_status status = check_dataset(trainer, train);
    if (status != RECO_OK)
        return status;
    size_t n_samples = 0;
    status = ops_of(trainer)->epoch_samples && trainer->device_sampling
                 ? device_samples(trainer, train, &n_samples)
                 : host_samples(trainer, train, &n_samples);
    if (status != RECO_OK)
        return status;
    status = run_batches(trainer, n_samples, mean_loss);
    trainer->epoch++;
    trainer->learning_rate *= trainer->lr_decay;
    return status;
}

reco_status reco_trainer_set_validation(reco_trainer *trainer, const reco_dataset *valid,
                                        const reco_dataset *exclude, reco_metric metric,
                                        size_t k)
{
    CHECK_TRAINER(trainer);
    if (metric < RECO_METRIC_HR || metric > RECO_METRIC_MSE)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "unknown metric %d", (int)metric);
    if (k < 1 || k > 100000)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "K %zu: expected 1 to 100000", k);
    validation *v = &trainer->validation;
    v->valid = valid;
    v->exclude = exclude;
    v->metric = metric;
    v->k = k;
    v->has_best = v->has_last = 0;
    return RECO_OK;
}

reco_status reco_trainer_set_early_stopping(reco_trainer *trainer, size_t patience)
{
    CHECK_TRAINER(trainer);
    trainer->validation.patience = patience;
    return RECO_OK;
}

reco_status reco_trainer_best(const reco_trainer *trainer, size_t *epoch, double *value)
{
    CHECK_TRAINER(trainer);
    if (!trainer->validation.has_best)
        return reco_fail(RECO_ERR_STATE, "no validation has run");
    if (epoch)
        *epoch = trainer->validation.best_epoch;
    if (value)
        *value = trainer->validation.best_value;
    return RECO_OK;
}

reco_status reco_trainer_last_validation(const reco_trainer *trainer, double *value)
{
    CHECK_TRAINER(trainer);
    if (!trainer->validation.has_last)
        return reco_fail(RECO_ERR_STATE, "no validation has run");
    if (value)
        *value = trainer->validation.last_value;
    return RECO_OK;
}

static int lower_is_better(reco_metric metric)
{
    return metric == RECO_METRIC_RMSE || metric == RECO_METRIC_MAE || metric == RECO_METRIC_MSE;
}

static reco_status evaluate(reco_trainer *trainer, double *value)
{
    const validation *v = &trainer->validation;
    reco_metrics *metrics = NULL;
    reco_status status = reco_metrics_new(&metrics);
    if (status == RECO_OK)
        status = reco_metrics_set_k(metrics, v->k);
    if (status == RECO_OK) {
        if (lower_is_better(v->metric))
            status = reco_metrics_evaluate_ratings(metrics, trainer->model, v->valid);
        else if ((v->metric == RECO_METRIC_HR || v->metric == RECO_METRIC_NDCG) &&
                 v->valid->negative_offsets)
            status = reco_metrics_evaluate_sampled(metrics, trainer->model, v->valid);
        else
            status = reco_metrics_evaluate_ranking(metrics, trainer->model, v->valid, v->exclude);
    }
    if (status == RECO_OK)
        status = reco_metrics_get(metrics, v->metric, value);
    reco_metrics_free(metrics);
    return status;
}

/* Validates after an epoch: records the value, keeps the best parameters,
 * and sets *stop when patience has run out. */
static reco_status validate(reco_trainer *trainer, int *stop)
{
    validation *v = &trainer->validation;
    double value;
    reco_status status = evaluate(trainer, &value);
    if (status != RECO_OK)
        return status;
    v->last_value = value;
    v->has_last = 1;
    int better = !v->has_best || (lower_is_better(v->metric) ? value < v->best_value
                                                             : value > v->best_value);
    size_t epoch = trainer->epoch - 1;
    if (better) {
        if (!v->best_parameters)
            v->best_parameters = reco_malloc(reco_model_parameter_count(trainer->model) * sizeof(float));
        if (!v->best_parameters)
            return reco_fail_oom();
        status = reco_model_get_parameters(trainer->model, v->best_parameters);
        v->has_best = 1;
        v->best_value = value;
        v->best_epoch = epoch;
    }
    *stop = v->patience > 0 && epoch - v->best_epoch >= v->patience;
    return status;
}

reco_status reco_trainer_fit(reco_trainer *trainer, const reco_dataset *train, size_t epochs)
{
    CHECK_TRAINER(trainer);
    validation *v = &trainer->validation;
    if (v->patience && !v->valid)
        return reco_fail(RECO_ERR_STATE, "early stopping needs a validation set");
    /* a model that grew (fold-in) no longer fits the kept parameters */
    free(v->best_parameters);
    v->best_parameters = NULL;
    v->has_best = 0;
    reco_status status = RECO_OK;
    int stop = 0;
    for (size_t e = 0; e < epochs && status == RECO_OK && !stop; e++) {
        status = reco_trainer_epoch(trainer, train, NULL);
        if (status == RECO_OK && v->valid)
            status = validate(trainer, &stop);
    }
    if (status == RECO_OK && v->has_best)
        status = reco_model_set_parameters(trainer->model, v->best_parameters);
    return status;
}
