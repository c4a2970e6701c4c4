/* Internal: reading a whole input into memory, for the text readers and the
 * model loader. An input is a regular file, a pipe or FIFO, a character
 * device that yields data, or standard input (the path "-"); it is read as a
 * stream, never sized by seeking, and gunzipped when it starts with gzip's
 * magic bytes. Anything else (a directory, a socket, a block device) is
 * refused with a message that says what it is. */
#ifndef RECO_LIB_INPUT_H
#define RECO_LIB_INPUT_H

#include <stddef.h>
#include <stdint.h>

#include "reco/common.h"

/* How long reading a FIFO waits for its first data (a FIFO that no program
 * writes to would otherwise hold the caller forever), in milliseconds; the
 * environment variable RECO_FIFO_WAIT_MS overrides it. */
#define RECO_FIFO_WAIT_MS 30000

typedef enum reco_input_kind {
    RECO_INPUT_TEXT,  /* a NUL byte stops the read: RECO_ERR_PARSE, "path:line: ..." */
    RECO_INPUT_BINARY /* decoding errors are RECO_ERR_FORMAT */
} reco_input_kind;

/* Reads the input at `path` into *data (size bytes plus a NUL terminator;
 * the caller frees it). With `magic` (binary inputs), reading stops early
 * once the first bytes differ from it, so that an endless device cannot
 * hold the caller; the caller then finds the wrong magic in *data. Fails
 * with RECO_ERR_IO when the input cannot be opened or read, or is of a kind
 * refused above, or a FIFO gets no data within RECO_FIFO_WAIT_MS; with the
 * kind's status when gzip data is corrupt or truncated. */
reco_status reco_input_read(const char *path, reco_input_kind kind, const char *magic,
                            uint8_t **data, size_t *size);

#endif
