/* Internal: ranking every item for many users, shared by recommendation and
 * the full-ranking metrics. Users are scored in blocks, through the
 * backend's score_items when it has one (one matrix product for dot-product
 * models on the CPU), else through predict. */
#ifndef RECO_LIB_RANKING_H
#define RECO_LIB_RANKING_H

#include "dataset_impl.h"
#include "model_impl.h"

/* For each of n_users users writes its best k items (score descending, then
 * item index) to items[u * k ...] and scores[u * k ...] and their number to
 * counts[u], leaving out the user's items in `exclude` (may be NULL). */
reco_status reco_rank_users(const reco_model *model, const int32_t *users, size_t n_users, size_t k,
                            const reco_user_rows *exclude, int32_t *items, float *scores,
                            size_t *counts);

#endif
