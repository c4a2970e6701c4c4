/* Internal: a hierarchical navigable small world graph (Malkov and
 * Yashunin, 2016) whose distance is the negated inner product (ip-NSW),
 * the maximum-inner-product index of reco/index.h. Written from the paper's
 * algorithms 1-5 (the neighbour-selection heuristic of algorithm 4 without
 * the extension of candidates). Built on the calling thread, in item order,
 * from a seeded level draw: the same vectors and settings give the same
 * graph. Searched by any number of threads at once. */
#ifndef RECO_LIB_HNSW_H
#define RECO_LIB_HNSW_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "reco/common.h"

typedef struct reco_hnsw_visits reco_hnsw_visits;

typedef struct reco_hnsw {
    size_t n;              /* nodes */
    size_t dim;            /* floats a vector (a multiple of 16) */
    size_t width;          /* floats an inner product reads: dim */
    size_t query_dim;      /* past which a query is zero (a multiple of 16) */
    float *vectors;        /* n x dim */
    size_t m;              /* neighbours a node keeps above layer 0 (2m on it) */
    size_t ef_construction;
    int max_level;
    int32_t entry;         /* a node of the top layer; -1 when empty */
    uint8_t *levels;       /* each node's top layer */
    int32_t *layer0;       /* n x (2m + 1): count, then neighbours */
    int32_t **upper;       /* per node: levels[i] x (m + 1) for layers 1.., or NULL */
    pthread_mutex_t visits_lock; /* guards `spare` */
    reco_hnsw_visits *spare;     /* visit marks free for the next search */
} reco_hnsw;

/* Builds the graph over n vectors of `dim` floats (a multiple of 16;
 * copied), m neighbours a node (2m on layer 0), ef_construction
 * candidates an insertion; queries will be zero past `query_dim` floats.
 * The caller frees it with reco_hnsw_free. */
reco_status reco_hnsw_build(const float *vectors, size_t n, size_t dim, size_t query_dim,
                            size_t m, size_t ef_construction, uint64_t seed, reco_hnsw *graph);

void reco_hnsw_free(reco_hnsw *graph);

/* Makes *graph from `lists` (m, ef_construction, max_level, entry, levels,
 * layer0 and upper, checked by the caller, moved out of it) and a copy of
 * the n vectors. */
reco_status reco_hnsw_adopt(const float *vectors, size_t n, size_t dim, size_t query_dim,
                            reco_hnsw *lists, reco_hnsw *graph);

/* The up to `ef` nodes of largest inner product with `query` (dim floats)
 * that the search finds, best first: nodes[i] and products[i], their
 * number returned (0 and the error set when out of memory). */
size_t reco_hnsw_search(reco_hnsw *graph, const float *query, size_t ef, int32_t *nodes,
                        float *products);

/* The inner product of two vectors of `dim` floats (a multiple of 16). */
float reco_hnsw_dot(const float *a, const float *b, size_t dim);

#endif
