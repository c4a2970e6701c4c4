/* Item titles: movies.dat (::, Latin-1), u.item (|, Latin-1), movies.csv
 * (RFC 4180, UTF-8). The whole file is parsed before any title is stored, so
 * a malformed file leaves the vocabulary as it was. */
#include <stdlib.h>
#include <string.h>

#include "dataset_impl.h"
#include "error.h"
#include "text.h"
#include "reco_alloc.h"

typedef enum title_format { TITLES_DAT, TITLES_UITEM, TITLES_CSV } title_format;

typedef struct parsed_titles {
    reco_id_map *items; /* the vocabulary's: text ids are interned there */
    int64_t *ids;
    size_t *offsets; /* into text, count + 1 */
    char *text;      /* UTF-8, concatenated */
    size_t count, capacity, text_size, text_capacity;
} parsed_titles;

static void parsed_titles_free(parsed_titles *titles)
{
    reco_free(titles->ids);
    reco_free(titles->offsets);
    reco_free(titles->text);
}

static reco_status reserve_text(parsed_titles *titles, size_t more)
{
    if (titles->text_size + more <= titles->text_capacity)
        return RECO_OK;
    size_t capacity = (titles->text_size + more) * 2;
    char *grown = reco_realloc(titles->text, capacity);
    if (!grown)
        return reco_fail_oom();
    titles->text = grown;
    titles->text_capacity = capacity;
    return RECO_OK;
}

static reco_status add_title(parsed_titles *titles, int64_t id)
{
    if (titles->count + 1 >= titles->capacity) {
        size_t capacity = titles->capacity ? titles->capacity * 2 : 1024;
        int64_t *ids = reco_realloc(titles->ids, capacity * sizeof *ids);
        if (ids)
            titles->ids = ids;
        size_t *offsets = reco_realloc(titles->offsets, (capacity + 1) * sizeof *offsets);
        if (offsets)
            titles->offsets = offsets;
        if (!ids || !offsets)
            return reco_fail_oom();
        titles->capacity = capacity;
    }
    titles->ids[titles->count] = id;
    titles->offsets[titles->count] = titles->text_size;
    titles->count++;
    return RECO_OK;
}

static void append_latin1(parsed_titles *titles, const char *start, const char *end)
{
    for (const char *p = start; p < end; p++) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x80) {
            titles->text[titles->text_size++] = (char)c;
        } else {
            titles->text[titles->text_size++] = (char)(0xc0 | (c >> 6));
            titles->text[titles->text_size++] = (char)(0x80 | (c & 0x3f));
        }
    }
}

/* Appends a CSV field starting at p (quoted or not); returns the field end
 * (at the comma or line end), or NULL with *problem set on an unterminated
 * quote or text after the closing quote. */
static const char *append_csv_field(parsed_titles *titles, const char *p, const char *end,
                                    const char **problem)
{
    if (p < end && *p == '"') {
        for (p++; p < end; p++) {
            if (*p == '"') {
                if (p + 1 < end && p[1] == '"') {
                    titles->text[titles->text_size++] = '"';
                    p++;
                    continue;
                }
                if (p + 1 < end && p[1] != ',') {
                    *problem = "text after the closing quote of a title";
                    return NULL;
                }
                return p + 1;
            }
            titles->text[titles->text_size++] = *p;
        }
        *problem = "unterminated quoted title";
        return NULL;
    }
    const char *comma = memchr(p, ',', (size_t)(end - p));
    const char *field_end = comma ? comma : end;
    memcpy(titles->text + titles->text_size, p, (size_t)(field_end - p));
    titles->text_size += (size_t)(field_end - p);
    return field_end;
}

static reco_status parse_title_line(const reco_text *text, title_format format,
                                    const char *line, const char *end, parsed_titles *titles)
{
    const char *separator = format == TITLES_DAT ? "::" : format == TITLES_UITEM ? "|" : ",";
    size_t separator_length = strlen(separator);
    const char *id_end = line;
    while (id_end < end && strncmp(id_end, separator, separator_length) != 0)
        id_end++;
    int64_t id;
    if (id_end == end)
        return reco_fail_line(RECO_ERR_PARSE, text->path, text->line_number,
                              "expected an item id then '%s' and a title", separator);
    const reco_id_place place = {text->path, text->line_number, "the item id", separator};
    reco_status status = reco_id_map_parse(titles->items, line, id_end, &place, &id);
    if (status == RECO_OK)
        status = add_title(titles, id);
    if (status == RECO_OK)
        status = reserve_text(titles, 2 * (size_t)(end - line) + 1);
    if (status != RECO_OK)
        return status;
    const char *title = id_end + separator_length;
    if (format == TITLES_CSV) {
        const char *problem = NULL;
        if (!append_csv_field(titles, title, end, &problem))
            return reco_fail_line(RECO_ERR_PARSE, text->path, text->line_number, "%s", problem);
        return RECO_OK;
    }
    const char *title_end = title;
    while (title_end < end && strncmp(title_end, separator, separator_length) != 0)
        title_end++;
    append_latin1(titles, title, title_end);
    return RECO_OK;
}

static title_format detect_title_format(const char *line, size_t length)
{
    for (size_t i = 0; i + 1 < length; i++)
        if (line[i] == ':' && line[i + 1] == ':')
            return TITLES_DAT;
    return memchr(line, '|', length) ? TITLES_UITEM : TITLES_CSV;
}

static reco_status parse_titles(reco_text *text, parsed_titles *titles)
{
    const char *line;
    size_t length;
    reco_status status = reco_text_first_line(text, &line, &length);
    if (status != RECO_OK)
        return status;
    title_format format = detect_title_format(line, length);
    if (format == TITLES_CSV && !(line[0] >= '0' && line[0] <= '9')) {
        status = reco_text_next_line(text, &line, &length); /* skip the header */
        if (status != RECO_OK)
            return status;
    }
    for (; line; status = reco_text_next_line(text, &line, &length)) {
        if (status != RECO_OK)
            return status;
        status = parse_title_line(text, format, line, line + length, titles);
        if (status != RECO_OK)
            return status;
    }
    if (status != RECO_OK)
        return status;
    if (titles->count == 0)
        return reco_fail(RECO_ERR_PARSE, "%s: a header line but no titles", text->path);
    titles->offsets[titles->count] = titles->text_size;
    return RECO_OK;
}

reco_status reco_dataset_read_titles(reco_dataset *dataset, const char *path)
{
    if (!dataset || !path)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL dataset or path");
    reco_text text;
    parsed_titles titles = {.items = &dataset->vocab->items};
    reco_ids kind_before = dataset->vocab->items.kind;
    reco_status status = reco_text_open(path, &text);
    if (status != RECO_OK)
        return status;
    status = parse_titles(&text, &titles);
    if (status == RECO_OK)
        status = reco_vocab_set_titles(dataset->vocab, titles.count, titles.ids, titles.text,
                                       titles.offsets);
    if (status != RECO_OK && dataset->vocab->items.count == 0)
        dataset->vocab->items.kind = kind_before; /* the failed file decided nothing */
    parsed_titles_free(&titles);
    reco_text_close(&text);
    return status;
}

reco_status reco_dataset_add_titled_items(reco_dataset *dataset)
{
    if (!dataset)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL dataset");
    reco_vocab *vocab = dataset->vocab;
    size_t n_items_before = vocab->items.count;
    reco_status status = RECO_OK;
    int32_t index;
    for (size_t i = 0; i < vocab->title_ids.count && status == RECO_OK; i++)
        status = reco_id_map_insert(&vocab->items, vocab->title_ids.ids[i], &index);
    if (status != RECO_OK)
        reco_id_map_truncate(&vocab->items, n_items_before);
    return status;
}
