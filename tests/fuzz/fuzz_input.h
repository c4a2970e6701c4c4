/* Shared by the libFuzzer harnesses: the readers take paths, so each input
 * is written to a file of this process first. */
#ifndef RECO_FUZZ_INPUT_H
#define RECO_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Writes the bytes to this process's scratch file and returns its path, or
 * NULL when it cannot be written. */
static inline const char *fuzz_write_input(const uint8_t *data, size_t size)
{
    static char path[64];
    if (!path[0])
        snprintf(path, sizeof path, "/tmp/reco-fuzz-%ld", (long)getpid());
    FILE *file = fopen(path, "wb");
    if (!file)
        return NULL;
    size_t written = size ? fwrite(data, 1, size, file) : 0;
    if (fclose(file) != 0 || written != size)
        return NULL;
    return path;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
