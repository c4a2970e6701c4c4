/* Rating transformations: binarize into implicit positives, scale; rows
 * that repeat a (user, item) pair kept or refused. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dataset_impl.h"
#include "error.h"
#include "reco_alloc.h"

static reco_status check_rated(const reco_dataset *dataset, reco_dataset **out)
{
    if (!out)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL output");
    *out = NULL;
    if (!dataset)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL dataset");
    if (!dataset->ratings)
        return reco_fail(RECO_ERR_STATE, "the dataset has no ratings (implicit data)");
    return RECO_OK;
}

reco_status reco_dataset_binarize(const reco_dataset *dataset, float threshold,
                                  reco_dataset **out)
{
    reco_status status = check_rated(dataset, out);
    if (status != RECO_OK)
        return status;
    if (!isfinite(threshold))
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "threshold %g is not finite",
                         (double)threshold);
    uint8_t *keep = reco_malloc(dataset->size ? dataset->size : 1);
    if (!keep)
        return reco_fail_oom();
    for (size_t i = 0; i < dataset->size; i++)
        keep[i] = dataset->ratings[i] >= threshold;
    status = reco_dataset_select(dataset, keep, 1, 0, out);
    reco_free(keep);
    return status;
}

reco_status reco_dataset_scale_ratings(const reco_dataset *dataset, float scale,
                                       reco_dataset **out)
{
    reco_status status = check_rated(dataset, out);
    if (status != RECO_OK)
        return status;
    if (!isfinite(scale) || scale == 0.0f)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "scale %g must be finite and non-zero",
                         (double)scale);
    uint8_t *all = reco_calloc(dataset->size ? dataset->size : 1, 1);
    if (!all)
        return reco_fail_oom();
    reco_dataset *scaled = NULL;
    status = reco_dataset_select(dataset, all, 0, 1, &scaled);
    reco_free(all);
    if (status != RECO_OK)
        return status;
    for (size_t i = 0; i < scaled->size; i++) {
        float rating = scaled->ratings[i];
        scaled->ratings[i] *= scale;
        /* the readers' bound, so that a scaled set is one they would take */
        if (!(fabsf(scaled->ratings[i]) <= RECO_RATING_LIMIT)) {
            reco_dataset_free(scaled);
            return reco_fail(RECO_ERR_OUT_OF_RANGE,
                             "row %zu: rating %g times %g is outside +-%g", i, (double)rating,
                             (double)scale, RECO_RATING_LIMIT);
        }
    }
    *out = scaled;
    return RECO_OK;
}

reco_status reco_dataset_deduplicate(const reco_dataset *dataset, reco_duplicates policy,
                                     reco_dataset **out)
{
    if (!out)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL output");
    *out = NULL;
    if (!dataset)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL dataset");
    if (policy < RECO_DUPLICATES_KEEP_ALL || policy > RECO_DUPLICATES_REFUSE)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "unknown duplicates policy %d", (int)policy);
    size_t n = dataset->size;
    const int32_t *users = dataset->users, *items = dataset->items;
    /* keeping all is a copy: no need to find the repeats */
    size_t *order = policy == RECO_DUPLICATES_KEEP_ALL ? NULL : reco_dataset_pair_order(dataset);
    uint8_t *keep = reco_malloc(n ? n : 1);
    reco_status status = RECO_OK;
    if ((!order && policy != RECO_DUPLICATES_KEEP_ALL) || !keep) {
        status = reco_fail_oom();
        goto done;
    }
    memset(keep, 1, n);
    for (size_t i = 1; i < n && order; i++) {
        size_t row = order[i], before = order[i - 1];
        if (users[row] != users[before] || items[row] != items[before])
            continue;
        if (policy == RECO_DUPLICATES_REFUSE) {
            char user_id[RECO_ID_TEXT_MAX], item_id[RECO_ID_TEXT_MAX];
            reco_id_map_describe(&dataset->vocab->users, users[row], user_id, sizeof user_id);
            reco_id_map_describe(&dataset->vocab->items, items[row], item_id, sizeof item_id);
            status =
                reco_fail(RECO_ERR_INVALID_ARGUMENT, "rows %zu and %zu repeat user %s and item %s",
                          before + 1, row + 1, user_id, item_id);
            goto done;
        }
        /* the group is in row order: drop all but its first, or its last */
        keep[policy == RECO_DUPLICATES_KEEP_FIRST ? row : before] = 0;
    }
    status = reco_dataset_select(dataset, keep, 1, dataset->ratings != NULL, out);
done:
    reco_free(order);
    reco_free(keep);
    return status;
}

reco_status reco_dataset_concat(const reco_dataset *first, const reco_dataset *second,
                                reco_dataset **out)
{
    if (!out)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL output");
    *out = NULL;
    if (!first || !second)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL dataset");
    if (first->vocab != second->vocab)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT,
                         "the datasets do not share a vocabulary: their indices disagree");
    size_t total;
    if (!reco_size_add(first->size, second->size, &total))
        return reco_fail(RECO_ERR_OUT_OF_RANGE, "too many rows");
    reco_dataset *both = NULL;
    reco_status status = reco_dataset_create(first->vocab, first->ratings && second->ratings,
                                             first->timestamps && second->timestamps, total, &both);
    if (status != RECO_OK)
        return status;
    const reco_dataset *parts[2] = {first, second};
    for (int p = 0; p < 2; p++)
        for (size_t i = 0; i < parts[p]->size; i++)
            reco_dataset_push(both, parts[p]->users[i], parts[p]->items[i],
                              parts[p]->ratings ? parts[p]->ratings[i] : 1.0f,
                              parts[p]->timestamps ? parts[p]->timestamps[i] : 0);
    *out = both;
    return RECO_OK;
}
