#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "vocab.h"
#include "reco_alloc.h"

reco_vocab *reco_vocab_new(void)
{
    reco_vocab *vocab = reco_calloc(1, sizeof *vocab);
    if (vocab)
        atomic_init(&vocab->references, 1);
    return vocab;
}

void reco_vocab_retain(reco_vocab *vocab)
{
    atomic_fetch_add(&vocab->references, 1);
}

void reco_vocab_release(reco_vocab *vocab)
{
    if (!vocab || atomic_fetch_sub(&vocab->references, 1) != 1)
        return;
    for (size_t i = 0; i < vocab->title_ids.count; i++)
        free(vocab->titles[i]);
    free(vocab->titles);
    reco_id_map_free(&vocab->users);
    reco_id_map_free(&vocab->items);
    reco_id_map_free(&vocab->title_ids);
    free(vocab);
}

reco_status reco_vocab_set_title(reco_vocab *vocab, int64_t item_id, const char *title,
                                 size_t len)
{
    reco_status status = RECO_OK;
    char *copy = reco_malloc(len + 1);
    if (!copy)
        return reco_fail_oom();
    memcpy(copy, title, len);
    copy[len] = '\0';
    int32_t slot = reco_id_map_find(&vocab->title_ids, item_id);
    if (slot >= 0) {
        free(vocab->titles[slot]);
        vocab->titles[slot] = copy;
        return RECO_OK;
    }
    /* grow titles first, so that a failure leaves map and titles in step */
    if (vocab->title_ids.count == vocab->titles_capacity) {
        size_t capacity = vocab->titles_capacity ? vocab->titles_capacity * 2 : 1024;
        char **titles = reco_realloc(vocab->titles, capacity * sizeof *titles);
        if (!titles) {
            status = reco_fail_oom();
            goto fail;
        }
        vocab->titles = titles;
        vocab->titles_capacity = capacity;
    }
    status = reco_id_map_insert(&vocab->title_ids, item_id, &slot);
    if (status != RECO_OK)
        goto fail;
    vocab->titles[slot] = copy;
    return RECO_OK;
fail:
    free(copy);
    return status;
}

const char *reco_vocab_title(const reco_vocab *vocab, int64_t item_id)
{
    int32_t slot = reco_id_map_find(&vocab->title_ids, item_id);
    return slot < 0 ? NULL : vocab->titles[slot];
}
