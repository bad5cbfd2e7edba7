#include "vector/hnsw/test_data.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <unordered_set>

#include "kernels/distance.h"
#include "mnemo/base/crc32c.h"

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

std::string ToVersion3(const std::string& bytes) {
  auto u32 = [&](size_t at) {
    uint32_t value;
    std::memcpy(&value, bytes.data() + at, 4);
    return value;
  };
  auto round_up = [](size_t value, size_t multiple) {
    return (value + multiple - 1) / multiple * multiple;
  };
  const uint32_t dim = u32(12);
  const uint32_t m = u32(16);
  const uint32_t nodes = u32(40);
  const size_t stride = u32(56);
  const size_t code_offset = round_up(8 + 8 * size_t{m}, 64);
  std::string out = bytes.substr(0, 64);
  const uint32_t version = 3;
  std::memcpy(out.data() + 8, &version, 4);
  std::memset(out.data() + 56, 0, 4);  // the stride is reserved (0) before version 4
  const bool quantizer = u32(64) == 1;
  const size_t section = 8 + (quantizer ? 3 * sizeof(float) * dim : 0);
  out += bytes.substr(64, section);
  const size_t table = 64 + section;
  size_t upper = table + 16 * size_t{nodes};
  size_t head_end = upper;
  for (uint32_t id = 0; id < nodes; ++id)
    head_end += 4 * size_t{static_cast<uint8_t>(bytes[table + 16 * id + 13])} * (1 + m);
  const size_t records = round_up(head_end + 4, 4096);
  size_t vector = records + stride * nodes;
  for (uint32_t id = 0; id < nodes; ++id) {
    const size_t entry = table + 16 * size_t{id};
    const uint8_t flags = static_cast<uint8_t>(bytes[entry + 12]);
    const uint8_t level = static_cast<uint8_t>(bytes[entry + 13]);
    out += bytes.substr(entry, 8);       // label
    out += bytes.substr(entry + 12, 2);  // flags, level
    out += std::string(2, '\0');         // reserved
    const size_t record = records + stride * id;
    const uint32_t count = u32(record + 4);
    out += bytes.substr(record + 4, 4 + 4 * size_t{count});
    for (int l = 1; l <= level; ++l) {
      out += bytes.substr(upper, 4 + 4 * size_t{u32(upper)});
      upper += 4 * (1 + size_t{m});
    }
    if (quantizer) {
      out += bytes.substr(entry + 8, 4);  // code error bound
      out += bytes.substr(record + code_offset, dim);
    }
    if ((flags & 2) == 0) {
      out += bytes.substr(vector, sizeof(float) * dim);
      vector += round_up(sizeof(float) * dim, 64);
    }
  }
  const uint32_t crc = Crc32c(out.data(), out.size());
  out.append(reinterpret_cast<const char*>(&crc), 4);
  return out;
}

}  // namespace mnemo::hnsw::testing
