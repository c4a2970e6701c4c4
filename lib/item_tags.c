/* Item tags from a titles file: the genres of MovieLens movies.dat and
 * movies.csv (the last field, names separated by '|') and of ml-100k's
 * u.item (its last 19 fields, flags in u.genre's order). The whole file is
 * parsed before the tags exist, so a malformed file gives no tags. */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "item_tags.h"
#include "model_impl.h"
#include "reco_alloc.h"
#include "text.h"

/* ml-100k's u.genre, in the order of u.item's flags. */
static const char *const uitem_genres[] = {
    "unknown", "Action",    "Adventure", "Animation", "Children's", "Comedy",   "Crime",
    "Documentary", "Drama", "Fantasy",   "Film-Noir", "Horror",     "Musical",  "Mystery",
    "Romance", "Sci-Fi",    "Thriller",  "War",       "Western"};
#define UITEM_GENRES (sizeof uitem_genres / sizeof *uitem_genres)

typedef enum tags_format { TAGS_DAT, TAGS_UITEM, TAGS_CSV } tags_format;

/* (item, tag) pairs as the file gives them, and the tag names. */
typedef struct parsed_tags {
    int32_t *items;
    uint32_t *tags;
    size_t count, capacity;
    char **names;
    size_t n_names, names_capacity;
} parsed_tags;

void reco_item_tags_free(reco_item_tags *tags)
{
    if (!tags)
        return;
    for (size_t t = 0; t < tags->n_names; t++)
        reco_free(tags->names[t]);
    reco_free(tags->names);
    reco_free(tags->offsets);
    reco_free(tags->tags);
    reco_free(tags);
}

/* The number of a tag name, added when new; -1 when out of memory. */
static long tag_number(parsed_tags *parsed, const char *name, size_t length)
{
    for (size_t t = 0; t < parsed->n_names; t++)
        if (strlen(parsed->names[t]) == length && memcmp(parsed->names[t], name, length) == 0)
            return (long)t;
    if (parsed->n_names == parsed->names_capacity) {
        size_t capacity = parsed->names_capacity ? 2 * parsed->names_capacity : 32;
        char **grown = reco_realloc(parsed->names, capacity * sizeof *grown);
        if (!grown)
            return -1;
        parsed->names = grown;
        parsed->names_capacity = capacity;
    }
    char *copy = reco_malloc(length + 1);
    if (!copy)
        return -1;
    memcpy(copy, name, length);
    copy[length] = '\0';
    parsed->names[parsed->n_names] = copy;
    return (long)parsed->n_names++;
}

static reco_status add_tag(parsed_tags *parsed, int32_t item, const char *name, size_t length)
{
    long tag = tag_number(parsed, name, length);
    if (tag < 0)
        return reco_fail_oom();
    if (parsed->count == parsed->capacity) {
        size_t capacity = parsed->capacity ? 2 * parsed->capacity : 1024;
        int32_t *items = reco_realloc(parsed->items, capacity * sizeof *items);
        if (items)
            parsed->items = items;
        uint32_t *tags = reco_realloc(parsed->tags, capacity * sizeof *tags);
        if (tags)
            parsed->tags = tags;
        if (!items || !tags)
            return reco_fail_oom();
        parsed->capacity = capacity;
    }
    parsed->items[parsed->count] = item;
    parsed->tags[parsed->count++] = (uint32_t)tag;
    return RECO_OK;
}

/* The names of [start, end) separated by '|' ("(no genres listed)": none). */
static reco_status add_names(parsed_tags *parsed, int32_t item, const char *start, const char *end)
{
    static const char none[] = "(no genres listed)";
    if ((size_t)(end - start) == sizeof none - 1 && memcmp(start, none, sizeof none - 1) == 0)
        return RECO_OK;
    reco_status status = RECO_OK;
    while (start < end && status == RECO_OK) {
        const char *bar = memchr(start, '|', (size_t)(end - start));
        const char *stop = bar ? bar : end;
        if (stop > start)
            status = add_tag(parsed, item, start, (size_t)(stop - start));
        start = stop + 1;
    }
    return status;
}

/* u.item's 19 flags, the last fields of the line. */
static reco_status add_flags(parsed_tags *parsed, int32_t item, const char *line, const char *end,
                             const reco_text *text)
{
    const char *p = end;
    for (size_t bars = 0; p > line && bars < UITEM_GENRES;)
        if (*--p == '|')
            bars++;
    if (p == line)
        return reco_fail_line(RECO_ERR_PARSE, text->path, text->line_number,
                              "expected %zu genre flags at the end of the line", UITEM_GENRES);
    reco_status status = RECO_OK;
    for (size_t g = 0; g < UITEM_GENRES && status == RECO_OK; g++, p += 2) {
        if (p[1] != '0' && p[1] != '1')
            return reco_fail_line(RECO_ERR_PARSE, text->path, text->line_number,
                                  "genre flag %zu is not 0 or 1", g + 1);
        if (p[1] == '1')
            status = add_tag(parsed, item, uitem_genres[g], strlen(uitem_genres[g]));
    }
    return status;
}

/* The first (or, `last`, the last) `separator` in [line, end), or NULL. */
static const char *find(const char *line, const char *end, const char *separator, int last)
{
    size_t width = strlen(separator);
    if ((size_t)(end - line) < width)
        return NULL;
    for (size_t i = 0; i + width <= (size_t)(end - line); i++) {
        const char *p = last ? end - width - i : line + i;
        if (memcmp(p, separator, width) == 0)
            return p;
    }
    return NULL;
}

static reco_status parse_line(const reco_model *model, const reco_text *text, tags_format format,
                              const char *line, const char *end, parsed_tags *parsed)
{
    const char *separator = format == TAGS_DAT ? "::" : format == TAGS_UITEM ? "|" : ",";
    const char *id_end = find(line, end, separator, 0);
    if (!id_end || id_end == line || id_end - line >= RECO_ID_TEXT_MAX)
        return reco_fail_line(RECO_ERR_PARSE, text->path, text->line_number,
                              "expected an item id and '%s'", separator);
    char id[RECO_ID_TEXT_MAX];
    memcpy(id, line, (size_t)(id_end - line));
    id[id_end - line] = '\0';
    int32_t item;
    if (reco_model_item_index_of_text(model, id, &item) != RECO_OK)
        return RECO_OK; /* an item the model does not know */
    if (format == TAGS_UITEM)
        return add_flags(parsed, item, line, end, text);
    return add_names(parsed, item, find(id_end, end, separator, 1) + strlen(separator), end);
}

/* movies.dat has "::"; else the first separator tells u.item's '|' from
 * movies.csv's ','. */
static tags_format detect_format(const char *line, size_t length)
{
    for (size_t i = 0; i < length; i++) {
        if (line[i] == ':' && i + 1 < length && line[i + 1] == ':')
            return TAGS_DAT;
        if (line[i] == '|')
            return TAGS_UITEM;
        if (line[i] == ',')
            return TAGS_CSV;
    }
    return TAGS_CSV;
}

static reco_status parse_file(const reco_model *model, reco_text *text, parsed_tags *parsed)
{
    const char *line;
    size_t length;
    reco_status status = reco_text_first_line(text, &line, &length);
    if (status != RECO_OK)
        return status;
    tags_format format = detect_format(line, length);
    if (format == TAGS_CSV && !(line[0] >= '0' && line[0] <= '9'))
        status = reco_text_next_line(text, &line, &length); /* the header */
    while (status == RECO_OK && line) {
        status = parse_line(model, text, format, line, line + length, parsed);
        if (status == RECO_OK)
            status = reco_text_next_line(text, &line, &length);
    }
    return status;
}

/* The pairs as per-item rows of tag numbers, sorted by item (stable). */
static reco_status build(parsed_tags *parsed, size_t n_items, reco_item_tags **out)
{
    reco_item_tags *tags = reco_calloc(1, sizeof *tags);
    if (!tags)
        return reco_fail_oom();
    tags->n_items = n_items;
    tags->offsets = reco_calloc(n_items + 1, sizeof *tags->offsets);
    tags->tags = reco_malloc_array(parsed->count ? parsed->count : 1, sizeof *tags->tags);
    if (!tags->offsets || !tags->tags) {
        reco_item_tags_free(tags);
        return reco_fail_oom();
    }
    for (size_t p = 0; p < parsed->count; p++)
        tags->offsets[parsed->items[p] + 1]++;
    for (size_t i = 0; i < n_items; i++)
        tags->offsets[i + 1] += tags->offsets[i];
    for (size_t p = 0; p < parsed->count; p++)
        tags->tags[tags->offsets[parsed->items[p]]++] = parsed->tags[p];
    for (size_t i = n_items; i > 0; i--)
        tags->offsets[i] = tags->offsets[i - 1];
    tags->offsets[0] = 0;
    tags->names = parsed->names;
    tags->n_names = parsed->n_names;
    parsed->names = NULL;
    parsed->n_names = 0;
    *out = tags;
    return RECO_OK;
}

reco_status reco_item_tags_read(const reco_model *model, const char *path, reco_item_tags **out)
{
    if (!out)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL output");
    *out = NULL;
    if (!model || !path)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL model or path");
    reco_text text;
    reco_status status = reco_text_open(path, &text);
    if (status != RECO_OK)
        return status;
    parsed_tags parsed = {0};
    status = parse_file(model, &text, &parsed);
    if (status == RECO_OK)
        status = build(&parsed, model->n_items, out);
    for (size_t t = 0; t < parsed.n_names; t++)
        reco_free(parsed.names[t]);
    reco_free(parsed.names);
    reco_free(parsed.items);
    reco_free(parsed.tags);
    reco_text_close(&text);
    return status;
}

size_t reco_item_tags_count(const reco_item_tags *tags)
{
    return tags ? tags->n_names : 0;
}

const char *reco_item_tags_name(const reco_item_tags *tags, size_t i)
{
    return tags && i < tags->n_names ? tags->names[i] : NULL;
}

long reco_item_tags_number(const reco_item_tags *tags, const char *tag)
{
    for (size_t t = 0; tag && t < tags->n_names; t++)
        if (strcmp(tags->names[t], tag) == 0)
            return (long)t;
    return -1;
}

int reco_item_tags_has(const reco_item_tags *tags, int32_t item, const char *tag)
{
    if (!tags || item < 0 || (size_t)item >= tags->n_items)
        return 0;
    long number = reco_item_tags_number(tags, tag);
    for (size_t e = tags->offsets[item]; number >= 0 && e < tags->offsets[item + 1]; e++)
        if (tags->tags[e] == (uint32_t)number)
            return 1;
    return 0;
}
