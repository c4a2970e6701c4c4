/* The approximate top-K index of reco/index.h: item vectors made from a
 * model for the HNSW graph (hnsw.c), and filtered searches. */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "hnsw.h"
#include "index_impl.h"
#include "ranking.h"
#include "reco_alloc.h"
#include "reco_math.h"

/* Checks that the model has item factors to search and says its shape. */
reco_status reco_index_check_model(const reco_model *model)
{
    reco_status status = reco_model_check_ready(model);
    if (status != RECO_OK)
        return status;
    if (model->net.n_layers > 0 || !model->net.table_dim[RECO_TABLE_ITEM_GMF])
        return reco_fail(RECO_ERR_STATE, "%s has no item factors to search by inner product",
                         reco_model_kind_name(model->kind));
    return RECO_OK;
}

/* Downloads `floats` floats of a parameter buffer from `offset` floats. */
static reco_status download(const reco_model *model, const reco_backend_buffer *buffer,
                            size_t offset, float *host, size_t floats)
{
    return model->backend->ops->device.buffer_download(model->backend->context, buffer,
                                                       offset * sizeof *host, host,
                                                       floats * sizeof *host);
}

/* The items' vectors (index_impl.h). */
static reco_status make_vectors(const reco_model *model, reco_index *index, float **out)
{
    size_t n = model->n_items, d = index->factors, width = index->width;
    float *vectors = reco_calloc(n ? n * width : 1, sizeof *vectors);
    float *head = reco_malloc_array(model->net.n_dense ? model->net.n_dense : 1, sizeof *head);
    reco_status status = vectors && head ? RECO_OK : reco_fail_oom();
    if (status == RECO_OK)
        status = download(model, model->params.dense, 0, head, model->net.n_dense);
    for (size_t i = 0; i < n && status == RECO_OK; i++) {
        float *x = vectors + i * width;
        status = download(model, model->params.tables[RECO_TABLE_ITEM_GMF], i * d, x, d);
        for (size_t f = 0; f < d; f++)
            x[f] *= head[model->net.head_w_offset + f];
        if (status == RECO_OK && index->biases)
            status = download(model, model->params.tables[RECO_TABLE_ITEM_BIAS], i, x + d, 1);
    }
    reco_free(head);
    if (status != RECO_OK) {
        reco_free(vectors);
        return status;
    }
    *out = vectors;
    return RECO_OK;
}

/* The shape an index of `model` has. */
void reco_index_describe(const reco_model *model, reco_index *index)
{
    index->n_items = model->n_items;
    index->factors = model->net.table_dim[RECO_TABLE_ITEM_GMF];
    index->biases = model->net.table_dim[RECO_TABLE_ITEM_BIAS] != 0;
    index->width = (index->factors + (size_t)index->biases + 15) / 16 * 16;
}

reco_status reco_index_make(const reco_model *model, size_t m, size_t ef_construction,
                            uint64_t seed, reco_index_graph *graph, reco_index **out)
{
    reco_index *index = reco_calloc(1, sizeof *index);
    if (!index)
        return reco_fail_oom();
    reco_index_describe(model, index);
    index->seed = seed;
    size_t query_dim = index->width;
    float *vectors = NULL;
    reco_status status = make_vectors(model, index, &vectors);
    if (status == RECO_OK)
        status = graph ? reco_hnsw_adopt(vectors, index->n_items, index->width, query_dim,
                                         graph, &index->graph)
                       : reco_hnsw_build(vectors, index->n_items, index->width, query_dim, m,
                                         ef_construction, seed, &index->graph);
    reco_free(vectors);
    if (status != RECO_OK) {
        reco_free(index);
        return status;
    }
    *out = index;
    return RECO_OK;
}

reco_status reco_index_build(const reco_model *model, size_t m, size_t ef_construction,
                             uint64_t seed, reco_index **out)
{
    if (!out)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL output");
    *out = NULL;
    reco_status status = reco_index_check_model(model);
    if (status != RECO_OK)
        return status;
    if (m < 4 || m > 64 || ef_construction < m || ef_construction > 4096)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT,
                         "m %zu and ef_construction %zu: expected 4-64 and m-4096", m,
                         ef_construction);
    return reco_index_make(model, m, ef_construction, seed, NULL, out);
}

void reco_index_free(reco_index *index)
{
    if (!index)
        return;
    reco_hnsw_free(&index->graph);
    reco_free(index);
}

/* One user's search: its query vector, the found items filtered, scored. */
static reco_status search_user(const reco_model *model, const reco_index *index, int32_t user,
                               size_t k, size_t ef, const reco_user_rows *rows,
                               const uint8_t *candidates, float *query, int32_t **found,
                               float **products, size_t *room, int32_t *items, float *scores,
                               size_t *count)
{
    size_t d = index->factors, n_seen = 0;
    const int32_t *seen = rows ? reco_user_rows_of(rows, user, &n_seen) : NULL;
    size_t wanted = ef > k + n_seen ? ef : k + n_seen;
    if (wanted > *room) {
        int32_t *more_found = reco_realloc(*found, wanted * sizeof *more_found);
        if (more_found)
            *found = more_found;
        float *more_products = reco_realloc(*products, wanted * sizeof *more_products);
        if (more_products)
            *products = more_products;
        if (!more_found || !more_products)
            return reco_fail_oom();
        *room = wanted;
    }
    memset(query, 0, index->width * sizeof *query);
    float offset[2] = {0.0f, 0.0f}; /* the head's bias, the user's */
    reco_status status = download(model, model->params.tables[RECO_TABLE_USER_GMF],
                                  (size_t)user * d, query, d);
    if (status == RECO_OK)
        status = download(model, model->params.dense, model->net.head_b_offset, offset, 1);
    if (status == RECO_OK && index->biases) {
        query[d] = 1.0f;
        status = download(model, model->params.tables[RECO_TABLE_USER_BIAS], (size_t)user,
                          offset + 1, 1);
    }
    if (status != RECO_OK)
        return status;
    reco_hnsw *graph = (reco_hnsw *)&index->graph; /* searches share its visit marks */
    size_t n = reco_hnsw_search(graph, query, wanted, *found, *products);
    if (n == 0 && index->n_items > 0)
        return RECO_ERR_OUT_OF_MEMORY;
    *count = 0;
    for (size_t i = 0; i < n && *count < k; i++) {
        int32_t item = (*found)[i];
        if ((candidates && !candidates[item]) || reco_sorted_contains(seen, n_seen, item))
            continue;
        items[*count] = item;
        scores[(*count)++] = reco_activate((int)model->net.output_activation,
                                           (*products)[i] + offset[0] + offset[1]);
    }
    return RECO_OK;
}

reco_status reco_model_recommend_approximate(const reco_model *model, const reco_index *index,
                                             const int32_t *users, size_t n_users, size_t k,
                                             size_t ef, const reco_filter *filter, int32_t *items,
                                             float *scores, size_t *counts)
{
    reco_status status = reco_index_check_model(model);
    if (status != RECO_OK)
        return status;
    if (!index || (n_users && (!users || !counts)) || (k && n_users && (!items || !scores)))
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL index, users, items, scores or counts");
    if (ef < 1 || ef > 100000)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "ef %zu: expected 1 to 100000", ef);
    if (index->n_items != model->n_items ||
        index->factors != model->net.table_dim[RECO_TABLE_ITEM_GMF])
        return reco_fail(RECO_ERR_INVALID_ARGUMENT,
                         "an index of %zu items and %zu factors for a model of %zu and %zu",
                         index->n_items, index->factors, model->n_items,
                         model->net.table_dim[RECO_TABLE_ITEM_GMF]);
    for (size_t u = 0; u < n_users; u++)
        if (users[u] < 0 || (size_t)users[u] >= model->n_users)
            return reco_fail(RECO_ERR_OUT_OF_RANGE, "user %d outside the model's %zu users",
                             (int)users[u], model->n_users);
    reco_user_rows view;
    const reco_user_rows *rows = NULL;
    status = reco_filter_seen_rows(filter, model, &view, &rows);
    float *query = reco_malloc_array(index->width, sizeof *query);
    int32_t *found = NULL;
    float *products = NULL;
    size_t room = 0;
    if (status == RECO_OK && !query)
        status = reco_fail_oom();
    for (size_t u = 0; u < n_users && status == RECO_OK; u++)
        status = search_user(model, index, users[u], k, ef, rows, reco_filter_candidates(filter),
                             query, &found, &products, &room, items + u * k, scores + u * k,
                             &counts[u]);
    if (status == RECO_ERR_OUT_OF_MEMORY)
        reco_fail_oom();
    reco_free(query);
    reco_free(found);
    reco_free(products);
    return status;
}
