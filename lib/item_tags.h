/* Internal: item tags (reco/filter.h), per item rows of tag numbers. */
#ifndef RECO_LIB_ITEM_TAGS_H
#define RECO_LIB_ITEM_TAGS_H

#include "reco/filter.h"

struct reco_item_tags {
    size_t n_items;   /* the model's, when read */
    char **names;     /* n_names distinct tag names */
    size_t n_names;
    size_t *offsets;  /* n_items + 1 */
    uint32_t *tags;   /* each item's tag numbers */
};

/* The number of a tag's name, or -1 when no item has it. */
long reco_item_tags_number(const reco_item_tags *tags, const char *tag);

#endif
