/* Shared by the model harnesses: mutated model bytes with each section's
 * checksum recomputed, so that mutations reach the code behind the checks. */
#ifndef RECO_FUZZ_MODEL_BYTES_H
#define RECO_FUZZ_MODEL_BYTES_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "reco/reco.h"

/* Rewrites the CRC-32 after every section that fits in the buffer. */
static inline void fix_checksums(uint8_t *bytes, size_t size)
{
    size_t position = 16; /* after magic, version and byte-order mark */
    while (size >= 16 && position <= size - 16) {
        uint64_t length = 0;
        for (int i = 0; i < 8; i++)
            length |= (uint64_t)bytes[position + 4 + i] << (8 * i);
        if (length > size - position - 16)
            return;
        size_t end = position + 12 + (size_t)length;
        uint32_t crc = (uint32_t)crc32_z(0, bytes + position, end - position);
        for (int i = 0; i < 4; i++)
            bytes[end + i] = (uint8_t)(crc >> (8 * i));
        position = end + 4;
    }
}

/* The harnesses' backend: the CPU's on one thread, opened once. */
static inline reco_backend *fuzz_backend(void)
{
    static reco_backend *backend;
    if (!backend && (reco_backend_open("cpu", &backend) != RECO_OK ||
                     reco_backend_set_threads(backend, 1) != RECO_OK))
        abort();
    return backend;
}

/* A copy of the input with its checksums fixed (the caller frees it), or
 * NULL when no memory is left. */
static inline uint8_t *fuzz_model_bytes(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        return NULL;
    memcpy(copy, data, size);
    fix_checksums(copy, size);
    return copy;
}

#endif
