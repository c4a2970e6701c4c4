/* libreco — per-request filters: which items a recommendation may hold.
 *
 * A reco_filter is made for a model, configured with setters (each checked
 * at once), and then read by any number of threads recommending at the
 * same time (reco_model_recommend_filtered); its setters change it and run
 * alone on it. What it leaves out: the items of exclusion lists, the items
 * outside allow lists (candidate sets: implicit's `items=`), the items
 * without one of the included tags or with an excluded tag (MovieLens
 * genres, from reco_item_tags), and each user's seen items (the model's by
 * default; a dataset's; or none). Items are the model's indices. */
#ifndef RECO_FILTER_H
#define RECO_FILTER_H

#include "reco/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct reco_filter reco_filter;
typedef struct reco_item_tags reco_item_tags;

/* Whose seen items a filtered recommendation leaves out. */
typedef enum reco_seen_source {
    RECO_SEEN_MODEL = 0,   /* the model's (reco_model_seen), the default */
    RECO_SEEN_DATASET = 1, /* a dataset's pairs (read with the model's ids) */
    RECO_SEEN_NONE = 2     /* none: seen items may be recommended */
} reco_seen_source;

/* A filter for `model`'s items that leaves out nothing but the model's seen
 * items. The caller frees it with reco_filter_free (NULL is a no-op); it
 * must not outlive the model's item count (a fold-in adds users only). */
RECO_API reco_status reco_filter_new(const reco_model *model, reco_filter **out);
RECO_API void reco_filter_free(reco_filter *filter);

/* Leaves out n items for every user (repeats allowed; cumulative).
 * RECO_ERR_OUT_OF_RANGE names an item outside the model. */
RECO_API reco_status reco_filter_exclude_items(reco_filter *filter, const int32_t *items,
                                               size_t n);

/* Keeps only these n items as candidates (an allow list; a second list
 * narrows to the items both hold). RECO_ERR_OUT_OF_RANGE as above. */
RECO_API reco_status reco_filter_only_items(reco_filter *filter, const int32_t *items, size_t n);

/* Tags: an included tag keeps only the items that have at least one of the
 * included tags; an excluded tag leaves out every item that has it.
 * RECO_ERR_INVALID_ARGUMENT for a tag no item has (the tags' names in the
 * detail) or tags read for another number of items. */
RECO_API reco_status reco_filter_include_tag(reco_filter *filter, const reco_item_tags *tags,
                                             const char *tag);
RECO_API reco_status reco_filter_exclude_tag(reco_filter *filter, const reco_item_tags *tags,
                                             const char *tag);

/* Whose seen items are left out (RECO_SEEN_DATASET: `data`'s, which the
 * caller keeps alive while the filter is used; otherwise data is NULL). */
RECO_API reco_status reco_filter_set_seen(reco_filter *filter, reco_seen_source source,
                                          const reco_dataset *data);

/* reco_model_recommend_batch with a filter (NULL: the model's seen items
 * left out, nothing else): user u's best k at items[u * k], scores[u * k],
 * counts[u] of them. Fewer than k when fewer candidates are left. */
RECO_API reco_status reco_model_recommend_filtered(const reco_model *model, const int32_t *users,
                                                   size_t n_users, size_t k,
                                                   const reco_filter *filter, int32_t *items,
                                                   float *scores, size_t *counts);

/* Reads the item tags of a titles file for the model's items: the genres of
 * MovieLens movies.dat (id::title::A|B) and movies.csv (movieId,title,A|B;
 * "(no genres listed)" is none), and ml-100k's u.item (its 19 genre flags,
 * named as u.genre names them: unknown, Action, ..., Western). Items the
 * model does not know are skipped; a malformed line fails with
 * RECO_ERR_PARSE naming the file and line. The caller frees *out. */
RECO_API reco_status reco_item_tags_read(const reco_model *model, const char *path,
                                         reco_item_tags **out);
RECO_API void reco_item_tags_free(reco_item_tags *tags);

/* The number of distinct tags, and tag i's name (NULL past the end), in
 * the order the file first names them. */
RECO_API size_t reco_item_tags_count(const reco_item_tags *tags);
RECO_API const char *reco_item_tags_name(const reco_item_tags *tags, size_t i);

/* 1 when `item` has the tag, else 0 (also for an unknown tag or item). */
RECO_API int reco_item_tags_has(const reco_item_tags *tags, int32_t item, const char *tag);

#ifdef __cplusplus
}
#endif

#endif
