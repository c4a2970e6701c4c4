/* Per-user sorted item lists (CSR), the index behind negative sampling. */
#include <stdlib.h>

#include "dataset_impl.h"
#include "error.h"
#include "reco_alloc.h"

static int compare_items(const void *a, const void *b)
{
    int32_t left = *(const int32_t *)a, right = *(const int32_t *)b;
    return (left > right) - (left < right);
}

reco_status reco_user_rows_build(const reco_dataset *dataset, reco_user_rows **out)
{
    size_t n_users = dataset->vocab->users.count;
    reco_user_rows *rows = reco_calloc(1, sizeof *rows);
    if (!rows)
        return reco_fail_oom();
    rows->n_users = n_users;
    rows->offsets = reco_calloc(n_users + 1, sizeof *rows->offsets);
    rows->items = reco_malloc((dataset->size ? dataset->size : 1) * sizeof *rows->items);
    size_t *fill = reco_malloc((n_users ? n_users : 1) * sizeof *fill);
    if (!rows->offsets || !rows->items || !fill) {
        free(fill);
        reco_user_rows_free(rows);
        return reco_fail_oom();
    }
    for (size_t i = 0; i < dataset->size; i++)
        rows->offsets[dataset->users[i] + 1]++;
    for (size_t user = 0; user < n_users; user++)
        rows->offsets[user + 1] += rows->offsets[user];
    for (size_t user = 0; user < n_users; user++)
        fill[user] = rows->offsets[user];
    for (size_t i = 0; i < dataset->size; i++)
        rows->items[fill[dataset->users[i]]++] = dataset->items[i];
    free(fill);
    /* sort each user's items and drop repeats, compacting in place */
    size_t write = 0;
    for (size_t user = 0; user < n_users; user++) {
        size_t begin = rows->offsets[user], end = rows->offsets[user + 1];
        qsort(rows->items + begin, end - begin, sizeof *rows->items, compare_items);
        rows->offsets[user] = write;
        for (size_t i = begin; i < end; i++)
            if (i == begin || rows->items[i] != rows->items[i - 1])
                rows->items[write++] = rows->items[i];
    }
    rows->offsets[n_users] = write;
    *out = rows;
    return RECO_OK;
}

reco_status reco_dataset_user_rows(const reco_dataset *dataset, const reco_user_rows **rows)
{
    reco_user_rows *built = atomic_load_explicit(&dataset->user_rows, memory_order_acquire);
    reco_status status = RECO_OK;
    if (!built) {
        /* the lock and the cache are not the dataset's observable value */
        reco_dataset *cache = (reco_dataset *)dataset;
        pthread_mutex_lock(&cache->cache_lock);
        built = atomic_load_explicit(&cache->user_rows, memory_order_relaxed);
        if (!built) {
            status = reco_user_rows_build(dataset, &built);
            if (status == RECO_OK)
                atomic_store_explicit(&cache->user_rows, built, memory_order_release);
        }
        pthread_mutex_unlock(&cache->cache_lock);
    }
    *rows = built;
    return status;
}
