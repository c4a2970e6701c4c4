/* Negatives: NCF test negatives (sampled or read from a .negative file) and
 * the per-epoch training negative sampler. */
#include <stdlib.h>
#include <string.h>

#include "dataset_impl.h"
#include "error.h"
#include "rng.h"
#include "text.h"
#include "reco_alloc.h"
#include "reco_sampling.h"

static void replace_test_negatives(reco_dataset *test, size_t *offsets, int32_t *items)
{
    reco_free(test->negative_offsets);
    reco_free(test->negative_items);
    test->negative_offsets = offsets;
    test->negative_items = items;
}

/* Floyd's algorithm: n_negatives distinct ranks of [0, n_free), mapped to the
 * untaken items. `chosen` is an all-zero bitmap of n_free bits on entry and
 * on return. */
static void draw_distinct(const int32_t *taken, size_t n_taken, uint64_t n_free,
                          size_t n_negatives, reco_rng *rng, uint8_t *chosen, int32_t *out)
{
    size_t written = 0;
    for (uint64_t j = n_free - n_negatives; j < n_free; j++) {
        uint64_t rank = reco_rng_below(rng, j + 1);
        if (chosen[rank / 8] & (1u << (rank % 8)))
            rank = j;
        chosen[rank / 8] |= (uint8_t)(1u << (rank % 8));
        out[written++] = (int32_t)rank;
    }
    for (size_t i = 0; i < n_negatives; i++) {
        uint64_t rank = (uint64_t)out[i];
        chosen[rank / 8] &= (uint8_t)~(1u << (rank % 8));
        out[i] = reco_nth_untaken(taken, n_taken, rank);
    }
}

reco_status reco_dataset_sample_test_negatives(reco_dataset *test,
                                               const reco_dataset *interactions,
                                               size_t n_negatives, uint64_t seed)
{
    if (!test || !interactions)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL dataset");
    if (test->vocab != interactions->vocab)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT,
                         "the test set and the interactions do not share a vocabulary");
    reco_status status = RECO_OK;
    size_t n_items = test->vocab->items.count;
    if (n_negatives > n_items)
        return reco_fail(RECO_ERR_OUT_OF_RANGE, "%zu negatives a row: the data has %zu items",
                         n_negatives, n_items);
    reco_user_rows *rows = NULL;
    size_t *offsets = reco_malloc_array(test->size + 1, sizeof *offsets);
    int32_t *items = reco_malloc_array(test->size * n_negatives + 1, sizeof *items);
    uint8_t *chosen = reco_calloc(n_items / 8 + 1, 1);
    if (!offsets || !items || !chosen) {
        status = reco_fail_oom();
        goto fail;
    }
    status = reco_user_rows_build(interactions, &rows);
    if (status != RECO_OK)
        goto fail;
    reco_rng rng;
    reco_rng_seed(&rng, seed, 0);
    for (size_t row = 0; row < test->size; row++) {
        size_t n_taken;
        const int32_t *taken = reco_user_rows_of(rows, test->users[row], &n_taken);
        if (n_items - n_taken < n_negatives) {
            char user_id[RECO_ID_TEXT_MAX];
            reco_id_map_describe(&test->vocab->users, test->users[row], user_id, sizeof user_id);
            status = reco_fail(RECO_ERR_OUT_OF_RANGE,
                               "user %s has %zu items left to sample; %zu negatives asked", user_id,
                               n_items - n_taken, n_negatives);
            goto fail;
        }
        offsets[row] = row * n_negatives;
        draw_distinct(taken, n_taken, n_items - n_taken, n_negatives, &rng, chosen,
                      items + offsets[row]);
    }
    offsets[test->size] = test->size * n_negatives;
    replace_test_negatives(test, offsets, items);
    reco_user_rows_free(rows);
    reco_free(chosen);
    return RECO_OK;
fail:
    reco_user_rows_free(rows);
    reco_free(offsets);
    reco_free(items);
    reco_free(chosen);
    return status;
}

/* Parses "(user,item)" at the start of a .negative line into the indices
 * the two ids have (-1 when unknown), the ids read by their columns' rules;
 * *after is where the pair ends. */
static reco_status parse_pair(reco_text *text, reco_vocab *vocab, const char *line,
                              const char *end, int32_t *user, int32_t *item, const char **after)
{
    *user = *item = -1;
    *after = end;
    const char *comma = line < end && *line == '(' ? memchr(line, ',', (size_t)(end - line)) : NULL;
    const char *close = comma ? memchr(comma, ')', (size_t)(end - comma)) : NULL;
    if (!close)
        return reco_fail_line(RECO_ERR_PARSE, text->path, text->line_number,
                              "expected '(user,item)' followed by tab-separated item ids");
    int64_t user_key = 0, item_key = 0;
    reco_id_place place = {text->path, text->line_number, "the user id", "(),"};
    reco_status status = reco_id_map_parse(&vocab->users, line + 1, comma, &place, &user_key);
    place.what = "the item id";
    if (status == RECO_OK)
        status = reco_id_map_parse(&vocab->items, comma + 1, close, &place, &item_key);
    *user = status == RECO_OK ? reco_id_map_find(&vocab->users, user_key) : -1;
    *item = status == RECO_OK ? reco_id_map_find(&vocab->items, item_key) : -1;
    *after = close + 1;
    return status;
}

static reco_status read_negative_line(reco_text *text, reco_dataset *test, size_t row,
                                      const char *line, const char *end, size_t *n_written,
                                      int32_t **items, size_t *capacity)
{
    int32_t user, item;
    reco_vocab *vocab = test->vocab;
    const char *p;
    reco_status status = parse_pair(text, vocab, line, end, &user, &item, &p);
    if (status != RECO_OK)
        return status;
    if (user != test->users[row] || item != test->items[row]) {
        char row_user[RECO_ID_TEXT_MAX], row_item[RECO_ID_TEXT_MAX], named[48];
        reco_id_map_describe(&vocab->users, test->users[row], row_user, sizeof row_user);
        reco_id_map_describe(&vocab->items, test->items[row], row_item, sizeof row_item);
        reco_excerpt(line, p, named, sizeof named);
        return reco_fail_line(RECO_ERR_PARSE, text->path, text->line_number,
                              "names %s but test row %zu is (%s,%s)", named, row, row_user,
                              row_item);
    }
    while (p < end) {
        if (*p != '\t' && *p != ' ')
            return reco_fail_line(RECO_ERR_PARSE, text->path, text->line_number,
                                  "expected a tab before each negative item id");
        while (p < end && (*p == '\t' || *p == ' '))
            p++;
        const char *field_end = p;
        while (field_end < end && *field_end != '\t' && *field_end != ' ')
            field_end++;
        if (field_end == p)
            break;
        int64_t negative_id;
        const reco_id_place place = {text->path, text->line_number, "a negative item id",
                                     NULL};
        status = reco_id_map_parse(&test->vocab->items, p, field_end, &place, &negative_id);
        int32_t negative;
        if (status == RECO_OK)
            status = reco_id_map_insert(&test->vocab->items, negative_id, &negative);
        if (status != RECO_OK)
            return status;
        p = field_end;
        if (negative == item)
            continue; /* the test item itself: see reco_dataset_read_test_negatives */
        if (*n_written == *capacity) {
            int32_t *grown = reco_realloc(*items, *capacity * 2 * sizeof *grown);
            if (!grown)
                return reco_fail_oom();
            *items = grown;
            *capacity *= 2;
        }
        (*items)[(*n_written)++] = negative;
    }
    return RECO_OK;
}

reco_status reco_dataset_read_test_negatives(reco_dataset *test, const char *path)
{
    if (!test || !path)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL dataset or path");
    size_t n_items_before = test->vocab->items.count;
    size_t capacity = test->size * 100 + 16, n_written = 0, row = 0;
    size_t *offsets = reco_malloc((test->size + 1) * sizeof *offsets);
    int32_t *items = reco_malloc(capacity * sizeof *items);
    reco_text text = {0};
    reco_status status = RECO_OK;
    if (!offsets || !items) {
        status = reco_fail_oom();
        goto fail;
    }
    status = reco_text_open(path, &text);
    if (status != RECO_OK)
        goto fail;
    for (;;) {
        const char *line;
        size_t length;
        status = reco_text_next_line(&text, &line, &length);
        if (status != RECO_OK)
            goto fail;
        if (!line)
            break;
        if (row == test->size) {
            status = reco_fail_line(RECO_ERR_PARSE, path, text.line_number,
                                    "more lines than the %zu test rows", test->size);
            goto fail;
        }
        offsets[row] = n_written;
        status = read_negative_line(&text, test, row, line, line + length, &n_written, &items,
                                    &capacity);
        if (status != RECO_OK)
            goto fail;
        row++;
    }
    if (row != test->size) {
        status = reco_fail(RECO_ERR_PARSE, "%s: %zu lines, expected one per test row (%zu)",
                           path, row, test->size);
        goto fail;
    }
    offsets[row] = n_written;
    replace_test_negatives(test, offsets, items);
    reco_text_close(&text);
    return RECO_OK;
fail:
    reco_id_map_truncate(&test->vocab->items, n_items_before);
    reco_text_close(&text);
    reco_free(offsets);
    reco_free(items);
    return status;
}

const int32_t *reco_dataset_test_negatives(const reco_dataset *test, size_t row,
                                           size_t *n_negatives)
{
    if (n_negatives)
        *n_negatives = 0;
    if (!test || !test->negative_offsets || row >= test->size)
        return NULL;
    if (n_negatives)
        *n_negatives = test->negative_offsets[row + 1] - test->negative_offsets[row];
    return test->negative_items + test->negative_offsets[row];
}

reco_status reco_dataset_sample_negatives(const reco_dataset *train, size_t k, uint64_t seed,
                                          uint64_t epoch, int32_t *negatives)
{
    size_t total;
    if (!train)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL dataset");
    if (!reco_size_mul(train->size, k, &total) || !reco_size_mul(total, sizeof *negatives, &total))
        return reco_fail(RECO_ERR_OUT_OF_RANGE, "%zu negatives for each of %zu rows: too many",
                         k, train->size);
    if (!negatives && total > 0)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL output");
    const reco_user_rows *rows = NULL;
    reco_status status = reco_dataset_user_rows(train, &rows);
    if (status != RECO_OK)
        return status;
    size_t n_items = train->vocab->items.count;
    /* the law of reco_sampling.h: row r's j-th negative is sample
     * r * (1 + k) + 1 + j of the epoch, as a trainer with k negatives draws */
    reco_epoch_plan plan = {.negatives = k, .seed = seed, .epoch = epoch, .negative_epoch = epoch};
    reco_sample_source source = reco_sample_source_make(
        train->users, train->items, NULL, train->size, rows->offsets, rows->items, n_items, &plan);
    for (size_t row = 0; row < train->size; row++) {
        int32_t user = train->users[row];
        if (rows->offsets[user + 1] - rows->offsets[user] >= n_items) {
            if (k == 0)
                continue;
            return reco_fail_no_negative(train, user);
        }
        for (size_t j = 0; j < k; j++)
            negatives[row * k + j] = reco_sample_negative(&source, row * (1 + k) + 1 + j, user);
    }
    return RECO_OK;
}

reco_status reco_fail_no_negative(const reco_dataset *train, int32_t user)
{
    char user_id[RECO_ID_TEXT_MAX];
    reco_id_map_describe(&train->vocab->users, user, user_id, sizeof user_id);
    return reco_fail(RECO_ERR_OUT_OF_RANGE,
                     "user %s interacted with every item: no negative to draw", user_id);
}
