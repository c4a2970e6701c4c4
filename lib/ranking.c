#include <stdlib.h>

#include "error.h"
#include "ranking.h"
#include "reco_alloc.h"
#include "reco_topk.h"

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

/* One user's top k from its row of scores, its left-out items skipped. */
static size_t keep_best(const reco_model *model, const float *row, const reco_rank_filter *filter,
                        int32_t user, uint8_t *excluded, size_t k, int32_t *items, float *scores)
{
    size_t n_items = model->n_items, n_excluded = 0;
    const int32_t *seen =
        filter->exclude ? reco_user_rows_of(filter->exclude, user, &n_excluded) : NULL;
    for (size_t i = 0; i < n_excluded; i++)
        if ((size_t)seen[i] < n_items)
            excluded[seen[i]] = 1;
    reco_topk topk;
    reco_topk_init(&topk, k, items, scores);
    for (size_t i = 0; i < n_items; i++)
        if (!excluded[i] && (!filter->candidates || filter->candidates[i]))
            reco_topk_push(&topk, (int32_t)i, row[i]);
    for (size_t i = 0; i < n_excluded; i++)
        if ((size_t)seen[i] < n_items)
            excluded[seen[i]] = 0;
    return reco_topk_finish(&topk);
}

/* The host path: blocks of users scored whole, the top k kept here. */
static reco_status rank_on_host(const reco_model *model, const int32_t *users, size_t n_users,
                                size_t k, const reco_rank_filter *filter, int32_t *items,
                                float *scores, size_t *counts)
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
        for (size_t u = 0; u < count && status == RECO_OK; u++)
            counts[begin + u] = keep_best(model, block_scores + u * n_items, filter,
                                          users[begin + u], excluded, k, items + (begin + u) * k,
                                          scores + (begin + u) * k);
    }
    reco_scratch_give(model->scratch, workspace);
    reco_free(block_scores);
    reco_free(pair_users);
    reco_free(pair_items);
    reco_free(excluded);
    return status;
}

reco_status reco_rank_users(const reco_model *model, const int32_t *users, size_t n_users, size_t k,
                            const reco_rank_filter *filter, int32_t *items, float *scores,
                            size_t *counts)
{
    static const reco_rank_filter no_filter = {NULL, NULL};
    if (!filter)
        filter = &no_filter;
    const reco_backend_ops *ops = model->backend->ops;
    int item_item = reco_kind_is_item_item(model->kind);
    if (!ops->kernels.rank_items || (!item_item && model->net.n_layers > 0))
        return rank_on_host(model, users, n_users, k, filter, items, scores, counts);
    const reco_user_rows *exclude = filter->exclude;
    reco_rank_request request = {
        .users = users,
        .n_users = n_users,
        .n_items = model->n_items,
        .k = k,
        .history = item_item ? reco_sparse_rows_host(&model->history) : (reco_host_rows){0},
        .item_weights = item_item ? model->item_item.weights : NULL,
        .neighbours = reco_sparse_rows_host(&model->item_item.neighbours),
        .exclude = exclude ? (reco_host_rows){exclude->offsets, exclude->items, NULL,
                                              exclude->n_users}
                           : (reco_host_rows){0},
        .candidates = filter->candidates,
        .items = items,
        .scores = scores,
        .counts = counts};
    /* an item-item model without a history scores every user 0: an empty
     * history stands for it */
    static const size_t no_offsets[1] = {0};
    if (item_item && !request.history.offsets)
        request.history = (reco_host_rows){no_offsets, NULL, NULL, 0};
    return ops->kernels.rank_items(model->backend->context, &model->net, &model->params,
                                   &request);
}
