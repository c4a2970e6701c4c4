/* libreco — approximate top-K for the inner-product models (MF, GMF, iALS):
 * a graph index (HNSW: hierarchical navigable small worlds, libreco's own)
 * over a model's item factors, searched with a recall/speed knob, ef: the
 * candidates a search keeps (more: higher recall, slower).
 *
 * The graph links items by inner product itself (ip-NSW: Morozov and
 * Babenko, NeurIPS 2018): an item's vector is its factors times GMF's head
 * weights, then its bias when the model has biases; a query is the user's
 * factors, then 1: their inner products are the model's logits less the
 * user's terms. Results are scored exactly (the model's scores); only
 * which items are found is approximate.
 *
 * Threads: an index is read by any number of threads searching at once;
 * building and freeing run alone. It belongs to the model it was built
 * for: another model's shape is refused, and a model trained further needs
 * a new index. */
#ifndef RECO_INDEX_H
#define RECO_INDEX_H

#include "reco/filter.h"
#include "reco/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct reco_index reco_index;

/* Builds the index over `model`'s items on the calling thread: `m`
 * neighbours a node (2m on the bottom layer; 4-64, 16 is usual),
 * `ef_construction` candidates an insertion (m-4096, 100 is usual), node
 * levels drawn from `seed`: the same model and settings give the same
 * index. RECO_ERR_STATE for a model without item factors to multiply (MLP,
 * NeuMF, EASE, item-kNN). The caller frees *out with reco_index_free. */
RECO_API reco_status reco_index_build(const reco_model *model, size_t m, size_t ef_construction,
                                      uint64_t seed, reco_index **out);
RECO_API void reco_index_free(reco_index *index);

/* Writes the graph (not the vectors, which the model gives) to `path`,
 * atomically (as reco_model_save does): the format of docs/model-format.md's
 * "Index files". */
RECO_API reco_status reco_index_save(const reco_index *index, const char *path);

/* Reads an index reco_index_save wrote for `model` (the same item factors:
 * the vectors are made from the model again); RECO_ERR_FORMAT for a
 * damaged file or one of another shape. The caller frees *out. */
RECO_API reco_status reco_index_load(const reco_model *model, const char *path,
                                     reco_index **out);

/* reco_model_recommend_filtered, approximately: each user's best k among
 * the max(ef, k + its left-out items) items a search of the index finds,
 * scored as the model scores them. ef from 1 to 100000. */
RECO_API reco_status reco_model_recommend_approximate(const reco_model *model,
                                                      const reco_index *index,
                                                      const int32_t *users, size_t n_users,
                                                      size_t k, size_t ef,
                                                      const reco_filter *filter, int32_t *items,
                                                      float *scores, size_t *counts);

#ifdef __cplusplus
}
#endif

#endif
