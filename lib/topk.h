/* Internal: partial top-k selection with a bounded min-heap, best first
 * meaning higher score, then lower item index. */
#ifndef RECO_LIB_TOPK_H
#define RECO_LIB_TOPK_H

#include <stddef.h>
#include <stdint.h>

typedef struct reco_topk {
    size_t k;
    size_t count;
    int32_t *items;  /* caller storage of k entries */
    float *scores;
} reco_topk;

void reco_topk_init(reco_topk *topk, size_t k, int32_t *items, float *scores);

/* Offers a candidate; keeps it when it beats the worst of the k kept. */
void reco_topk_push(reco_topk *topk, int32_t item, float score);

/* Sorts the kept entries best first; returns their count. */
size_t reco_topk_finish(reco_topk *topk);

#endif
