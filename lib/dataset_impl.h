/* Internal: the dataset structure and the helpers every dataset producer
 * (readers, splits, filters, the synthetic generator) builds on. */
#ifndef RECO_LIB_DATASET_IMPL_H
#define RECO_LIB_DATASET_IMPL_H

#include <pthread.h>
#include <stdatomic.h>

#include "reco/dataset.h"
#include "reco_math.h"
#include "vocab.h"

/* Per-user sorted, de-duplicated item lists (CSR), for negative sampling. */
typedef struct reco_user_rows {
    size_t n_users;
    size_t *offsets; /* n_users + 1 */
    int32_t *items;
} reco_user_rows;

struct reco_dataset {
    uint64_t serial;       /* unique per dataset made in this process */
    reco_vocab *vocab;
    size_t size;
    size_t capacity;
    int32_t *users;
    int32_t *items;
    float *ratings;        /* NULL for implicit data */
    int64_t *timestamps;   /* NULL when absent */
    size_t *negative_offsets; /* test negatives, CSR over rows; NULL when none */
    int32_t *negative_items;
    /* per-user item lists, built on first need by whichever thread needs
     * them (a dataset's rows never change, so they stay valid) */
    pthread_mutex_t cache_lock;
    _Atomic(reco_user_rows *) user_rows;
};

/* Creates an empty dataset on `vocab` (retained), or on a new vocabulary when
 * vocab is NULL, with room for `capacity` rows and the named columns. */
reco_status reco_dataset_create(reco_vocab *vocab, int with_ratings, int with_timestamps,
                                size_t capacity, reco_dataset **out);

/* Grows the columns to hold at least `capacity` rows. */
reco_status reco_dataset_reserve(reco_dataset *dataset, size_t capacity);

/* Appends one row of indices; the caller has reserved room. Columns the
 * dataset lacks are ignored. */
static inline void reco_dataset_push(reco_dataset *dataset, int32_t user, int32_t item,
                                     float rating, int64_t timestamp)
{
    size_t row = dataset->size++;
    dataset->users[row] = user;
    dataset->items[row] = item;
    if (dataset->ratings)
        dataset->ratings[row] = rating;
    if (dataset->timestamps)
        dataset->timestamps[row] = timestamp;
}

/* New dataset on the same vocabulary with the rows i, in order, for which
 * part[i] == which. with_ratings = 0 drops the rating column. */
reco_status reco_dataset_select(const reco_dataset *source, const uint8_t *part, uint8_t which,
                                int with_ratings, reco_dataset **out);

/* The dataset's rows in (user, item, row) order, into a new array the
 * caller frees: two stable counting passes, by item then by user. NULL
 * (and the error set) when out of memory. */
size_t *reco_dataset_pair_order(const reco_dataset *dataset);

/* Builds the per-user item lists of a dataset over the users its vocabulary
 * has now. The caller frees *rows with reco_user_rows_free(). */
reco_status reco_user_rows_build(const reco_dataset *dataset, reco_user_rows **rows);

/* Returns the sorted items of a user and their count (none for users added
 * to the vocabulary after the rows were built). */
static inline const int32_t *reco_user_rows_of(const reco_user_rows *rows, int32_t user,
                                               size_t *count)
{
    if ((size_t)user >= rows->n_users) {
        *count = 0;
        return rows->items;
    }
    *count = rows->offsets[user + 1] - rows->offsets[user];
    return rows->items + rows->offsets[user];
}

/* 1 when `item` is among the n sorted items. */
static inline int reco_sorted_contains(const int32_t *sorted, size_t n, int32_t item)
{
    size_t low = 0, high = n;
    while (low < high) {
        size_t middle = (low + high) / 2;
        if (sorted[middle] < item)
            low = middle + 1;
        else
            high = middle;
    }
    return low < n && sorted[low] == item;
}

void reco_user_rows_free(reco_user_rows *rows);

/* The dataset's per-user item lists, built on the first call (once, even
 * when several threads ask at the same time) and owned by the dataset. */
reco_status reco_dataset_user_rows(const reco_dataset *dataset, const reco_user_rows **rows);

/* Fails with RECO_ERR_OUT_OF_RANGE: `user` of `train` has every item, so
 * no negative can be drawn for it (its id in the message). */
reco_status reco_fail_no_negative(const reco_dataset *train, int32_t user);

#endif
