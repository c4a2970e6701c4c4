#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "id_map.h"
#include "reco/dataset.h"
#include "reco_alloc.h"
#include "text.h"

static size_t hash_id(int64_t id, size_t n_slots)
{
    uint64_t x = (uint64_t)id * 0x9e3779b97f4a7c15ull;
    return (size_t)((x ^ (x >> 29)) & (n_slots - 1));
}

void reco_id_map_free(reco_id_map *map)
{
    reco_free(map->ids);
    reco_free(map->slots);
    reco_free(map->text_bytes);
    reco_free(map->text_starts);
    reco_free(map->text_slots);
    *map = (reco_id_map){0};
}

int32_t reco_id_map_find(const reco_id_map *map, int64_t id)
{
    if (map->n_slots == 0)
        return -1;
    for (size_t slot = hash_id(id, map->n_slots);; slot = (slot + 1) & (map->n_slots - 1)) {
        int32_t index = map->slots[slot];
        if (index < 0 || map->ids[index] == id)
            return index;
    }
}

static void place_all(int32_t *slots, size_t n_slots, const int64_t *ids, size_t count)
{
    for (size_t slot = 0; slot < n_slots; slot++)
        slots[slot] = -1;
    for (size_t index = 0; index < count; index++) {
        size_t slot = hash_id(ids[index], n_slots);
        while (slots[slot] >= 0)
            slot = (slot + 1) & (n_slots - 1);
        slots[slot] = (int32_t)index;
    }
}

static reco_status rehash(reco_id_map *map, size_t n_slots)
{
    int32_t *slots = reco_malloc(n_slots * sizeof *slots);
    if (!slots)
        return reco_fail_oom();
    place_all(slots, n_slots, map->ids, map->count);
    reco_free(map->slots);
    map->slots = slots;
    map->n_slots = n_slots;
    return RECO_OK;
}

reco_status reco_id_map_insert(reco_id_map *map, int64_t id, int32_t *index)
{
    int32_t found = reco_id_map_find(map, id);
    if (found >= 0) {
        *index = found;
        return RECO_OK;
    }
    if (map->count >= (size_t)INT32_MAX)
        return reco_fail(RECO_ERR_OUT_OF_RANGE, "more than %d distinct ids", INT32_MAX);
    if (map->count == map->capacity) {
        size_t capacity = map->capacity ? map->capacity * 2 : 1024;
        int64_t *ids = reco_realloc(map->ids, capacity * sizeof *ids);
        if (!ids)
            return reco_fail_oom();
        map->ids = ids;
        map->capacity = capacity;
    }
    if ((map->count + 1) * 2 > map->n_slots) {
        reco_status status = rehash(map, map->n_slots ? map->n_slots * 2 : 2048);
        if (status != RECO_OK)
            return status;
    }
    size_t slot = hash_id(id, map->n_slots);
    while (map->slots[slot] >= 0)
        slot = (slot + 1) & (map->n_slots - 1);
    map->ids[map->count] = id;
    map->slots[slot] = (int32_t)map->count;
    *index = (int32_t)map->count++;
    return RECO_OK;
}

void reco_id_map_truncate(reco_id_map *map, size_t count)
{
    if (count >= map->count)
        return;
    map->count = count;
    /* emptying slots in place could break probe chains: re-place the rest */
    place_all(map->slots, map->n_slots, map->ids, count);
}

reco_status reco_id_map_id_of(const reco_id_map *map, const char *what, int32_t index,
                              int64_t *id)
{
    if (!map || !id)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL handle or output");
    if (index < 0 || (size_t)index >= map->count)
        return reco_fail(RECO_ERR_OUT_OF_RANGE, "%s index %d out of range [0, %zu)", what,
                         (int)index, map->count);
    if (map->ids[index] < 0)
        return reco_fail(RECO_ERR_STATE, "%s index %d has the text id '%s', not a number", what,
                         (int)index, reco_id_map_text_of_key(map, map->ids[index]));
    *id = map->ids[index];
    return RECO_OK;
}

reco_status reco_id_map_index_of(const reco_id_map *map, const char *what, int64_t id,
                                 int32_t *index)
{
    if (!map || !index)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL handle or output");
    /* negative keys are text ids, reached by their text only */
    int32_t found = id >= 0 ? reco_id_map_find(map, id) : -1;
    if (found < 0)
        return reco_fail(RECO_ERR_OUT_OF_RANGE, "unknown %s id %lld", what, (long long)id);
    *index = found;
    return RECO_OK;
}

/* Text ids. */

static size_t hash_text(const char *text, size_t length, size_t n_slots)
{
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
    for (size_t i = 0; i < length; i++)
        h = (h ^ (unsigned char)text[i]) * 0x100000001b3ull;
    return (size_t)((h ^ (h >> 32)) & (n_slots - 1));
}

static const char *text_at(const reco_id_map *map, size_t number)
{
    return map->text_bytes + map->text_starts[number];
}

/* The number of the text [text, text + length), or -1. */
static int32_t find_text(const reco_id_map *map, const char *text, size_t length)
{
    if (map->n_text_slots == 0)
        return -1;
    for (size_t slot = hash_text(text, length, map->n_text_slots);;
         slot = (slot + 1) & (map->n_text_slots - 1)) {
        int32_t number = map->text_slots[slot];
        if (number < 0)
            return -1;
        const char *known = text_at(map, (size_t)number);
        if (strncmp(known, text, length) == 0 && known[length] == '\0')
            return number;
    }
}

static reco_status rehash_texts(reco_id_map *map, size_t n_slots)
{
    int32_t *slots = reco_malloc(n_slots * sizeof *slots);
    if (!slots)
        return reco_fail_oom();
    for (size_t slot = 0; slot < n_slots; slot++)
        slots[slot] = -1;
    for (size_t t = 0; t < map->n_texts; t++) {
        const char *text = text_at(map, t);
        size_t slot = hash_text(text, strlen(text), n_slots);
        while (slots[slot] >= 0)
            slot = (slot + 1) & (n_slots - 1);
        slots[slot] = (int32_t)t;
    }
    reco_free(map->text_slots);
    map->text_slots = slots;
    map->n_text_slots = n_slots;
    return RECO_OK;
}

/* Interns a text of `length` bytes; writes its number. */
static reco_status intern_text(reco_id_map *map, const char *text, size_t length, int32_t *number)
{
    if ((*number = find_text(map, text, length)) >= 0)
        return RECO_OK;
    if (map->n_texts >= (size_t)INT32_MAX)
        return reco_fail(RECO_ERR_OUT_OF_RANGE, "more than %d distinct text ids", INT32_MAX);
    if (map->text_size + length + 1 > map->text_capacity) {
        size_t capacity = map->text_capacity ? 2 * map->text_capacity : 4096;
        while (capacity < map->text_size + length + 1)
            capacity *= 2;
        char *bytes = reco_realloc(map->text_bytes, capacity);
        if (!bytes)
            return reco_fail_oom();
        map->text_bytes = bytes;
        map->text_capacity = capacity;
    }
    if (map->n_texts == map->texts_capacity) {
        size_t capacity = map->texts_capacity ? 2 * map->texts_capacity : 256;
        size_t *starts = reco_realloc(map->text_starts, capacity * sizeof *starts);
        if (!starts)
            return reco_fail_oom();
        map->text_starts = starts;
        map->texts_capacity = capacity;
    }
    if ((map->n_texts + 1) * 2 > map->n_text_slots) {
        reco_status status = rehash_texts(map, map->n_text_slots ? 2 * map->n_text_slots : 512);
        if (status != RECO_OK)
            return status;
    }
    memcpy(map->text_bytes + map->text_size, text, length);
    map->text_bytes[map->text_size + length] = '\0';
    map->text_starts[map->n_texts] = map->text_size;
    map->text_size += length + 1;
    size_t slot = hash_text(text, length, map->n_text_slots);
    while (map->text_slots[slot] >= 0)
        slot = (slot + 1) & (map->n_text_slots - 1);
    map->text_slots[slot] = (int32_t)map->n_texts;
    *number = (int32_t)map->n_texts++;
    return RECO_OK;
}

/* 1 when [start, end) is a canonical decimal integer below 2^63, its value
 * in *value. Leading zeros make a text ("007" is not 7), so that every id
 * prints back as it was written. */
static int canonical_integer(const char *start, const char *end, int64_t *value)
{
    size_t length = (size_t)(end - start);
    if (length == 0 || length > 19 || (start[0] == '0' && length > 1))
        return 0;
    uint64_t v = 0;
    for (const char *p = start; p < end; p++) {
        if (*p < '0' || *p > '9')
            return 0;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    if (v > (uint64_t)INT64_MAX)
        return 0;
    *value = (int64_t)v;
    return 1;
}

int reco_id_map_key(reco_id_map *map, const char *start, const char *end, int64_t *key,
                    reco_status *status)
{
    if (canonical_integer(start, end, key))
        return 0;
    size_t length = (size_t)(end - start);
    if (length == 0 || length >= RECO_ID_TEXT_MAX || memchr(start, '\0', length))
        return -1;
    int32_t number;
    *status = intern_text(map, start, length, &number);
    *key = -1 - (int64_t)number;
    return 0;
}

int32_t reco_id_map_find_text(const reco_id_map *map, const char *text)
{
    int64_t key;
    size_t length = strlen(text);
    if (!canonical_integer(text, text + length, &key)) {
        int32_t number = find_text(map, text, length);
        if (number < 0)
            return -1;
        key = -1 - (int64_t)number;
    }
    return reco_id_map_find(map, key);
}

const char *reco_id_map_text_of_key(const reco_id_map *map, int64_t key)
{
    if (key >= 0 || (uint64_t)(-1 - key) >= map->n_texts)
        return NULL;
    return text_at(map, (size_t)(-1 - key));
}

void reco_id_map_describe(const reco_id_map *map, int32_t index, char *text, size_t size)
{
    if (index < 0 || (size_t)index >= map->count)
        snprintf(text, size, "?");
    else if (map->ids[index] >= 0)
        snprintf(text, size, "%lld", (long long)map->ids[index]);
    else
        snprintf(text, size, "%s", reco_id_map_text_of_key(map, map->ids[index]));
}

reco_status reco_id_map_copy(reco_id_map *dst, const reco_id_map *src)
{
    reco_status status = RECO_OK;
    int32_t index;
    for (size_t t = 0; t < src->n_texts && status == RECO_OK; t++) {
        const char *text = text_at(src, t);
        status = intern_text(dst, text, strlen(text), &index);
    }
    for (size_t i = 0; i < src->count && status == RECO_OK; i++)
        status = reco_id_map_insert(dst, src->ids[i], &index);
    return status;
}

reco_status reco_id_map_text_at(const reco_id_map *map, const char *what, int32_t index, char *text,
                                size_t size)
{
    if (!map || !text)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL handle or output");
    if (index < 0 || (size_t)index >= map->count)
        return reco_fail(RECO_ERR_OUT_OF_RANGE, "%s index %d out of range [0, %zu)", what,
                         (int)index, map->count);
    char id[RECO_ID_TEXT_MAX];
    reco_id_map_describe(map, index, id, sizeof id);
    if (strlen(id) >= size)
        return reco_fail(RECO_ERR_OUT_OF_RANGE, "%s id '%s' needs %zu bytes, the buffer has %zu",
                         what, id, strlen(id) + 1, size);
    memcpy(text, id, strlen(id) + 1);
    return RECO_OK;
}

reco_status reco_id_map_index_of_text(const reco_id_map *map, const char *what, const char *text,
                                      int32_t *index)
{
    if (!map || !text || !index)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL handle, text or output");
    int32_t found = reco_id_map_find_text(map, text);
    if (found < 0) {
        char excerpt[48];
        reco_excerpt(text, text + strlen(text), excerpt, sizeof excerpt);
        return reco_fail(RECO_ERR_OUT_OF_RANGE, "unknown %s id '%s'", what, excerpt);
    }
    *index = found;
    return RECO_OK;
}
