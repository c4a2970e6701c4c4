/* Internal: text inputs read line by line as they arrive, and their
 * fields. Shared by every text reader (ratings, titles, negatives). */
#ifndef RECO_LIB_TEXT_H
#define RECO_LIB_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "reco/common.h"
#include "source.h"

/* An open text input. Bytes come from a byte source (source.h: files,
 * pipes, "-", gzip, archive members) a chunk at a time into a buffer of
 * one chunk plus the longest line, so memory never grows with the input. */
typedef struct reco_text {
    const char *path; /* the source's name, for messages */
    reco_source *source;
    char *buffer;
    size_t start, end; /* the bytes not yet returned: buffer[start, end) */
    size_t scanned;    /* lone CRs are turned into LFs before this */
    int at_end;
    size_t line_number;   /* of the line last returned, 1-based */
    size_t unread_number; /* the line given back by reco_text_unread, or 0 */
    const char *line;
    size_t length;
} reco_text;

/* Opens the input (see source.h). Fails with RECO_ERR_IO when it cannot be
 * read, RECO_ERR_PARSE when it is empty or in a binary format. A leading
 * UTF-8 byte-order mark is skipped, and a CR not followed by LF ends a line
 * (old Mac files). The caller closes it with reco_text_close. */
reco_status reco_text_open(const char *path, reco_text *text);

void reco_text_close(reco_text *text);

/* The decoded size when known before reading (see reco_source_size_hint). */
size_t reco_text_size_hint(const reco_text *text);

/* Returns the next non-blank line in [*start, *start + *length), without its
 * LF or CRLF (or lone CR), or sets *start to NULL at the end; the line is
 * valid until the next call. Fails with RECO_ERR_PARSE on a line longer
 * than RECO_MAX_LINE bytes or holding a NUL byte (a binary file). */
reco_status reco_text_next_line(reco_text *text, const char **start, size_t *length);

/* Like reco_text_next_line for the first line, failing with RECO_ERR_PARSE
 * when the file holds only blank lines. */
reco_status reco_text_first_line(reco_text *text, const char **start, size_t *length);

/* Gives the line last returned back: the next call returns it again. */
void reco_text_unread(reco_text *text);

/* Parses a whole field as a decimal integer with an optional '-'. Returns 1
 * on success, 0 when the field is not an integer, -1 when it overflows. */
int reco_parse_int64(const char *start, const char *end, int64_t *value);

/* Parses a whole field as a decimal number (digits, optional fraction,
 * optional exponent). Returns 1 on success, 0 when it is not a number. */
int reco_parse_number(const char *start, const char *end, double *value);

/* Writes a printable excerpt of a field (at most 40 bytes) for messages. */
void reco_excerpt(const char *start, const char *end, char *buffer, size_t buffer_size);

#endif
