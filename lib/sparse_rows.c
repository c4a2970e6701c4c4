/* A dataset's pairs as sparse rows (CSR), duplicates merged. */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "reco_alloc.h"
#include "sparse_rows.h"

void reco_sparse_rows_free(reco_sparse_rows *rows)
{
    free(rows->offsets);
    free(rows->columns);
    free(rows->values);
    memset(rows, 0, sizeof *rows);
}

reco_status reco_sparse_rows_build(const reco_dataset *dataset, int by_item,
                                   reco_sparse_rows *rows)
{
    memset(rows, 0, sizeof *rows);
    size_t n_users = dataset->vocab->users.count, n_items = dataset->vocab->items.count;
    const int32_t *major = by_item ? dataset->items : dataset->users;
    const int32_t *minor = by_item ? dataset->users : dataset->items;
    rows->n_rows = by_item ? n_items : n_users;
    rows->n_columns = by_item ? n_users : n_items;
    size_t n = dataset->size ? dataset->size : 1;
    rows->offsets = reco_calloc(rows->n_rows + 1, sizeof *rows->offsets);
    rows->columns = reco_malloc_array(n, sizeof *rows->columns);
    rows->values = reco_malloc_array(n, sizeof *rows->values);
    size_t *order = rows->offsets && rows->columns && rows->values
                        ? reco_dataset_pair_order_by(dataset, by_item)
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
    free(order);
    return RECO_OK;
}
