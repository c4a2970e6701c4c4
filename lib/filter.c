/* Per-request filters: candidate flags over the model's items (exclusion
 * and allow lists, tags) and whose seen items are left out. The flags are
 * settled by each setter, so a recommendation only reads them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "item_tags.h"
#include "model_impl.h"
#include "ranking.h"
#include "reco_alloc.h"

struct reco_filter {
    size_t n_items;
    uint8_t *allowed;    /* 0: left out by a list or an excluded tag */
    uint8_t *included;   /* 1: has an included tag; NULL while none is */
    uint8_t *candidates; /* allowed and (no included tag, or included) */
    int restricted;      /* 0 while every item is a candidate */
    reco_seen_source seen;
    const reco_dataset *seen_data;
};

reco_status reco_filter_new(const reco_model *model, reco_filter **out)
{
    if (!out)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL output");
    *out = NULL;
    if (!model)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL model");
    reco_filter *filter = reco_calloc(1, sizeof *filter);
    size_t n = model->n_items ? model->n_items : 1;
    if (filter) {
        filter->n_items = model->n_items;
        filter->allowed = reco_malloc(n);
        filter->candidates = reco_malloc(n);
    }
    if (!filter || !filter->allowed || !filter->candidates) {
        reco_filter_free(filter);
        return reco_fail_oom();
    }
    memset(filter->allowed, 1, n);
    memset(filter->candidates, 1, n);
    *out = filter;
    return RECO_OK;
}

void reco_filter_free(reco_filter *filter)
{
    if (!filter)
        return;
    reco_free(filter->allowed);
    reco_free(filter->included);
    reco_free(filter->candidates);
    reco_free(filter);
}

/* Settles the candidate flags after a change. */
static void settle(reco_filter *filter)
{
    for (size_t i = 0; i < filter->n_items; i++)
        filter->candidates[i] = filter->allowed[i] && (!filter->included || filter->included[i]);
    filter->restricted = 1;
}

static reco_status check_items(const reco_filter *filter, const int32_t *items, size_t n)
{
    if (!filter || (n && !items))
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL filter or items");
    for (size_t i = 0; i < n; i++)
        if (items[i] < 0 || (size_t)items[i] >= filter->n_items)
            return reco_fail(RECO_ERR_OUT_OF_RANGE, "item %d outside the model's %zu items",
                             (int)items[i], filter->n_items);
    return RECO_OK;
}

reco_status reco_filter_exclude_items(reco_filter *filter, const int32_t *items, size_t n)
{
    reco_status status = check_items(filter, items, n);
    if (status != RECO_OK)
        return status;
    for (size_t i = 0; i < n; i++)
        filter->allowed[items[i]] = 0;
    settle(filter);
    return RECO_OK;
}

reco_status reco_filter_only_items(reco_filter *filter, const int32_t *items, size_t n)
{
    reco_status status = check_items(filter, items, n);
    if (status != RECO_OK)
        return status;
    uint8_t *listed = reco_calloc(filter->n_items ? filter->n_items : 1, 1);
    if (!listed)
        return reco_fail_oom();
    for (size_t i = 0; i < n; i++)
        listed[items[i]] = 1;
    for (size_t i = 0; i < filter->n_items; i++)
        filter->allowed[i] &= listed[i];
    reco_free(listed);
    settle(filter);
    return RECO_OK;
}

/* The tag's number in `tags`, checked against the filter; -1 after a
 * failure. */
static long checked_tag(const reco_filter *filter, const reco_item_tags *tags, const char *tag)
{
    if (!filter || !tags || !tag) {
        reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL filter, tags or tag");
        return -1;
    }
    if (tags->n_items != filter->n_items) {
        reco_fail(RECO_ERR_INVALID_ARGUMENT, "tags of %zu items for a filter of %zu",
                  tags->n_items, filter->n_items);
        return -1;
    }
    long number = reco_item_tags_number(tags, tag);
    if (number < 0) {
        char names[512] = "";
        for (size_t t = 0; t < tags->n_names && strlen(names) + 64 < sizeof names; t++)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", t ? ", " : "",
                     tags->names[t]);
        reco_fail(RECO_ERR_INVALID_ARGUMENT, "no item has the tag '%s' (tags: %s)", tag,
                  tags->n_names ? names : "none");
    }
    return number;
}

/* Sets flags[i] to `value` for every item that has tag `number`. */
static void mark_tagged(const reco_item_tags *tags, long number, uint8_t *flags, uint8_t value)
{
    for (size_t i = 0; i < tags->n_items; i++)
        for (size_t e = tags->offsets[i]; e < tags->offsets[i + 1]; e++)
            if (tags->tags[e] == (uint32_t)number)
                flags[i] = value;
}

reco_status reco_filter_include_tag(reco_filter *filter, const reco_item_tags *tags,
                                    const char *tag)
{
    long number = checked_tag(filter, tags, tag);
    if (number < 0)
        return RECO_ERR_INVALID_ARGUMENT;
    if (!filter->included && !(filter->included = reco_calloc(filter->n_items + 1, 1)))
        return reco_fail_oom();
    mark_tagged(tags, number, filter->included, 1);
    settle(filter);
    return RECO_OK;
}

reco_status reco_filter_exclude_tag(reco_filter *filter, const reco_item_tags *tags,
                                    const char *tag)
{
    long number = checked_tag(filter, tags, tag);
    if (number < 0)
        return RECO_ERR_INVALID_ARGUMENT;
    mark_tagged(tags, number, filter->allowed, 0);
    settle(filter);
    return RECO_OK;
}

reco_status reco_filter_set_seen(reco_filter *filter, reco_seen_source source,
                                 const reco_dataset *data)
{
    if (!filter)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL filter");
    if (source < RECO_SEEN_MODEL || source > RECO_SEEN_NONE ||
        (source == RECO_SEEN_DATASET) != (data != NULL))
        return reco_fail(RECO_ERR_INVALID_ARGUMENT,
                         "seen source %d: expected the model's, a dataset's (with the dataset) "
                         "or none",
                         (int)source);
    filter->seen = source;
    filter->seen_data = data;
    return RECO_OK;
}

reco_status reco_filter_seen_rows(const reco_filter *filter, const reco_model *model,
                                  reco_user_rows *view, const reco_user_rows **rows)
{
    *rows = NULL;
    if (filter && filter->n_items != model->n_items)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "a filter of %zu items for a model of %zu",
                         filter->n_items, model->n_items);
    reco_seen_source source = filter ? filter->seen : RECO_SEEN_MODEL;
    if (source == RECO_SEEN_DATASET)
        return reco_dataset_user_rows(filter->seen_data, rows);
    if (source == RECO_SEEN_MODEL && model->history.offsets) {
        *view = reco_model_seen_rows(model);
        *rows = view;
    }
    return RECO_OK;
}

const uint8_t *reco_filter_candidates(const reco_filter *filter)
{
    return filter && filter->restricted ? filter->candidates : NULL;
}
