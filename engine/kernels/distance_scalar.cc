// The scalar level: plain loops built with the baseline flags only.  It is the fallback on CPUs
// without SSE4.2 and the path MNEMO_SIMD_LEVEL=scalar selects.
#include "kernels/distance_kernels.h"

namespace mnemo::kernels::internal {

float ScalarKernels::Dot(const float* a, const float* b, size_t d) {
  float sum = 0.0f;
  for (size_t i = 0; i < d; ++i) {
    sum += a[i] * b[i];
  }
  return sum;
}

void ScalarKernels::DotMany(const float* query, const float* rows, size_t n, size_t d, float* out) {
  for (size_t r = 0; r < n; ++r) {
    out[r] = Dot(query, rows + r * d, d);
  }
}

void ScalarKernels::DotGather(const float* query, const float* const* rows, size_t n, size_t d,
                              float* out) {
  for (size_t r = 0; r < n; ++r) {
    out[r] = Dot(query, rows[r], d);
  }
}

float ScalarKernels::SquaredNorm(const float* v, size_t d) { return Dot(v, v, d); }

void ScalarKernels::Scale(float* v, size_t d, float factor) {
  for (size_t i = 0; i < d; ++i) {
    v[i] *= factor;
  }
}

}  // namespace mnemo::kernels::internal
