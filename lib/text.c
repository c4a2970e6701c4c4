#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reco/dataset.h"
#include "error.h"
#include "text.h"
#include "reco_alloc.h"

static size_t count_lines(const char *start, const char *end)
{
    size_t lines = 1;
    for (const char *p = start; p < end; p++)
        lines += *p == '\n';
    return lines;
}

reco_status reco_text_load(const char *path, reco_text *text)
{
    reco_status status = RECO_OK;
    *text = (reco_text){.path = path};
    FILE *file = fopen(path, "rb");
    if (!file)
        return reco_fail(RECO_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    if (fseek(file, 0, SEEK_END) != 0) {
        status = reco_fail(RECO_ERR_IO, "%s: cannot seek: %s", path, strerror(errno));
        goto fail;
    }
    long size = ftell(file);
    if (size < 0 || fseek(file, 0, SEEK_SET) != 0) {
        status = reco_fail(RECO_ERR_IO, "%s: cannot tell its size: %s", path, strerror(errno));
        goto fail;
    }
    text->data = reco_malloc((size_t)size + 1);
    if (!text->data) {
        status = reco_fail_oom();
        goto fail;
    }
    if (fread(text->data, 1, (size_t)size, file) != (size_t)size) {
        status = reco_fail(RECO_ERR_IO, "%s: read error", path);
        goto fail;
    }
    text->data[size] = '\0';
    text->size = (size_t)size;
    text->cursor = text->data;
    if (size == 0) {
        status = reco_fail(RECO_ERR_PARSE, "%s: the file is empty", path);
        goto fail;
    }
    const char *nul = memchr(text->data, '\0', text->size);
    if (nul) {
        status = reco_fail_line(RECO_ERR_PARSE, path, count_lines(text->data, nul),
                                "binary data (a NUL byte); expected a text file");
        goto fail;
    }
    fclose(file);
    return RECO_OK;
fail:
    fclose(file);
    reco_text_free(text);
    return status;
}

void reco_text_free(reco_text *text)
{
    free(text->data);
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
