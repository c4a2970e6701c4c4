/* Internal: recording the thread-local error detail. */
#ifndef RECO_LIB_ERROR_H
#define RECO_LIB_ERROR_H

#include <stddef.h>

#include "reco/common.h"

#if defined(__GNUC__)
#define RECO_PRINTF(format_arg, first_arg) __attribute__((format(printf, format_arg, first_arg)))
#else
#define RECO_PRINTF(format_arg, first_arg)
#endif

/* Formats the detail of a failure into the thread-local buffer and returns
 * status, so that a failing path reads `return reco_fail(RECO_ERR_..., ...)`. */
RECO_PRINTF(2, 3) reco_status reco_fail(reco_status status, const char *format, ...);

/* Records "path:line: detail" and returns status: the form of every error
 * about a text input. */
RECO_PRINTF(4, 5)
reco_status reco_fail_line(reco_status status, const char *path, size_t line,
                           const char *format, ...);

/* Shorthand for the out-of-memory failure. */
reco_status reco_fail_oom(void);

#endif
