/* Serving: top-k recommendation, embeddings and similar items. The
 * model's vocabulary is in model_vocabulary.c, fold-in in fold_in.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dataset_impl.h"
#include "error.h"
#include "model_impl.h"
#include "ranking.h"
#include "reco_topk.h"
#include "reco_alloc.h"

/* The arguments every recommendation checks. */
static reco_status check_request(const reco_model *model, const int32_t *users, size_t n_users,
                                 size_t k, const int32_t *items, const float *scores,
                                 const size_t *counts)
{
    reco_status status = reco_model_check_ready(model);
    if (status != RECO_OK)
        return status;
    if ((n_users && (!users || !counts)) || (k && n_users && (!items || !scores)))
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL users, items, scores or counts");
    for (size_t u = 0; u < n_users; u++)
        if (users[u] < 0 || (size_t)users[u] >= model->n_users)
            return reco_fail(RECO_ERR_OUT_OF_RANGE, "user %d outside the model's %zu users",
                             (int)users[u], model->n_users);
    return RECO_OK;
}

reco_status reco_model_recommend_batch(const reco_model *model, const int32_t *users,
                                       size_t n_users, size_t k, const reco_dataset *exclude,
                                       int32_t *items, float *scores, size_t *counts)
{
    reco_status status = check_request(model, users, n_users, k, items, scores, counts);
    if (status != RECO_OK)
        return status;
    const reco_user_rows *rows = NULL;
    reco_user_rows seen;
    if (exclude)
        status = reco_dataset_user_rows(exclude, &rows);
    else
        status = reco_filter_seen_rows(NULL, model, &seen, &rows);
    if (status == RECO_OK)
        status = reco_rank_users(model, users, n_users, k, &(reco_rank_filter){rows, NULL}, items,
                                 scores, counts);
    return status;
}

reco_status reco_model_recommend_filtered(const reco_model *model, const int32_t *users,
                                          size_t n_users, size_t k, const reco_filter *filter,
                                          int32_t *items, float *scores, size_t *counts)
{
    reco_status status = check_request(model, users, n_users, k, items, scores, counts);
    const reco_user_rows *rows = NULL;
    reco_user_rows seen;
    if (status == RECO_OK)
        status = reco_filter_seen_rows(filter, model, &seen, &rows);
    if (status == RECO_OK)
        status = reco_rank_users(model, users, n_users, k,
                                 &(reco_rank_filter){rows, reco_filter_candidates(filter)}, items,
                                 scores, counts);
    return status;
}

reco_status reco_model_recommend(const reco_model *model, int32_t user, size_t k,
                                 const reco_dataset *exclude, int32_t *items, float *scores,
                                 size_t *n)
{
    if (!n)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL count");
    *n = 0;
    return reco_model_recommend_batch(model, &user, 1, k, exclude, items, scores, n);
}

int reco_model_has_seen(const reco_model *model)
{
    return model && model->history.offsets != NULL;
}

reco_status reco_model_seen(const reco_model *model, int32_t user, const int32_t **items,
                            size_t *n)
{
    if (!model || !items || !n)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL model, items or count");
    if (user < 0 || (size_t)user >= model->n_users)
        return reco_fail(RECO_ERR_OUT_OF_RANGE, "user %d outside the model's %zu users", (int)user,
                         model->n_users);
    reco_user_rows seen = reco_model_seen_rows(model);
    *items = reco_user_rows_of(&seen, user, n);
    return RECO_OK;
}

reco_status reco_model_set_seen(reco_model *model, const reco_dataset *data)
{
    if (!model)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL model");
    if (reco_kind_is_item_item(model->kind))
        return reco_fail(RECO_ERR_STATE, "%s scores a user by its seen items: they stay",
                         reco_model_kind_name(model->kind));
    if (data && (reco_dataset_n_users(data) > model->n_users ||
                 reco_dataset_n_items(data) > model->n_items))
        return reco_fail(RECO_ERR_OUT_OF_RANGE,
                         "the dataset has %zu users and %zu items; the model %zu and %zu",
                         reco_dataset_n_users(data), reco_dataset_n_items(data), model->n_users,
                         model->n_items);
    if (data)
        return reco_model_replace_seen(model, data);
    reco_sparse_rows_free(&model->history);
    return RECO_OK;
}

reco_status reco_model_replace_seen(reco_model *model, const reco_dataset *data)
{
    reco_sparse_rows rows;
    reco_status status = reco_sparse_rows_build(data, &rows);
    if (status != RECO_OK)
        return status;
    rows.n_columns = model->n_items;
    reco_sparse_rows_free(&model->history);
    model->history = rows;
    return RECO_OK;
}

size_t reco_model_embedding_dim(const reco_model *model)
{
    if (!model || !model->backend)
        return 0;
    return model->net.table_dim[RECO_TABLE_USER_GMF] + model->net.table_dim[RECO_TABLE_USER_MLP];
}

/* Copies the GMF then MLP table of one side into rows of the concatenation. */
static reco_status get_embeddings(const reco_model *model, int gmf_table, int mlp_table,
                                  float *embeddings)
{
    reco_status status = reco_model_check_ready(model);
    if (status != RECO_OK)
        return status;
    if (reco_kind_is_item_item(model->kind))
        return reco_fail(RECO_ERR_STATE, "%s has no embeddings: it scores a user's items "
                                         "through an item-item matrix",
                         reco_model_kind_name(model->kind));
    if (!embeddings)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL embeddings");
    const reco_backend_ops *ops = model->backend->ops;
    size_t dim = reco_model_embedding_dim(model), rows = model->net.table_rows[gmf_table];
    if (!rows)
        rows = model->net.table_rows[mlp_table];
    const int tables[2] = {gmf_table, mlp_table};
    size_t column = 0;
    for (int t = 0; t < 2 && status == RECO_OK; t++) {
        size_t width = model->net.table_dim[tables[t]];
        if (!width)
            continue;
        float *host = reco_malloc(rows * width * sizeof *host);
        if (!host)
            return reco_fail_oom();
        status =
            ops->device.buffer_download(model->backend->context, model->params.tables[tables[t]], 0,
                                        host, rows * width * sizeof *host);
        for (size_t r = 0; status == RECO_OK && r < rows; r++)
            memcpy(embeddings + r * dim + column, host + r * width, width * sizeof *host);
        reco_free(host);
        column += width;
    }
    return status;
}

reco_status reco_model_get_user_embeddings(const reco_model *model, float *embeddings)
{
    return get_embeddings(model, RECO_TABLE_USER_GMF, RECO_TABLE_USER_MLP, embeddings);
}

reco_status reco_model_get_item_embeddings(const reco_model *model, float *embeddings)
{
    return get_embeddings(model, RECO_TABLE_ITEM_GMF, RECO_TABLE_ITEM_MLP, embeddings);
}

reco_status reco_model_get_biases(const reco_model *model, float *user_biases, float *item_biases,
                                  float *global_bias)
{
    reco_status status = reco_model_check_ready(model);
    if (status != RECO_OK)
        return status;
    const reco_net_desc *net = &model->net;
    if (!net->table_dim[RECO_TABLE_USER_BIAS])
        return reco_fail(RECO_ERR_STATE, "the model has no biases (an MF option)");
    const reco_backend_device_ops *device = &model->backend->ops->device;
    reco_backend_context *context = model->backend->context;
    if (user_biases)
        status = device->buffer_download(context, model->params.tables[RECO_TABLE_USER_BIAS], 0,
                                         user_biases, model->n_users * sizeof *user_biases);
    if (status == RECO_OK && item_biases)
        status = device->buffer_download(context, model->params.tables[RECO_TABLE_ITEM_BIAS], 0,
                                         item_biases, model->n_items * sizeof *item_biases);
    if (status == RECO_OK && global_bias)
        status = device->buffer_download(context, model->params.dense,
                                         net->head_b_offset * sizeof *global_bias, global_bias,
                                         sizeof *global_bias);
    return status;
}

/* The k rows of one side nearest row `query` by the cosine of embeddings. */
static reco_status similar(const reco_model *model, int users, int32_t query, size_t k,
                           int32_t *rows, float *similarities, size_t *n)
{
    if (!n || (k && (!rows || !similarities)))
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL rows, similarities or count");
    *n = 0;
    reco_status status = reco_model_check_ready(model);
    if (status != RECO_OK)
        return status;
    size_t n_rows = users ? model->n_users : model->n_items;
    if (query < 0 || (size_t)query >= n_rows)
        return reco_fail(RECO_ERR_OUT_OF_RANGE, "%s %d outside the model's %zu %ss",
                         users ? "user" : "item", (int)query, n_rows, users ? "user" : "item");
    if (reco_kind_is_item_item(model->kind))
        return users ? reco_fail(RECO_ERR_STATE,
                                 "%s has no user embeddings to compare users by",
                                 reco_model_kind_name(model->kind))
                     : reco_item_item_similar(model, query, k, rows, similarities, n);
    size_t dim = reco_model_embedding_dim(model);
    float *embeddings = reco_malloc(n_rows * dim * sizeof *embeddings);
    if (!embeddings)
        return reco_fail_oom();
    status = users ? reco_model_get_user_embeddings(model, embeddings)
                   : reco_model_get_item_embeddings(model, embeddings);
    if (status == RECO_OK) {
        const float *target = embeddings + (size_t)query * dim;
        double target_norm = 0.0;
        for (size_t d = 0; d < dim; d++)
            target_norm += (double)target[d] * target[d];
        reco_topk topk;
        reco_topk_init(&topk, k, rows, similarities);
        for (size_t other = 0; other < n_rows; other++) {
            if ((int32_t)other == query)
                continue;
            const float *row = embeddings + other * dim;
            double dot = 0.0, norm = 0.0;
            for (size_t d = 0; d < dim; d++) {
                dot += (double)target[d] * row[d];
                norm += (double)row[d] * row[d];
            }
            double denominator = sqrt(target_norm * norm);
            reco_topk_push(&topk, (int32_t)other,
                           denominator > 0.0 ? (float)(dot / denominator) : 0.0f);
        }
        *n = reco_topk_finish(&topk);
    }
    reco_free(embeddings);
    return status;
}

reco_status reco_model_similar_items(const reco_model *model, int32_t item, size_t k,
                                     int32_t *items, float *similarities, size_t *n)
{
    return similar(model, 0, item, k, items, similarities, n);
}

reco_status reco_model_similar_users(const reco_model *model, int32_t user, size_t k,
                                     int32_t *users, float *similarities, size_t *n)
{
    return similar(model, 1, user, k, users, similarities, n);
}
