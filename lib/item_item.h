/* Internal: the item-item families (EASE, item-kNN): what a model scores
 * with, and the scoring. A user's score for item i is the sum, over the
 * items j the user had in training (with their values: the model's
 * history, which every kind keeps as its seen items), of the item-item
 * weight w_ji: EASE's dense B, or item-kNN's k neighbours of each item. */
#ifndef RECO_LIB_ITEM_ITEM_H
#define RECO_LIB_ITEM_ITEM_H

#include "sparse_rows.h"

typedef struct reco_model reco_model;

typedef struct reco_item_item {
    float *weights;              /* EASE: B, n_items x n_items, row-major; else NULL */
    reco_sparse_rows neighbours; /* item-kNN: each item's neighbours, sorted by item */
    size_t k;                    /* item-kNN: neighbours kept per item */
    reco_weighting weighting;    /* item-kNN */
} reco_item_item;

/* 1 for EASE and item-kNN. */
int reco_kind_is_item_item(reco_model_kind kind);

/* Frees what *item_item holds and zeroes it. */
void reco_item_item_free(reco_item_item *item_item);

/* Scores n (user, item) pairs; runs of one user share its score row. */
reco_status reco_item_item_predict(const reco_model *model, const int32_t *users,
                                   const int32_t *items, size_t n, float *scores);

/* Scores each of n_users users against every item: scores[u * n_items + i]. */
reco_status reco_item_item_score_users(const reco_model *model, const int32_t *users,
                                       size_t n_users, float *scores);

/* The k items with the largest weights in item `item`'s row, itself left out. */
reco_status reco_item_item_similar(const reco_model *model, int32_t item, size_t k,
                                   int32_t *items, float *similarities, size_t *n);

/* Appends the model's last user, who had `items` (sorted, distinct; value 1
 * each), to its history: the item-item kinds' fold-in, and every kind's
 * seen items when the model keeps them. */
reco_status reco_history_add_user(reco_model *model, const int32_t *items, size_t n_items);

#endif
