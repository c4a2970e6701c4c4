/* Shared by the model harnesses: mutated model bytes with each section's
 * checksum recomputed, so that mutations reach the code behind the checks. */
#ifndef RECO_FUZZ_MODEL_BYTES_H
#define RECO_FUZZ_MODEL_BYTES_H

#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

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

#endif
