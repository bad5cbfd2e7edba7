#include "vector/hnsw/test_data.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <unordered_set>

#include "kernels/distance.h"

namespace mnemo::hnsw::testing {
namespace {

void FillNear(const std::vector<float>& centre, float spread, std::mt19937_64& rng,
              std::normal_distribution<float>& gauss, float* out) {
  double norm = 0;
  for (size_t j = 0; j < centre.size(); ++j) {
    out[j] = centre[j] + spread * gauss(rng);
    norm += static_cast<double>(out[j]) * out[j];
  }
  const float inv = static_cast<float>(1.0 / std::sqrt(norm));
  for (size_t j = 0; j < centre.size(); ++j) out[j] *= inv;
}

}  // namespace

TestData MakeClustered(size_t n, size_t num_queries, size_t dim, size_t clusters, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> gauss(0.0f, 1.0f);
  std::uniform_int_distribution<size_t> pick(0, clusters - 1);
  std::vector<std::vector<float>> centres(clusters, std::vector<float>(dim));
  for (auto& centre : centres) {
    for (float& x : centre) x = gauss(rng);
  }
  // Spread comparable to the centre norm: clusters overlap, neighbours are still meaningful.
  const float spread = 0.6f;
  TestData data;
  data.dim = dim;
  data.base.resize(n * dim);
  data.queries.resize(num_queries * dim);
  for (size_t i = 0; i < n; ++i)
    FillNear(centres[pick(rng)], spread, rng, gauss, &data.base[i * dim]);
  for (size_t i = 0; i < num_queries; ++i) {
    FillNear(centres[pick(rng)], spread, rng, gauss, &data.queries[i * dim]);
  }
  return data;
}

std::vector<uint64_t> BruteForceTopK(const TestData& data, std::span<const float> query, size_t k,
                                     const std::function<bool(uint64_t)>& allow) {
  std::vector<std::pair<float, uint64_t>> scored;
  scored.reserve(data.size());
  for (size_t i = 0; i < data.size(); ++i) {
    if (allow && !allow(i)) continue;
    scored.emplace_back(-kernels::Dot(query.data(), data.Row(i).data(), data.dim), i);
  }
  const size_t keep = std::min(k, scored.size());
  std::partial_sort(scored.begin(), scored.begin() + static_cast<std::ptrdiff_t>(keep),
                    scored.end());
  std::vector<uint64_t> labels;
  for (size_t i = 0; i < keep; ++i) labels.push_back(scored[i].second);
  return labels;
}

double Recall(const std::vector<SearchHit>& hits, const std::vector<uint64_t>& truth) {
  if (truth.empty()) return 1.0;
  std::unordered_set<uint64_t> wanted(truth.begin(), truth.end());
  size_t found = 0;
  for (const SearchHit& hit : hits) found += wanted.count(hit.label);
  return static_cast<double>(found) / static_cast<double>(truth.size());
}

std::unique_ptr<HnswIndex> BuildIndex(const TestData& data, HnswParams params, size_t n) {
  params.dim = static_cast<uint32_t>(data.dim);
  auto created = HnswIndex::Create(params);
  EXPECT_TRUE(created.ok()) << created.status().ToString();
  if (!created.ok()) return nullptr;
  std::unique_ptr<HnswIndex> index = std::move(created).value();
  if (n == 0) n = data.size();
  for (size_t i = 0; i < n; ++i) {
    Status status = index->Add(i, data.Row(i));
    EXPECT_TRUE(status.ok()) << status.ToString();
  }
  return index;
}

}  // namespace mnemo::hnsw::testing
