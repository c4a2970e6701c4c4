#include <stdlib.h>

#include "error.h"
#include "ranking.h"
#include "topk.h"
#include "reco_alloc.h"

/* Scores held at once: users per block = this / items. */
#define BLOCK_SCORES (1u << 22)

/* Scores a block of users against every item into scores[u * n_items + i]. */
static reco_status score_block(const reco_model *model, reco_backend_workspace *workspace,
                               const int32_t *users, size_t n_users, float *scores,
                               int32_t *pair_users, int32_t *pair_items)
{
    if (reco_kind_is_item_item(model->kind))
        return reco_item_item_score_users(model, users, n_users, scores);
    const reco_backend_ops *ops = model->backend->ops;
    if (ops->kernels.score_items)
        return ops->kernels.score_items(model->backend->context, &model->net, &model->params,
                                        workspace, users, n_users, scores);
    size_t n_items = model->n_items;
    reco_status status = RECO_OK;
    for (size_t u = 0; u < n_users && status == RECO_OK; u++) {
        for (size_t i = 0; i < n_items; i++) {
            pair_users[i] = users[u];
            pair_items[i] = (int32_t)i;
        }
        status = reco_model_predict(model, pair_users, pair_items, n_items, scores + u * n_items);
    }
    return status;
}

reco_status reco_rank_users(const reco_model *model, const int32_t *users, size_t n_users, size_t k,
                            const reco_user_rows *exclude, int32_t *items, float *scores,
                            size_t *counts)
{
    size_t n_items = model->n_items;
    size_t block = BLOCK_SCORES / n_items ? BLOCK_SCORES / n_items : 1;
    if (block > n_users)
        block = n_users;
    float *block_scores = reco_malloc((block ? block : 1) * n_items * sizeof *block_scores);
    int32_t *pair_users = reco_malloc(n_items * sizeof *pair_users);
    int32_t *pair_items = reco_malloc(n_items * sizeof *pair_items);
    uint8_t *excluded = reco_calloc(n_items, 1);
    reco_backend_workspace *workspace = NULL;
    reco_status status = RECO_OK;
    if (!block_scores || !pair_users || !pair_items || !excluded)
        status = reco_fail_oom();
    if (status == RECO_OK)
        status = reco_scratch_take(model->scratch, &workspace);
    for (size_t begin = 0; begin < n_users && status == RECO_OK; begin += block) {
        size_t count = n_users - begin < block ? n_users - begin : block;
        status = score_block(model, workspace, users + begin, count, block_scores, pair_users,
                             pair_items);
        for (size_t u = 0; u < count && status == RECO_OK; u++) {
            size_t n_excluded = 0;
            const int32_t *seen =
                exclude ? reco_user_rows_of(exclude, users[begin + u], &n_excluded) : NULL;
            for (size_t i = 0; i < n_excluded; i++)
                if ((size_t)seen[i] < n_items)
                    excluded[seen[i]] = 1;
            reco_topk topk;
            reco_topk_init(&topk, k, items + (begin + u) * k, scores + (begin + u) * k);
            const float *row = block_scores + u * n_items;
            for (size_t i = 0; i < n_items; i++)
                if (!excluded[i])
                    reco_topk_push(&topk, (int32_t)i, row[i]);
            counts[begin + u] = reco_topk_finish(&topk);
            for (size_t i = 0; i < n_excluded; i++)
                if ((size_t)seen[i] < n_items)
                    excluded[seen[i]] = 0;
        }
    }
    reco_scratch_give(model->scratch, workspace);
    reco_free(block_scores);
    reco_free(pair_users);
    reco_free(pair_items);
    reco_free(excluded);
    return status;
}
