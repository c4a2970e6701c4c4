#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reco/dataset.h"
#include "error.h"
#include "input.h"
#include "text.h"
#include "reco_alloc.h"

/* A lone CR (old Mac line ends) ends a line as LF does: every line is read,
 * none is swallowed into its neighbour. */
static void lone_carriage_returns_to_newlines(char *data, size_t size)
{
    for (char *cr = memchr(data, '\r', size); cr; cr = memchr(cr + 1, '\r',
                                                                  size - (size_t)(cr + 1 - data)))
        if (cr + 1 == data + size || cr[1] != '\n')
            *cr = '\n';
}

reco_status reco_text_load(const char *path, reco_text *text)
{
    *text = (reco_text){.path = path};
    uint8_t *data;
    size_t size;
    reco_status status = reco_input_read(path, RECO_INPUT_TEXT, NULL, &data, &size);
    if (status != RECO_OK)
        return status;
    text->data = (char *)data;
    text->size = size;
    text->cursor = text->data;
    /* a UTF-8 byte-order mark is not part of the first line */
    if (size >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
        text->cursor += 3;
    if (text->cursor == text->data + size) {
        reco_text_free(text);
        return reco_fail(RECO_ERR_PARSE, "%s: the input is empty", path);
    }
    lone_carriage_returns_to_newlines(text->data, size);
    return RECO_OK;
}

void reco_text_free(reco_text *text)
{
    reco_free(text->data);
    text->data = NULL;
    text->cursor = NULL;
}

static int is_blank(const char *start, size_t length)
{
    for (size_t i = 0; i < length; i++)
        if (start[i] != ' ' && start[i] != '\t')
            return 0;
    return 1;
}

reco_status reco_text_next_line(reco_text *text, const char **start, size_t *length)
{
    const char *end = text->data + text->size;
    while (text->cursor < end) {
        const char *line = text->cursor;
        const char *newline = memchr(line, '\n', (size_t)(end - line));
        const char *line_end = newline ? newline : end;
        text->cursor = newline ? newline + 1 : end;
        text->line_number++;
        if (line_end > line && line_end[-1] == '\r')
            line_end--;
        size_t line_length = (size_t)(line_end - line);
        if (line_length > RECO_MAX_LINE)
            return reco_fail_line(RECO_ERR_PARSE, text->path, text->line_number,
                                  "line of %zu bytes; expected at most %d", line_length,
                                  RECO_MAX_LINE);
        if (line_length == 0 || is_blank(line, line_length))
            continue;
        *start = line;
        *length = line_length;
        return RECO_OK;
    }
    *start = NULL;
    *length = 0;
    return RECO_OK;
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
