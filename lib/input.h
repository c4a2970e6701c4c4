/* Internal: reading a whole input into memory (the model loader), through
 * the byte source of source.h. */
#ifndef RECO_LIB_INPUT_H
#define RECO_LIB_INPUT_H

#include <stddef.h>
#include <stdint.h>

#include "source.h"

/* Reads the whole input into *data (size bytes plus a NUL terminator; the
 * caller frees it), failing as reco_source_open and reco_source_read do.
 * With `magic` (binary inputs), reading stops early once the first bytes
 * differ from it, so that an endless device cannot hold the caller; the
 * caller then finds the wrong magic in *data. Memory reserved up front is
 * at most the size a regular file says it has, plus one. */
reco_status reco_input_read(const char *path, reco_input_kind kind, const char *magic,
                            uint8_t **data, size_t *size);

#endif
