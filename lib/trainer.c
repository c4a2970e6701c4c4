/* The trainer handle: creation, settings, and the backend resources it holds. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "reco_alloc.h"
#include "trainer_impl.h"

void reco_trainer_free_buffers(reco_trainer *trainer)
{
    reco_backend_buffer **buffers[] = {&trainer->buffers.users, &trainer->buffers.items,
                                       &trainer->buffers.targets, &trainer->buffers.negatives};
    for (size_t i = 0; i < sizeof buffers / sizeof *buffers; i++) {
        if (*buffers[i])
            ops_of(trainer)->device.buffer_free(context_of(trainer), *buffers[i]);
        *buffers[i] = NULL;
    }
    trainer->buffers.capacity = 0;
}

void reco_trainer_free_device_dataset(reco_trainer *trainer)
{
    for (int i = 0; i < 5; i++)
        if (trainer->device_data.buffers[i])
            ops_of(trainer)->device.buffer_free(context_of(trainer),
                                                trainer->device_data.buffers[i]);
    memset(&trainer->device_data, 0, sizeof trainer->device_data);
}

void reco_trainer_reset_optimizer(reco_trainer *trainer)
{
    if (trainer->optimizer_state)
        ops_of(trainer)->kernels.optimizer_destroy(context_of(trainer), trainer->optimizer_state);
    trainer->optimizer_state = NULL;
}

void reco_trainer_free_workspace(reco_trainer *trainer)
{
    if (trainer->workspace)
        ops_of(trainer)->kernels.workspace_destroy(context_of(trainer), trainer->workspace);
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
    trainer->bm25_k1 = 1.2; /* implicit's and Robertson's usual values */
    trainer->bm25_b = 0.75;
    trainer->optimizer = (reco_optimizer_config){
        .kind = RECO_OPTIMIZER_ADAM, .beta1 = 0.9f, .beta2 = 0.999f, .epsilon = 1e-8f};
    trainer->requested_learning_rate = 1e-3;
    trainer->lr_decay = 1.0;
    trainer->batch_size = 256;
    trainer->dense_request = -1;
    trainer->parallel.world = 1;
    if (model->kind == RECO_MODEL_IALS) {
        /* as the model was last solved (a new model: the defaults) */
        trainer->optimizer.weight_decay = model->ials_regularization;
        trainer->ials.unobserved_weight = model->ials_unobserved_weight;
    }
    if (model->kind == RECO_MODEL_EASE)
        trainer->optimizer.weight_decay = 1000.0f; /* Steck's range for MovieLens */
    trainer->requested_weight_decay = trainer->optimizer.weight_decay;
    reco_trainer_apply_semantics(trainer);
    trainer->ials.solver = RECO_SOLVER_CG;
    trainer->ials.cg_steps = 3;
    trainer->ials.objective = NAN;
    *out = trainer;
    return RECO_OK;
}

void reco_trainer_free(reco_trainer *trainer)
{
    if (!trainer)
        return;
    reco_trainer_reset_optimizer(trainer);
    reco_trainer_free_workspace(trainer);
    reco_trainer_free_buffers(trainer);
    reco_trainer_free_device_dataset(trainer);
    reco_trainer_free_parallel(trainer);
    reco_trainer_free_ials(trainer);
    reco_free(trainer->validation.best_parameters);
    reco_free(trainer);
}


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
    if (optimizer < RECO_OPTIMIZER_SGD || optimizer > RECO_OPTIMIZER_ADAMW)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "unknown optimizer %d", (int)optimizer);
    if (trainer->optimizer.kind != optimizer) {
        reco_trainer_reset_optimizer(trainer); /* moments of another rule mean nothing */
        if (optimizer == RECO_OPTIMIZER_ADAGRAD && trainer->optimizer.epsilon == 1e-8f)
            trainer->optimizer.epsilon = 1e-10f;
        if (optimizer != RECO_OPTIMIZER_ADAGRAD && trainer->optimizer.epsilon == 1e-10f)
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

/* The loss is the batch mean, so an update per example of rate lr and L2
 * weight w is, to first order, a batch step of rate lr x batch and weight
 * w / batch: the setting a per-example user (libmf, Surprise, implicit,
 * Rendle's code) means. The solver families' weight decay is their lambda:
 * not a step's. */
void reco_trainer_apply_semantics(reco_trainer *trainer)
{
    int gradient_family = trainer->model->kind != RECO_MODEL_IALS &&
                          !reco_kind_is_item_item(trainer->model->kind);
    double scale = trainer->per_example && gradient_family ? (double)trainer->batch_size : 1.0;
    trainer->learning_rate = trainer->requested_learning_rate * scale;
    trainer->optimizer.weight_decay = (float)(trainer->requested_weight_decay / scale);
}

reco_status reco_trainer_set_per_example(reco_trainer *trainer, int enabled)
{
    CHECK_TRAINER(trainer);
    trainer->per_example = enabled != 0;
    reco_trainer_apply_semantics(trainer);
    return RECO_OK;
}

reco_status reco_trainer_set_learning_rate(reco_trainer *trainer, double learning_rate)
{
    CHECK_TRAINER(trainer);
    reco_status status = store_checked(&trainer->requested_learning_rate, learning_rate, 0.0, 1e3,
                                       1, "learning rate");
    reco_trainer_apply_semantics(trainer);
    return status;
}

reco_status reco_trainer_set_momentum(reco_trainer *trainer, double momentum)
{
    CHECK_TRAINER(trainer);
    reco_status status = check_range(momentum, 0.0, 0.999999, 0, "momentum");
    if (status != RECO_OK)
        return status;
    if ((trainer->optimizer.momentum > 0.0f) != (momentum > 0.0))
        reco_trainer_reset_optimizer(trainer);
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
    reco_status status = store_checked(&trainer->requested_weight_decay, weight_decay, 0.0, 1e6,
                                       0, "weight decay");
    reco_trainer_apply_semantics(trainer);
    return status;
}

/* RECO_ERR_STATE unless the trainer's model is iALS. */
static reco_status check_ials(const reco_trainer *trainer, const char *setting)
{
    CHECK_TRAINER(trainer);
    if (trainer->model->kind != RECO_MODEL_IALS)
        return reco_fail(RECO_ERR_STATE, "%s is an iALS setting; the model is not iALS", setting);
    return RECO_OK;
}

reco_status reco_trainer_set_unobserved_weight(reco_trainer *trainer, double weight)
{
    reco_status status = check_ials(trainer, "the unobserved weight");
    if (status == RECO_OK)
        status = store_checked_float(&trainer->ials.unobserved_weight, weight, 0.0, 1e6, 0,
                                     "unobserved weight");
    return status;
}

reco_status reco_trainer_set_confidence(reco_trainer *trainer, double alpha)
{
    reco_status status = check_ials(trainer, "the confidence");
    if (status == RECO_OK)
        status = store_checked_float(&trainer->ials.confidence, alpha, 0.0, 1e6, 0, "confidence");
    return status;
}

reco_status reco_trainer_set_solver(reco_trainer *trainer, reco_solver solver, size_t cg_steps)
{
    reco_status status = check_ials(trainer, "the solver");
    if (status != RECO_OK)
        return status;
    if (solver != RECO_SOLVER_CHOLESKY && solver != RECO_SOLVER_CG)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "unknown solver %d", (int)solver);
    if (solver == RECO_SOLVER_CG && (cg_steps < 1 || cg_steps > 64))
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "%zu CG steps: expected 1 to 64", cg_steps);
    trainer->ials.solver = solver;
    if (solver == RECO_SOLVER_CG)
        trainer->ials.cg_steps = cg_steps;
    return RECO_OK;
}

reco_status reco_trainer_set_neighbours(reco_trainer *trainer, size_t k, reco_weighting weighting)
{
    CHECK_TRAINER(trainer);
    if (trainer->model->kind != RECO_MODEL_ITEM_KNN)
        return reco_fail(RECO_ERR_STATE, "neighbours are an item-kNN setting; the model is %s",
                         reco_model_kind_name(trainer->model->kind));
    if (k < 1 || k > 100000)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "%zu neighbours: expected 1 to 100000", k);
    if (weighting < RECO_WEIGHTING_COSINE || weighting > RECO_WEIGHTING_BM25)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "unknown weighting %d", (int)weighting);
    /* the model keeps them: its file says how it was made */
    trainer->model->item_item.k = k;
    trainer->model->item_item.weighting = weighting;
    return RECO_OK;
}

reco_status reco_trainer_set_bm25(reco_trainer *trainer, double k1, double b)
{
    CHECK_TRAINER(trainer);
    reco_status status = check_range(k1, 0.0, 1e6, 0, "BM25's K1");
    if (status == RECO_OK)
        status = check_range(b, 0.0, 1.0, 0, "BM25's B");
    if (status != RECO_OK)
        return status;
    trainer->bm25_k1 = k1;
    trainer->bm25_b = b;
    return RECO_OK;
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
    reco_trainer_apply_semantics(trainer);
    return RECO_OK;
}

reco_status reco_trainer_set_dense_embeddings(reco_trainer *trainer, int dense)
{
    CHECK_TRAINER(trainer);
    trainer->dense_request = dense < 0 ? -1 : dense != 0;
    return RECO_OK;
}

reco_status reco_trainer_set_fixed_negatives(reco_trainer *trainer, int fixed)
{
    CHECK_TRAINER(trainer);
    trainer->fixed_negatives = fixed != 0;
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
    (void)enabled;
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
