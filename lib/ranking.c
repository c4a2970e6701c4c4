#include <stdlib.h>

#include "error.h"
#include "ranking.h"

/* Items scored per predict call. */
#define SCORING_CHUNK 8192

void reco_item_scorer_free(reco_item_scorer *scorer)
{
    free(scorer->users);
    free(scorer->items);
    free(scorer->scores);
    free(scorer->excluded);
}

reco_status reco_item_scorer_init(reco_item_scorer *scorer, size_t n_items)
{
    *scorer = (reco_item_scorer){0};
    scorer->users = malloc(SCORING_CHUNK * sizeof(int32_t));
    scorer->items = malloc(SCORING_CHUNK * sizeof(int32_t));
    scorer->scores = malloc(SCORING_CHUNK * sizeof(float));
    scorer->excluded = calloc(n_items ? n_items : 1, 1);
    if (!scorer->users || !scorer->items || !scorer->scores || !scorer->excluded) {
        reco_item_scorer_free(scorer);
        return reco_fail_oom();
    }
    return RECO_OK;
}

static void mark(uint8_t *flags, const int32_t *items, size_t n, size_t n_items, uint8_t value)
{
    for (size_t i = 0; i < n; i++)
        if (items[i] >= 0 && (size_t)items[i] < n_items)
            flags[items[i]] = value;
}

reco_status reco_rank_items(reco_model *model, reco_item_scorer *scorer, int32_t user,
                            const int32_t *excluded_items, size_t n_excluded, reco_topk *topk)
{
    mark(scorer->excluded, excluded_items, n_excluded, model->n_items, 1);
    reco_status status = RECO_OK;
    for (size_t begin = 0; begin < model->n_items && status == RECO_OK; begin += SCORING_CHUNK) {
        size_t count = model->n_items - begin < SCORING_CHUNK ? model->n_items - begin
                                                              : SCORING_CHUNK;
        for (size_t i = 0; i < count; i++) {
            scorer->users[i] = user;
            scorer->items[i] = (int32_t)(begin + i);
        }
        status = reco_model_predict(model, scorer->users, scorer->items, count, scorer->scores);
        for (size_t i = 0; status == RECO_OK && i < count; i++)
            if (!scorer->excluded[begin + i])
                reco_topk_push(topk, (int32_t)(begin + i), scorer->scores[i]);
    }
    mark(scorer->excluded, excluded_items, n_excluded, model->n_items, 0);
    reco_topk_finish(topk);
    return status;
}
