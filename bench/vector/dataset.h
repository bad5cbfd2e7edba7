// Synthetic text-embedding-like vectors for benchmarks: deterministic, clustered, anisotropic,
// unit length, with a Zipf-skewed owner (user) per row for filtered-search benchmarks.
//
// Model (all draws from one seeded generator, so a given DatasetOptions always yields the same
// bytes on the same standard library):
//  * Each dimension j gets a scale s_j = (1 + rank_j)^-spectrum_decay, where rank is a random
//    permutation of the dimensions: variance decays like a real embedding's spectrum, but the
//    strong directions are not the first coordinates.
//  * A shared mean direction g (every real embedding model has one: cosine similarities of
//    unrelated texts sit well above 0) is added to every vector with weight mean_weight.
//  * num_topics centroids c_t ~ N(0, diag(s^2)); topic sizes follow Zipf(topic_zipf).
//  * A row is normalise(mean_weight * g + c_t + topic_spread * e), e ~ N(0, diag(s^2)), for a
//    topic t drawn by size.  Queries are drawn the same way (fresh draws, not copies of rows).
//  * Owners: user u is drawn with probability proportional to 1 / (1 + u)^user_zipf,
//    independently of the topic, so user 0 owns the most rows.
//
// Thread-safety: GenerateDataset is reentrant; a Dataset is a plain value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace mnemo::bench {

struct DatasetOptions {
  size_t n = 100000;  // base rows
  size_t dim = 1536;
  size_t num_queries = 1000;
  size_t num_topics = 500;
  double topic_zipf = 1.0;      // topic size skew
  double spectrum_decay = 0.5;  // per-dimension scale exponent
  double mean_weight = 0.8;     // weight of the shared direction, relative to a centroid's norm
  double topic_spread = 0.9;    // within-topic noise, relative to a centroid's norm
  size_t num_users = 10000;
  double user_zipf = 1.2;  // owner skew: user 0 owns ~20% of rows with the defaults
  uint64_t seed = 42;
};

struct Dataset {
  size_t dim = 0;
  std::vector<float> base;       // n * dim, row-major, unit rows
  std::vector<float> queries;    // num_queries * dim, row-major, unit rows
  std::vector<uint32_t> owners;  // owner (user id) of each base row
  std::vector<uint32_t> topics;  // topic of each base row

  size_t size() const { return dim == 0 ? 0 : base.size() / dim; }
  size_t query_count() const { return dim == 0 ? 0 : queries.size() / dim; }
  std::span<const float> Row(size_t i) const { return {base.data() + i * dim, dim}; }
  std::span<const float> Query(size_t i) const { return {queries.data() + i * dim, dim}; }
};

// Generates the dataset described above.  REQUIRES: dim >= 1, num_topics >= 1, num_users >= 1.
Dataset GenerateDataset(const DatasetOptions& options);

// Rows owned by each user (index = user id).
std::vector<size_t> OwnerCounts(const Dataset& dataset, size_t num_users);

// The user whose share of the rows is closest to `fraction` (in log terms), among users owning
// at least `min_rows` rows.  Returns num_users when none qualifies.
uint32_t UserNearestShare(const Dataset& dataset, size_t num_users, double fraction,
                          size_t min_rows);

}  // namespace mnemo::bench
