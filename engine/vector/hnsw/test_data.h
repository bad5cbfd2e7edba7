// Test helpers for the HNSW unit tests: clustered unit vectors from a fixed seed, brute-force
// ground truth and recall.  Test-only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "vector/hnsw/hnsw_index.h"

namespace mnemo::hnsw::testing {

// n base vectors and q queries of dimension dim, unit length, drawn around `clusters` random
// centres (Gaussian spread), so nearest neighbours are meaningful.  Label of base row i is i.
struct TestData {
  size_t dim = 0;
  std::vector<float> base;
  std::vector<float> queries;

  size_t size() const { return base.size() / dim; }
  size_t query_count() const { return queries.size() / dim; }
  std::span<const float> Row(size_t i) const { return {base.data() + i * dim, dim}; }
  std::span<const float> Query(size_t i) const { return {queries.data() + i * dim, dim}; }
};

TestData MakeClustered(size_t n, size_t num_queries, size_t dim, size_t clusters, uint64_t seed);

// Exact top-k labels for `query` among rows whose label `allow` accepts (all when empty).
std::vector<uint64_t> BruteForceTopK(const TestData& data, std::span<const float> query, size_t k,
                                     const std::function<bool(uint64_t)>& allow = {});

// |hits ∩ truth| / |truth| (1 when truth is empty).
double Recall(const std::vector<SearchHit>& hits, const std::vector<uint64_t>& truth);

// Creates an index with `params` (dim taken from data) and adds rows [0, n) of data.
std::unique_ptr<HnswIndex> BuildIndex(const TestData& data, HnswParams params, size_t n = 0);

// Rewrites the bytes of a file Save() wrote (format 4) in format 3, the last format read by a
// copy into memory, with a valid checksum: how files written before mapped graphs look.
std::string ToVersion3(const std::string& bytes);

}  // namespace mnemo::hnsw::testing
