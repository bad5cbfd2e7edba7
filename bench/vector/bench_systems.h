// The indexes under test (mnemo, hnswlib, FAISS HNSW) behind one interface, so the benchmark
// builds them the same way and can interleave their search measurements (on a shared machine,
// interleaving plus best-of-rounds keeps background load from favouring one system).
//
// Thread-safety: a BenchSystem is driven by one thread (Build() spawns its own workers).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "dataset.h"
#include "vector/hnsw/hnsw_index.h"

namespace mnemo::bench {

// Seconds on a monotonic clock.
double Now();
// Runs fn(i) for i in [0, n) on `threads` threads (the calling thread included).
void ParallelFor(size_t n, size_t threads, const std::function<void(size_t)>& fn);
// Recall@k of `got` against row q of `truth` (row-major, k per query; -1 marks a missing entry).
double RecallOf(std::span<const uint64_t> got, const std::vector<int64_t>& truth, size_t q,
                size_t k);

struct SearchPoint {
  size_t ef = 0;
  double recall = 0;
  double qps = 0;
  double distances = 0;  // similarities computed per query; 0 when the system does not say
};

struct BuildParams {
  size_t m = 16;
  size_t ef_construction = 64;
  uint64_t seed = 42;
};

class BenchSystem {
 public:
  virtual ~BenchSystem() = default;
  virtual std::string name() const = 0;
  // Builds a fresh index of every row of `data` (label = row number) on `threads` threads,
  // replacing any previous one.
  virtual void Build(const Dataset& data, size_t threads) = 0;
  // Frees the index.
  virtual void Drop() = 0;
  // The index's own account of its memory.
  virtual size_t memory_bytes() const = 0;
  // Answers every query of `data` once, single-threaded, at beam width ef; recall against truth.
  virtual SearchPoint Search(const Dataset& data, size_t ef, size_t k,
                             const std::vector<int64_t>& truth) = 0;
};

class MnemoSystem final : public BenchSystem {
 public:
  explicit MnemoSystem(const BuildParams& params) : params_(params) {}
  std::string name() const override { return "mnemo"; }
  void Build(const Dataset& data, size_t threads) override;
  void Drop() override { index_.reset(); }
  size_t memory_bytes() const override { return index_ ? index_->memory_bytes() : 0; }
  SearchPoint Search(const Dataset& data, size_t ef, size_t k,
                     const std::vector<int64_t>& truth) override;
  // The built index (null before Build()).
  const hnsw::HnswIndex* index() const { return index_.get(); }

 private:
  BuildParams params_;
  std::unique_ptr<hnsw::HnswIndex> index_;
};

std::unique_ptr<BenchSystem> MakeHnswlibSystem(const BuildParams& params);
std::unique_ptr<BenchSystem> MakeFaissHnswSystem(const BuildParams& params);

}  // namespace mnemo::bench
