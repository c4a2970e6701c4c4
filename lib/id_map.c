#include <stdlib.h>

#include "error.h"
#include "id_map.h"
#include "reco_alloc.h"

static size_t hash_id(int64_t id, size_t n_slots)
{
    uint64_t x = (uint64_t)id * 0x9e3779b97f4a7c15ull;
    return (size_t)((x ^ (x >> 29)) & (n_slots - 1));
}

void reco_id_map_free(reco_id_map *map)
{
    free(map->ids);
    free(map->slots);
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
    free(map->slots);
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
    *id = map->ids[index];
    return RECO_OK;
}

reco_status reco_id_map_index_of(const reco_id_map *map, const char *what, int64_t id,
                                 int32_t *index)
{
    if (!map || !index)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL handle or output");
    int32_t found = reco_id_map_find(map, id);
    if (found < 0)
        return reco_fail(RECO_ERR_OUT_OF_RANGE, "unknown %s id %lld", what, (long long)id);
    *index = found;
    return RECO_OK;
}
