#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "id_map.h"
#include "reco/dataset.h"
#include "reco_alloc.h"
#include "text.h"

static size_t hash_id(int64_t id, size_t n_slots)
{
    uint64_t x = (uint64_t)id * 0x9e3779b97f4a7c15ull;
    return (size_t)((x ^ (x >> 29)) & (n_slots - 1));
}

void reco_id_map_free(reco_id_map *map)
{
    reco_free(map->ids);
    reco_free(map->slots);
    reco_free(map->text_bytes);
    reco_free(map->text_starts);
    reco_free(map->text_slots);
    *map = (reco_id_map){0};
}

int32_t reco_id_map_find(const reco_id_map *map, int64_t id)
{
    if (map->n_slots == 0)
        return -1;
    for (size_t slot = hash_id(id, map->n_slots);; slot = (slot + 1) & (map->n_slots - 1)) {
        int32_t index = map->slots[slot];
        if (index < 0 || map->ids[index] == id)
            return index;
    }
}

static void place_all(int32_t *slots, size_t n_slots, const int64_t *ids, size_t count)
{
    for (size_t slot = 0; slot < n_slots; slot++)
        slots[slot] = -1;
    for (size_t index = 0; index < count; index++) {
        size_t slot = hash_id(ids[index], n_slots);
        while (slots[slot] >= 0)
            slot = (slot + 1) & (n_slots - 1);
        slots[slot] = (int32_t)index;
    }
}

static reco_status rehash(reco_id_map *map, size_t n_slots)
{
    int32_t *slots = reco_malloc(n_slots * sizeof *slots);
    if (!slots)
        return reco_fail_oom();
    place_all(slots, n_slots, map->ids, map->count);
    reco_free(map->slots);
    map->slots = slots;
    map->n_slots = n_slots;
    return RECO_OK;
}

reco_status reco_id_map_insert(reco_id_map *map, int64_t id, int32_t *index)
{
    int32_t found = reco_id_map_find(map, id);
    if (found >= 0) {
        *index = found;
        return RECO_OK;
    }
    if (map->count >= (size_t)INT32_MAX)
        return reco_fail(RECO_ERR_OUT_OF_RANGE, "more than %d distinct ids", INT32_MAX);
    if (map->count == map->capacity) {
        size_t capacity = map->capacity ? map->capacity * 2 : 1024;
        int64_t *ids = reco_realloc(map->ids, capacity * sizeof *ids);
        if (!ids)
            return reco_fail_oom();
        map->ids = ids;
        map->capacity = capacity;
    }
    if ((map->count + 1) * 2 > map->n_slots) {
        reco_status status = rehash(map, map->n_slots ? map->n_slots * 2 : 2048);
        if (status != RECO_OK)
            return status;
    }
    size_t slot = hash_id(id, map->n_slots);
    while (map->slots[slot] >= 0)
        slot = (slot + 1) & (map->n_slots - 1);
    map->ids[map->count] = id;
    map->slots[slot] = (int32_t)map->count;
    *index = (int32_t)map->count++;
    return RECO_OK;
}

void reco_id_map_truncate(reco_id_map *map, size_t count)
{
    if (count >= map->count)
        return;
    map->count = count;
    if (count == 0 && !map->forced)
        map->kind = RECO_IDS_AUTO; /* the failed input decided nothing */
    /* emptying slots in place could break probe chains: re-place the rest */
    place_all(map->slots, map->n_slots, map->ids, count);
}

reco_status reco_id_map_id_of(const reco_id_map *map, const char *what, int32_t index,
                              int64_t *id)
{
    if (!map || !id)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL handle or output");
    if (index < 0 || (size_t)index >= map->count)
        return reco_fail(RECO_ERR_OUT_OF_RANGE, "%s index %d out of range [0, %zu)", what,
                         (int)index, map->count);
    if (map->ids[index] < 0)
        return reco_fail(RECO_ERR_STATE, "%s index %d has the text id '%s', not a number", what,
                         (int)index, reco_id_map_text_of_key(map, map->ids[index]));
    *id = map->ids[index];
    return RECO_OK;
}

reco_status reco_id_map_index_of(const reco_id_map *map, const char *what, int64_t id,
                                 int32_t *index)
{
    if (!map || !index)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL handle or output");
    /* negative keys are text ids, reached by their text only */
    int32_t found = id >= 0 ? reco_id_map_find(map, id) : -1;
    if (found < 0)
        return reco_fail(RECO_ERR_OUT_OF_RANGE, "unknown %s id %lld", what, (long long)id);
    *index = found;
    return RECO_OK;
}

/* Text ids. */

static size_t hash_text(const char *text, size_t length, size_t n_slots)
{
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
    for (size_t i = 0; i < length; i++)
        h = (h ^ (unsigned char)text[i]) * 0x100000001b3ull;
    return (size_t)((h ^ (h >> 32)) & (n_slots - 1));
}

static const char *text_at(const reco_id_map *map, size_t number)
{
    return map->text_bytes + map->text_starts[number];
}

/* The number of the text [text, text + length), or -1. */
static int32_t find_text(const reco_id_map *map, const char *text, size_t length)
{
    if (map->n_text_slots == 0)
        return -1;
    for (size_t slot = hash_text(text, length, map->n_text_slots);;
         slot = (slot + 1) & (map->n_text_slots - 1)) {
        int32_t number = map->text_slots[slot];
        if (number < 0)
            return -1;
        const char *known = text_at(map, (size_t)number);
        if (strncmp(known, text, length) == 0 && known[length] == '\0')
            return number;
    }
}

static reco_status rehash_texts(reco_id_map *map, size_t n_slots)
{
    int32_t *slots = reco_malloc(n_slots * sizeof *slots);
    if (!slots)
        return reco_fail_oom();
    for (size_t slot = 0; slot < n_slots; slot++)
        slots[slot] = -1;
    for (size_t t = 0; t < map->n_texts; t++) {
        const char *text = text_at(map, t);
        size_t slot = hash_text(text, strlen(text), n_slots);
        while (slots[slot] >= 0)
            slot = (slot + 1) & (n_slots - 1);
        slots[slot] = (int32_t)t;
    }
    reco_free(map->text_slots);
    map->text_slots = slots;
    map->n_text_slots = n_slots;
    return RECO_OK;
}

/* Interns a text of `length` bytes; writes its number. */
static reco_status intern_text(reco_id_map *map, const char *text, size_t length, int32_t *number)
{
    if ((*number = find_text(map, text, length)) >= 0)
        return RECO_OK;
    if (map->n_texts >= (size_t)INT32_MAX)
        return reco_fail(RECO_ERR_OUT_OF_RANGE, "more than %d distinct text ids", INT32_MAX);
    if (map->text_size + length + 1 > map->text_capacity) {
        size_t capacity = map->text_capacity ? 2 * map->text_capacity : 4096;
        while (capacity < map->text_size + length + 1)
            capacity *= 2;
        char *bytes = reco_realloc(map->text_bytes, capacity);
        if (!bytes)
            return reco_fail_oom();
        map->text_bytes = bytes;
        map->text_capacity = capacity;
    }
    if (map->n_texts == map->texts_capacity) {
        size_t capacity = map->texts_capacity ? 2 * map->texts_capacity : 256;
        size_t *starts = reco_realloc(map->text_starts, capacity * sizeof *starts);
        if (!starts)
            return reco_fail_oom();
        map->text_starts = starts;
        map->texts_capacity = capacity;
    }
    if ((map->n_texts + 1) * 2 > map->n_text_slots) {
        reco_status status = rehash_texts(map, map->n_text_slots ? 2 * map->n_text_slots : 512);
        if (status != RECO_OK)
            return status;
    }
    memcpy(map->text_bytes + map->text_size, text, length);
    map->text_bytes[map->text_size + length] = '\0';
    map->text_starts[map->n_texts] = map->text_size;
    map->text_size += length + 1;
    size_t slot = hash_text(text, length, map->n_text_slots);
    while (map->text_slots[slot] >= 0)
        slot = (slot + 1) & (map->n_text_slots - 1);
    map->text_slots[slot] = (int32_t)map->n_texts;
    *number = (int32_t)map->n_texts++;
    return RECO_OK;
}

/* 1 when [start, end) is a canonical decimal integer below 2^63, its value
 * in *value. Leading zeros make a text ("007" is not 7), so that every id
 * prints back as it was written. */
static int canonical_integer(const char *start, const char *end, int64_t *value)
{
    size_t length = (size_t)(end - start);
    if (length == 0 || length > 19 || (start[0] == '0' && length > 1))
        return 0;
    uint64_t v = 0;
    for (const char *p = start; p < end; p++) {
        if (*p < '0' || *p > '9')
            return 0;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    if (v > (uint64_t)INT64_MAX)
        return 0;
    *value = (int64_t)v;
    return 1;
}

int reco_id_map_intern(reco_id_map *map, const char *start, const char *end, int64_t *key,
                       reco_status *status)
{
    size_t length = (size_t)(end - start);
    if (length == 0 || length >= RECO_ID_TEXT_MAX || memchr(start, '\0', length) ||
        canonical_integer(start, end, key))
        return -1;
    int32_t number;
    *status = intern_text(map, start, length, &number);
    *key = -1 - (int64_t)number;
    return 0;
}

/* Whether [start, end) is a number, though not a canonical integer: a sign,
 * a point, an exponent, leading zeros or hexadecimal. *value is its value. */
static int written_as_number(const char *start, const char *end, double *value)
{
    const char *digits = start + (start < end && (*start == '+' || *start == '-'));
    if (end - digits > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
        double magnitude = 0;
        for (const char *p = digits + 2; p < end; p++) {
            int digit = *p >= '0' && *p <= '9'   ? *p - '0'
                        : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10
                        : *p >= 'A' && *p <= 'F' ? *p - 'A' + 10
                                                 : -1;
            if (digit < 0)
                return 0;
            magnitude = magnitude * 16 + digit;
        }
        *value = *start == '-' ? -magnitude : magnitude;
        return 1;
    }
    return reco_parse_number(start, end, value);
}

/* What an id must not hold: whitespace, a control character, the
 * separator. Returns the problem in words, or NULL. */
static const char *id_flaw(const char *start, const char *end, const char *separator)
{
    for (const char *p = start; p < end; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == ' ' || c == '\t')
            return "a space or tab (a missing separator?)";
        if (c < 0x20 || c == 0x7f)
            return "a control character";
        if (separator && strchr(separator, c))
            return "the file's separator";
    }
    return NULL;
}

/* " (write it as 31)" when a number written another way is an integer id. */
static void integer_hint(double value, char *hint, size_t size)
{
    if (value >= 0 && value < 9007199254740992.0 && value == (double)(int64_t)value)
        snprintf(hint, size, "write it as %lld, or ", (long long)value);
    else
        hint[0] = '\0';
}

/* The map's kind when ids came before any text was read (from arrays, a
 * model file): integers, or text when any id is. */
static void infer_kind(reco_id_map *map)
{
    if (map->kind != RECO_IDS_AUTO || map->count == 0)
        return;
    map->kind = map->n_texts > 0 ? RECO_IDS_TEXT : RECO_IDS_INT;
    map->forced = map->kind == RECO_IDS_TEXT;
    snprintf(map->decided_by, sizeof map->decided_by, "the %zu ids it already had", map->count);
}

/* Fails for an id that the map's kind refuses, `number` saying whether it
 * is a number (canonical or not) and `value` its value. */
static reco_status refuse(const reco_id_map *map, const char *start, const char *end,
                          const reco_id_place *place, int number, double value)
{
    char excerpt[48], hint[64];
    reco_excerpt(start, end, excerpt, sizeof excerpt);
    integer_hint(value, hint, sizeof hint);
    if (!number)
        hint[0] = '\0';
    if (map->kind == RECO_IDS_INT && map->forced)
        return reco_fail_line(RECO_ERR_PARSE, place->path, place->line,
                              "%s: expected an integer id (digits, no sign, point, exponent or "
                              "leading zero), got '%s'%s%s", place->what, excerpt,
                              hint[0] ? "; " : "", hint[0] ? hint : "");
    if (map->kind == RECO_IDS_INT)
        return reco_fail_line(RECO_ERR_PARSE, place->path, place->line,
                              "%s: '%s' is %s, but the column's ids are integers (since %s); "
                              "%sread every id as text (--ids text)", place->what, excerpt,
                              number ? "a number not written as an integer id" : "a text id",
                              map->decided_by, hint);
    if (map->kind == RECO_IDS_TEXT)
        return reco_fail_line(RECO_ERR_PARSE, place->path, place->line,
                              "%s: '%s' is an integer id, but the column's ids are text (since "
                              "%s); read every id as text (--ids text)", place->what, excerpt,
                              map->decided_by);
    return reco_fail_line(RECO_ERR_PARSE, place->path, place->line,
                          "%s: '%s' is a number not written as an integer id (digits, no sign, "
                          "point, exponent or leading zero); %sread every id as text "
                          "(--ids text)", place->what, excerpt, hint);
}

reco_status reco_id_map_parse(reco_id_map *map, const char *start, const char *end,
                              const reco_id_place *place, int64_t *key)
{
    /* the common case first: an integer in an integer column */
    if (map->kind == RECO_IDS_INT && canonical_integer(start, end, key))
        return RECO_OK;
    char excerpt[48];
    size_t length = (size_t)(end - start);
    const char *flaw = id_flaw(start, end, place->separator);
    if (length == 0 || length >= RECO_ID_TEXT_MAX || flaw || map->kind == RECO_IDS_AUTO)
        reco_excerpt(start, end, excerpt, sizeof excerpt); /* for a message */
    if (length == 0)
        return reco_fail_line(RECO_ERR_PARSE, place->path, place->line,
                              "%s: expected an id, got ''", place->what);
    if (length >= RECO_ID_TEXT_MAX)
        return reco_fail_line(RECO_ERR_PARSE, place->path, place->line,
                              "%s: expected an id of at most %d bytes, got '%s'", place->what,
                              RECO_ID_TEXT_MAX - 1, excerpt);
    if (flaw)
        return reco_fail_line(RECO_ERR_PARSE, place->path, place->line,
                              "%s: the id '%s' holds %s; ids hold none", place->what, excerpt,
                              flaw);
    infer_kind(map);
    int canonical = canonical_integer(start, end, key);
    double value = 0;
    int number = canonical || written_as_number(start, end, &value);
    reco_ids kind = canonical ? RECO_IDS_INT : number ? RECO_IDS_AUTO : RECO_IDS_TEXT;
    if (map->kind == RECO_IDS_AUTO && kind != RECO_IDS_AUTO) {
        map->kind = kind;
        snprintf(map->decided_by, sizeof map->decided_by, "'%s' on line %zu of %s", excerpt,
                 place->line, place->path);
    }
    /* a text column takes numbers written another way ("0001048791") as text */
    int accepted = map->kind == RECO_IDS_TEXT ? map->forced || !canonical
                                              : kind == RECO_IDS_INT && map->kind == RECO_IDS_INT;
    if (!accepted)
        return refuse(map, start, end, place, number, value);
    if (canonical)
        return RECO_OK;
    int32_t text_number;
    reco_status status = intern_text(map, start, length, &text_number);
    *key = -1 - (int64_t)text_number;
    return status;
}

reco_status reco_id_map_force(reco_id_map *map, reco_ids kind, const char *what)
{
    static const char *const names[] = {"as the data says", "integers", "text"};
    if (kind < RECO_IDS_AUTO || kind > RECO_IDS_TEXT)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "unknown id kind %d", (int)kind);
    infer_kind(map);
    if (kind == RECO_IDS_AUTO || (map->forced && map->kind == kind))
        return RECO_OK;
    if (map->kind != RECO_IDS_AUTO && map->kind != kind)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT,
                         "%s ids read as %s, but the shared vocabulary's are %s (since %s)",
                         what, names[kind], names[map->kind], map->decided_by);
    map->kind = kind;
    map->forced = 1;
    snprintf(map->decided_by, sizeof map->decided_by, "the reader was asked for %s",
             names[kind]);
    return RECO_OK;
}

int32_t reco_id_map_find_text(const reco_id_map *map, const char *text)
{
    int64_t key;
    size_t length = strlen(text);
    if (!canonical_integer(text, text + length, &key)) {
        int32_t number = find_text(map, text, length);
        if (number < 0)
            return -1;
        key = -1 - (int64_t)number;
    }
    return reco_id_map_find(map, key);
}

const char *reco_id_map_text_of_key(const reco_id_map *map, int64_t key)
{
    if (key >= 0 || (uint64_t)(-1 - key) >= map->n_texts)
        return NULL;
    return text_at(map, (size_t)(-1 - key));
}

void reco_id_map_describe(const reco_id_map *map, int32_t index, char *text, size_t size)
{
    if (index < 0 || (size_t)index >= map->count)
        snprintf(text, size, "?");
    else if (map->ids[index] >= 0)
        snprintf(text, size, "%lld", (long long)map->ids[index]);
    else
        snprintf(text, size, "%s", reco_id_map_text_of_key(map, map->ids[index]));
}

reco_status reco_id_map_copy(reco_id_map *dst, const reco_id_map *src)
{
    reco_status status = RECO_OK;
    dst->kind = src->kind;
    dst->forced = src->forced;
    memcpy(dst->decided_by, src->decided_by, sizeof dst->decided_by);
    int32_t index;
    for (size_t t = 0; t < src->n_texts && status == RECO_OK; t++) {
        const char *text = text_at(src, t);
        status = intern_text(dst, text, strlen(text), &index);
    }
    for (size_t i = 0; i < src->count && status == RECO_OK; i++)
        status = reco_id_map_insert(dst, src->ids[i], &index);
    return status;
}

reco_status reco_id_map_text_at(const reco_id_map *map, const char *what, int32_t index, char *text,
                                size_t size)
{
    if (!map || !text)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL handle or output");
    if (index < 0 || (size_t)index >= map->count)
        return reco_fail(RECO_ERR_OUT_OF_RANGE, "%s index %d out of range [0, %zu)", what,
                         (int)index, map->count);
    char id[RECO_ID_TEXT_MAX];
    reco_id_map_describe(map, index, id, sizeof id);
    if (strlen(id) >= size)
        return reco_fail(RECO_ERR_OUT_OF_RANGE, "%s id '%s' needs %zu bytes, the buffer has %zu",
                         what, id, strlen(id) + 1, size);
    memcpy(text, id, strlen(id) + 1);
    return RECO_OK;
}

reco_status reco_id_map_index_of_text(const reco_id_map *map, const char *what, const char *text,
                                      int32_t *index)
{
    if (!map || !text || !index)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL handle, text or output");
    int32_t found = reco_id_map_find_text(map, text);
    if (found < 0) {
        char excerpt[48];
        reco_excerpt(text, text + strlen(text), excerpt, sizeof excerpt);
        return reco_fail(RECO_ERR_OUT_OF_RANGE, "unknown %s id '%s'", what, excerpt);
    }
    *index = found;
    return RECO_OK;
}
