/* Internal: a dataset's pairs as sparse rows, one way or the other (each
 * user's items, or each item's users), the input of the solver families
 * (iALS; the item Gram matrix of EASE and item-kNN). */
#ifndef RECO_LIB_SPARSE_ROWS_H
#define RECO_LIB_SPARSE_ROWS_H

#include "dataset_impl.h"

typedef struct reco_sparse_rows {
    size_t n_rows;
    size_t n_columns;
    size_t *offsets;  /* n_rows + 1 */
    int32_t *columns; /* sorted and distinct within a row */
    float *values;    /* the pair's ratings summed over its duplicate rows (1 a row
                         without ratings) */
} reco_sparse_rows;

/* Builds the rows by user (by_item 0) or by item (1) over the vocabulary's
 * users and items. The caller frees them with reco_sparse_rows_free. */
reco_status reco_sparse_rows_build(const reco_dataset *dataset, int by_item,
                                   reco_sparse_rows *rows);

/* Frees what reco_sparse_rows_build made and zeroes *rows; a zeroed one is a
 * no-op. */
void reco_sparse_rows_free(reco_sparse_rows *rows);

#endif
