/* The item-item families' epoch: EASE's closed form (Steck, "Embarrassingly
 * Shallow Autoencoders for Sparse Data", WWW 2019) and item-kNN's
 * neighbours (implicit's ItemItemRecommender: cosine, TF-IDF and BM25
 * weights), fitted by the backend from the training pairs; the model then
 * keeps the training pairs as each user's history. Every epoch fits anew
 * from the same data, so a second one gives the same model. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reco_alloc.h"
#include "sparse_rows.h"
#include "trainer_impl.h"

/* BM25's constants, as implicit's BM25Recommender. */

/* EASE's peak: the Gram matrix, its inverse on the backend, and B in the
 * model, items^2 floats each; refused before any allocation when the
 * machine has less memory. */
static reco_status check_ease_memory(size_t n_items)
{
    size_t squared, bytes;
    if (!reco_size_mul(n_items, n_items, &squared) ||
        !reco_size_mul(squared, 3 * sizeof(float), &bytes))
        return reco_fail(RECO_ERR_OUT_OF_MEMORY, "EASE on %zu items: 3 x items^2 floats overflow",
                         n_items);
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    double available = pages > 0 && page > 0 ? (double)pages * (double)page : INFINITY;
    if ((double)bytes > available)
        return reco_fail(RECO_ERR_OUT_OF_MEMORY,
                         "EASE on %zu items needs %.1f GB (3 x items^2 floats); this machine "
                         "has %.1f GB",
                         n_items, (double)bytes / 1e9, available / 1e9);
    return RECO_OK;
}

/* Each pair's weight under `weighting` (implicit's definitions, items as
 * documents and users as terms), in entry order of `by_user`. */
static reco_status knn_weights(const reco_trainer *trainer, const reco_sparse_rows *by_user,
                               const reco_sparse_rows *by_item, reco_weighting weighting,
                               float *weights)
{
    size_t n_items = by_item->n_rows;
    double *item_norm = reco_calloc(n_items ? n_items : 1, sizeof *item_norm);
    double *item_sum = reco_calloc(n_items ? n_items : 1, sizeof *item_sum);
    reco_status status = RECO_OK;
    if (!item_norm || !item_sum) {
        status = reco_fail_oom();
        goto done;
    }
    double total = 0.0;
    for (size_t e = 0; e < by_user->offsets[by_user->n_rows]; e++)
        total += by_user->values[e];
    for (size_t i = 0; i < n_items; i++)
        for (size_t e = by_item->offsets[i]; e < by_item->offsets[i + 1]; e++)
            item_sum[i] += by_item->values[e];
    double mean_length = n_items ? total / (double)n_items : 1.0;
    double k1 = trainer->bm25_k1, b = trainer->bm25_b;
    for (size_t u = 0; u < by_user->n_rows; u++) {
        size_t first = by_user->offsets[u], end = by_user->offsets[u + 1];
        double idf = log((double)n_items) - log1p((double)(end - first));
        for (size_t e = first; e < end; e++) {
            double r = by_user->values[e];
            size_t i = (size_t)by_user->columns[e];
            double w = weighting == RECO_WEIGHTING_COSINE ? r
                       : weighting == RECO_WEIGHTING_TFIDF
                           ? sqrt(r) * idf
                           : r * (k1 + 1.0) /
                                 (k1 * ((1.0 - b) + b * item_sum[i] / mean_length) + r) * idf;
            weights[e] = (float)w;
            item_norm[i] += w * w;
        }
    }
    /* cosine and TF-IDF: each item's column to unit length */
    if (weighting != RECO_WEIGHTING_BM25)
        for (size_t e = 0; e < by_user->offsets[by_user->n_rows]; e++) {
            double norm = sqrt(item_norm[by_user->columns[e]]);
            weights[e] = norm > 0.0 ? (float)(weights[e] / norm) : 0.0f;
        }
done:
    reco_free(item_norm);
    reco_free(item_sum);
    return status;
}

/* The same weights in entry order of `by_item` (the transpose's order). */
static reco_status weights_by_item(const reco_sparse_rows *by_user,
                                   const reco_sparse_rows *by_item, const float *user_weights,
                                   float *item_weights)
{
    size_t *cursor = reco_malloc_array(by_item->n_rows + 1, sizeof *cursor);
    if (!cursor)
        return reco_fail_oom();
    memcpy(cursor, by_item->offsets, (by_item->n_rows + 1) * sizeof *cursor);
    for (size_t u = 0; u < by_user->n_rows; u++)
        for (size_t e = by_user->offsets[u]; e < by_user->offsets[u + 1]; e++)
            item_weights[cursor[by_user->columns[e]]++] = user_weights[e];
    reco_free(cursor);
    return RECO_OK;
}

static reco_status fit_ease(reco_trainer *trainer, reco_sparse_buffers *by_item,
                            reco_sparse_buffers *by_user)
{
    reco_model *model = trainer->model;
    const reco_backend_ops *ops = ops_of(trainer);
    size_t n = model->n_items;
    reco_backend_buffer *weights = NULL;
    float *host = reco_malloc_array(n * n, sizeof *host);
    reco_status status = host ? ops->device.buffer_alloc(context_of(trainer),
                                                         n * n * sizeof *host, &weights)
                              : reco_fail_oom();
    if (status == RECO_OK)
        status = ops->kernels.ease_fit(context_of(trainer), by_item, by_user,
                                       trainer->optimizer.weight_decay, weights);
    if (status == RECO_OK)
        status = ops->device.buffer_download(context_of(trainer), weights, 0, host,
                                             n * n * sizeof *host);
    if (weights)
        ops->device.buffer_free(context_of(trainer), weights);
    if (status == RECO_OK) {
        reco_free(model->item_item.weights);
        model->item_item.weights = host;
        host = NULL;
    }
    reco_free(host);
    return status;
}

/* Makes the neighbours' CSR from k slots an item and their counts. */
static reco_status compact_neighbours(size_t n_items, size_t k, const int32_t *columns,
                                      const float *values, const size_t *counts,
                                      reco_sparse_rows *neighbours)
{
    reco_sparse_rows made = {.n_rows = n_items, .n_columns = n_items};
    size_t entries = 0;
    for (size_t i = 0; i < n_items; i++)
        entries += counts[i];
    made.offsets = reco_malloc_array(n_items + 1, sizeof *made.offsets);
    made.columns = reco_malloc_array(entries ? entries : 1, sizeof *made.columns);
    made.values = reco_malloc_array(entries ? entries : 1, sizeof *made.values);
    if (!made.offsets || !made.columns || !made.values) {
        reco_sparse_rows_free(&made);
        return reco_fail_oom();
    }
    made.offsets[0] = 0;
    for (size_t i = 0; i < n_items; i++) {
        memcpy(made.columns + made.offsets[i], columns + i * k, counts[i] * sizeof *columns);
        memcpy(made.values + made.offsets[i], values + i * k, counts[i] * sizeof *values);
        made.offsets[i + 1] = made.offsets[i] + counts[i];
    }
    reco_sparse_rows_free(neighbours);
    *neighbours = made;
    return RECO_OK;
}

static reco_status fit_neighbours(reco_trainer *trainer, reco_sparse_buffers *by_item,
                                  reco_sparse_buffers *by_user)
{
    reco_model *model = trainer->model;
    const reco_backend_ops *ops = ops_of(trainer);
    reco_backend_context *context = context_of(trainer);
    size_t n = model->n_items, k = model->item_item.k < n ? model->item_item.k : n, slots;
    if (!reco_size_mul(n, k, &slots))
        return reco_fail(RECO_ERR_OUT_OF_MEMORY, "%zu items x %zu neighbours overflow", n, k);
    int32_t *columns = reco_malloc_array(slots ? slots : 1, sizeof *columns);
    float *values = reco_malloc_array(slots ? slots : 1, sizeof *values);
    size_t *counts = reco_malloc_array(n ? n : 1, sizeof *counts);
    reco_backend_buffer *buffers[3] = {NULL, NULL, NULL};
    size_t bytes[3] = {slots * sizeof *columns, slots * sizeof *values, n * sizeof *counts};
    reco_status status = columns && values && counts ? RECO_OK : reco_fail_oom();
    for (int b = 0; b < 3 && status == RECO_OK; b++)
        status = ops->device.buffer_alloc(context, bytes[b] ? bytes[b] : 1, &buffers[b]);
    if (status == RECO_OK)
        status = ops->kernels.item_neighbours(context, by_item, by_user, k, buffers[0],
                                              buffers[1], buffers[2]);
    void *host[3] = {columns, values, counts};
    for (int b = 0; b < 3 && status == RECO_OK; b++)
        if (bytes[b])
            status = ops->device.buffer_download(context, buffers[b], 0, host[b], bytes[b]);
    if (status == RECO_OK)
        status = compact_neighbours(n, k, columns, values, counts, &model->item_item.neighbours);
    for (int b = 0; b < 3; b++)
        if (buffers[b])
            ops->device.buffer_free(context, buffers[b]);
    reco_free(columns);
    reco_free(values);
    reco_free(counts);
    return status;
}

/* The history the model scores with: the training rows, binary for EASE. */
static void keep_history(reco_model *model, reco_sparse_rows *by_user)
{
    if (model->kind == RECO_MODEL_EASE)
        for (size_t e = 0; e < by_user->offsets[by_user->n_rows]; e++)
            by_user->values[e] = 1.0f;
    by_user->n_columns = model->n_items;
    reco_sparse_rows_free(&model->history);
    model->history = *by_user;
    memset(by_user, 0, sizeof *by_user);
}

reco_status reco_trainer_item_item_epoch(reco_trainer *trainer, const reco_dataset *train,
                                         double *mean_loss)
{
    reco_model *model = trainer->model;
    const reco_backend_ops *ops = ops_of(trainer);
    int ease = model->kind == RECO_MODEL_EASE;
    if (mean_loss)
        *mean_loss = NAN; /* a closed form: no training loss */
    if (ease ? !ops->kernels.ease_fit : !ops->kernels.item_neighbours)
        return reco_fail(RECO_ERR_BACKEND_UNAVAILABLE, "the %s backend cannot fit %s yet; use the "
                                                       "cpu backend",
                         ops->name, reco_model_kind_name(model->kind));
    /* over ranks, each fits the whole model: a closed form has nothing to
     * share out, and every rank gets the same bytes */
    reco_status status = ease ? check_ease_memory(model->n_items) : RECO_OK;
    reco_sparse_rows rows[2] = {{0}, {0}}; /* by user, by item */
    reco_backend_buffer *buffers[2][3] = {{NULL, NULL, NULL}, {NULL, NULL, NULL}};
    float *weights[2] = {NULL, NULL};
    if (status == RECO_OK)
        status = reco_sparse_rows_build(train, &rows[0]);
    if (status == RECO_OK)
        status = reco_sparse_rows_transpose(&rows[0], &rows[1]);
    size_t entries = status == RECO_OK ? rows[0].offsets[rows[0].n_rows] : 0;
    if (status == RECO_OK && !ease) {
        weights[0] = reco_malloc_array(entries + 1, sizeof *weights[0]);
        weights[1] = reco_malloc_array(entries + 1, sizeof *weights[1]);
        if (!weights[0] || !weights[1])
            status = reco_fail_oom();
    }
    if (status == RECO_OK && !ease)
        status = knn_weights(trainer, &rows[0], &rows[1], model->item_item.weighting,
                             weights[0]);
    if (status == RECO_OK && !ease)
        status = weights_by_item(&rows[0], &rows[1], weights[0], weights[1]);
    size_t model_rows[2] = {model->n_users, model->n_items};
    for (int side = 0; side < 2 && status == RECO_OK; side++)
        status = reco_sparse_rows_upload(model->backend, &rows[side], model_rows[side],
                                         weights[side], buffers[side]);
    reco_sparse_buffers sides[2];
    for (int side = 0; side < 2; side++)
        sides[side] = (reco_sparse_buffers){buffers[side][0], buffers[side][1], buffers[side][2],
                                            model_rows[side], model_rows[!side]};
    if (status == RECO_OK)
        status = ease ? fit_ease(trainer, &sides[1], &sides[0])
                      : fit_neighbours(trainer, &sides[1], &sides[0]);
    if (status == RECO_OK)
        keep_history(model, &rows[0]);
    for (int side = 0; side < 2; side++) {
        reco_sparse_buffers_free(model->backend, buffers[side]);
        reco_sparse_rows_free(&rows[side]);
        reco_free(weights[side]);
    }
    return status;
}
