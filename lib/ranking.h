/* Internal: ranking every item for one user, shared by recommendation and
 * the full-ranking metrics. */
#ifndef RECO_LIB_RANKING_H
#define RECO_LIB_RANKING_H

#include "model_impl.h"
#include "topk.h"

typedef struct reco_item_scorer {
    int32_t *users;
    int32_t *items;
    float *scores;
    uint8_t *excluded; /* one flag per item */
} reco_item_scorer;

reco_status reco_item_scorer_init(reco_item_scorer *scorer, size_t n_items);
void reco_item_scorer_free(reco_item_scorer *scorer);

/* Scores every item for `user` and leaves the best k of those not in
 * `excluded_items` in topk, sorted best first. */
reco_status reco_rank_items(reco_model *model, reco_item_scorer *scorer, int32_t user,
                            const int32_t *excluded_items, size_t n_excluded, reco_topk *topk);

#endif
