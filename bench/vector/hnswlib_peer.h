// Benchmark peer: hnswlib's HierarchicalNSW with its inner-product space, behind a small
// interface.  hnswlib picks its SIMD code with compile-time macros, so hnswlib_peer.cc is built
// with -march=native (see CMakeLists.txt) and SimdName() reports what that build selected.
//
// Thread-safety: Add() may be called concurrently (hnswlib's own locking); Search() is safe
// concurrently with itself but not with SetEf().
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace mnemo::bench {

class HnswlibPeer {
 public:
  HnswlibPeer(size_t dim, size_t max_elements, size_t m, size_t ef_construction, uint64_t seed);
  ~HnswlibPeer();

  void Add(const float* vector, uint64_t label);
  void SetEf(size_t ef);
  // Top-k labels, best first, into *labels.
  void Search(const float* query, size_t k, std::vector<uint64_t>* labels) const;
  // Bytes of hnswlib's own structures (level-0 block, upper links, per-element locks, label map).
  size_t memory_bytes() const;

  // "AVX512", "AVX", "SSE" or "scalar": the distance code the compiler flags selected.
  static const char* SimdName();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mnemo::bench
