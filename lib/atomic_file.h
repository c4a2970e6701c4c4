/* Internal: replacing a file so that a crash leaves the old file or the new
 * one, never a mix: the bytes go to a temporary file beside the target,
 * which is synced and renamed over it. */
#ifndef RECO_LIB_ATOMIC_FILE_H
#define RECO_LIB_ATOMIC_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "reco/common.h"

/* Writes `size` bytes as the new content of `path`.
 *   - A symbolic link is written through: its final target is replaced and
 *     the link stays a link.
 *   - The new file keeps the mode of the file it replaces; a new file gets
 *     0666 less the umask, as fopen would give it.
 *   - The temporary file is named TARGET.tmp-PID-RANDOM and is removed on
 *     every failure; each call also removes such files left in the folder by
 *     processes of this machine that are gone (killed during a save).
 * RECO_ERR_IO with the reason when any step fails. */
reco_status reco_write_atomically(const char *path, const uint8_t *data, size_t size);

#endif
