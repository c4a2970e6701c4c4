/* Internal: the trainer's structure, shared by its three files: trainer.c
 * (the handle and its settings), trainer_epoch.c (epoch samples and the batch
 * loop) and trainer_fit.c (validation, early stopping, fit). */
#ifndef RECO_LIB_TRAINER_IMPL_H
#define RECO_LIB_TRAINER_IMPL_H

#include <time.h>

#include "dataset_impl.h"
#include "error.h"
#include "model_impl.h"
#include "reco/trainer.h"

/* The dropout masks' random stream of a seed (samples follow the law of
 * backends/common/reco_sampling.h). */
#define STREAM_DROPOUT 0x44524f50ull

typedef struct epoch_buffers {
    reco_backend_buffer *users;
    reco_backend_buffer *items;
    reco_backend_buffer *targets;
    reco_backend_buffer *negatives;
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
    size_t n_users;
    size_t n_items;
    reco_backend_buffer *buffers[5]; /* users, items, ratings, user offsets, user items */
    reco_epoch_data data;
} device_dataset;

/* iALS settings, and the training set's sparse rows both ways on the
 * backend (side 0: each user's items, 1: each item's users; offsets,
 * columns, confidences), kept while the same dataset and confidence train. */
typedef struct ials_state {
    float unobserved_weight;
    float confidence;
    reco_solver solver;
    size_t cg_steps;
    double objective; /* after the last epoch, per observed pair (NaN before) */
    uint64_t serial;  /* of the dataset uploaded; 0 when none */
    float uploaded_confidence;
    size_t n_rows[2];
    size_t entries;
    reco_backend_buffer *buffers[2][3];
} ials_state;

/* This trainer as one rank of a data-parallel job (world 1: alone). */
typedef enum parallel_mode {
    PARALLEL_ALONE = 0,
    PARALLEL_HOST,   /* gradients summed by `exchange` on the host */
    PARALLEL_DEVICE, /* gradients summed by the backend over its device group */
} parallel_mode;

typedef struct data_parallel {
    parallel_mode mode;
    size_t rank, world;
    reco_gradient_exchange_fn exchange;
    void *user_data;
    reco_rows_exchange_fn rows_exchange; /* the solver families' (iALS) */
    void *rows_user_data;
    reco_sparse_gradient gradient; /* host buffers, sized for the model */
    unsigned layout_version;       /* the model's, when they were sized */
} data_parallel;

struct reco_trainer {
    reco_model *model;
    reco_loss loss;
    int mean_reduction;
    size_t negatives;
    int fixed_negatives; /* every epoch draws epoch 0's negatives */
    int dense_request;   /* 1 dense, 0 lazy, -1 chosen each epoch (dense_for_epoch) */
    reco_optimizer_config optimizer; /* weight_decay: as the backend applies it */
    double learning_rate;            /* as the backend applies it */
    /* what the caller set: per example (libmf, Surprise) or per batch mean */
    int per_example;
    double requested_learning_rate;
    double requested_weight_decay;
    double lr_decay;
    size_t batch_size;
    uint64_t seed;
    reco_progress_fn progress;
    void *progress_data;
    reco_epoch_fn epoch_callback;
    void *epoch_data;
    reco_backend_workspace *workspace;
    size_t workspace_rows;
    size_t workspace_threads; /* the backend's, when the workspace was made */
    reco_backend_optimizer *optimizer_state;
    uint64_t step;
    size_t epoch;
    uint64_t seen_serial; /* the dataset the model's seen items came from */
    epoch_buffers buffers;
    unsigned layout_version; /* the model's, when workspace and state were made */
    validation validation;
    device_dataset device_data;
    data_parallel parallel;
    ials_state ials;
    double bm25_k1, bm25_b; /* item-kNN's BM25 weighting */
};

/* Seconds on the monotonic clock. */
static inline double reco_seconds_now(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + 1e-9 * (double)now.tv_nsec;
}

/* Samples an epoch is made in at a time (trainer_epoch.c); a test hook. */
extern size_t reco_epoch_window_samples;

static inline const reco_backend_ops *ops_of(const reco_trainer *trainer)
{
    return trainer->model->backend->ops;
}

static inline reco_backend_context *context_of(const reco_trainer *trainer)
{
    return trainer->model->backend->context;
}

#define CHECK_TRAINER(trainer)                                                      \
    do {                                                                            \
        if (!(trainer))                                                             \
            return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL trainer");            \
    } while (0)

/* Release what the trainer holds on the backend; each leaves its part empty. */
void reco_trainer_free_buffers(reco_trainer *trainer);
void reco_trainer_free_device_dataset(reco_trainer *trainer);
void reco_trainer_reset_optimizer(reco_trainer *trainer);
void reco_trainer_free_workspace(reco_trainer *trainer);
void reco_trainer_free_parallel(reco_trainer *trainer);
void reco_trainer_free_ials(reco_trainer *trainer);

/* Sets the learning rate and weight decay the backend applies from those
 * the caller set, per example or per batch mean (reco_trainer_set_per_example). */
void reco_trainer_apply_semantics(reco_trainer *trainer);

/* One iALS epoch (trainer_ials.c): every user solved, then every item;
 * *mean_loss is the objective after it, per observed pair. */
reco_status reco_trainer_ials_epoch(reco_trainer *trainer, const reco_dataset *train,
                                    double *mean_loss);

/* One EASE or item-kNN epoch (trainer_item_item.c): the fit from `train`,
 * which the model then keeps as its users' history; *mean_loss is NaN. */
reco_status reco_trainer_item_item_epoch(reco_trainer *trainer, const reco_dataset *train,
                                         double *mean_loss);

/* One batch of a data-parallel trainer (trainer_parallel.c): this rank's
 * share of `global` forward and backward, the exchange, the step; *loss is
 * the batch's loss summed over the ranks. */
reco_status reco_trainer_parallel_step(reco_trainer *trainer, const reco_batch *global,
                                       float learning_rate, double *loss);

#endif
