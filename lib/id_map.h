/* Internal: an insertion-ordered map from external ids to dense indices
 * (int32), open addressing with linear probing. An external id is an
 * integer (>= 0) or a text: a text is interned in the map and keyed by
 * -1 - its number, so every id is one int64 key and the rest of the
 * library (splits, titles, model files) handles both alike. A map read
 * from text is of one kind (reco_ids): integer ids, or text ids, where a
 * canonical integer keeps its integer key (it prints back as written). */
#ifndef RECO_LIB_ID_MAP_H
#define RECO_LIB_ID_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "reco/common.h"
#include "reco/dataset.h"

typedef struct reco_id_map {
    int64_t *ids;     /* index -> key, `count` used of `capacity` */
    int32_t *slots;   /* hash slot -> index, -1 when empty */
    size_t count;
    size_t capacity;
    size_t n_slots;   /* a power of two, kept at most half full */
    /* text ids: text t is text_bytes + text_starts[t], NUL-terminated */
    char *text_bytes;
    size_t text_size, text_capacity;
    size_t *text_starts;
    size_t n_texts, texts_capacity;
    int32_t *text_slots; /* hash slot -> text number, -1 when empty */
    size_t n_text_slots;
    reco_ids kind;  /* RECO_IDS_AUTO until the first id read decides, or forced */
    int forced;     /* asked for by the caller, not decided from the data */
    char decided_by[RECO_ID_TEXT_MAX + 64]; /* "'u1' on line 3 of r.dat", for messages */
} reco_id_map;

/* Where an id was read, for messages: "path:line: what: ...". `separator`
 * is the file's field separator, which no id may hold (NULL: none). */
typedef struct reco_id_place {
    const char *path;
    size_t line;
    const char *what; /* "field 2 (item id)" */
    const char *separator;
} reco_id_place;

void reco_id_map_free(reco_id_map *map);

/* Returns the index of key, or -1 when absent. */
int32_t reco_id_map_find(const reco_id_map *map, int64_t id);

/* Finds key or appends it with the next index; writes the index to *index.
 * Fails with RECO_ERR_OUT_OF_RANGE past INT32_MAX ids, or out of memory. */
reco_status reco_id_map_insert(reco_id_map *map, int64_t id, int32_t *index);

/* The key of an id written in [start, end) at `place`, by the map's kind
 * (the first id read decides an undecided map's; see reco_ids): an integer
 * is itself, a text is interned (added when new). Fails with
 * RECO_ERR_PARSE naming the place, the id and what was expected, or out of
 * memory. */
reco_status reco_id_map_parse(reco_id_map *map, const char *start, const char *end,
                              const reco_id_place *place, int64_t *key);

/* Forces the map's kind (RECO_IDS_AUTO: leaves it to the data). Fails with
 * RECO_ERR_INVALID_ARGUMENT when the map already holds ids of another. */
reco_status reco_id_map_force(reco_id_map *map, reco_ids kind, const char *what);

/* Interns a text id read from a model file: 1 to RECO_ID_TEXT_MAX - 1
 * bytes, not a canonical integer. Returns 0 with its key, -1 otherwise;
 * out of memory it sets *status. */
int reco_id_map_intern(reco_id_map *map, const char *start, const char *end, int64_t *key,
                       reco_status *status);

/* The index of the id written as `text` (either kind), or -1. */
int32_t reco_id_map_find_text(const reco_id_map *map, const char *text);

/* The text of a text key, or NULL for an integer key. */
const char *reco_id_map_text_of_key(const reco_id_map *map, int64_t key);

/* Writes the id of `index` as text (at most size - 1 bytes and a NUL); for
 * messages, so a bad index writes "?". */
void reco_id_map_describe(const reco_id_map *map, int32_t index, char *text, size_t size);

/* A copy of src's keys and texts into an empty dst. */
reco_status reco_id_map_copy(reco_id_map *dst, const reco_id_map *src);

/* Checked lookups for the public API: `what` ("user", "item") names the id
 * in the error. NULL map or output gives RECO_ERR_INVALID_ARGUMENT; a bad
 * index or an unknown id RECO_ERR_OUT_OF_RANGE; reco_id_map_id_of on a text
 * id RECO_ERR_STATE. */
reco_status reco_id_map_id_of(const reco_id_map *map, const char *what, int32_t index,
                              int64_t *id);
reco_status reco_id_map_index_of(const reco_id_map *map, const char *what, int64_t id,
                                 int32_t *index);
reco_status reco_id_map_text_at(const reco_id_map *map, const char *what, int32_t index, char *text,
                                size_t size);
reco_status reco_id_map_index_of_text(const reco_id_map *map, const char *what, const char *text,
                                      int32_t *index);

/* Forgets every id of index >= count (undoing inserts after a failure); the
 * texts stay interned, unused. */
void reco_id_map_truncate(reco_id_map *map, size_t count);

#endif
