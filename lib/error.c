/* Status names, the thread-local error detail and the version. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

static _Thread_local char last_error[1024];

const char *reco_status_string(reco_status status)
{
    switch (status) {
    case RECO_OK: return "ok";
    case RECO_ERR_INVALID_ARGUMENT: return "invalid argument";
    case RECO_ERR_OUT_OF_MEMORY: return "out of memory";
    case RECO_ERR_IO: return "I/O error";
    case RECO_ERR_PARSE: return "parse error";
    case RECO_ERR_FORMAT: return "bad file format";
    case RECO_ERR_OUT_OF_RANGE: return "out of range";
    case RECO_ERR_BACKEND_UNAVAILABLE: return "backend unavailable";
    case RECO_ERR_BACKEND: return "backend error";
    case RECO_ERR_STATE: return "invalid state";
    case RECO_ERR_INTERRUPTED: return "interrupted";
    }
    return "unknown status";
}

const char *reco_last_error(void)
{
    return last_error;
}

/* Formats "prefix" then the detail into a buffer of its own before copying
 * it over last_error, so that an argument may be reco_last_error() itself
 * (a detail that wraps the one before it). */
static reco_status record(reco_status status, const char *path, size_t line, const char *format,
                          va_list args)
{
    char detail[sizeof last_error];
    int prefix = path ? snprintf(detail, sizeof detail, "%s:%zu: ", path, line) : 0;
    if (prefix < 0 || (size_t)prefix >= sizeof detail)
        prefix = 0;
    vsnprintf(detail + prefix, sizeof detail - (size_t)prefix, format, args);
    memcpy(last_error, detail, sizeof last_error);
    return status;
}

reco_status reco_fail(reco_status status, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    record(status, NULL, 0, format, args);
    va_end(args);
    return status;
}

reco_status reco_fail_oom(void)
{
    return reco_fail(RECO_ERR_OUT_OF_MEMORY, "out of memory");
}

const char *reco_version_string(void)
{
    return RECO_VERSION_STRING;
}

int reco_version_number(void)
{
    return RECO_VERSION_NUMBER;
}

reco_status reco_fail_line(reco_status status, const char *path, size_t line,
                           const char *format, ...)
{
    va_list args;
    va_start(args, format);
    record(status, path, line, format, args);
    va_end(args);
    return status;
}
