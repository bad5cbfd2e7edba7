// ScalarQuantizer: per-dimension 8-bit scalar quantization of unit vectors, for the compressed
// graph traversal of HnswIndex.
//
// Fitted on a set of vectors: dimension i gets a range [lo_i, lo_i + 255 * step_i] covering the
// fitted values, and a component x is stored as the uint8 code c = round((x - lo_i) / step_i),
// clamped to [0, 255] (values outside the fitted range clamp).  Decoding gives lo_i + step_i * c,
// within step_i / 2 of x for in-range values.
//
// Similarity: for a unit query q, dot(q, x) ~= sum q_i lo_i + sum (q_i step_i) c_i.  The weights
// w_i = q_i step_i are quantized to int16 (w_i ~= scale * k_i, |k_i| <= MaxWeight(dim), the
// largest bound for which the integer sum cannot overflow), so the second sum is
// scale * DotU8S16(c, k), exact integer arithmetic on the SIMD kernels (kernels/int8_dot.h).
// (int8 weights were measured to carry 8x the codes' own error on embeddings whose dimensions
// have very different spreads, since the largest weight sets the step for all.)
// The rounding error of the weights times each dimension's mean code (recorded at fit time) is a
// constant per query, folded into the bias, so only its product with the codes' deviation from
// their mean remains: the estimate is within about 1e-3 of the true cosine on 1536-d embeddings
// (asserted by scalar_quantizer_test.cc).  The estimate orders candidates during the walk; the
// final hits are re-ranked with exact float32 similarities.
//
// Thread-safety: immutable after construction; all const methods are thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "mnemo/result.h"

namespace mnemo::hnsw {

// A query prepared for one quantizer: similarity estimate = bias + scale * DotU8S16(code, weights).
struct QuantizedQuery {
  std::vector<int16_t> weights;
  float scale = 0;
  float bias = 0;
  // Bound on what the weights' rounding adds to the estimate's error, for any code (see
  // ScalarQuantizer::PrepareQuery).  The whole error of an estimate for a vector x whose code was
  // written with Encode() returning e is at most e + rounding_error (+ float rounding, which
  // kEstimateEpsilon covers).
  float rounding_error = 0;

  // Bound on float rounding in one estimate and one exact float32 dot product.
  static constexpr float kEstimateEpsilon = 1e-4f;

  float Similarity(int32_t raw) const { return bias + scale * static_cast<float>(raw); }
};

class ScalarQuantizer {
 public:
  // Number of code values: codes are 0 .. kLevels - 1.
  static constexpr int kLevels = 256;
  // Largest |weight| of a prepared query of `dim` dimensions: 255 * dim * MaxWeight(dim) < 2^31,
  // as DotU8S16 requires, capped at the int16 range.
  static int32_t MaxWeight(uint32_t dim);

  // Fits on `count` vectors of `dim` floats, vector j at rows(j).  The range of each dimension is
  // the fitted min..max, widened by 10% on each side so values slightly outside still encode
  // without clamping.  REQUIRES: dim >= 1, count >= 1, every value finite.
  template <typename RowFn>
  static ScalarQuantizer Fit(uint32_t dim, size_t count, RowFn rows) {
    ScalarQuantizer q(dim);
    q.BeginFit();
    for (size_t j = 0; j < count; ++j) q.AccumulateRange(rows(j));
    q.FinishRange();
    for (size_t j = 0; j < count; ++j) q.AccumulateMean(rows(j));
    q.FinishMean(count);
    return q;
  }

  // Rebuilds a quantizer from the three arrays returned by lo(), step() and mean_code() (e.g.
  // read back from a file).  ValidationError when the sizes differ or are zero, or when a value
  // is not finite, a step is not positive, or a mean code lies outside [0, 255].
  static Result<ScalarQuantizer> FromParams(std::vector<float> lo, std::vector<float> step,
                                            std::vector<float> mean_code);

  uint32_t dim() const { return static_cast<uint32_t>(lo_.size()); }
  std::span<const float> lo() const { return lo_; }
  std::span<const float> step() const { return step_; }
  std::span<const float> mean_code() const { return mean_code_; }

  // Writes the dim codes of `vector` (dim floats) to `codes`.  Returns an upper bound on the
  // Euclidean norm of (vector - Decode(codes)), clamping included.  For a unit query q that bound
  // also bounds |q . vector - q . decoded| (Cauchy-Schwarz), which is what lets an exact scan skip
  // the float32 re-rank of rows whose estimate cannot reach the top k.
  float Encode(const float* vector, uint8_t* codes) const;
  // Writes the decoded approximation of `codes` to `vector` (dim floats).
  void Decode(const uint8_t* codes, float* vector) const;
  // Prepares `query` (dim floats, normalised) for similarity estimates; reuses out's buffers.
  void PrepareQuery(const float* query, QuantizedQuery* out) const;

  // Bytes of the code of one vector (dim).
  size_t code_bytes() const { return lo_.size(); }

 private:
  explicit ScalarQuantizer(uint32_t dim);
  void BeginFit();
  void AccumulateRange(const float* row);
  void FinishRange();
  void AccumulateMean(const float* row);
  void FinishMean(size_t count);

  std::vector<float> lo_;
  std::vector<float> step_;
  std::vector<float> inv_step_;
  std::vector<float> mean_code_;
  std::vector<double> sum_;  // fitting only
};

}  // namespace mnemo::hnsw
