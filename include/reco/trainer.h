/* libreco — training a model: losses, optimizers, epochs, progress.
 *
 * A trainer binds to one model and holds the optimizer state. Configure it
 * with setters (validated at once), then call reco_trainer_fit or
 * reco_trainer_epoch with a training dataset sharing the model's sizes.
 *
 * Threads (see reco/common.h): a trainer is used by one thread at a time,
 * and its epochs change its model (no other call on that model meanwhile).
 * The training dataset is only read: several trainers, on one backend or
 * several, may train on one dataset at the same time. */
#ifndef RECO_TRAINER_H
#define RECO_TRAINER_H

#include "reco/common.h"
#include "reco/dataset.h"
#include "reco/metrics.h"
#include "reco/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct reco_trainer reco_trainer;

typedef enum reco_loss {
    RECO_LOSS_BCE = 0, /* BCE with logits on positives (1) and sampled negatives (0) */
    RECO_LOSS_MSE = 1, /* squared error of the score against the rating */
    RECO_LOSS_BPR = 2  /* -log sigmoid(score(u,i) - score(u,j)), one negative j per positive */
} reco_loss;

typedef enum reco_optimizer {
    RECO_OPTIMIZER_SGD = 0,
    RECO_OPTIMIZER_ADAGRAD = 1,
    RECO_OPTIMIZER_ADAM = 2,
    RECO_OPTIMIZER_ADAMW = 3 /* Adam with decoupled weight decay (torch.optim.AdamW): the
                                decay shrinks parameters by lr x decay a step instead of
                                entering the moments */
} reco_optimizer;

/* What a progress callback is told, after every batch. */
typedef struct reco_progress {
    size_t struct_size; /* sizeof(reco_progress) of the library that calls */
    size_t epoch;       /* 0-based, counted over the trainer's life */
    size_t step;        /* batches done in this epoch, 1-based */
    size_t steps;       /* batches in this epoch */
    double loss;        /* mean batch loss of this epoch so far */
    double samples_per_second;
} reco_progress;

/* Return nonzero to stop: the running call then returns RECO_ERR_INTERRUPTED
 * after finishing the current batch (the model stays consistent). */
typedef int (*reco_progress_fn)(const reco_progress *progress, void *user_data);

/* How an iALS trainer solves each row's least-squares problem. */
typedef enum reco_solver {
    RECO_SOLVER_CHOLESKY = 0, /* exact: the row's d x d system factored */
    RECO_SOLVER_CG = 1        /* conjugate gradient steps from the row's current
                                 factors (implicit's default) */
} reco_solver;

/* Creates a trainer for an initialized model. Defaults: BCE, 4 negatives,
 * Adam (lr 0.001, betas 0.9/0.999, eps 1e-8), no weight decay, no decay of
 * the learning rate, batch 256, lazy embedding updates (see
 * reco_trainer_set_dense_embeddings), seed 0, all
 * cores. The model must outlive the trainer. */
RECO_API reco_status reco_trainer_new(reco_model *model, reco_trainer **out);
RECO_API void reco_trainer_free(reco_trainer *trainer);

/* The loss: BCE with logits (default), MSE, or BPR (pairs, one negative). */
RECO_API reco_status reco_trainer_set_loss(reco_trainer *trainer, reco_loss loss);
/* MSE only: 1 averages over the batch (default), 0 sums. */
RECO_API reco_status reco_trainer_set_mean_reduction(reco_trainer *trainer, int mean);
/* Negatives per positive for BCE, and for MSE on implicit data (0..1000). */
RECO_API reco_status reco_trainer_set_negatives(reco_trainer *trainer, size_t negatives);
/* SGD, Adagrad or Adam (default). Changing it forgets the optimizer's moments
 * and switches epsilon between Adam's and Adagrad's default if unchanged. */
RECO_API reco_status reco_trainer_set_optimizer(reco_trainer *trainer, reco_optimizer optimizer);
/* The learning rate, in (0, 1000]; default 0.001. */
RECO_API reco_status reco_trainer_set_learning_rate(reco_trainer *trainer, double learning_rate);
/* SGD momentum in [0, 1), default 0. */
RECO_API reco_status reco_trainer_set_momentum(reco_trainer *trainer, double momentum);
/* Adam's beta1 and beta2, each in [0, 0.999999]; both are checked before
 * either is set. Default 0.9 and 0.999. */
RECO_API reco_status reco_trainer_set_adam_betas(reco_trainer *trainer, double beta1,
                                                 double beta2);
/* Adam and Adagrad epsilon (> 0); Adagrad's default is 1e-10, as torch's. */
RECO_API reco_status reco_trainer_set_epsilon(reco_trainer *trainer, double epsilon);
/* L2 penalty added to gradients (torch's weight_decay), 0 to 1e6. For iALS it
 * is the regularization lambda, scaled per row by its frequency (a user's
 * items + unobserved weight x all items; likewise for an item). */
RECO_API reco_status reco_trainer_set_weight_decay(reco_trainer *trainer, double weight_decay);

/* iALS (RECO_MODEL_IALS) settings; RECO_ERR_STATE on a trainer of another
 * family. The objective is
 *   sum over observed (u,i) of c_ui (p_u . q_i - 1)^2
 *   + unobserved_weight x sum over all (u,i) of (p_u . q_i)^2
 *   + weight_decay x (sum_u (n_u + w0 n_items) |p_u|^2 + sum_i (n_i + w0 n_users) |q_i|^2)
 * with c_ui = 1 + confidence x r_ui (r_ui: the pair's rating, 1 without
 * ratings; summed over duplicate rows). Defaults: unobserved weight 0.3,
 * weight decay 0.007, confidence 0 (every observed pair weighs 1), the CG
 * solver with 3 steps. One epoch solves every user, then every item. */
RECO_API reco_status reco_trainer_set_unobserved_weight(reco_trainer *trainer, double weight);
RECO_API reco_status reco_trainer_set_confidence(reco_trainer *trainer, double alpha);
/* The row solver, and its steps for RECO_SOLVER_CG (1 to 64; ignored by
 * Cholesky). */
RECO_API reco_status reco_trainer_set_solver(reco_trainer *trainer, reco_solver solver,
                                             size_t cg_steps);

/* EASE (RECO_MODEL_EASE): its lambda is reco_trainer_set_weight_decay
 * (default 1000 for EASE); an epoch is the closed-form fit, which needs
 * 3 x items^2 floats at its peak (checked first: RECO_ERR_OUT_OF_MEMORY with
 * the figure when the machine lacks them). Item-kNN (RECO_MODEL_ITEM_KNN):
 * an epoch keeps the k most similar items of each item (1 to 100000;
 * default 100) under `weighting` (default BM25); RECO_ERR_STATE on a trainer
 * of another family. */
RECO_API reco_status reco_trainer_set_neighbours(reco_trainer *trainer, size_t k,
                                                 reco_weighting weighting);
/* Item-kNN's BM25 weighting: K1 >= 0 (term saturation) and B in [0, 1]
 * (length normalization); defaults 1.2 and 0.75, implicit's. */
RECO_API reco_status reco_trainer_set_bm25(reco_trainer *trainer, double k1, double b);
/* 1: the learning rate and weight decay are per example, as libmf,
 * Surprise, implicit and Rendle et al.'s code mean them: the trainer steps
 * on the batch mean with rate lr x batch and weight decay wd / batch (the
 * same first-order update; exactly the same at batch size 1). 0 (default):
 * both apply to the batch mean, as torch.optim's do. The solver families'
 * weight decay (iALS's and EASE's lambda) is not scaled. */
RECO_API reco_status reco_trainer_set_per_example(reco_trainer *trainer, int enabled);
/* Multiplies the learning rate by gamma after every epoch, (0, 1]. */
RECO_API reco_status reco_trainer_set_lr_decay(reco_trainer *trainer, double gamma);
/* Samples per batch, 1 to 2^24; default 256. */
RECO_API reco_status reco_trainer_set_batch_size(reco_trainer *trainer, size_t batch_size);
/* 1: embedding tables are stepped densely, every row every step, as
 * torch.optim.Adam on nn.Embedding does; 0: only the rows a batch touched
 * are stepped (lazy), each after a replay of what dense steps did to it
 * while it sat idle (its momentum; not weight decay), and every row again as
 * an epoch ends; -1 (default): lazy, but dense with weight decay on tables
 * of at most 4 batches' rows (users + items <= 4 x batch x 2, or x 3 for
 * BPR). */
RECO_API reco_status reco_trainer_set_dense_embeddings(reco_trainer *trainer, int dense);
/* 1: every epoch trains on the negatives of the first (drawn once, in a new
 * order each epoch), as seed 000's loader, built before the epoch loop,
 * does; 0 (default): fresh negatives every epoch, as the NCF paper. */
RECO_API reco_status reco_trainer_set_fixed_negatives(reco_trainer *trainer, int fixed);
/* Seed of the negatives, the shuffles and dropout (default 0). */
RECO_API reco_status reco_trainer_set_seed(reco_trainer *trainer, uint64_t seed);
/* Kept for the ABI; does nothing and returns RECO_OK (RECO_ERR_INVALID_
 * ARGUMENT for a NULL trainer). Every backend, on the host or its device,
 * makes the same samples for a seed (one counter-based law), so where they
 * are made no longer matters. */
RECO_API reco_status reco_trainer_set_device_sampling(reco_trainer *trainer, int enabled);
/* Kept for compatibility: reco_backend_set_threads on the model's backend,
 * so it changes the threads of every model and trainer on that backend.
 * The same seed and thread count give bit-identical models. */
RECO_API reco_status reco_trainer_set_threads(reco_trainer *trainer, size_t threads);
/* Calls `callback` after every batch (NULL: none). Without one, a device
 * backend keeps the loss on the device until the epoch ends. */
RECO_API reco_status reco_trainer_set_progress(reco_trainer *trainer, reco_progress_fn callback,
                                               void *user_data);

/* Runs one epoch over `train`: samples negatives, shuffles, steps the model
 * batch by batch, and writes the mean batch loss to *mean_loss (may be NULL). */
RECO_API reco_status reco_trainer_epoch(reco_trainer *trainer, const reco_dataset *train,
                                        double *mean_loss);

/* Evaluates `valid` after every epoch of reco_trainer_fit with `metric` at
 * K = k: HR and NDCG by the sampled protocol when `valid` has test negatives
 * (else by full ranking), Recall, Precision and MAP by full ranking without
 * the items of `exclude` (may be NULL), RMSE, MAE and MSE on the ratings.
 * fit then keeps the best parameters and restores them when it ends. The
 * datasets must outlive the trainer's use of them; valid NULL turns it off. */
RECO_API reco_status reco_trainer_set_validation(reco_trainer *trainer, const reco_dataset *valid,
                                                 const reco_dataset *exclude, reco_metric metric,
                                                 size_t k);

/* Stops reco_trainer_fit after `patience` epochs in a row without a better
 * validation value (0, the default: never). Needs a validation set. */
RECO_API reco_status reco_trainer_set_early_stopping(reco_trainer *trainer, size_t patience);

/* The best validation value seen by reco_trainer_fit and its epoch (0-based,
 * counted over the trainer's life); RECO_ERR_STATE before any. */
RECO_API reco_status reco_trainer_best(const reco_trainer *trainer, size_t *epoch,
                                       double *value);

/* The validation value after the last epoch fit ran; RECO_ERR_STATE before any. */
RECO_API reco_status reco_trainer_last_validation(const reco_trainer *trainer, double *value);

/* What reco_trainer_fit reports after each epoch. */
typedef struct reco_epoch_report {
    size_t struct_size; /* sizeof(reco_epoch_report) of the library that calls */
    size_t epoch;       /* 0-based, counted over the trainer's life */
    double loss;        /* the epoch's mean batch loss */
    double seconds;     /* the epoch's training time, validation left out */
    int validated;      /* 1 when the values below are set */
    double validation;  /* this epoch's validation value */
    double best;        /* the best so far, and its epoch */
    size_t best_epoch;
} reco_epoch_report;

/* Return nonzero to stop fit after this epoch (the best parameters are then
 * restored as when it ends; fit returns RECO_OK). */
typedef int (*reco_epoch_fn)(const reco_epoch_report *report, void *user_data);

/* Calls `callback` after every epoch of reco_trainer_fit, once validation
 * (if any) has run (NULL: none). */
RECO_API reco_status reco_trainer_set_epoch_callback(reco_trainer *trainer, reco_epoch_fn callback,
                                                     void *user_data);

/* Runs `epochs` epochs (see reco_trainer_epoch), validating after each when a
 * validation set is configured; may stop early (see above). */
RECO_API reco_status reco_trainer_fit(reco_trainer *trainer, const reco_dataset *train, size_t epochs);

/* Loss and gradient of one explicit batch, without stepping: for BCE and MSE
 * `targets` gives each row's target; for BPR `negative_items` gives each
 * row's negative. Writes the batch loss and, when gradient is not NULL, the
 * gradient in the order of reco_model_get_parameters. Dropout is applied as
 * in training. */
RECO_API reco_status reco_trainer_batch_gradient(reco_trainer *trainer, const int32_t *users,
                                                 const int32_t *items, const float *targets,
                                                 const int32_t *negative_items, size_t n,
                                                 double *loss, float *gradient);

#ifdef __cplusplus
}
#endif

#endif
