/* Internal: ranking every item for many users, shared by recommendation and
 * the full-ranking metrics. Through the backend's rank_items where it has
 * one and the model is a dot-product or item-item one (blocks of products,
 * top k merged block by block); else users are scored in blocks, through
 * the backend's score_items or predict, and the top k kept here. */
#ifndef RECO_LIB_RANKING_H
#define RECO_LIB_RANKING_H

#include "dataset_impl.h"
#include "model_impl.h"
#include "reco/filter.h"

/* What a ranking leaves out: each user's items in `exclude` (NULL: none),
 * and every item whose flag in `candidates` (n_items flags, NULL: none) is
 * 0. */
typedef struct reco_rank_filter {
    const reco_user_rows *exclude;
    const uint8_t *candidates;
} reco_rank_filter;

/* The user rows a filter leaves out (NULL filter: the model's seen items),
 * *rows pointing at `view` or the dataset's cache, or NULL for none. */
reco_status reco_filter_seen_rows(const reco_filter *filter, const reco_model *model,
                                  reco_user_rows *view, const reco_user_rows **rows);

/* A filter's candidate flags, or NULL when every item is one. */
const uint8_t *reco_filter_candidates(const reco_filter *filter);

/* For each of n_users users writes its best k items (score descending, then
 * item index) to items[u * k ...] and scores[u * k ...] and their number to
 * counts[u], leaving out what `filter` says (may be NULL). */
reco_status reco_rank_users(const reco_model *model, const int32_t *users, size_t n_users, size_t k,
                            const reco_rank_filter *filter, int32_t *items, float *scores,
                            size_t *counts);

#endif
