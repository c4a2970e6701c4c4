/* The item-item kinds' scores (EASE, item-kNN), written once for the core's
 * host path and the backends' ranking: a user's score for item i is the
 * sum, over the items j of its history with their values v, of v x w_ji,
 * where w is EASE's dense B or item-kNN's sparse neighbours. */
#ifndef RECO_COMMON_ITEM_SCORES_H
#define RECO_COMMON_ITEM_SCORES_H

#include <string.h>

#include "reco/backend_impl.h"

/* row += value x weights, n floats that do not overlap: blocks of 16 that
 * the compiler vectorizes. */
static inline void reco_add_scaled(float *restrict row, const float *restrict weights,
                                   float value, size_t n)
{
    size_t whole = n / 16 * 16;
    for (size_t i = 0; i < whole; i += 16)
        for (size_t lane = 0; lane < 16; lane++)
            row[i + lane] += value * weights[i + lane];
    for (size_t i = whole; i < n; i++)
        row[i] += value * weights[i];
}

/* row (n_items floats) += value x item j's weights: its row of the dense
 * `weights`, or (weights NULL) its neighbours. */
static inline void reco_add_item_row(const float *weights, const reco_host_rows *neighbours,
                                     size_t n_items, int32_t item, float value, float *row)
{
    if (weights) {
        reco_add_scaled(row, weights + (size_t)item * n_items, value, n_items);
        return;
    }
    if (!neighbours->offsets || (size_t)item >= neighbours->n_rows)
        return;
    for (size_t e = neighbours->offsets[item]; e < neighbours->offsets[item + 1]; e++)
        row[neighbours->columns[e]] += neighbours->values[e] * value;
}

/* A user's scores for every item into row (n_items floats); a user past
 * the history's rows scores 0 everywhere. */
static inline void reco_item_scores(const reco_host_rows *history, const float *weights,
                                    const reco_host_rows *neighbours, size_t n_items,
                                    int32_t user, float *row)
{
    memset(row, 0, n_items * sizeof *row);
    if (!history->offsets || (size_t)user >= history->n_rows)
        return;
    for (size_t e = history->offsets[user]; e < history->offsets[user + 1]; e++)
        reco_add_item_row(weights, neighbours, n_items, history->columns[e],
                          history->values[e], row);
}

#endif
