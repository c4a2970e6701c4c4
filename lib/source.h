/* Internal: a byte source, the one way every reader takes in bytes. A
 * source is a regular file, a pipe or FIFO, a character device that yields
 * data, or standard input (the path "-"), read as a stream in bounded
 * chunks and decoded on the way: gzip always (zlib), and when libreco is
 * built with libarchive also bzip2, xz, zstd, lz4 and the members of zip,
 * tar (plain or compressed), 7-Zip and RAR archives. A member is named
 * after the archive's path and a colon ("ml-1m.zip:ml-1m/ratings.dat"); an
 * archive holding one file needs no name. Anything else (a directory, a
 * socket, a block device) is refused with a message that says what it is. */
#ifndef RECO_LIB_SOURCE_H
#define RECO_LIB_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "reco/common.h"

/* How long opening a FIFO waits for its first data (a FIFO that no program
 * writes to would otherwise hold the caller forever), in milliseconds; the
 * environment variable RECO_FIFO_WAIT_MS overrides it. */
#define RECO_FIFO_WAIT_MS 30000

typedef enum reco_input_kind {
    RECO_INPUT_TEXT,  /* a known binary format is refused by name; RECO_ERR_PARSE */
    RECO_INPUT_BINARY /* decoding errors are RECO_ERR_FORMAT */
} reco_input_kind;

typedef struct reco_source reco_source;

/* Opens the input named by `path` (see above). Fails with RECO_ERR_IO when
 * it cannot be opened or is of a refused kind, or a FIFO gets no data
 * within RECO_FIFO_WAIT_MS; with the kind's status when an archive has no
 * such member, holds several files and none is named, or is of a format
 * this build cannot decode (the message names the format); a text input
 * in a known binary format (an image, a database, a model file) fails with
 * RECO_ERR_PARSE naming it. The caller closes *out. */
reco_status reco_source_open(const char *path, reco_input_kind kind, reco_source **out);

/* Reads up to `capacity` decoded bytes into buffer; *got is 0 only at the
 * end. Fails with the kind's status on corrupt or truncated compressed
 * data, RECO_ERR_IO on a read error. */
reco_status reco_source_read(reco_source *source, uint8_t *buffer, size_t capacity, size_t *got);

/* The name messages give the input: its path, and ":member" for an
 * archive's member. Valid until the source is closed. */
const char *reco_source_name(const reco_source *source);

/* The decoded size when it is known before reading (a plain regular file),
 * else 0: a hint for reserving memory, never trusted as the size. */
size_t reco_source_size_hint(const reco_source *source);

/* Closes the source; NULL is a no-op. */
void reco_source_close(reco_source *source);

#endif
