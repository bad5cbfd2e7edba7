// The scalar int8 variant: the reference every SIMD variant must match exactly, and the fallback
// on CPUs without SSE4.2.  Built with the baseline flags.
#include "kernels/int8_dot_gather.h"
#include "kernels/int8_dot_kernels.h"

namespace mnemo::kernels::internal::int8_scalar {

int32_t DotU8S16(const uint8_t* codes, const int16_t* query, size_t d) {
  int32_t sum = 0;
  for (size_t i = 0; i < d; ++i) sum += static_cast<int32_t>(codes[i]) * query[i];
  return sum;
}

void DotU8S16Gather(const int16_t* query, const uint8_t* const* rows, size_t n, size_t d,
                    int32_t* out) {
  GatherRows<int16_t, &DotU8S16>(query, rows, n, d, out);
}

}  // namespace mnemo::kernels::internal::int8_scalar
