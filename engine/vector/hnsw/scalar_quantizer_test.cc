// ScalarQuantizer: round-trip error bounds, clamping, similarity estimates against exact dot
// products, and rejection of bad parameters.
#include "vector/hnsw/scalar_quantizer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/distance.h"
#include "kernels/int8_dot.h"
#include "vector/hnsw/test_data.h"

namespace mnemo::hnsw {
namespace {

ScalarQuantizer FitOn(const testing::TestData& data) {
  return ScalarQuantizer::Fit(static_cast<uint32_t>(data.dim), data.size(),
                              [&](size_t j) { return data.Row(j).data(); });
}

TEST(ScalarQuantizerTest, RoundTripWithinHalfAStep) {
  const testing::TestData data = testing::MakeClustered(2000, 0, 64, 20, 7);
  const ScalarQuantizer q = FitOn(data);
  ASSERT_EQ(q.dim(), 64u);
  std::vector<uint8_t> codes(data.dim);
  std::vector<float> decoded(data.dim);
  for (size_t j = 0; j < data.size(); ++j) {
    q.Encode(data.Row(j).data(), codes.data());
    q.Decode(codes.data(), decoded.data());
    for (size_t i = 0; i < data.dim; ++i) {
      // Half a step, plus float rounding of (x - lo) / step.
      ASSERT_LE(std::fabs(decoded[i] - data.Row(j)[i]), q.step()[i] * 0.5001f)
          << "row " << j << " dim " << i;
    }
  }
}

TEST(ScalarQuantizerTest, OutOfRangeValuesClampToTheRangeEnds) {
  const std::vector<float> a = {0.1f, -0.2f};
  const std::vector<float> b = {0.3f, 0.2f};
  const std::vector<const float*> rows = {a.data(), b.data()};
  const ScalarQuantizer q = ScalarQuantizer::Fit(2, rows.size(), [&](size_t j) { return rows[j]; });
  uint8_t codes[2];
  const float far_out[2] = {5.0f, -5.0f};
  q.Encode(far_out, codes);
  EXPECT_EQ(codes[0], 255);
  EXPECT_EQ(codes[1], 0);
  const float nearly_in[2] = {0.1f, 0.2f};
  q.Encode(nearly_in, codes);
  float decoded[2];
  q.Decode(codes, decoded);
  EXPECT_NEAR(decoded[0], 0.1f, q.step()[0]);
  EXPECT_NEAR(decoded[1], 0.2f, q.step()[1]);
}

// Every dimension, in the vectorized blocks and in the tail (37 = 2 x 16 + 5), gets the level
// nearest its clamped value, and the returned bound is the residual's norm, rounded up.
TEST(ScalarQuantizerTest, EncodeChoosesNearestLevelsAndBoundsTheResidual) {
  for (const size_t dim : {size_t{37}, size_t{1536}}) {
    const testing::TestData data = testing::MakeClustered(500, 0, dim, 10, 3);
    const ScalarQuantizer q = FitOn(data);
    std::vector<float> row(dim);
    std::vector<uint8_t> codes(dim);
    for (size_t j = 0; j < data.size(); ++j) {
      for (size_t i = 0; i < dim; ++i) row[i] = data.Row(j)[i];
      // Some values far outside the fitted range, on both sides, in blocks and tail alike.
      if (j % 7 == 0) {
        row[j % dim] = 50.0f;
        row[(j * 13 + 5) % dim] = -50.0f;
      }
      const float bound = q.Encode(row.data(), codes.data());
      long double squared = 0;
      for (size_t i = 0; i < dim; ++i) {
        const long double lo = q.lo()[i];
        const long double step = q.step()[i];
        const long double scaled = std::clamp((row[i] - lo) / step, 0.0L, 255.0L);
        ASSERT_LE(std::fabs(scaled - codes[i]), 0.5L + 1e-4L) << "dim " << dim << " i " << i;
        const long double residual = row[i] - (lo + step * codes[i]);
        squared += residual * residual;
      }
      const long double norm = std::sqrt(squared);
      ASSERT_GE(static_cast<long double>(bound), norm) << "dim " << dim << " row " << j;
      ASSERT_LE(static_cast<long double>(bound), norm * (1 + 1e-5L) + 1e-12L);
    }
  }
}

TEST(ScalarQuantizerTest, ConstantDimensionGetsAPositiveStep) {
  const std::vector<float> a = {0.5f, 1.0f};
  const std::vector<float> b = {0.5f, -1.0f};
  const std::vector<const float*> rows = {a.data(), b.data()};
  const ScalarQuantizer q = ScalarQuantizer::Fit(2, rows.size(), [&](size_t j) { return rows[j]; });
  EXPECT_GT(q.step()[0], 0.0f);
  uint8_t codes[2];
  float decoded[2];
  q.Encode(a.data(), codes);
  q.Decode(codes, decoded);
  EXPECT_NEAR(decoded[0], 0.5f, 1e-6f);
}

// The estimate bias + scale * (integer code dot product) tracks the exact cosine closely on
// embedding-like data.
TEST(ScalarQuantizerTest, SimilarityEstimateIsCloseToExact) {
  const testing::TestData data = testing::MakeClustered(3000, 50, 1536, 30, 11);
  const ScalarQuantizer q = FitOn(data);
  std::vector<uint8_t> codes(data.size() * data.dim);
  for (size_t j = 0; j < data.size(); ++j) q.Encode(data.Row(j).data(), &codes[j * data.dim]);
  QuantizedQuery prepared;
  double max_error = 0;
  double sum_error = 0;
  size_t count = 0;
  for (size_t k = 0; k < data.query_count(); ++k) {
    const float* query = data.Query(k).data();
    q.PrepareQuery(query, &prepared);
    ASSERT_EQ(prepared.weights.size(), data.dim);
    for (size_t j = 0; j < data.size(); j += 7) {
      const float exact = kernels::Dot(query, data.Row(j).data(), data.dim);
      const float estimate = prepared.Similarity(
          kernels::DotU8S16(&codes[j * data.dim], prepared.weights.data(), data.dim));
      const double error = std::fabs(static_cast<double>(estimate) - exact);
      max_error = std::max(max_error, error);
      sum_error += error;
      ++count;
    }
  }
  EXPECT_LT(sum_error / static_cast<double>(count), 1e-3);
  EXPECT_LT(max_error, 5e-3);
}

TEST(ScalarQuantizerTest, WeightBoundKeepsTheIntegerSumExact) {
  for (uint32_t dim : {1u, 96u, 1536u, 4096u, 65536u}) {
    const int64_t bound = ScalarQuantizer::MaxWeight(dim);
    EXPECT_GE(bound, 1);
    EXPECT_LE(bound, 32767);
    EXPECT_LT(255 * int64_t{dim} * bound, int64_t{1} << 31) << dim;
  }
  EXPECT_EQ(ScalarQuantizer::MaxWeight(1536), 5482);
}

TEST(ScalarQuantizerTest, ZeroQueryEstimatesTheBias) {
  const testing::TestData data = testing::MakeClustered(100, 0, 16, 4, 3);
  const ScalarQuantizer q = FitOn(data);
  const std::vector<float> zero(16, 0.0f);
  QuantizedQuery prepared;
  q.PrepareQuery(zero.data(), &prepared);
  for (int16_t w : prepared.weights) EXPECT_EQ(w, 0);
  EXPECT_EQ(prepared.bias, 0.0f);
}

TEST(ScalarQuantizerTest, FromParamsRoundTripsAndRejectsBadInput) {
  const testing::TestData data = testing::MakeClustered(200, 0, 8, 4, 5);
  const ScalarQuantizer q = FitOn(data);
  auto copy = ScalarQuantizer::FromParams({q.lo().begin(), q.lo().end()},
                                          {q.step().begin(), q.step().end()},
                                          {q.mean_code().begin(), q.mean_code().end()});
  ASSERT_TRUE(copy.ok()) << copy.status().ToString();
  std::vector<uint8_t> a(8), b(8);
  q.Encode(data.Row(3).data(), a.data());
  copy->Encode(data.Row(3).data(), b.data());
  EXPECT_EQ(a, b);

  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_FALSE(ScalarQuantizer::FromParams({}, {}, {}).ok());
  EXPECT_FALSE(ScalarQuantizer::FromParams({0.0f}, {0.1f, 0.1f}, {1.0f}).ok());
  EXPECT_FALSE(ScalarQuantizer::FromParams({0.0f}, {0.1f}, {}).ok());
  EXPECT_FALSE(ScalarQuantizer::FromParams({nan}, {0.1f}, {1.0f}).ok());
  EXPECT_FALSE(ScalarQuantizer::FromParams({0.0f}, {inf}, {1.0f}).ok());
  EXPECT_FALSE(ScalarQuantizer::FromParams({0.0f}, {0.0f}, {1.0f}).ok());
  EXPECT_FALSE(ScalarQuantizer::FromParams({0.0f}, {-0.1f}, {1.0f}).ok());
  EXPECT_FALSE(ScalarQuantizer::FromParams({0.0f}, {0.1f}, {-1.0f}).ok());
  EXPECT_FALSE(ScalarQuantizer::FromParams({0.0f}, {0.1f}, {256.0f}).ok());
  EXPECT_FALSE(ScalarQuantizer::FromParams({0.0f}, {0.1f}, {nan}).ok());
  EXPECT_FALSE(ScalarQuantizer::FromParams({3e38f}, {3e38f}, {1.0f}).ok());
  EXPECT_TRUE(ScalarQuantizer::FromParams({0.0f}, {0.1f}, {255.0f}).ok());
}

}  // namespace
}  // namespace mnemo::hnsw
