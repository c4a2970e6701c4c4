/* Reading rating and interaction files: MovieLens '::', CSV, TSV, pairs. */
#include <math.h>
#include <string.h>

#include "dataset_impl.h"
#include "error.h"
#include "text.h"

typedef struct line_layout {
    reco_format format;
    char separator[3];   /* "::", ",", "\t" or " " */
    size_t separator_length;
    int n_fields;        /* 2 (user item), 3 (+ rating) or 4 (+ timestamp) */
    int has_header;
} line_layout;

static const char *const field_names[] = {"user id", "item id", "rating", "timestamp"};

static const char *format_name(reco_format format)
{
    switch (format) {
    case RECO_FORMAT_MOVIELENS: return "MovieLens '::'";
    case RECO_FORMAT_CSV: return "CSV";
    case RECO_FORMAT_TSV: return "tab-separated";
    case RECO_FORMAT_PAIRS: return "two-column";
    default: return "auto";
    }
}

static const char *find_separator(const char *p, const char *end, const line_layout *layout)
{
    if (layout->separator_length == 1) {
        const char *found = memchr(p, layout->separator[0], (size_t)(end - p));
        return found ? found : end;
    }
    for (; p + 1 < end; p++)
        if (p[0] == ':' && p[1] == ':')
            return p;
    return end;
}

static int count_fields(const char *line, const char *end, const line_layout *layout)
{
    int fields = 1;
    for (const char *p = find_separator(line, end, layout); p < end;
         p = find_separator(p + layout->separator_length, end, layout))
        fields++;
    return fields;
}

static int starts_numeric(const char *line)
{
    return (line[0] >= '0' && line[0] <= '9') || line[0] == '-';
}

/* Whether a first line is a header: ids may be words ("u1,i7,4"), so with
 * a rating column the rating tells (a header names it, a row has a number);
 * a two-column line is a header when it does not start with a number. */
static int looks_like_header(const char *line, const char *end, const line_layout *layout)
{
    const char *field = line;
    for (int i = 0; i < 2; i++) {
        const char *separator = find_separator(field, end, layout);
        if (separator == end)
            return !starts_numeric(line);
        field = separator + layout->separator_length;
    }
    double rating;
    return !reco_parse_number(field, find_separator(field, end, layout), &rating);
}

static char pick_separator(const char *line, size_t length)
{
    if (memchr(line, '\t', length))
        return '\t';
    if (memchr(line, ',', length))
        return ',';
    if (memchr(line, ' ', length))
        return ' ';
    return '\0';
}

/* Decides separator, header and field count from the first non-blank line
 * (and, after a header, the second). */
static reco_status detect_layout(reco_text *text, reco_format format, line_layout *layout)
{
    const char *line;
    size_t length;
    reco_status status = reco_text_first_line(text, &line, &length);
    if (status != RECO_OK)
        return status;
    int has_double_colon = 0;
    for (size_t i = 0; i + 1 < length && !has_double_colon; i++)
        has_double_colon = line[i] == ':' && line[i + 1] == ':';
    if (format == RECO_FORMAT_AUTO)
        format = has_double_colon ? RECO_FORMAT_MOVIELENS : RECO_FORMAT_AUTO;
    char separator = format == RECO_FORMAT_MOVIELENS ? ':'
                     : format == RECO_FORMAT_CSV     ? ','
                     : format == RECO_FORMAT_TSV     ? '\t'
                                                     : pick_separator(line, length);
    if (separator == '\0')
        return reco_fail_line(RECO_ERR_PARSE, text->path, text->line_number,
                              "cannot tell the format: expected fields separated by '::', "
                              "a tab, a comma or a space");
    *layout = (line_layout){.format = format, .separator = {separator}, .separator_length = 1};
    if (format == RECO_FORMAT_MOVIELENS) {
        memcpy(layout->separator, "::", 3);
        layout->separator_length = 2;
    }
    layout->has_header =
        (format == RECO_FORMAT_CSV || (format == RECO_FORMAT_AUTO && separator == ',')) &&
        looks_like_header(line, line + length, layout);
    int header_fields = count_fields(line, line + length, layout);
    const char *data_line = line;
    size_t data_length = length;
    if (layout->has_header) {
        status = reco_text_next_line(text, &data_line, &data_length);
        if (status != RECO_OK)
            return status;
        if (!data_line)
            return reco_fail(RECO_ERR_PARSE, "%s: a header line but no data lines", text->path);
    }
    size_t data_line_number = text->line_number;
    reco_text_unread(text); /* the first data line is parsed with the others */
    int fields = count_fields(data_line, data_line + data_length, layout);
    if (layout->has_header && header_fields != fields)
        return reco_fail_line(RECO_ERR_PARSE, text->path, data_line_number,
                              "%d fields, but the header line names %d", fields, header_fields);
    if (layout->format == RECO_FORMAT_AUTO)
        layout->format = fields == 2 ? RECO_FORMAT_PAIRS
                         : separator == ',' ? RECO_FORMAT_CSV
                                            : RECO_FORMAT_TSV;
    int min_fields = 3, max_fields = 4;
    if (layout->format == RECO_FORMAT_MOVIELENS)
        min_fields = 4;
    if (layout->format == RECO_FORMAT_PAIRS)
        min_fields = max_fields = 2;
    if (fields < min_fields || fields > max_fields)
        return reco_fail_line(RECO_ERR_PARSE, text->path, data_line_number,
                              "%s format: expected %d%s fields separated by '%s', got %d",
                              format_name(layout->format), min_fields,
                              max_fields > min_fields ? " or 4" : "",
                              separator == '\t' ? "\\t" : layout->separator, fields);
    layout->n_fields = fields;
    return RECO_OK;
}

static reco_status field_error(const reco_text *text, int field, const char *start,
                               const char *end, const char *expected)
{
    char excerpt[48];
    reco_excerpt(start, end, excerpt, sizeof excerpt);
    return reco_fail_line(RECO_ERR_PARSE, text->path, text->line_number,
                          "field %d (%s): expected %s, got '%s'", field + 1, field_names[field],
                          expected, excerpt);
}

/* An id field's key in `ids`, by the column's kind (id_map.h). */
static reco_status parse_id(const reco_text *text, const line_layout *layout, int field,
                            const char *start, const char *end, reco_id_map *ids, int64_t *key)
{
    static const char *const whats[] = {"field 1 (user id)", "field 2 (item id)"};
    const reco_id_place place = {text->path, text->line_number, whats[field], layout->separator};
    return reco_id_map_parse(ids, start, end, &place, key);
}

typedef struct parsed_row {
    int64_t user_id, item_id, timestamp;
    double rating;
} parsed_row;

static reco_status parse_line(const reco_text *text, const line_layout *layout, reco_vocab *vocab,
                              const char *line, const char *end, parsed_row *row)
{
    const char *field_start = line;
    for (int field = 0; field < layout->n_fields; field++) {
        const char *field_end = find_separator(field_start, end, layout);
        int last = field == layout->n_fields - 1;
        if ((field_end == end) != last)
            return reco_fail_line(RECO_ERR_PARSE, text->path, text->line_number,
                                  "expected %d fields separated by '%s', got %d",
                                  layout->n_fields,
                                  layout->separator[0] == '\t' ? "\\t" : layout->separator,
                                  count_fields(line, end, layout));
        reco_status status = RECO_OK;
        switch (field) {
        case 0:
            status = parse_id(text, layout, field, field_start, field_end, &vocab->users,
                              &row->user_id);
            break;
        case 1:
            status = parse_id(text, layout, field, field_start, field_end, &vocab->items,
                              &row->item_id);
            break;
        case 2:
            if (!reco_parse_number(field_start, field_end, &row->rating))
                return field_error(text, field, field_start, field_end, "a number");
            if (!(fabs(row->rating) <= RECO_RATING_LIMIT)) {
                char excerpt[48];
                reco_excerpt(field_start, field_end, excerpt, sizeof excerpt);
                return reco_fail_line(RECO_ERR_OUT_OF_RANGE, text->path, text->line_number,
                                      "field 3 (rating): expected a finite rating within "
                                      "+-%g, got '%s'", RECO_RATING_LIMIT, excerpt);
            }
            break;
        case 3:
            if (reco_parse_int64(field_start, field_end, &row->timestamp) != 1)
                return field_error(text, field, field_start, field_end,
                                   "an integer timestamp");
            break;
        }
        if (status != RECO_OK)
            return status;
        field_start = field_end + layout->separator_length;
    }
    return RECO_OK;
}

static reco_status parse_rows(reco_text *text, const line_layout *layout, reco_dataset *dataset)
{
    reco_vocab *vocab = dataset->vocab;
    /* MovieLens files list a user's ratings together: the last row's user
     * answers most rows without a lookup */
    int64_t last_user_id = 0;
    int32_t last_user = -1;
    for (;;) {
        const char *line;
        size_t length;
        reco_status status = reco_text_next_line(text, &line, &length);
        if (status != RECO_OK)
            return status;
        if (!line)
            return RECO_OK;
        parsed_row row = {0};
        status = parse_line(text, layout, vocab, line, line + length, &row);
        if (status != RECO_OK)
            return status;
        int32_t user = last_user, item;
        if (last_user < 0 || row.user_id != last_user_id)
            status = reco_id_map_insert(&vocab->users, row.user_id, &user);
        last_user_id = row.user_id;
        last_user = status == RECO_OK ? user : -1;
        if (status == RECO_OK)
            status = reco_id_map_insert(&vocab->items, row.item_id, &item);
        if (status == RECO_OK && dataset->size == dataset->capacity)
            status = reco_dataset_reserve(dataset, dataset->capacity * 2);
        if (status != RECO_OK)
            return status;
        reco_dataset_push(dataset, user, item, (float)row.rating, row.timestamp);
    }
}

/* Rows to reserve before the first is read: what a regular file's size
 * needs (MovieLens lines average 20-25 bytes), at most a million; the
 * rest grow as rows are parsed. */
static size_t first_capacity(const reco_text *text)
{
    size_t rows = reco_text_size_hint(text) / 16 + 16;
    return rows < ((size_t)1 << 20) ? rows : (size_t)1 << 20;
}

static reco_status read_ratings(const char *path, reco_format format, reco_ids ids,
                                reco_vocab *vocab, reco_dataset **out)
{
    if (!out)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL output");
    *out = NULL;
    if (!path)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL path");
    if (format < RECO_FORMAT_AUTO || format > RECO_FORMAT_PAIRS)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "unknown format %d", (int)format);
    if (ids < RECO_IDS_AUTO || ids > RECO_IDS_TEXT)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "unknown id kind %d", (int)ids);
    reco_text text;
    reco_dataset *dataset = NULL;
    reco_status status = reco_text_open(path, &text);
    if (status != RECO_OK)
        return status;
    line_layout layout;
    status = detect_layout(&text, format, &layout);
    if (status != RECO_OK)
        goto fail;
    status = reco_dataset_create(vocab, layout.n_fields >= 3, layout.n_fields == 4,
                                 first_capacity(&text), &dataset);
    if (status == RECO_OK)
        status = reco_id_map_force(&dataset->vocab->users, ids, "user");
    if (status == RECO_OK)
        status = reco_id_map_force(&dataset->vocab->items, ids, "item");
    if (status != RECO_OK)
        goto fail;
    size_t n_users_before = dataset->vocab->users.count;
    size_t n_items_before = dataset->vocab->items.count;
    status = parse_rows(&text, &layout, dataset);
    if (status != RECO_OK) {
        /* a shared vocabulary must not keep ids of a file that failed */
        reco_id_map_truncate(&dataset->vocab->users, n_users_before);
        reco_id_map_truncate(&dataset->vocab->items, n_items_before);
        goto fail;
    }
    reco_text_close(&text);
    *out = dataset;
    return RECO_OK;
fail:
    reco_dataset_free(dataset);
    reco_text_close(&text);
    return status;
}

reco_status reco_dataset_read(const char *path, reco_format format, reco_dataset **out)
{
    return read_ratings(path, format, RECO_IDS_AUTO, NULL, out);
}

reco_status reco_dataset_read_shared(const char *path, reco_format format,
                                     const reco_dataset *vocabulary_of, reco_dataset **out)
{
    if (!vocabulary_of) {
        if (out)
            *out = NULL;
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL dataset to share a vocabulary with");
    }
    return read_ratings(path, format, RECO_IDS_AUTO, vocabulary_of->vocab, out);
}

reco_status reco_dataset_read_ids(const char *path, reco_format format, reco_ids ids,
                                  const reco_dataset *vocabulary_of, reco_dataset **out)
{
    return read_ratings(path, format, ids, vocabulary_of ? vocabulary_of->vocab : NULL, out);
}
