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
  double distances = 0;       // similarities computed per query; 0 when the system does not say
  double code_distances = 0;  // of those, on compact int8 codes (mnemo's compressed walk)
};

// How mnemo searches: the compressed walk + exact float32 re-rank (its default), or the float32
// walk.  Re-rank pool = max(k * rerank_factor, rerank_min).
struct MnemoSearchMode {
  bool compressed = true;
  size_t rerank_factor = hnsw::SearchOptions::kDefaultRerankFactor;
  size_t rerank_min = 0;
};

// Answers every query of `data` once on `index`, single-threaded, at beam width ef.
SearchPoint SearchMnemo(const hnsw::HnswIndex& index, const MnemoSearchMode& mode,
                        const Dataset& data, size_t ef, size_t k,
                        const std::vector<int64_t>& truth);

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
  explicit MnemoSystem(const BuildParams& params, MnemoSearchMode mode = {})
      : params_(params), mode_(mode) {}
  // "mnemo" for the default search path, else names the mode.
  std::string name() const override;
  void Build(const Dataset& data, size_t threads) override;
  void Drop() override { index_.reset(); }
  size_t memory_bytes() const override { return index_ ? index_->memory_bytes() : 0; }
  SearchPoint Search(const Dataset& data, size_t ef, size_t k,
                     const std::vector<int64_t>& truth) override;
  // The built index (null before Build()).
  const hnsw::HnswIndex* index() const { return index_.get(); }

 private:
  BuildParams params_;
  MnemoSearchMode mode_;
  std::unique_ptr<hnsw::HnswIndex> index_;
};

// Another search mode on a MnemoSystem's index (no index of its own: Build() and Drop() do
// nothing, memory_bytes() is 0).  `owner` must outlive this and be built before Search().
class MnemoModeView final : public BenchSystem {
 public:
  MnemoModeView(const MnemoSystem& owner, MnemoSearchMode mode) : owner_(owner), mode_(mode) {}
  std::string name() const override;
  void Build(const Dataset&, size_t) override {}
  void Drop() override {}
  size_t memory_bytes() const override { return 0; }
  SearchPoint Search(const Dataset& data, size_t ef, size_t k,
                     const std::vector<int64_t>& truth) override {
    return SearchMnemo(*owner_.index(), mode_, data, ef, k, truth);
  }

 private:
  const MnemoSystem& owner_;
  MnemoSearchMode mode_;
};

std::unique_ptr<BenchSystem> MakeHnswlibSystem(const BuildParams& params);
std::unique_ptr<BenchSystem> MakeFaissHnswSystem(const BuildParams& params);

}  // namespace mnemo::bench
