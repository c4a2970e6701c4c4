/* Internal: a dataset's pairs as sparse rows, either way (each user's
 * items, or each item's users), the input of the solver families
 * (iALS; the item Gram matrix of EASE and item-kNN). */
#ifndef RECO_LIB_SPARSE_ROWS_H
#define RECO_LIB_SPARSE_ROWS_H

#include "backend_handle.h"
#include "dataset_impl.h"

typedef struct reco_sparse_rows {
    size_t n_rows;
    size_t n_columns;
    size_t *offsets;  /* n_rows + 1 */
    int32_t *columns; /* sorted and distinct within a row */
    float *values;    /* the pair's ratings summed over its duplicate rows (1 a row
                         without ratings) */
} reco_sparse_rows;

/* Builds each user's row of items over the vocabulary's users and items
 * (reco_sparse_rows_transpose gives each item's users). The caller frees
 * them with reco_sparse_rows_free. */
reco_status reco_sparse_rows_build(const reco_dataset *dataset, reco_sparse_rows *rows);

/* The same pairs the other way (each column's rows, in order), into *out,
 * which the caller frees. */
reco_status reco_sparse_rows_transpose(const reco_sparse_rows *rows, reco_sparse_rows *out);

/* Copies `rows` into new buffers of `backend`: offsets for `n_rows` rows
 * (rows past rows->n_rows empty), columns, and `values` (one per entry)
 * when not NULL. On failure nothing is left allocated. */
reco_status reco_sparse_rows_upload(const reco_backend *backend, const reco_sparse_rows *rows,
                                    size_t n_rows, const float *values,
                                    reco_backend_buffer *buffers[3]);

/* Frees the buffers reco_sparse_rows_upload made (NULL ones skipped) and
 * sets them to NULL. */
void reco_sparse_buffers_free(const reco_backend *backend, reco_backend_buffer *buffers[3]);

/* The rows as the backend contract's host rows (a view; none when they
 * were never built). */
static inline reco_host_rows reco_sparse_rows_host(const reco_sparse_rows *rows)
{
    return (reco_host_rows){rows->offsets, rows->columns, rows->values,
                            rows->offsets ? rows->n_rows : 0};
}

/* Frees what reco_sparse_rows_build made and zeroes *rows; a zeroed one is a
 * no-op. */
void reco_sparse_rows_free(reco_sparse_rows *rows);

#endif
