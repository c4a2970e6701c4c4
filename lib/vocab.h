/* Internal: the vocabulary shared by a dataset and everything derived from it:
 * user and item id maps and item titles, reference-counted. */
#ifndef RECO_LIB_VOCAB_H
#define RECO_LIB_VOCAB_H

#include <stdatomic.h>

#include "id_map.h"

typedef struct reco_vocab {
    atomic_size_t references;
    reco_id_map users;
    reco_id_map items;
    reco_id_map title_ids; /* item id -> slot in titles */
    char **titles;         /* UTF-8, one per title_ids entry */
    size_t titles_capacity;
} reco_vocab;

/* Returns a new vocabulary with one reference, or NULL out of memory. */
reco_vocab *reco_vocab_new(void);

void reco_vocab_retain(reco_vocab *vocab);

/* Drops one reference; frees the vocabulary with the last. NULL is a no-op. */
void reco_vocab_release(reco_vocab *vocab);

/* Stores copies of n titles, title i of external item id item_ids[i] being
 * text[offsets[i] .. offsets[i + 1]) (UTF-8), each replacing an earlier one
 * (the last wins for an id given twice). All or nothing: on failure the
 * vocabulary has the titles it had. */
reco_status reco_vocab_set_titles(reco_vocab *vocab, size_t n, const int64_t *item_ids,
                                  const char *text, const size_t *offsets);

/* Returns the title of an external item id, or NULL. */
const char *reco_vocab_title(const reco_vocab *vocab, int64_t item_id);

#endif
