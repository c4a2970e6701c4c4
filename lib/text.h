/* Internal: loading a text file and walking its lines and numeric fields.
 * Shared by every text reader (ratings, titles, negatives). */
#ifndef RECO_LIB_TEXT_H
#define RECO_LIB_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "reco/common.h"

typedef struct reco_text {
    const char *path;
    char *data;   /* the whole file, NUL-terminated */
    size_t size;
    const char *cursor;
    size_t line_number; /* of the line last returned, 1-based */
} reco_text;

/* Reads the whole input (see input.h: files, pipes, "-", gzip). Fails with
 * RECO_ERR_IO when it cannot be read and RECO_ERR_PARSE when it is empty or
 * holds a NUL byte (a binary file). A leading UTF-8 byte-order mark is
 * skipped, and a CR not followed by LF ends a line (old Mac files). */
reco_status reco_text_load(const char *path, reco_text *text);

void reco_text_free(reco_text *text);

/* Returns the next non-blank line in [*start, *start + *length), without its
 * LF or CRLF (or lone CR), or sets *start to NULL at the end. Fails with RECO_ERR_PARSE on a
 * line longer than RECO_MAX_LINE bytes. */
reco_status reco_text_next_line(reco_text *text, const char **start, size_t *length);

/* Like reco_text_next_line for the first line, failing with RECO_ERR_PARSE
 * when the file holds only blank lines. */
reco_status reco_text_first_line(reco_text *text, const char **start, size_t *length);

/* Parses a whole field as a decimal integer with an optional '-'. Returns 1
 * on success, 0 when the field is not an integer, -1 when it overflows. */
int reco_parse_int64(const char *start, const char *end, int64_t *value);

/* Parses a whole field as a decimal number (digits, optional fraction,
 * optional exponent). Returns 1 on success, 0 when it is not a number. */
int reco_parse_number(const char *start, const char *end, double *value);

/* Writes a printable excerpt of a field (at most 40 bytes) for messages. */
void reco_excerpt(const char *start, const char *end, char *buffer, size_t buffer_size);

#endif
