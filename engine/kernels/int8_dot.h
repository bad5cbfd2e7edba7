// Integer dot products of uint8 codes with an int16 query, with run-time SIMD dispatch.
//
// These are the kernels of the compressed (scalar-quantized) graph traversal: stored vectors are
// uint8 codes, the query is rounded to int16 (int8 had 8x the estimate error on embedding-like
// data), and the similarity is an affine function of the exact integer sum (see
// vector/hnsw/scalar_quantizer.h).  Every level computes the same exact int32 result, so levels
// are interchangeable bit for bit.
//
// Levels: AVX-512 VNNI (widen + vpdpwssd, 32 dims per instruction), AVX-512BW and AVX2 (widen to
// int16, vpmaddwd), SSE4.2 (the same, 8 dims per instruction), scalar.  The level follows the
// float kernels' (kernels/distance.h: ActiveSimdLevel(), capped by MNEMO_SIMD_LEVEL or
// SetMaxSimdLevel()); at the avx512 level VNNI is used when the CPU has it.
//
// Overflow: DotU8S16 REQUIRES 255 * sum |query[i]| < 2^31 (every partial sum then fits in int32).
// Thread-safety: all functions are thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace mnemo::kernels {

// sum over i in [0, d) of codes[i] * query[i], int16 query.  No alignment required.
// REQUIRES: 255 * sum |query[i]| < 2^31.
int32_t DotU8S16(const uint8_t* codes, const int16_t* query, size_t d);

// out[i] = DotU8S16(rows[i], query, d) for i in [0, n), prefetching upcoming rows.
void DotU8S16Gather(const int16_t* query, const uint8_t* const* rows, size_t n, size_t d,
                    int32_t* out);

// Name of the int8 kernel variant now in use ("scalar", "sse4.2", "avx2", "avx512bw",
// "avx512vnni"), for benchmark and log output.
std::string_view Int8KernelName();

}  // namespace mnemo::kernels
