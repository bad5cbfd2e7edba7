// CRC-32C (Castagnoli polynomial 0x1EDC6F41, reflected 0x82F63B78), as used by iSCSI, ext4 and
// LevelDB; it guards mnemo's own files (HNSW graphs, vector segments, partition archives).  Uses
// the SSE4.2 crc32 instruction when the CPU has it (checked at run time), else a software
// slice-by-8 implementation.
//
// Thread-safety: all functions are thread-safe (the lookup tables are built at compile time).
#pragma once

#include <cstddef>
#include <cstdint>

namespace mnemo {

// Returns the CRC-32C of data[0..n) continuing from `crc`, the CRC of the bytes before it (0 for
// the first chunk).  Extend(Extend(0, a), b) == Crc32c(a ++ b).
uint32_t Crc32cExtend(uint32_t crc, const void* data, size_t n);

// The software implementation, whatever the CPU (tests compare it with the default).
uint32_t Crc32cExtendPortable(uint32_t crc, const void* data, size_t n);

// CRC-32C of data[0..n).
inline uint32_t Crc32c(const void* data, size_t n) { return Crc32cExtend(0, data, n); }

}  // namespace mnemo
