/* Partial top-k selection with a bounded min-heap, best first meaning
 * higher score, then lower item index; NaN scores never rank. Static
 * inline so that the core (ranking, similar items) and the backends'
 * all-users ranking keep the same order, written once. */
#ifndef RECO_COMMON_TOPK_H
#define RECO_COMMON_TOPK_H

#include <stddef.h>
#include <stdint.h>

typedef struct reco_topk {
    size_t k;
    size_t count;
    int32_t *items; /* caller storage of k entries */
    float *scores;
} reco_topk;

/* a is worse than b: lower score, or equal score and higher item index */
static inline int reco_topk_worse(float score_a, int32_t item_a, float score_b, int32_t item_b)
{
    return score_a < score_b || (score_a == score_b && item_a > item_b);
}

static inline void reco_topk_swap(reco_topk *topk, size_t a, size_t b)
{
    int32_t item = topk->items[a];
    float score = topk->scores[a];
    topk->items[a] = topk->items[b];
    topk->scores[a] = topk->scores[b];
    topk->items[b] = item;
    topk->scores[b] = score;
}

/* Restores the heap (worst at the root) below `node` among `count` entries. */
static inline void reco_topk_sift_down(reco_topk *topk, size_t node, size_t count)
{
    for (;;) {
        size_t worst = node, left = 2 * node + 1, right = left + 1;
        if (left < count && reco_topk_worse(topk->scores[left], topk->items[left],
                                            topk->scores[worst], topk->items[worst]))
            worst = left;
        if (right < count && reco_topk_worse(topk->scores[right], topk->items[right],
                                             topk->scores[worst], topk->items[worst]))
            worst = right;
        if (worst == node)
            return;
        reco_topk_swap(topk, node, worst);
        node = worst;
    }
}

static inline void reco_topk_init(reco_topk *topk, size_t k, int32_t *items, float *scores)
{
    *topk = (reco_topk){.k = k, .items = items, .scores = scores};
}

/* The score a candidate must beat to enter (ties: a lower item index than
 * the worst kept); -infinity while fewer than k are kept, so that any
 * number enters. Candidates come in rising item order in a scan, so a tie
 * with the threshold never enters there. */
static inline float reco_topk_threshold(const reco_topk *topk)
{
    return topk->count < topk->k ? -__builtin_inff() : topk->scores[0];
}

/* Offers a candidate; keeps it when it beats the worst of the k kept. */
static inline void reco_topk_push(reco_topk *topk, int32_t item, float score)
{
    if (topk->k == 0 || score != score)
        return;
    if (topk->count < topk->k) {
        size_t node = topk->count++;
        topk->items[node] = item;
        topk->scores[node] = score;
        while (node > 0) {
            size_t parent = (node - 1) / 2;
            if (!reco_topk_worse(topk->scores[node], topk->items[node], topk->scores[parent],
                                 topk->items[parent]))
                break;
            reco_topk_swap(topk, node, parent);
            node = parent;
        }
        return;
    }
    if (reco_topk_worse(score, item, topk->scores[0], topk->items[0]) ||
        (score == topk->scores[0] && item == topk->items[0]))
        return;
    topk->items[0] = item;
    topk->scores[0] = score;
    reco_topk_sift_down(topk, 0, topk->count);
}

/* Offers scores[0 .. n) as items first, first + 1, ...: only those above
 * the threshold reach the heap, found a block of 16 at a time. */
static inline void reco_topk_push_row(reco_topk *topk, int32_t first, const float *scores,
                                      size_t n)
{
    if (topk->k == 0)
        return;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        if (topk->count == topk->k) {
            /* NaN lanes compare false: they never rank */
            float threshold = topk->scores[0];
            int any = 0;
            for (size_t lane = 0; lane < 16; lane++)
                any |= scores[i + lane] > threshold;
            if (!any)
                continue;
        }
        for (size_t lane = 0; lane < 16; lane++)
            if (scores[i + lane] > reco_topk_threshold(topk) || topk->count < topk->k)
                reco_topk_push(topk, first + (int32_t)(i + lane), scores[i + lane]);
    }
    for (; i < n; i++)
        if (scores[i] > reco_topk_threshold(topk) || topk->count < topk->k)
            reco_topk_push(topk, first + (int32_t)i, scores[i]);
}

/* Sorts the kept entries best first; returns their count. */
static inline size_t reco_topk_finish(reco_topk *topk)
{
    /* heap sort: repeatedly move the worst to the end */
    for (size_t end = topk->count; end > 1; end--) {
        reco_topk_swap(topk, 0, end - 1);
        reco_topk_sift_down(topk, 0, end - 1);
    }
    return topk->count;
}

#endif
