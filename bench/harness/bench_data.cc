// Building the run's data (see bench_data.h).
#include "bench_data.h"

#include <sys/stat.h>

#include <cmath>
#include <random>
#include <sstream>

#include "vector_files.h"

namespace mnemo::bench {
namespace {

// Bump when the generator or the owner/month assignment changes, so cached truth is not reused.
constexpr int kDataVersion = 1;

bool NormaliseRows(std::vector<float>* rows, size_t dim, std::string* error) {
  for (size_t offset = 0; offset < rows->size(); offset += dim) {
    double norm = 0;
    for (size_t j = 0; j < dim; ++j) norm += double{(*rows)[offset + j]} * (*rows)[offset + j];
    if (!(norm > 0) || !std::isfinite(norm)) {
      *error = "row " + std::to_string(offset / dim) + " has zero or non-finite norm";
      return false;
    }
    const float scale = static_cast<float>(1.0 / std::sqrt(norm));
    for (size_t j = 0; j < dim; ++j) (*rows)[offset + j] *= scale;
  }
  return true;
}

// Owners for file data, drawn like the generator's: P(u) proportional to 1 / (1 + u)^1.2.
std::vector<uint32_t> ZipfOwners(size_t n, size_t users, uint64_t seed) {
  std::vector<double> weights(users);
  for (size_t u = 0; u < users; ++u) weights[u] = 1.0 / std::pow(1.0 + static_cast<double>(u), 1.2);
  std::discrete_distribution<uint32_t> draw(weights.begin(), weights.end());
  std::mt19937_64 rng(seed ^ 0x6f776e657273ULL);
  std::vector<uint32_t> owners(n);
  for (uint32_t& owner : owners) owner = draw(rng);
  return owners;
}

std::string FileStamp(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return path;
  return path + "@" + std::to_string(info.st_size) + ":" + std::to_string(info.st_mtime);
}

}  // namespace

uint32_t MonthOf(size_t row, size_t months, uint64_t seed) {
  uint64_t x = row * 0x9e3779b97f4a7c15ULL + seed;
  x ^= x >> 31;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 29;
  return static_cast<uint32_t>(x % months);
}

bool BuildBenchData(const BenchOptions& options, BenchData* out, std::string* error) {
  std::ostringstream key;
  key << "v" << kDataVersion << "-users" << options.users << "-seed" << options.seed;
  if (options.base_file.empty()) {
    DatasetOptions generator;
    generator.n = options.n;
    generator.dim = options.dim;
    generator.num_queries = options.queries;
    generator.num_users = options.users;
    generator.seed = options.seed;
    out->data = GenerateDataset(generator);
    out->source = "synthetic";
    key << "-synthetic-n" << options.n << "-d" << options.dim << "-q" << options.queries;
  } else {
    VectorFile base;
    VectorFile queries;
    if (!ReadVectorFile(options.base_file, options.n, &base, error) ||
        !ReadVectorFile(options.query_file, options.queries, &queries, error)) {
      return false;
    }
    if (base.dim != queries.dim) {
      *error = "base and query files differ in dimension (" + std::to_string(base.dim) + " vs " +
               std::to_string(queries.dim) + ")";
      return false;
    }
    if (!NormaliseRows(&base.rows, base.dim, error) ||
        !NormaliseRows(&queries.rows, base.dim, error)) {
      return false;
    }
    out->data.dim = base.dim;
    out->data.base = std::move(base.rows);
    out->data.queries = std::move(queries.rows);
    out->data.owners = ZipfOwners(out->data.size(), options.users, options.seed);
    out->source = options.base_file + " + " + options.query_file;
    key << "-files-" << FileStamp(options.base_file) << "-" << FileStamp(options.query_file) << "-n"
        << out->data.size() << "-q" << out->data.query_count();
  }
  out->month.resize(out->data.size());
  for (size_t i = 0; i < out->month.size(); ++i)
    out->month[i] = MonthOf(i, options.months, options.seed);
  out->cache_key = key.str();
  return true;
}

}  // namespace mnemo::bench
