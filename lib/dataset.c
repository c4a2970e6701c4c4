/* Dataset lifetime, accessors, vocabulary lookups and row selection. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dataset_impl.h"
#include "error.h"
#include "reco_alloc.h"

static atomic_uint_fast64_t next_serial = 1;

reco_status reco_dataset_create(reco_vocab *vocab, int with_ratings, int with_timestamps,
                                size_t capacity, reco_dataset **out)
{
    reco_status status = RECO_OK;
    reco_dataset *dataset = reco_calloc(1, sizeof *dataset);
    if (!dataset)
        return reco_fail_oom();
    dataset->serial = atomic_fetch_add(&next_serial, 1);
    pthread_mutex_init(&dataset->cache_lock, NULL);
    atomic_init(&dataset->user_rows, NULL);
    if (vocab) {
        reco_vocab_retain(vocab);
        dataset->vocab = vocab;
    } else if (!(dataset->vocab = reco_vocab_new())) {
        status = reco_fail_oom();
        goto fail;
    }
    /* a non-NULL column pointer marks the column as present */
    dataset->ratings = with_ratings ? reco_malloc(sizeof(float)) : NULL;
    dataset->timestamps = with_timestamps ? reco_malloc(sizeof(int64_t)) : NULL;
    if ((with_ratings && !dataset->ratings) || (with_timestamps && !dataset->timestamps)) {
        status = reco_fail_oom();
        goto fail;
    }
    status = reco_dataset_reserve(dataset, capacity ? capacity : 1);
    if (status != RECO_OK)
        goto fail;
    *out = dataset;
    return RECO_OK;
fail:
    reco_dataset_free(dataset);
    return status;
}

static int grow_column(void **column, size_t capacity, size_t element_size)
{
    size_t bytes;
    if (!reco_size_mul(capacity, element_size, &bytes))
        return 0;
    void *grown = reco_realloc(*column, bytes);
    if (!grown)
        return 0;
    *column = grown;
    return 1;
}

reco_status reco_dataset_reserve(reco_dataset *dataset, size_t capacity)
{
    if (capacity <= dataset->capacity)
        return RECO_OK;
    if (capacity > SIZE_MAX / sizeof(int64_t))
        return reco_fail_oom();
    int ok = grow_column((void **)&dataset->users, capacity, sizeof(int32_t)) &&
             grow_column((void **)&dataset->items, capacity, sizeof(int32_t)) &&
             (!dataset->ratings ||
              grow_column((void **)&dataset->ratings, capacity, sizeof(float))) &&
             (!dataset->timestamps ||
              grow_column((void **)&dataset->timestamps, capacity, sizeof(int64_t)));
    if (!ok)
        return reco_fail_oom();
    dataset->capacity = capacity;
    return RECO_OK;
}

void reco_user_rows_free(reco_user_rows *rows)
{
    if (!rows)
        return;
    reco_free(rows->offsets);
    reco_free(rows->items);
    reco_free(rows);
}

void reco_dataset_free(reco_dataset *dataset)
{
    if (!dataset)
        return;
    reco_free(dataset->users);
    reco_free(dataset->items);
    reco_free(dataset->ratings);
    reco_free(dataset->timestamps);
    reco_free(dataset->negative_offsets);
    reco_free(dataset->negative_items);
    reco_user_rows_free(atomic_load(&dataset->user_rows));
    pthread_mutex_destroy(&dataset->cache_lock);
    reco_vocab_release(dataset->vocab);
    reco_free(dataset);
}

size_t reco_dataset_size(const reco_dataset *dataset)
{
    return dataset ? dataset->size : 0;
}

size_t reco_dataset_n_users(const reco_dataset *dataset)
{
    return dataset ? dataset->vocab->users.count : 0;
}

size_t reco_dataset_n_items(const reco_dataset *dataset)
{
    return dataset ? dataset->vocab->items.count : 0;
}

const int32_t *reco_dataset_users(const reco_dataset *dataset)
{
    return dataset ? dataset->users : NULL;
}

const int32_t *reco_dataset_items(const reco_dataset *dataset)
{
    return dataset ? dataset->items : NULL;
}

const float *reco_dataset_ratings(const reco_dataset *dataset)
{
    return dataset ? dataset->ratings : NULL;
}

const int64_t *reco_dataset_timestamps(const reco_dataset *dataset)
{
    return dataset ? dataset->timestamps : NULL;
}

int reco_dataset_shares_vocabulary(const reco_dataset *a, const reco_dataset *b)
{
    return a && b && a->vocab == b->vocab;
}

reco_status reco_dataset_user_id(const reco_dataset *dataset, int32_t user_index,
                                 int64_t *user_id)
{
    return reco_id_map_id_of(dataset ? &dataset->vocab->users : NULL, "user", user_index, user_id);
}

reco_status reco_dataset_item_id(const reco_dataset *dataset, int32_t item_index,
                                 int64_t *item_id)
{
    return reco_id_map_id_of(dataset ? &dataset->vocab->items : NULL, "item", item_index, item_id);
}

reco_status reco_dataset_user_index(const reco_dataset *dataset, int64_t user_id,
                                    int32_t *user_index)
{
    return reco_id_map_index_of(dataset ? &dataset->vocab->users : NULL, "user", user_id,
                                user_index);
}

reco_status reco_dataset_item_index(const reco_dataset *dataset, int64_t item_id,
                                    int32_t *item_index)
{
    return reco_id_map_index_of(dataset ? &dataset->vocab->items : NULL, "item", item_id,
                                item_index);
}

reco_status reco_dataset_user_id_text(const reco_dataset *dataset, int32_t user_index, char *text,
                                      size_t size)
{
    return reco_id_map_text_at(dataset ? &dataset->vocab->users : NULL, "user", user_index, text,
                               size);
}

reco_status reco_dataset_item_id_text(const reco_dataset *dataset, int32_t item_index, char *text,
                                      size_t size)
{
    return reco_id_map_text_at(dataset ? &dataset->vocab->items : NULL, "item", item_index, text,
                               size);
}

reco_status reco_dataset_user_index_of_text(const reco_dataset *dataset, const char *text,
                                            int32_t *user_index)
{
    return reco_id_map_index_of_text(dataset ? &dataset->vocab->users : NULL, "user", text,
                                     user_index);
}

reco_status reco_dataset_item_index_of_text(const reco_dataset *dataset, const char *text,
                                            int32_t *item_index)
{
    return reco_id_map_index_of_text(dataset ? &dataset->vocab->items : NULL, "item", text,
                                     item_index);
}

const char *reco_dataset_item_title(const reco_dataset *dataset, int32_t item_index)
{
    if (!dataset || item_index < 0 || (size_t)item_index >= dataset->vocab->items.count)
        return NULL;
    return reco_vocab_title(dataset->vocab, dataset->vocab->items.ids[item_index]);
}

reco_status reco_dataset_select(const reco_dataset *source, const uint8_t *part, uint8_t which,
                                int with_ratings, reco_dataset **out)
{
    size_t count = 0;
    for (size_t i = 0; i < source->size; i++)
        count += part[i] == which;
    reco_dataset *selected = NULL;
    reco_status status = reco_dataset_create(source->vocab, with_ratings && source->ratings,
                                             source->timestamps != NULL, count, &selected);
    if (status != RECO_OK)
        return status;
    for (size_t i = 0; i < source->size; i++) {
        if (part[i] != which)
            continue;
        reco_dataset_push(selected, source->users[i], source->items[i],
                          source->ratings ? source->ratings[i] : 0.0f,
                          source->timestamps ? source->timestamps[i] : 0);
    }
    *out = selected;
    return RECO_OK;
}

reco_status reco_dataset_from_arrays(const int64_t *users, const int64_t *items,
                                     const float *ratings, const int64_t *timestamps,
                                     size_t n, reco_dataset **out)
{
    if (!out)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL output");
    *out = NULL;
    if ((n > 0 && (!users || !items)))
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL users or items array");
    reco_dataset *dataset = NULL;
    reco_status status = reco_dataset_create(NULL, ratings != NULL, timestamps != NULL, n, &dataset);
    if (status != RECO_OK)
        return status;
    for (size_t i = 0; i < n; i++) {
        int32_t user, item;
        if (users[i] < 0 || items[i] < 0) {
            status = reco_fail(RECO_ERR_OUT_OF_RANGE, "row %zu: negative %s id %lld", i,
                               users[i] < 0 ? "user" : "item",
                               (long long)(users[i] < 0 ? users[i] : items[i]));
            goto fail;
        }
        if (ratings && !(fabsf(ratings[i]) <= (float)RECO_RATING_LIMIT)) {
            status = reco_fail(RECO_ERR_OUT_OF_RANGE,
                               "row %zu: rating %g is not a finite value within +-%g", i,
                               (double)ratings[i], RECO_RATING_LIMIT);
            goto fail;
        }
        status = reco_id_map_insert(&dataset->vocab->users, users[i], &user);
        if (status == RECO_OK)
            status = reco_id_map_insert(&dataset->vocab->items, items[i], &item);
        if (status != RECO_OK)
            goto fail;
        reco_dataset_push(dataset, user, item, ratings ? ratings[i] : 0.0f,
                          timestamps ? timestamps[i] : 0);
    }
    *out = dataset;
    return RECO_OK;
fail:
    reco_dataset_free(dataset);
    return status;
}
