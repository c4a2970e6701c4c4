/* Internal: an insertion-ordered map from external ids (int64) to dense
 * indices (int32), open addressing with linear probing. */
#ifndef RECO_LIB_ID_MAP_H
#define RECO_LIB_ID_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "reco/common.h"

typedef struct reco_id_map {
    int64_t *ids;     /* index -> id, `count` used of `capacity` */
    int32_t *slots;   /* hash slot -> index, -1 when empty */
    size_t count;
    size_t capacity;
    size_t n_slots;   /* a power of two, kept at most half full */
} reco_id_map;

void reco_id_map_free(reco_id_map *map);

/* Returns the index of id, or -1 when absent. */
int32_t reco_id_map_find(const reco_id_map *map, int64_t id);

/* Finds id or appends it with the next index; writes the index to *index.
 * Fails with RECO_ERR_OUT_OF_RANGE past INT32_MAX ids, or out of memory. */
reco_status reco_id_map_insert(reco_id_map *map, int64_t id, int32_t *index);

/* Checked lookups for the public API: `what` ("user", "item") names the id
 * in the error. NULL map or output gives RECO_ERR_INVALID_ARGUMENT; a bad
 * index or an unknown id RECO_ERR_OUT_OF_RANGE. */
reco_status reco_id_map_id_of(const reco_id_map *map, const char *what, int32_t index,
                              int64_t *id);
reco_status reco_id_map_index_of(const reco_id_map *map, const char *what, int64_t id,
                                 int32_t *index);

/* Forgets every id of index >= count (undoing inserts after a failure). */
void reco_id_map_truncate(reco_id_map *map, size_t count);

#endif
