/* An independent numeric reference for the conformance suite: MF, GMF, MLP
 * and NeuMF forward and backward in double precision, written from the
 * documented model (include/reco/model.h, trainer.h) and nothing of the
 * library's, so that no backend is held only against itself. It is slow
 * (one sample at a time, plain loops) and small models are all it needs. */
#ifndef RECO_TESTS_REFERENCE_NET_H
#define RECO_TESTS_REFERENCE_NET_H

#include <stddef.h>
#include <stdint.h>

#include "reco/reco.h"

/* A model as reco_model_new and its setters describe it. */
typedef struct reference_shape {
    reco_model_kind kind; /* MF, GMF, MLP or NeuMF */
    size_t n_users, n_items;
    size_t factors;                     /* MF and GMF part */
    size_t layers[RECO_MAX_LAYERS + 1]; /* MLP tower sizes, layers[0] = user ++ item */
    size_t n_layers;                    /* entries of layers[] */
    int biases;                         /* MF's user, item and global biases */
    reco_activation output;
    double dropout;        /* on each tower layer's output, in training */
    uint64_t dropout_seed; /* the batch's */
} reference_shape;

/* One batch: BCE and MSE rows (user, item, target), or BPR pairs (user,
 * item, negative). MSE and BPR are means over rows, as the trainer's default
 * reduction. */
typedef struct reference_batch {
    const int32_t *users, *items, *negatives;
    const float *targets;
    size_t n;
    reco_loss loss;
} reference_batch;

/* reco_model_parameter_count of such a model. */
size_t reference_parameter_count(const reference_shape *shape);

/* The batch's loss, and when `gradient` is not NULL its gradient in the
 * order of reco_model_get_parameters (reference_parameter_count doubles;
 * zero for MF's fixed head). `params` are the model's parameters. */
double reference_loss_and_gradient(const reference_shape *shape, const float *params,
                                   const reference_batch *batch, double *gradient);

/* The model's scores act(logit) of n pairs, without dropout. */
void reference_scores(const reference_shape *shape, const float *params, const int32_t *users,
                      const int32_t *items, size_t n, double *scores);

#endif
