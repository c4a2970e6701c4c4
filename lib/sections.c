/* Little-endian values and checksummed sections in memory: the byte-level
 * layer of the model file (docs/model-format.md). */
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "error.h"
#include "reco_alloc.h"
#include "sections.h"

void reco_put_bytes(reco_writer *w, const void *bytes, size_t size)
{
    if (w->failed)
        return;
    if (w->size + size > w->capacity) {
        size_t capacity = (w->size + size) * 2;
        uint8_t *grown = reco_realloc(w->data, capacity);
        if (!grown) {
            w->failed = 1;
            return;
        }
        w->data = grown;
        w->capacity = capacity;
    }
    memcpy(w->data + w->size, bytes, size);
    w->size += size;
}

void reco_put_u32(reco_writer *w, uint32_t value)
{
    uint8_t bytes[4] = {(uint8_t)value, (uint8_t)(value >> 8), (uint8_t)(value >> 16),
                        (uint8_t)(value >> 24)};
    reco_put_bytes(w, bytes, 4);
}

void reco_put_u64(reco_writer *w, uint64_t value)
{
    reco_put_u32(w, (uint32_t)value);
    reco_put_u32(w, (uint32_t)(value >> 32));
}

void reco_put_f32(reco_writer *w, float value)
{
    uint32_t bits;
    memcpy(&bits, &value, 4);
    reco_put_u32(w, bits);
}

/* Sections: tag, payload length, payload, CRC-32 of all three. */
size_t reco_begin_section(reco_writer *w, uint32_t tag)
{
    size_t start = w->size;
    reco_put_u32(w, tag);
    reco_put_u64(w, 0); /* patched by end_section */
    return start;
}

void reco_end_section(reco_writer *w, size_t start)
{
    if (w->failed)
        return;
    uint64_t length = w->size - start - 12;
    for (int i = 0; i < 8; i++)
        w->data[start + 4 + i] = (uint8_t)(length >> (8 * i));
    reco_put_u32(w, (uint32_t)crc32_z(0, w->data + start, w->size - start));
}

reco_status reco_format_error(reco_reader *r, const char *what)
{
    if (r->status == RECO_OK)
        r->status = reco_fail(RECO_ERR_FORMAT, "%s: %s at byte %zu", r->path, what, r->position);
    return r->status;
}

const uint8_t *reco_take(reco_reader *r, size_t size, const char *what)
{
    if (r->status != RECO_OK)
        return NULL;
    if (size > r->size - r->position) {
        reco_format_error(r, what);
        return NULL;
    }
    const uint8_t *bytes = r->data + r->position;
    r->position += size;
    return bytes;
}

uint32_t reco_get_u32(reco_reader *r, const char *what)
{
    const uint8_t *b = reco_take(r, 4, what);
    return b ? (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24
             : 0;
}

uint64_t reco_get_u64(reco_reader *r, const char *what)
{
    uint64_t low = reco_get_u32(r, what);
    return low | (uint64_t)reco_get_u32(r, what) << 32;
}

float reco_get_f32(reco_reader *r, const char *what)
{
    uint32_t bits = reco_get_u32(r, what);
    float value;
    memcpy(&value, &bits, 4);
    return value;
}

void reco_put_header(reco_writer *w, const char *magic, uint32_t version)
{
    reco_put_bytes(w, magic, 8);
    reco_put_u32(w, version);
    reco_put_u32(w, 0x01020304u);
}

void reco_get_header(reco_reader *r, const char *magic, const char *kind, uint32_t *version,
                     uint32_t *mark)
{
    char what[64];
    snprintf(what, sizeof what, "truncated header (not a libreco %s)", kind);
    const uint8_t *bytes = reco_take(r, 8, what);
    if (bytes && memcmp(bytes, magic, 8) != 0) {
        r->position = 0;
        snprintf(what, sizeof what, "bad magic (not a libreco %s)", kind);
        reco_format_error(r, what);
    }
    *version = reco_get_u32(r, "truncated header");
    *mark = reco_get_u32(r, "truncated header");
}

/* Reads a section header and checks its CRC; *end is where its payload ends. */
uint32_t reco_open_section(reco_reader *r, size_t *end)
{
    size_t start = r->position;
    uint32_t tag = reco_get_u32(r, "truncated section header");
    uint64_t length = reco_get_u64(r, "truncated section header");
    if (r->status != RECO_OK)
        return 0;
    if (length > r->size - r->position || r->size - r->position - length < 4) {
        reco_format_error(r, "truncated section");
        return 0;
    }
    *end = r->position + (size_t)length;
    size_t saved = r->position;
    r->position = *end;
    uint32_t stored = reco_get_u32(r, "truncated checksum");
    if (stored != (uint32_t)crc32_z(0, r->data + start, *end - start)) {
        r->position = start;
        reco_format_error(r, "section checksum mismatch (corrupt file)");
        return 0;
    }
    r->position = saved;
    return tag;
}

void reco_close_section(reco_reader *r, size_t end)
{
    if (r->status == RECO_OK && r->position != end)
        reco_format_error(r, "section length disagrees with its contents");
    r->position = end + 4;
}
