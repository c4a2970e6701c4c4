/* A dataset's pairs as sparse rows (CSR), duplicates merged. */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "reco_alloc.h"
#include "sparse_rows.h"

void reco_sparse_rows_free(reco_sparse_rows *rows)
{
    reco_free(rows->offsets);
    reco_free(rows->columns);
    reco_free(rows->values);
    memset(rows, 0, sizeof *rows);
}

reco_status reco_sparse_rows_build(const reco_dataset *dataset, reco_sparse_rows *rows)
{
    memset(rows, 0, sizeof *rows);
    const int32_t *major = dataset->users, *minor = dataset->items;
    rows->n_rows = dataset->vocab->users.count;
    rows->n_columns = dataset->vocab->items.count;
    size_t n = dataset->size ? dataset->size : 1;
    rows->offsets = reco_calloc(rows->n_rows + 1, sizeof *rows->offsets);
    rows->columns = reco_malloc_array(n, sizeof *rows->columns);
    rows->values = reco_malloc_array(n, sizeof *rows->values);
    size_t *order = rows->offsets && rows->columns && rows->values
                        ? reco_dataset_pair_order(dataset)
                        : NULL;
    if (!order) {
        reco_sparse_rows_free(rows);
        return reco_fail_oom();
    }
    size_t write = 0;
    for (size_t k = 0; k < dataset->size; k++) {
        size_t source = order[k];
        float value = dataset->ratings ? dataset->ratings[source] : 1.0f;
        int repeat = k > 0 && major[order[k - 1]] == major[source] &&
                     minor[order[k - 1]] == minor[source];
        if (repeat) {
            rows->values[write - 1] += value;
            continue;
        }
        rows->columns[write] = minor[source];
        rows->values[write] = value;
        rows->offsets[major[source] + 1]++;
        write++;
    }
    for (size_t r = 0; r < rows->n_rows; r++)
        rows->offsets[r + 1] += rows->offsets[r];
    reco_free(order);
    return RECO_OK;
}

reco_status reco_sparse_rows_transpose(const reco_sparse_rows *rows, reco_sparse_rows *out)
{
    memset(out, 0, sizeof *out);
    size_t entries = rows->offsets[rows->n_rows];
    out->n_rows = rows->n_columns;
    out->n_columns = rows->n_rows;
    out->offsets = reco_calloc(out->n_rows + 1, sizeof *out->offsets);
    out->columns = reco_malloc_array(entries ? entries : 1, sizeof *out->columns);
    out->values = reco_malloc_array(entries ? entries : 1, sizeof *out->values);
    if (!out->offsets || !out->columns || !out->values) {
        reco_sparse_rows_free(out);
        return reco_fail_oom();
    }
    for (size_t e = 0; e < entries; e++)
        out->offsets[rows->columns[e] + 1]++;
    for (size_t r = 0; r < out->n_rows; r++)
        out->offsets[r + 1] += out->offsets[r];
    /* rows in order, so each transposed row gets its columns in order */
    for (size_t r = 0; r < rows->n_rows; r++)
        for (size_t e = rows->offsets[r]; e < rows->offsets[r + 1]; e++) {
            size_t at = out->offsets[rows->columns[e]]++;
            out->columns[at] = (int32_t)r;
            out->values[at] = rows->values[e];
        }
    for (size_t r = out->n_rows; r > 0; r--)
        out->offsets[r] = out->offsets[r - 1];
    out->offsets[0] = 0;
    return RECO_OK;
}

void reco_sparse_buffers_free(const reco_backend *backend, reco_backend_buffer *buffers[3])
{
    for (int b = 0; b < 3; b++) {
        if (buffers[b])
            backend->ops->device.buffer_free(backend->context, buffers[b]);
        buffers[b] = NULL;
    }
}

reco_status reco_sparse_rows_upload(const reco_backend *backend, const reco_sparse_rows *rows,
                                    size_t n_rows, const float *values,
                                    reco_backend_buffer *buffers[3])
{
    const reco_backend_device_ops *device = &backend->ops->device;
    size_t entries = rows->offsets[rows->n_rows];
    size_t *offsets = reco_malloc_array(n_rows + 1, sizeof *offsets);
    if (!offsets)
        return reco_fail_oom();
    for (size_t r = 0; r <= n_rows; r++)
        offsets[r] = rows->offsets[r < rows->n_rows ? r : rows->n_rows];
    const void *host[3] = {offsets, rows->columns, values};
    size_t bytes[3] = {(n_rows + 1) * sizeof *offsets, entries * sizeof *rows->columns,
                       entries * sizeof *values};
    reco_status status = RECO_OK;
    buffers[0] = buffers[1] = buffers[2] = NULL;
    for (int b = 0; b < 3 && status == RECO_OK; b++) {
        if (!host[b])
            continue;
        /* an empty part still gets a buffer: the backend is handed one */
        status = device->buffer_alloc(backend->context, bytes[b] ? bytes[b] : 1, &buffers[b]);
        if (status == RECO_OK && bytes[b])
            status = device->buffer_upload(backend->context, buffers[b], 0, host[b], bytes[b]);
    }
    reco_free(offsets);
    if (status != RECO_OK)
        reco_sparse_buffers_free(backend, buffers);
    return status;
}
