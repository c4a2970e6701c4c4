/* Internal: little-endian values and checksummed sections in memory, the
 * byte-level layer under the model file's schema (model_file.c). A
 * section is a u32 tag, a u64 payload length, the payload and the CRC-32
 * (zlib's) of all three. */
#ifndef RECO_LIB_SECTIONS_H
#define RECO_LIB_SECTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "reco/common.h"

/* A growable byte buffer; after an allocation failure `failed` is set and
 * every later put does nothing. The owner frees `data`. */
typedef struct reco_writer {
    uint8_t *data;
    size_t size, capacity;
    int failed;
} reco_writer;

void reco_put_bytes(reco_writer *w, const void *bytes, size_t size);
void reco_put_u32(reco_writer *w, uint32_t value);
void reco_put_u64(reco_writer *w, uint64_t value);
void reco_put_f32(reco_writer *w, float value);

/* Starts a section (its length patched later); returns its start for
 * reco_end_section, which writes the length and the checksum. */
size_t reco_begin_section(reco_writer *w, uint32_t tag);
void reco_end_section(reco_writer *w, size_t start);

/* A bounds-checked reader over bytes read from `path`; the first failure
 * sticks in `status` (RECO_ERR_FORMAT naming the path and byte offset) and
 * later reads return zeros. */
typedef struct reco_reader {
    const char *path;
    const uint8_t *data;
    size_t size, position;
    reco_status status;
} reco_reader;

/* Records "path: what at byte N" unless a failure is recorded already;
 * returns the reader's status. */
reco_status reco_format_error(reco_reader *r, const char *what);

/* The next `size` bytes, or NULL (a format error naming `what`). */
const uint8_t *reco_take(reco_reader *r, size_t size, const char *what);
uint32_t reco_get_u32(reco_reader *r, const char *what);
uint64_t reco_get_u64(reco_reader *r, const char *what);
float reco_get_f32(reco_reader *r, const char *what);

/* A file's 16-byte header: the 8-byte magic, u32 version, u32 byte-order
 * mark. reco_put_header writes it; reco_get_header reads it, a format
 * error ("bad magic (not a libreco <kind>)") unless the magic matches, and
 * returns the version and the mark for the caller to judge. */
void reco_put_header(reco_writer *w, const char *magic, uint32_t version);
void reco_get_header(reco_reader *r, const char *magic, const char *kind, uint32_t *version,
                     uint32_t *mark);

/* Reads a section header and checks the section's checksum; returns its
 * tag and sets *end to where its payload ends. reco_close_section checks
 * that the payload was read exactly and steps over the checksum. */
uint32_t reco_open_section(reco_reader *r, size_t *end);
void reco_close_section(reco_reader *r, size_t end);

#endif
