// The AVX2 int8 variant (vpmovzxbw + vpmaddwd with the int16 query, 16 dims per step).  Built with
// -mavx2 only; intrinsics and internal-linkage helpers only (see int8_dot_kernels.h).
#include <immintrin.h>

#include "kernels/int8_dot_gather.h"
#include "kernels/int8_dot_kernels.h"

namespace mnemo::kernels::internal::int8_avx2 {

int32_t DotU8S16(const uint8_t* codes, const int16_t* query, size_t d) {
  constexpr size_t kStep = 16;
  auto mul_add = [](const uint8_t* c, const int16_t* q) {
    return _mm256_madd_epi16(
        _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(c))),
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q)));
  };
  __m256i acc0 = _mm256_setzero_si256();
  __m256i acc1 = _mm256_setzero_si256();
  size_t i = 0;
  for (; i + 2 * kStep <= d; i += 2 * kStep) {
    acc0 = _mm256_add_epi32(acc0, mul_add(codes + i, query + i));
    acc1 = _mm256_add_epi32(acc1, mul_add(codes + i + kStep, query + i + kStep));
  }
  if (i + kStep <= d) {
    acc0 = _mm256_add_epi32(acc0, mul_add(codes + i, query + i));
    i += kStep;
  }
  const __m256i acc = _mm256_add_epi32(acc0, acc1);
  __m128i quad = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
  quad = _mm_add_epi32(quad, _mm_shuffle_epi32(quad, _MM_SHUFFLE(1, 0, 3, 2)));
  quad = _mm_add_epi32(quad, _mm_shuffle_epi32(quad, _MM_SHUFFLE(2, 3, 0, 1)));
  int32_t sum = _mm_cvtsi128_si32(quad);
  for (; i < d; ++i) sum += static_cast<int32_t>(codes[i]) * query[i];
  return sum;
}

void DotU8S16Gather(const int16_t* query, const uint8_t* const* rows, size_t n, size_t d,
                    int32_t* out) {
  GatherRows<int16_t, &DotU8S16>(query, rows, n, d, out);
}

}  // namespace mnemo::kernels::internal::int8_avx2
