#include "topk.h"

/* a is worse than b: lower score, or equal score and higher item index */
static int worse(float score_a, int32_t item_a, float score_b, int32_t item_b)
{
    return score_a < score_b || (score_a == score_b && item_a > item_b);
}

static void swap_entries(reco_topk *topk, size_t a, size_t b)
{
    int32_t item = topk->items[a];
    float score = topk->scores[a];
    topk->items[a] = topk->items[b];
    topk->scores[a] = topk->scores[b];
    topk->items[b] = item;
    topk->scores[b] = score;
}

/* Restores the heap (worst at the root) below `node` among `count` entries. */
static void sift_down(reco_topk *topk, size_t node, size_t count)
{
    for (;;) {
        size_t worst = node, left = 2 * node + 1, right = left + 1;
        if (left < count && worse(topk->scores[left], topk->items[left], topk->scores[worst],
                                  topk->items[worst]))
            worst = left;
        if (right < count && worse(topk->scores[right], topk->items[right], topk->scores[worst],
                                   topk->items[worst]))
            worst = right;
        if (worst == node)
            return;
        swap_entries(topk, node, worst);
        node = worst;
    }
}

void reco_topk_init(reco_topk *topk, size_t k, int32_t *items, float *scores)
{
    *topk = (reco_topk){.k = k, .items = items, .scores = scores};
}

void reco_topk_push(reco_topk *topk, int32_t item, float score)
{
    if (topk->k == 0 || score != score) /* NaN scores never rank */
        return;
    if (topk->count < topk->k) {
        size_t node = topk->count++;
        topk->items[node] = item;
        topk->scores[node] = score;
        while (node > 0) {
            size_t parent = (node - 1) / 2;
            if (!worse(topk->scores[node], topk->items[node], topk->scores[parent],
                       topk->items[parent]))
                break;
            swap_entries(topk, node, parent);
            node = parent;
        }
        return;
    }
    if (worse(score, item, topk->scores[0], topk->items[0]) ||
        (score == topk->scores[0] && item == topk->items[0]))
        return;
    topk->items[0] = item;
    topk->scores[0] = score;
    sift_down(topk, 0, topk->count);
}

size_t reco_topk_finish(reco_topk *topk)
{
    /* heap sort: repeatedly move the worst to the end */
    for (size_t end = topk->count; end > 1; end--) {
        swap_entries(topk, 0, end - 1);
        sift_down(topk, 0, end - 1);
    }
    return topk->count;
}
