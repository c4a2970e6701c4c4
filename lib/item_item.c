/* The item-item families' scoring, similar items and fold-in, on the host:
 * a user's scores are a sum of rows of the item-item weights, one row for
 * each item the user had in training. */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "item_item.h"
#include "model_impl.h"
#include "reco_alloc.h"
#include "reco_item_scores.h"
#include "reco_topk.h"

int reco_kind_is_item_item(reco_model_kind kind)
{
    return kind == RECO_MODEL_EASE || kind == RECO_MODEL_ITEM_KNN;
}

void reco_item_item_free(reco_item_item *item_item)
{
    reco_sparse_rows_free(&item_item->neighbours);
    reco_free(item_item->weights);
    item_item->weights = NULL;
}

/* A user's scores for every item into row (n_items floats). A user the
 * training data did not reach (a row past the history) scores 0. */
static void score_user(const reco_model *model, int32_t user, float *row)
{
    reco_host_rows history = reco_sparse_rows_host(&model->history);
    reco_host_rows neighbours = reco_sparse_rows_host(&model->item_item.neighbours);
    reco_item_scores(&history, model->item_item.weights, &neighbours, model->n_items, user, row);
}

reco_status reco_item_item_score_users(const reco_model *model, const int32_t *users,
                                       size_t n_users, float *scores)
{
    for (size_t u = 0; u < n_users; u++)
        score_user(model, users[u], scores + u * model->n_items);
    return RECO_OK;
}

reco_status reco_item_item_predict(const reco_model *model, const int32_t *users,
                                   const int32_t *items, size_t n, float *scores)
{
    float *row = reco_malloc_array(model->n_items, sizeof *row);
    if (!row)
        return reco_fail_oom();
    for (size_t begin = 0, end; begin < n; begin = end) {
        for (end = begin + 1; end < n && users[end] == users[begin]; end++)
            ;
        score_user(model, users[begin], row);
        for (size_t p = begin; p < end; p++)
            scores[p] = row[items[p]];
    }
    reco_free(row);
    return RECO_OK;
}

reco_status reco_item_item_similar(const reco_model *model, int32_t item, size_t k,
                                   int32_t *items, float *similarities, size_t *n)
{
    float *row = reco_calloc(model->n_items, sizeof *row);
    if (!row)
        return reco_fail_oom();
    reco_host_rows neighbour_rows = reco_sparse_rows_host(&model->item_item.neighbours);
    reco_add_item_row(model->item_item.weights, &neighbour_rows, model->n_items, item, 1.0f, row);
    /* items without a weight are no neighbours (item-kNN keeps k of them) */
    const reco_sparse_rows *neighbours = &model->item_item.neighbours;
    reco_topk topk;
    reco_topk_init(&topk, k, items, similarities);
    if (model->item_item.weights) {
        for (size_t i = 0; i < model->n_items; i++)
            if ((int32_t)i != item)
                reco_topk_push(&topk, (int32_t)i, row[i]);
    } else if (neighbours->offsets && (size_t)item < neighbours->n_rows) {
        for (size_t e = neighbours->offsets[item]; e < neighbours->offsets[item + 1]; e++)
            if (neighbours->columns[e] != item)
                reco_topk_push(&topk, neighbours->columns[e], neighbours->values[e]);
    }
    *n = reco_topk_finish(&topk);
    reco_free(row);
    return RECO_OK;
}

reco_status reco_history_add_user(reco_model *model, const int32_t *items, size_t n_items)
{
    /* the model has its new user already (reco_model_add_users) */
    reco_sparse_rows *history = &model->history;
    size_t rows = history->offsets ? history->n_rows : 0;
    size_t entries = rows ? history->offsets[rows] : 0;
    /* the new user is the model's last: n_users + 1 offsets */
    size_t *offsets = reco_realloc(history->offsets, (model->n_users + 1) * sizeof *offsets);
    if (!offsets)
        return reco_fail_oom();
    if (!history->offsets)
        offsets[0] = 0;
    history->offsets = offsets;
    int32_t *columns = reco_realloc(history->columns, (entries + n_items) * sizeof *columns);
    if (columns)
        history->columns = columns;
    float *values = reco_realloc(history->values, (entries + n_items) * sizeof *values);
    if (values)
        history->values = values;
    if (!columns || !values)
        return reco_fail_oom();
    /* users between the history's last row and the new one had nothing */
    for (; rows + 1 < model->n_users; rows++)
        offsets[rows + 1] = offsets[rows];
    memcpy(history->columns + entries, items, n_items * sizeof *items);
    for (size_t i = 0; i < n_items; i++)
        history->values[entries + i] = 1.0f;
    offsets[rows + 1] = entries + n_items;
    history->n_rows = rows + 1;
    history->n_columns = model->n_items;
    return RECO_OK;
}
