#include "dataset.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

namespace mnemo::bench {
namespace {

std::vector<double> ZipfWeights(size_t count, double exponent) {
  std::vector<double> weights(count);
  for (size_t i = 0; i < count; ++i)
    weights[i] = 1.0 / std::pow(1.0 + static_cast<double>(i), exponent);
  return weights;
}

void Normalize(float* v, size_t dim) {
  double norm = 0;
  for (size_t j = 0; j < dim; ++j) norm += static_cast<double>(v[j]) * v[j];
  const float inv = norm > 0 ? static_cast<float>(1.0 / std::sqrt(norm)) : 0.0f;
  for (size_t j = 0; j < dim; ++j) v[j] *= inv;
}

}  // namespace

Dataset GenerateDataset(const DatasetOptions& options) {
  const size_t dim = options.dim;
  std::mt19937_64 rng(options.seed);
  std::normal_distribution<float> gauss(0.0f, 1.0f);

  // Per-dimension scales on a random permutation of the dimensions.
  std::vector<size_t> rank(dim);
  std::iota(rank.begin(), rank.end(), size_t{0});
  std::shuffle(rank.begin(), rank.end(), rng);
  std::vector<float> scale(dim);
  double scale_norm = 0;
  for (size_t j = 0; j < dim; ++j) {
    scale[j] =
        static_cast<float>(std::pow(1.0 + static_cast<double>(rank[j]), -options.spectrum_decay));
    scale_norm += static_cast<double>(scale[j]) * scale[j];
  }
  // A centroid's expected norm is sqrt(scale_norm); the shared direction gets mean_weight of it.
  std::vector<float> mean(dim);
  for (size_t j = 0; j < dim; ++j) mean[j] = gauss(rng);
  Normalize(mean.data(), dim);
  const float mean_norm = static_cast<float>(options.mean_weight * std::sqrt(scale_norm));
  for (float& x : mean) x *= mean_norm;

  std::vector<float> centroids(options.num_topics * dim);
  for (size_t t = 0; t < options.num_topics; ++t) {
    for (size_t j = 0; j < dim; ++j) centroids[t * dim + j] = mean[j] + scale[j] * gauss(rng);
  }
  const std::vector<double> topic_weights = ZipfWeights(options.num_topics, options.topic_zipf);
  std::discrete_distribution<size_t> pick_topic(topic_weights.begin(), topic_weights.end());
  const std::vector<double> user_weights = ZipfWeights(options.num_users, options.user_zipf);
  std::discrete_distribution<uint32_t> pick_user(user_weights.begin(), user_weights.end());
  const float spread = static_cast<float>(options.topic_spread);

  auto draw = [&](float* out) {
    const size_t topic = pick_topic(rng);
    const float* centroid = &centroids[topic * dim];
    for (size_t j = 0; j < dim; ++j) out[j] = centroid[j] + spread * scale[j] * gauss(rng);
    Normalize(out, dim);
    return topic;
  };

  Dataset data;
  data.dim = dim;
  data.base.resize(options.n * dim);
  data.queries.resize(options.num_queries * dim);
  data.owners.resize(options.n);
  data.topics.resize(options.n);
  for (size_t i = 0; i < options.n; ++i) {
    data.topics[i] = static_cast<uint32_t>(draw(&data.base[i * dim]));
    data.owners[i] = pick_user(rng);
  }
  for (size_t q = 0; q < options.num_queries; ++q) draw(&data.queries[q * dim]);
  return data;
}

std::vector<size_t> OwnerCounts(const Dataset& dataset, size_t num_users) {
  std::vector<size_t> counts(num_users, 0);
  for (uint32_t owner : dataset.owners) {
    if (owner < num_users) ++counts[owner];
  }
  return counts;
}

uint32_t UserNearestShare(const Dataset& dataset, size_t num_users, double fraction,
                          size_t min_rows) {
  const std::vector<size_t> counts = OwnerCounts(dataset, num_users);
  const double target = fraction * static_cast<double>(dataset.size());
  uint32_t best = static_cast<uint32_t>(num_users);
  double best_gap = 0;
  for (size_t u = 0; u < num_users; ++u) {
    if (counts[u] < min_rows || counts[u] == 0) continue;
    const double gap = std::abs(std::log(static_cast<double>(counts[u]) / target));
    if (best == num_users || gap < best_gap) {
      best = static_cast<uint32_t>(u);
      best_gap = gap;
    }
  }
  return best;
}

}  // namespace mnemo::bench
