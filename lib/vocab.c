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
        reco_free(vocab->titles[i]);
    reco_free(vocab->titles);
    reco_id_map_free(&vocab->users);
    reco_id_map_free(&vocab->items);
    reco_id_map_free(&vocab->title_ids);
    reco_free(vocab);
}

reco_status reco_vocab_set_titles(reco_vocab *vocab, size_t n, const int64_t *item_ids,
                                  const char *text, const size_t *offsets)
{
    reco_status status = RECO_OK;
    size_t old_count = vocab->title_ids.count;
    char **copies = reco_calloc(n ? n : 1, sizeof *copies);
    int32_t *slots = reco_malloc((n ? n : 1) * sizeof *slots);
    if (!copies || !slots) {
        status = reco_fail_oom();
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        size_t length = offsets[i + 1] - offsets[i];
        if (!(copies[i] = reco_malloc(length + 1))) {
            status = reco_fail_oom();
            goto done;
        }
        memcpy(copies[i], text + offsets[i], length);
        copies[i][length] = '\0';
    }
    /* room for every title being new, before any id goes into the map */
    if (old_count + n > vocab->titles_capacity) {
        size_t capacity = 2 * vocab->titles_capacity > old_count + n
                              ? 2 * vocab->titles_capacity
                              : old_count + n;
        char **titles = reco_realloc(vocab->titles, capacity * sizeof *titles);
        if (!titles) {
            status = reco_fail_oom();
            goto done;
        }
        vocab->titles = titles;
        vocab->titles_capacity = capacity;
    }
    for (size_t i = 0; i < n && status == RECO_OK; i++)
        status = reco_id_map_insert(&vocab->title_ids, item_ids[i], &slots[i]);
    if (status != RECO_OK) {
        reco_id_map_truncate(&vocab->title_ids, old_count);
        goto done;
    }
    /* nothing below fails */
    for (size_t slot = old_count; slot < vocab->title_ids.count; slot++)
        vocab->titles[slot] = NULL;
    for (size_t i = 0; i < n; i++) {
        reco_free(vocab->titles[slots[i]]);
        vocab->titles[slots[i]] = copies[i];
        copies[i] = NULL;
    }
done:
    for (size_t i = 0; copies && i < n; i++)
        reco_free(copies[i]);
    reco_free(copies);
    reco_free(slots);
    return status;
}

const char *reco_vocab_title(const reco_vocab *vocab, int64_t item_id)
{
    int32_t slot = reco_id_map_find(&vocab->title_ids, item_id);
    return slot < 0 ? NULL : vocab->titles[slot];
}
