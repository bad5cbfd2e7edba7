// The AVX-512BW int8 variant (vpmovzxbw + vpmaddwd with the int16 query, 32 dims per step, masked
// tail), for AVX-512 CPUs without VNNI.  Built with -mavx512f -mavx512bw -mavx512vl only;
// intrinsics and internal-linkage helpers only (see int8_dot_kernels.h).
#include <immintrin.h>

#include "kernels/int8_dot_avx512_reduce.h"
#include "kernels/int8_dot_gather.h"
#include "kernels/int8_dot_kernels.h"

namespace mnemo::kernels::internal::int8_avx512bw {

int32_t DotU8S16(const uint8_t* codes, const int16_t* query, size_t d) {
  constexpr size_t kStep16 = 32;  // codes widened to 32 int16 lanes per step
  auto widen = [](__m256i c) { return _mm512_cvtepu8_epi16(c); };
  auto load_codes = [](const uint8_t* p) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  };
  __m512i acc0 = _mm512_setzero_si512();
  __m512i acc1 = _mm512_setzero_si512();
  size_t i = 0;
  for (; i + 2 * kStep16 <= d; i += 2 * kStep16) {
    const __m512i c0 = widen(load_codes(codes + i));
    const __m512i c1 = widen(load_codes(codes + i + kStep16));
    const __m512i q0 = _mm512_loadu_si512(query + i);
    const __m512i q1 = _mm512_loadu_si512(query + i + kStep16);
    acc0 = _mm512_add_epi32(acc0, _mm512_madd_epi16(c0, q0));
    acc1 = _mm512_add_epi32(acc1, _mm512_madd_epi16(c1, q1));
  }
  // At most two masked steps: they read only the remaining bytes and zero the rest.
  for (; i < d; i += kStep16) {
    const size_t left = d - i < kStep16 ? d - i : kStep16;
    const auto mask = static_cast<__mmask32>((uint64_t{1} << left) - 1);
    const __m512i c0 = widen(_mm256_maskz_loadu_epi8(mask, codes + i));
    const __m512i q0 = _mm512_maskz_loadu_epi16(mask, query + i);
    acc0 = _mm512_add_epi32(acc0, _mm512_madd_epi16(c0, q0));
  }
  return ReduceAdd(_mm512_add_epi32(acc0, acc1));
}

void DotU8S16Gather(const int16_t* query, const uint8_t* const* rows, size_t n, size_t d,
                    int32_t* out) {
  GatherRows<int16_t, &DotU8S16>(query, rows, n, d, out);
}

}  // namespace mnemo::kernels::internal::int8_avx512bw
