// The SSE4.2 int8 variant (pmovzxbw + pmaddwd with the int16 query, 8 dims per step).  Built with
// -msse4.2 only; intrinsics and internal-linkage helpers only (see int8_dot_kernels.h).
#include <immintrin.h>

#include "kernels/int8_dot_gather.h"
#include "kernels/int8_dot_kernels.h"

namespace mnemo::kernels::internal::int8_sse42 {

int32_t DotU8S16(const uint8_t* codes, const int16_t* query, size_t d) {
  constexpr size_t kStep = 8;
  __m128i acc0 = _mm_setzero_si128();
  __m128i acc1 = _mm_setzero_si128();
  size_t i = 0;
  for (; i + 2 * kStep <= d; i += 2 * kStep) {
    const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(codes + i));
    const __m128i q0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(query + i));
    const __m128i q1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(query + i + kStep));
    acc0 = _mm_add_epi32(acc0, _mm_madd_epi16(_mm_cvtepu8_epi16(c), q0));
    acc1 = _mm_add_epi32(acc1, _mm_madd_epi16(_mm_cvtepu8_epi16(_mm_srli_si128(c, 8)), q1));
  }
  for (; i + kStep <= d; i += kStep) {
    const __m128i c = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(codes + i));
    const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(query + i));
    acc0 = _mm_add_epi32(acc0, _mm_madd_epi16(_mm_cvtepu8_epi16(c), q));
  }
  __m128i acc = _mm_add_epi32(acc0, acc1);
  acc = _mm_add_epi32(acc, _mm_shuffle_epi32(acc, _MM_SHUFFLE(1, 0, 3, 2)));
  acc = _mm_add_epi32(acc, _mm_shuffle_epi32(acc, _MM_SHUFFLE(2, 3, 0, 1)));
  int32_t sum = _mm_cvtsi128_si32(acc);
  for (; i < d; ++i) sum += static_cast<int32_t>(codes[i]) * query[i];
  return sum;
}

void DotU8S16Gather(const int16_t* query, const uint8_t* const* rows, size_t n, size_t d,
                    int32_t* out) {
  GatherRows<int16_t, &DotU8S16>(query, rows, n, d, out);
}

}  // namespace mnemo::kernels::internal::int8_sse42
