/* Whole inputs read into memory through a byte source (the model loader). */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "input.h"
#include "reco_alloc.h"

#define CHUNK_BYTES ((size_t)1 << 16)

/* The bytes read so far. */
typedef struct sink {
    uint8_t *data;
    size_t size, capacity;
} sink;

/* Makes room for `more` bytes plus the terminating NUL: exactly that much
 * the first time (a regular file's size), doubling after. */
static reco_status reserve(sink *s, size_t more)
{
    if (more < s->capacity - s->size)
        return RECO_OK;
    if (more > SIZE_MAX / 2 - s->size - 1)
        return reco_fail(RECO_ERR_OUT_OF_MEMORY, "an input of more than %zu bytes",
                         SIZE_MAX / 2);
    size_t capacity = s->capacity ? s->capacity : s->size + more + 1;
    while (capacity < s->size + more + 1)
        capacity *= 2;
    uint8_t *grown = reco_realloc(s->data, capacity);
    if (!grown)
        return reco_fail_oom();
    s->data = grown;
    s->capacity = capacity;
    return RECO_OK;
}

/* Whether the bytes so far already differ from the expected magic. */
static int wrong_magic(const sink *s, const char *magic)
{
    size_t length = magic ? strlen(magic) : 0;
    size_t compared = s->size < length ? s->size : length;
    return magic && memcmp(s->data, magic, compared) != 0;
}

reco_status reco_input_read(const char *path, reco_input_kind kind, const char *magic,
                            uint8_t **data, size_t *size)
{
    *data = NULL;
    *size = 0;
    reco_source *source;
    reco_status status = reco_source_open(path, kind, &source);
    if (status != RECO_OK)
        return status;
    sink s = {0};
    size_t hint = reco_source_size_hint(source);
    status = reserve(&s, hint > 0 && hint < SIZE_MAX / 4 ? hint : CHUNK_BYTES);
    while (status == RECO_OK) {
        size_t got = 0;
        uint8_t probe;
        if (s.capacity - s.size > 1) {
            status = reco_source_read(source, s.data + s.size, s.capacity - s.size - 1, &got);
            s.size += got;
        } else if ((status = reco_source_read(source, &probe, 1, &got)) == RECO_OK && got) {
            /* full at the size the file gave: only more data grows it */
            if ((status = reserve(&s, CHUNK_BYTES)) == RECO_OK)
                s.data[s.size++] = probe;
        }
        if (got == 0 || wrong_magic(&s, magic))
            break;
    }
    reco_source_close(source);
    if (status != RECO_OK) {
        reco_free(s.data);
        return status;
    }
    s.data[s.size] = '\0';
    *data = s.data;
    *size = s.size;
    return RECO_OK;
}
