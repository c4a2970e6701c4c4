/* Rating transformations: binarize into implicit positives, scale. */
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
    free(keep);
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
    free(all);
    if (status != RECO_OK)
        return status;
    for (size_t i = 0; i < scaled->size; i++)
        scaled->ratings[i] *= scale;
    *out = scaled;
    return RECO_OK;
}
