/* Serving: vocabularies on the model, top-k recommendation, embeddings,
 * similar items and fold-in of new users. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dataset_impl.h"
#include "error.h"
#include "model_impl.h"
#include "reco/trainer.h"
#include "rng.h"
#include "ranking.h"
#include "topk.h"
#include "reco_alloc.h"

/* Step size of fold-in's SGD on the summed BCE loss of the new user. */
#define FOLD_IN_LEARNING_RATE 0.05f

reco_status reco_model_set_vocabulary(reco_model *model, const reco_dataset *dataset)
{
    if (!model || !dataset)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL model or dataset");
    const reco_vocab *vocab = dataset->vocab;
    if (vocab->users.count > model->n_users || vocab->items.count > model->n_items)
        return reco_fail(RECO_ERR_OUT_OF_RANGE,
                         "vocabulary of %zu users and %zu items; the model has %zu and %zu",
                         vocab->users.count, vocab->items.count, model->n_users, model->n_items);
    reco_id_map users = {0}, items = {0};
    reco_status status = RECO_OK;
    int32_t index;
    for (size_t i = 0; i < vocab->users.count && status == RECO_OK; i++)
        status = reco_id_map_insert(&users, vocab->users.ids[i], &index);
    for (size_t i = 0; i < vocab->items.count && status == RECO_OK; i++)
        status = reco_id_map_insert(&items, vocab->items.ids[i], &index);
    if (status != RECO_OK) {
        reco_id_map_free(&users);
        reco_id_map_free(&items);
        return status;
    }
    reco_id_map_free(&model->user_ids);
    reco_id_map_free(&model->item_ids);
    model->user_ids = users;
    model->item_ids = items;
    model->has_vocabulary = 1;
    return RECO_OK;
}

/* Finds the model's user or item vocabulary; fails when it has none. */
static reco_status vocabulary(const reco_model *model, int users, const reco_id_map **map)
{
    if (!model)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL model");
    if (!model->has_vocabulary)
        return reco_fail(RECO_ERR_STATE, "the model has no vocabulary");
    *map = users ? &model->user_ids : &model->item_ids;
    return RECO_OK;
}

reco_status reco_model_user_id(const reco_model *model, int32_t user_index, int64_t *user_id)
{
    const reco_id_map *map = NULL;
    reco_status status = vocabulary(model, 1, &map);
    return status == RECO_OK ? reco_id_map_id_of(map, "user", user_index, user_id) : status;
}

reco_status reco_model_item_id(const reco_model *model, int32_t item_index, int64_t *item_id)
{
    const reco_id_map *map = NULL;
    reco_status status = vocabulary(model, 0, &map);
    return status == RECO_OK ? reco_id_map_id_of(map, "item", item_index, item_id) : status;
}

reco_status reco_model_user_index(const reco_model *model, int64_t user_id, int32_t *user_index)
{
    const reco_id_map *map = NULL;
    reco_status status = vocabulary(model, 1, &map);
    return status == RECO_OK ? reco_id_map_index_of(map, "user", user_id, user_index) : status;
}

reco_status reco_model_item_index(const reco_model *model, int64_t item_id, int32_t *item_index)
{
    const reco_id_map *map = NULL;
    reco_status status = vocabulary(model, 0, &map);
    return status == RECO_OK ? reco_id_map_index_of(map, "item", item_id, item_index) : status;
}

reco_status reco_model_recommend_batch(const reco_model *model, const int32_t *users,
                                       size_t n_users, size_t k, const reco_dataset *exclude,
                                       int32_t *items, float *scores, size_t *counts)
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
    const reco_user_rows *rows = NULL;
    if (exclude)
        status = reco_dataset_user_rows(exclude, &rows);
    if (status == RECO_OK)
        status = reco_rank_users(model, users, n_users, k, rows, items, scores, counts);
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
        status = ops->buffer_download(model->backend->context, model->params.tables[tables[t]], 0,
                                      host, rows * width * sizeof *host);
        for (size_t r = 0; status == RECO_OK && r < rows; r++)
            memcpy(embeddings + r * dim + column, host + r * width, width * sizeof *host);
        free(host);
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

reco_status reco_model_similar_items(const reco_model *model, int32_t item, size_t k,
                                     int32_t *items, float *similarities, size_t *n)
{
    if (!n || (k && (!items || !similarities)))
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL items, similarities or count");
    *n = 0;
    reco_status status = reco_model_check_ready(model);
    if (status != RECO_OK)
        return status;
    if (item < 0 || (size_t)item >= model->n_items)
        return reco_fail(RECO_ERR_OUT_OF_RANGE, "item %d outside the model's %zu items",
                         (int)item, model->n_items);
    size_t dim = reco_model_embedding_dim(model), n_items = model->n_items;
    float *embeddings = reco_malloc(n_items * dim * sizeof *embeddings);
    if (!embeddings)
        return reco_fail_oom();
    status = reco_model_get_item_embeddings(model, embeddings);
    if (status == RECO_OK) {
        const float *query = embeddings + (size_t)item * dim;
        double query_norm = 0.0;
        for (size_t d = 0; d < dim; d++)
            query_norm += (double)query[d] * query[d];
        reco_topk topk;
        reco_topk_init(&topk, k, items, similarities);
        for (size_t other = 0; other < n_items; other++) {
            if ((int32_t)other == item)
                continue;
            const float *row = embeddings + other * dim;
            double dot = 0.0, norm = 0.0;
            for (size_t d = 0; d < dim; d++) {
                dot += (double)query[d] * row[d];
                norm += (double)row[d] * row[d];
            }
            double denominator = sqrt(query_norm * norm);
            reco_topk_push(&topk, (int32_t)other,
                           denominator > 0.0 ? (float)(dot / denominator) : 0.0f);
        }
        *n = reco_topk_finish(&topk);
    }
    free(embeddings);
    return status;
}

/* Draws a negative for fold-in: uniform among items not in `liked` (sorted). */
static int32_t draw_unliked(reco_rng *rng, const int32_t *liked, size_t n_liked, size_t n_items)
{
    return reco_nth_untaken(liked, n_liked, reco_rng_below(rng, n_items - n_liked));
}

static int compare_int32(const void *a, const void *b)
{
    int32_t left = *(const int32_t *)a, right = *(const int32_t *)b;
    return (left > right) - (left < right);
}

/* The flat-vector ranges of the user's rows: (offset, width) per user table. */
static size_t user_row_ranges(const reco_model *model, int32_t user, size_t offsets[3],
                              size_t widths[3])
{
    size_t n = 0, offset = 0;
    for (int t = 0; t < RECO_N_TABLES; t++) {
        size_t dim = model->net.table_dim[t];
        int user_side = t == RECO_TABLE_USER_GMF || t == RECO_TABLE_USER_MLP ||
                        t == RECO_TABLE_USER_BIAS;
        if (dim && user_side) {
            offsets[n] = offset + (size_t)user * dim;
            widths[n++] = dim;
        }
        offset += model->net.table_rows[t] * dim;
    }
    return n;
}

reco_status reco_model_fold_in(reco_model *model, const int32_t *liked_items, size_t n_liked,
                               size_t steps, uint64_t seed, int32_t *user)
{
    reco_status status = reco_model_check_ready(model);
    if (status != RECO_OK)
        return status;
    if (!user || (n_liked && !liked_items))
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL liked items or user");
    if (n_liked == 0 || n_liked >= model->n_items)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT,
                         "%zu liked items: expected at least one, and fewer than all", n_liked);
    int32_t no_user[1] = {0};
    for (size_t i = 0; i < n_liked; i++)
        if (reco_model_check_pairs(model, no_user, liked_items + i, 1) != RECO_OK)
            return reco_fail(RECO_ERR_OUT_OF_RANGE, "liked item %d outside the model",
                             (int)liked_items[i]);
    enum { NEGATIVES = 4 };
    size_t batch = n_liked * (1 + NEGATIVES);
    int32_t *sorted = reco_malloc(n_liked * sizeof *sorted);
    int32_t *users = reco_malloc(batch * sizeof *users), *items = reco_malloc(batch * sizeof *items);
    float *targets = reco_malloc(batch * sizeof *targets);
    float *params = NULL, *gradient = NULL;
    reco_trainer *trainer = NULL;
    int added = 0;
    if (!sorted || !users || !items || !targets) {
        status = reco_fail_oom();
        goto done;
    }
    memcpy(sorted, liked_items, n_liked * sizeof *sorted);
    qsort(sorted, n_liked, sizeof *sorted, compare_int32);
    size_t distinct = 0;
    for (size_t i = 0; i < n_liked; i++)
        if (i == 0 || sorted[i] != sorted[i - 1])
            sorted[distinct++] = sorted[i];
    status = reco_model_add_users(model, 1);
    if (status != RECO_OK)
        goto done;
    added = 1;
    int32_t new_user = (int32_t)(model->n_users - 1);
    size_t offsets[3], widths[3], row_floats = 0;
    size_t n_ranges = user_row_ranges(model, new_user, offsets, widths);
    for (size_t r = 0; r < n_ranges; r++)
        row_floats += widths[r];
    /* the new user's rows, one range a user table, side by side */
    params = reco_malloc(row_floats * sizeof *params);
    gradient = reco_malloc(reco_model_parameter_count(model) * sizeof *gradient);
    if (!params || !gradient) {
        status = reco_fail_oom();
        goto done;
    }
    reco_rng rng;
    reco_rng_seed(&rng, seed, 0);
    for (size_t r = 0, at = 0; r < n_ranges; at += widths[r++])
        for (size_t d = 0; d < widths[r]; d++)
            params[at + d] = widths[r] == 1 ? 0.0f
                                            : (float)(model->init_std * reco_rng_normal(&rng));
    for (size_t r = 0, at = 0; r < n_ranges && status == RECO_OK; at += widths[r++])
        status = reco_model_upload_range(model, offsets[r], params + at, widths[r]);
    if (status == RECO_OK)
        status = reco_trainer_new(model, &trainer);
    for (size_t step = 0; step < steps && status == RECO_OK; step++) {
        for (size_t i = 0; i < n_liked; i++) {
            size_t base = i * (1 + NEGATIVES);
            users[base] = new_user;
            items[base] = liked_items[i];
            targets[base] = 1.0f;
            for (size_t j = 1; j <= NEGATIVES; j++) {
                users[base + j] = new_user;
                items[base + j] = draw_unliked(&rng, sorted, distinct, model->n_items);
                targets[base + j] = 0.0f;
            }
        }
        double loss;
        status = reco_trainer_batch_gradient(trainer, users, items, targets, NULL, batch, &loss,
                                             gradient);
        /* plain SGD on the summed loss, on the new user's rows only: the
         * rest of the model is frozen, and only those rows go back */
        for (size_t r = 0, at = 0; r < n_ranges && status == RECO_OK; at += widths[r++]) {
            for (size_t d = 0; d < widths[r]; d++)
                params[at + d] -= FOLD_IN_LEARNING_RATE * gradient[offsets[r] + d] * (float)batch;
            status = reco_model_upload_range(model, offsets[r], params + at, widths[r]);
        }
    }
    if (status == RECO_OK)
        *user = new_user;
done:
    reco_trainer_free(trainer);
    if (status != RECO_OK && added)
        reco_model_drop_users(model, 1);
    free(sorted);
    free(users);
    free(items);
    free(targets);
    free(params);
    free(gradient);
    return status;
}
