/* Internal: CRC-32 (IEEE 802.3, as zlib's crc32), for the model file. */
#ifndef RECO_LIB_CRC32_H
#define RECO_LIB_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* Continues a CRC over `size` bytes; start with crc = 0. */
uint32_t reco_crc32(uint32_t crc, const void *data, size_t size);

#endif
