// Test vectors: random unit vectors from a caller's generator, and the exact cosine to check
// search answers against.  Test-only.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace mnemo::testing {

// A vector of `dim` normal draws, scaled to unit length.
template <typename Rng>
std::vector<float> RandomUnitVector(uint32_t dim, Rng& rng) {
  std::normal_distribution<float> normal;
  std::vector<float> v(dim);
  float norm = 0;
  for (float& x : v) {
    x = normal(rng);
    norm += x * x;
  }
  for (float& x : v) x /= std::sqrt(norm);
  return v;
}

// The cosine of two vectors of the same size, in double precision (the ground truth of a search).
inline double Cosine(const std::vector<float>& a, const std::vector<float>& b) {
  double dot = 0, norm_a = 0, norm_b = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    dot += static_cast<double>(a[i]) * b[i];
    norm_a += static_cast<double>(a[i]) * a[i];
    norm_b += static_cast<double>(b[i]) * b[i];
  }
  return dot / std::sqrt(norm_a * norm_b);
}

}  // namespace mnemo::testing
