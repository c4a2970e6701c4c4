/* Per-user sorted item lists (CSR), the index behind negative sampling. */
#include <stdlib.h>
#include <string.h>

#include "dataset_impl.h"
#include "error.h"
#include "reco_alloc.h"

/* Places the rows of order[0..n) stably by key (below n_keys) into out. */
static void counting_pass(const size_t *order, size_t n, const int32_t *keys, size_t n_keys,
                          size_t *starts, size_t *out)
{
    memset(starts, 0, (n_keys + 1) * sizeof *starts);
    for (size_t k = 0; k < n; k++)
        starts[keys[order ? order[k] : k] + 1]++;
    for (size_t key = 0; key < n_keys; key++)
        starts[key + 1] += starts[key];
    for (size_t k = 0; k < n; k++) {
        size_t row = order ? order[k] : k;
        out[starts[keys[row]]++] = row;
    }
}

size_t *reco_dataset_pair_order(const reco_dataset *dataset)
{
    size_t n = dataset->size;
    size_t n_users = dataset->vocab->users.count, n_items = dataset->vocab->items.count;
    size_t widest = n_users > n_items ? n_users : n_items;
    size_t *by_item = reco_malloc_array(n ? n : 1, sizeof *by_item);
    size_t *order = reco_malloc_array(n ? n : 1, sizeof *order);
    size_t *starts = reco_malloc_array(widest + 1, sizeof *starts);
    if (!by_item || !order || !starts) {
        reco_free(order);
        order = NULL;
        reco_fail_oom();
    } else {
        counting_pass(NULL, n, dataset->items, n_items, starts, by_item);
        counting_pass(by_item, n, dataset->users, n_users, starts, order);
    }
    reco_free(by_item);
    reco_free(starts);
    return order;
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
    size_t *order = rows->offsets && rows->items ? reco_dataset_pair_order(dataset) : NULL;
    if (!order) {
        reco_user_rows_free(rows);
        return reco_fail_oom();
    }
    /* each user's items in order, without repeats */
    size_t write = 0;
    for (size_t k = 0; k < dataset->size; k++) {
        size_t row = order[k];
        int32_t user = dataset->users[row], item = dataset->items[row];
        int repeat =
            k > 0 && dataset->users[order[k - 1]] == user && dataset->items[order[k - 1]] == item;
        if (!repeat) {
            rows->items[write++] = item;
            rows->offsets[user + 1] = write;
        }
    }
    /* users without rows end where the user before them does */
    for (size_t user = 0; user < n_users; user++)
        if (rows->offsets[user + 1] < rows->offsets[user])
            rows->offsets[user + 1] = rows->offsets[user];
    reco_free(order);
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
