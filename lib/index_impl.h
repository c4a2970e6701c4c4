/* Internal: the approximate top-K index (reco/index.h). Item i's vector is
 * `width` floats: its factors times the head weights (`factors` of them),
 * its bias when the model has biases, then zeros. */
#ifndef RECO_LIB_INDEX_IMPL_H
#define RECO_LIB_INDEX_IMPL_H

#include "hnsw.h"
#include "model_impl.h"
#include "reco/index.h"

struct reco_index {
    size_t n_items;
    size_t factors;
    int biases;
    size_t width;
    uint64_t seed;
    reco_hnsw graph;
};

/* A graph as a file gives it (lists, no vectors), for reco_hnsw_adopt. */
typedef reco_hnsw reco_index_graph;

/* RECO_ERR_STATE unless the model has item factors to search. */
reco_status reco_index_check_model(const reco_model *model);

/* The shape (n_items, factors, biases, width) of an index of `model`. */
void reco_index_describe(const reco_model *model, reco_index *index);

/* Makes an index of `model` (checked): its vectors, then the graph built
 * (graph NULL) or taken from `graph`'s lists. */
reco_status reco_index_make(const reco_model *model, size_t m, size_t ef_construction,
                            uint64_t seed, reco_index_graph *graph, reco_index **out);

#endif
