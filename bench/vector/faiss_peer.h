// Benchmark peers from FAISS: IndexHNSWFlat (inner product) and IndexFlatIP (exact scan, the
// ground truth).  FAISS parallelises with OpenMP; SetThreads() sets its thread count.
//
// Thread-safety: none; drive each peer from one thread (FAISS threads internally).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace mnemo::bench {

// Sets FAISS's OpenMP thread count for the calls that follow.
void SetFaissThreads(int threads);

// How the linked FAISS was compiled (faiss::get_compile_options(), e.g. "OPTIMIZE GENERIC" or
// "OPTIMIZE AVX2"): its SIMD level.
std::string FaissSimdLevel();
// FaissSimdLevel(), explained for a report: Debian 12's libfaiss is the generic build (x86-64
// baseline: SSE2 only, no AVX2/AVX-512 kernels), which says so.
std::string FaissSimdNote();

class FaissHnswPeer {
 public:
  FaissHnswPeer(size_t dim, size_t m, size_t ef_construction);
  ~FaissHnswPeer();

  // Adds n rows (labels 0..n-1 in order).
  void Add(size_t n, const float* rows);
  // Top-k labels of nq queries, row-major nq * k (best first, -1 when missing).
  void Search(size_t nq, const float* queries, size_t k, size_t ef, std::vector<int64_t>* labels);
  // Bytes of the vectors and the graph (neighbours, offsets, levels).
  size_t memory_bytes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class FaissFlatPeer {
 public:
  explicit FaissFlatPeer(size_t dim);
  ~FaissFlatPeer();

  void Add(size_t n, const float* rows);
  // Exact top-k labels (and similarities when sims != nullptr) of nq queries, row-major.
  void Search(size_t nq, const float* queries, size_t k, std::vector<int64_t>* labels,
              std::vector<float>* sims = nullptr);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mnemo::bench
