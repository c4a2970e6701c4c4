#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reco/dataset.h"
#include "error.h"
#include "text.h"
#include "reco_alloc.h"

#define CHUNK_BYTES ((size_t)1 << 16)
/* the longest line, its CR and one chunk beyond it */
#define BUFFER_BYTES ((size_t)RECO_MAX_LINE + 2 + CHUNK_BYTES)

/* A lone CR (old Mac line ends) ends a line as LF does: every line is read,
 * none is swallowed into its neighbour. The last byte waits for the next
 * (a CR then LF is one line end), unless the input ended. */
static void lone_carriage_returns_to_newlines(reco_text *text)
{
    size_t last = text->at_end ? text->end : text->end - 1;
    for (char *cr = memchr(text->buffer + text->scanned, '\r', last - text->scanned); cr;
         cr = memchr(cr + 1, '\r', last - (size_t)(cr + 1 - text->buffer)))
        if (cr + 1 == text->buffer + text->end || cr[1] != '\n')
            *cr = '\n';
    text->scanned = last;
}

/* Reads the next chunk after the bytes not yet returned, moved to the
 * front; sets at_end when there is none. */
static reco_status fill(reco_text *text)
{
    memmove(text->buffer, text->buffer + text->start, text->end - text->start);
    text->end -= text->start;
    text->scanned -= text->scanned > text->start ? text->start : text->scanned;
    text->start = 0;
    size_t got;
    reco_status status = reco_source_read(text->source, (uint8_t *)text->buffer + text->end,
                                          BUFFER_BYTES - text->end, &got);
    if (status != RECO_OK)
        return status;
    text->end += got;
    text->at_end = got == 0;
    if (text->end > text->scanned)
        lone_carriage_returns_to_newlines(text);
    return RECO_OK;
}

reco_status reco_text_open(const char *path, reco_text *text)
{
    *text = (reco_text){.path = path};
    reco_status status = reco_source_open(path, RECO_INPUT_TEXT, &text->source);
    if (status == RECO_OK) {
        text->path = reco_source_name(text->source);
        text->buffer = reco_malloc(BUFFER_BYTES);
        status = text->buffer ? fill(text) : reco_fail_oom();
    }
    /* a UTF-8 byte-order mark is not part of the first line (only a start
     * that may be one waits for more bytes) */
    while (status == RECO_OK && !text->at_end && text->end < 3 &&
           memcmp(text->buffer, "\xEF\xBB\xBF", text->end) == 0)
        status = fill(text);
    if (status == RECO_OK && text->end >= 3 && memcmp(text->buffer, "\xEF\xBB\xBF", 3) == 0)
        text->start = 3;
    if (status == RECO_OK && text->start == text->end && text->at_end)
        status = reco_fail(RECO_ERR_PARSE, "%s: the input is empty", text->path);
    if (status != RECO_OK)
        reco_text_close(text);
    return status;
}

void reco_text_close(reco_text *text)
{
    reco_source_close(text->source);
    reco_free(text->buffer);
    text->source = NULL;
    text->buffer = NULL;
}

size_t reco_text_size_hint(const reco_text *text)
{
    return reco_source_size_hint(text->source);
}

static int is_blank(const char *start, size_t length)
{
    for (size_t i = 0; i < length; i++)
        if (start[i] != ' ' && start[i] != '\t')
            return 0;
    return 1;
}

/* The next line, blank or not, or NULL at the end. */
static reco_status take_line(reco_text *text, const char **start, size_t *length)
{
    for (;;) {
        char *line = text->buffer + text->start;
        size_t available = text->end - text->start;
        char *newline = memchr(line, '\n', available);
        if (newline || (text->at_end && available > 0)) {
            size_t line_length = newline ? (size_t)(newline - line) : available;
            text->start += line_length + (newline != NULL);
            text->line_number++;
            if (line_length > 0 && line[line_length - 1] == '\r')
                line_length--;
            *start = line;
            *length = line_length;
            return RECO_OK;
        }
        if (text->at_end) {
            *start = NULL;
            *length = 0;
            return RECO_OK;
        }
        if (available == BUFFER_BYTES && memchr(line, '\0', available))
            return reco_fail_line(RECO_ERR_PARSE, text->path, text->line_number + 1,
                                  "binary data (a NUL byte); expected a text file");
        if (available == BUFFER_BYTES)
            return reco_fail_line(RECO_ERR_PARSE, text->path, text->line_number + 1,
                                  "line of more than %zu bytes; expected at most %d",
                                  BUFFER_BYTES, RECO_MAX_LINE);
        reco_status status = fill(text);
        if (status != RECO_OK)
            return status;
    }
}

reco_status reco_text_next_line(reco_text *text, const char **start, size_t *length)
{
    if (text->unread_number) {
        text->line_number = text->unread_number;
        text->unread_number = 0;
        *start = text->line;
        *length = text->length;
        return RECO_OK;
    }
    reco_status status;
    while ((status = take_line(text, start, length)) == RECO_OK && *start) {
        if (*length > RECO_MAX_LINE)
            return reco_fail_line(RECO_ERR_PARSE, text->path, text->line_number,
                                  "line of %zu bytes; expected at most %d", *length,
                                  RECO_MAX_LINE);
        if (memchr(*start, '\0', *length))
            return reco_fail_line(RECO_ERR_PARSE, text->path, text->line_number,
                                  "binary data (a NUL byte); expected a text file");
        if (*length > 0 && !is_blank(*start, *length))
            break;
    }
    text->line = *start;
    text->length = *length;
    return status;
}

void reco_text_unread(reco_text *text)
{
    text->unread_number = text->line_number;
}

reco_status reco_text_first_line(reco_text *text, const char **start, size_t *length)
{
    reco_status status = reco_text_next_line(text, start, length);
    if (status == RECO_OK && !*start)
        return reco_fail(RECO_ERR_PARSE, "%s: no data lines (only blank lines)", text->path);
    return status;
}

int reco_parse_int64(const char *start, const char *end, int64_t *value)
{
    int negative = start < end && *start == '-';
    const char *p = start + negative;
    if (p == end)
        return 0;
    uint64_t magnitude = 0;
    const uint64_t limit = (uint64_t)INT64_MAX + (uint64_t)negative;
    for (; p < end; p++) {
        unsigned digit = (unsigned)(unsigned char)*p - '0';
        if (digit > 9)
            return 0;
        if (magnitude > (limit - digit) / 10)
            return -1;
        magnitude = magnitude * 10 + digit;
    }
    *value = negative ? (int64_t)(0 - magnitude) : (int64_t)magnitude;
    return 1;
}

static const double powers_of_ten[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

int reco_parse_number(const char *start, const char *end, double *value)
{
    const char *p = start;
    int negative = 0;
    if (p < end && (*p == '-' || *p == '+'))
        negative = *p++ == '-';
    uint64_t mantissa = 0;
    int digits = 0, exponent = 0;
    for (; p < end && (unsigned)(*p - '0') <= 9; p++, digits++) {
        if (mantissa < 1000000000000000000ull)
            mantissa = mantissa * 10 + (uint64_t)(*p - '0');
        else
            exponent++;
    }
    if (p < end && *p == '.') {
        for (p++; p < end && (unsigned)(*p - '0') <= 9; p++, digits++) {
            if (mantissa < 1000000000000000000ull) {
                mantissa = mantissa * 10 + (uint64_t)(*p - '0');
                exponent--;
            }
        }
    }
    if (digits == 0)
        return 0;
    if (p < end && (*p == 'e' || *p == 'E')) {
        int64_t written;
        if (reco_parse_int64(p + 1 + (p + 1 < end && p[1] == '+'), end, &written) != 1)
            return 0;
        if (written > 100000 || written < -100000)
            written = written > 0 ? 100000 : -100000;
        exponent += (int)written;
        p = end;
    }
    if (p != end)
        return 0;
    double result = (double)mantissa;
    if (exponent >= 0 && exponent <= 22)
        result *= powers_of_ten[exponent];
    else if (exponent < 0 && exponent >= -22)
        result /= powers_of_ten[-exponent];
    else
        result *= pow(10.0, exponent);
    *value = negative ? -result : result;
    return 1;
}

void reco_excerpt(const char *start, const char *end, char *buffer, size_t buffer_size)
{
    size_t length = (size_t)(end - start);
    if (length > 40)
        length = 40;
    if (length >= buffer_size)
        length = buffer_size - 1;
    for (size_t i = 0; i < length; i++) {
        unsigned char c = (unsigned char)start[i];
        buffer[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    buffer[length] = '\0';
}
