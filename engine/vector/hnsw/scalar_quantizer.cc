// ScalarQuantizer: fitting, encoding and query preparation (see scalar_quantizer.h).
#include "vector/hnsw/scalar_quantizer.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace mnemo::hnsw {
namespace {

constexpr float kMaxCode = static_cast<float>(ScalarQuantizer::kLevels - 1);
constexpr int64_t kMaxExactSum = (int64_t{1} << 31) - 1;
constexpr int32_t kInt16Max = 32767;
// The fitted range is widened by this fraction on each side, so rows written after the fit that
// drift a little outside it still encode without clamping (hnsw_compressed_test: with 2% a drifted
// second half of the data lost 0.009 recall@10 against the float32 walk, with 10% none).
constexpr float kRangeMargin = 0.1f;
// Smallest step: a dimension constant over the fitted set still gets a positive, usable step.
constexpr float kMinStep = 1e-9f;

}  // namespace

ScalarQuantizer::ScalarQuantizer(uint32_t dim)
    : lo_(dim), step_(dim), inv_step_(dim), mean_code_(dim) {}

void ScalarQuantizer::BeginFit() {
  std::fill(lo_.begin(), lo_.end(), std::numeric_limits<float>::infinity());
  // step_ holds the running max until FinishRange().
  std::fill(step_.begin(), step_.end(), -std::numeric_limits<float>::infinity());
  sum_.assign(lo_.size(), 0.0);
}

void ScalarQuantizer::AccumulateRange(const float* row) {
  for (size_t i = 0; i < lo_.size(); ++i) {
    lo_[i] = std::min(lo_[i], row[i]);
    step_[i] = std::max(step_[i], row[i]);
  }
}

void ScalarQuantizer::FinishRange() {
  for (size_t i = 0; i < lo_.size(); ++i) {
    const float width = step_[i] - lo_[i];
    const float margin = width * kRangeMargin;
    lo_[i] -= margin;
    step_[i] = std::max((width + 2 * margin) / kMaxCode, kMinStep);
    inv_step_[i] = 1.0f / step_[i];
  }
}

void ScalarQuantizer::AccumulateMean(const float* row) {
  for (size_t i = 0; i < lo_.size(); ++i) {
    sum_[i] += std::clamp((row[i] - lo_[i]) * inv_step_[i], 0.0f, kMaxCode);
  }
}

void ScalarQuantizer::FinishMean(size_t count) {
  for (size_t i = 0; i < lo_.size(); ++i) {
    mean_code_[i] = static_cast<float>(sum_[i] / static_cast<double>(count));
  }
  sum_.clear();
  sum_.shrink_to_fit();
}

Result<ScalarQuantizer> ScalarQuantizer::FromParams(std::vector<float> lo, std::vector<float> step,
                                                    std::vector<float> mean_code) {
  if (lo.empty() || lo.size() != step.size() || lo.size() != mean_code.size()) {
    return Status::ValidationError("quantizer", "parameter arrays are empty or differ in size");
  }
  for (size_t i = 0; i < lo.size(); ++i) {
    if (!std::isfinite(lo[i]) || !std::isfinite(step[i]) || !(step[i] > 0) ||
        !std::isfinite(lo[i] + kMaxCode * step[i]) || !(mean_code[i] >= 0) ||
        !(mean_code[i] <= kMaxCode)) {
      return Status::ValidationError("quantizer",
                                     "bad parameters for dimension " + std::to_string(i));
    }
  }
  ScalarQuantizer q(static_cast<uint32_t>(lo.size()));
  q.lo_ = std::move(lo);
  q.step_ = std::move(step);
  q.mean_code_ = std::move(mean_code);
  for (size_t i = 0; i < q.lo_.size(); ++i) q.inv_step_[i] = 1.0f / q.step_[i];
  return q;
}

float ScalarQuantizer::Encode(const float* vector, uint8_t* codes) const {
  // A restart encodes every stored vector, so this loop is hand-vectorized with SSE2 (part of
  // every x86-64 CPU; the compiler's -O2 cost model leaves it scalar).  Codes round half up by
  // truncating code + 0.5 (code is not negative); the bound is computed from the codes chosen,
  // in double, as the scalar tail does.
  const size_t dim = lo_.size();
  const float* lo = lo_.data();
  const float* step = step_.data();
  const float* inv_step = inv_step_.data();
  double squared = 0;
  size_t i = 0;
#if defined(__SSE2__)
  constexpr size_t kWidth = 16;  // one store of 16 codes
  __m128d sums[2] = {_mm_setzero_pd(), _mm_setzero_pd()};
  const __m128 zero = _mm_setzero_ps();
  const __m128 max_code = _mm_set1_ps(kMaxCode);
  const __m128 half = _mm_set1_ps(0.5f);
  for (; i + kWidth <= dim; i += kWidth) {
    __m128i quads[4];
    for (size_t q = 0; q < 4; ++q) {
      const size_t at = i + 4 * q;
      __m128 code = _mm_mul_ps(_mm_sub_ps(_mm_loadu_ps(vector + at), _mm_loadu_ps(lo + at)),
                               _mm_loadu_ps(inv_step + at));
      code = _mm_min_ps(_mm_max_ps(code, zero), max_code);
      quads[q] = _mm_cvttps_epi32(_mm_add_ps(code, half));
      // residual = vector - (lo + step * code), two dimensions at a time in double.
      const __m128 chosen = _mm_cvtepi32_ps(quads[q]);
      const __m128 v = _mm_loadu_ps(vector + at);
      const __m128 l = _mm_loadu_ps(lo + at);
      const __m128 st = _mm_loadu_ps(step + at);
      // The low two dimensions, then the high two (moved down).
      const __m128 halves[2][4] = {{v, l, st, chosen},
                                   {_mm_movehl_ps(v, v), _mm_movehl_ps(l, l), _mm_movehl_ps(st, st),
                                    _mm_movehl_ps(chosen, chosen)}};
      for (int h = 0; h < 2; ++h) {
        const __m128d decoded =
            _mm_add_pd(_mm_cvtps_pd(halves[h][1]),
                       _mm_mul_pd(_mm_cvtps_pd(halves[h][2]), _mm_cvtps_pd(halves[h][3])));
        const __m128d residual = _mm_sub_pd(_mm_cvtps_pd(halves[h][0]), decoded);
        sums[h] = _mm_add_pd(sums[h], _mm_mul_pd(residual, residual));
      }
    }
    // Codes are 0..255: the saturating packs keep them as they are.
    const __m128i words = _mm_packs_epi32(quads[0], quads[1]);
    const __m128i words_high = _mm_packs_epi32(quads[2], quads[3]);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(codes + i), _mm_packus_epi16(words, words_high));
  }
  double lanes[2];
  _mm_storeu_pd(lanes, _mm_add_pd(sums[0], sums[1]));
  squared = lanes[0] + lanes[1];
#endif
  for (; i < dim; ++i) {
    float code = (vector[i] - lo[i]) * inv_step[i];
    code = std::min(std::max(code, 0.0f), kMaxCode);
    codes[i] = static_cast<uint8_t>(static_cast<int32_t>(code + 0.5f));
    const double residual = static_cast<double>(vector[i]) -
                            (static_cast<double>(lo[i]) + static_cast<double>(step[i]) * codes[i]);
    squared += residual * residual;
  }
  // Rounded up: the bound must not be below the true norm after conversion to float.
  return std::nextafter(static_cast<float>(std::sqrt(squared)),
                        std::numeric_limits<float>::infinity());
}

void ScalarQuantizer::Decode(const uint8_t* codes, float* vector) const {
  for (size_t i = 0; i < lo_.size(); ++i) vector[i] = lo_[i] + step_[i] * codes[i];
}

int32_t ScalarQuantizer::MaxWeight(uint32_t dim) {
  const int64_t bound = kMaxExactSum / (int64_t{kLevels - 1} * std::max<uint32_t>(dim, 1));
  return static_cast<int32_t>(std::clamp<int64_t>(bound, 1, kInt16Max));
}

void ScalarQuantizer::PrepareQuery(const float* query, QuantizedQuery* out) const {
  const size_t dim = lo_.size();
  const int32_t max_code_weight = MaxWeight(static_cast<uint32_t>(dim));
  out->weights.resize(dim);
  float max_weight = 0;
  double bias = 0;
  for (size_t i = 0; i < dim; ++i) {
    max_weight = std::max(max_weight, std::fabs(query[i] * step_[i]));
    bias += static_cast<double>(query[i]) * lo_[i];
  }
  // An all-zero weight vector (query zero where every step is): every code contributes nothing.
  const float scale = max_weight > 0 ? max_weight / static_cast<float>(max_code_weight) : 1.0f;
  const float inv_scale = 1.0f / scale;
  double rounding_error = 0;
  for (size_t i = 0; i < dim; ++i) {
    const float weight = query[i] * step_[i];
    const long rounded =
        std::clamp(std::lround(weight * inv_scale), -long{max_code_weight}, long{max_code_weight});
    out->weights[i] = static_cast<int16_t>(rounded);
    // The weight's rounding error times the dimension's mean code: constant over the codes.
    const double weight_error = static_cast<double>(weight) - static_cast<double>(scale) * rounded;
    bias += weight_error * mean_code_[i];
    // What remains is weight_error * (code - mean code), at most this for any code.
    rounding_error +=
        std::fabs(weight_error) * std::max<double>(mean_code_[i], kMaxCode - mean_code_[i]);
  }
  out->scale = scale;
  out->bias = static_cast<float>(bias);
  out->rounding_error = static_cast<float>(rounding_error);
}

}  // namespace mnemo::hnsw
