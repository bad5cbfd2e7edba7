// Test vectors: random unit vectors from a caller's generator.  Test-only.
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

}  // namespace mnemo::testing
