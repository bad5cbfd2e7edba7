// The horizontal int32 sum shared by the AVX-512 int8 variants: include ONLY from
// int8_dot_avx512bw.cc and int8_dot_avx512vnni.cc.  Internal linkage, so each variant compiles
// its own copy with its own flags (STYLE §7), as int8_dot_gather.h does.
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace mnemo::kernels::internal {
namespace {

// The sum of v's 16 int32 lanes.
inline int32_t ReduceAdd(__m512i v) {
  // Zero-masking extracts: GCC 12 warns (-Wuninitialized) on the unmasked ones.
  constexpr __mmask8 kAllLanes = 0xFF;
  const __m256i oct = _mm256_add_epi32(_mm512_maskz_extracti64x4_epi64(kAllLanes, v, 0),
                                       _mm512_maskz_extracti64x4_epi64(kAllLanes, v, 1));
  __m128i quad = _mm_add_epi32(_mm256_castsi256_si128(oct), _mm256_extracti128_si256(oct, 1));
  quad = _mm_add_epi32(quad, _mm_shuffle_epi32(quad, _MM_SHUFFLE(1, 0, 3, 2)));
  quad = _mm_add_epi32(quad, _mm_shuffle_epi32(quad, _MM_SHUFFLE(2, 3, 0, 1)));
  return _mm_cvtsi128_si32(quad);
}

}  // namespace
}  // namespace mnemo::kernels::internal
