// Exact top-k neighbours (FAISS IndexFlatIP, i.e. cosine on unit rows) of every query, over all
// base rows or over a subset (one user's rows), cached on disk keyed by the data and the subset.
//
// Cache file layout (little-endian): "MNBTRUTH" | u32 version | u32 key length | key bytes |
// u64 queries | u64 k | queries*k int64 labels.  A file whose key differs (a hash collision) or
// that is short is ignored and rewritten.
//
// Thread-safety: not thread-safe (FAISS's OpenMP thread count is process-global).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dataset.h"

namespace mnemo::bench {

struct TruthRequest {
  const Dataset* data = nullptr;
  size_t k = 10;
  size_t queries = 0;                             // the first `queries` queries (0: all)
  const std::vector<uint64_t>* subset = nullptr;  // base rows to search; null: all
  std::string key;                                // names data + subset; empty: do not cache
  std::string cache_dir;                          // empty: do not cache
  int threads = 2;
};

// Row-major queries*k labels (base row numbers, -1 when the subset has fewer than k rows).
// *from_cache says whether the cache answered.
std::vector<int64_t> ExactTopK(const TruthRequest& request, bool* from_cache);

// The default cache directory: $XDG_CACHE_HOME/mnemo-bench, else $HOME/.cache/mnemo-bench, else
// /tmp/mnemo-bench-cache.
std::string DefaultCacheDir();

}  // namespace mnemo::bench
