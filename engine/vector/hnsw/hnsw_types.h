// Value types of the HNSW index: build parameters, per-query options, hits and statistics.
//
// Thread-safety: plain values; distinct objects may be used from different threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "mnemo/status.h"

namespace mnemo::hnsw {

class CostModel;
class LabelFilter;

// Build-time parameters.  They are stored in the index file and never change after Create().
struct HnswParams {
  // Vector dimension (1..kMaxDim).  Required.
  uint32_t dim = 0;
  // Links per node on levels >= 1; level 0 holds up to 2 * m.  Larger m: better recall at a
  // given ef, more memory (8 * m bytes per node on level 0) and slower inserts.  2..kMaxM.
  uint32_t m = 16;
  // Beam width while inserting.  Larger: better graph, slower inserts.  >= 1.
  uint32_t ef_construction = 64;
  // Seeds the level draw.  A node's level depends only on (seed, label), so a build is
  // reproducible whatever the insertion order or thread count.
  uint64_t seed = 0x6D6E656D6F;

  static constexpr uint32_t kMaxDim = 65536;
  static constexpr uint32_t kMaxM = 128;

  // OK, or ValidationError naming the offending field.
  Status Validate() const;
};

// How Search() answers.  kAuto picks per query: an exact scan when it costs no more than a graph
// walk (a small index, or a filter that admits few labels), graph search otherwise.
enum class SearchStrategy : uint8_t { kAuto, kGraph, kExact };

struct SearchOptions {
  // Number of hits wanted (>= 1).
  size_t k = 10;
  // Beam width of the graph search; raised to k when smaller.  Larger: better recall, slower.
  size_t ef = 64;
  // Only hits whose label this filter allows are returned (tombstones never are).  Borrowed: must
  // stay valid for the duration of the call.  nullptr: no filter.
  const LabelFilter* filter = nullptr;
  // Hits with a lower similarity are dropped.  A graph walk that finds nothing above it gives up
  // early, and no exact fallback runs for a short answer, so a threshold makes a search cheaper,
  // never slower.  -1 or less (every cosine is >= -1) means no threshold.
  float min_similarity = -std::numeric_limits<float>::infinity();
  SearchStrategy strategy = SearchStrategy::kAuto;
  // Walk the graph on the compact int8 codes (scalar_quantizer.h), then re-rank the best
  // candidates with exact float32 similarities: reads about a quarter of the bytes per node.
  // Returned similarities are exact either way.  Has no effect before the index has fitted its
  // quantizer (HnswIndex::has_quantizer()); false walks on the float32 vectors.
  bool compressed = true;
  // Candidates re-ranked exactly after a compressed walk: the best max(k * rerank_factor,
  // rerank_min) by estimate (the beam is widened to hold them when ef is smaller).  Larger:
  // recall closer to the float32 walk's, more float32 vectors read.  Defaults chosen by
  // measurement (bench/vector): see kDefaultRerankFactor.  rerank_factor >= 1.
  size_t rerank_factor = kDefaultRerankFactor;
  size_t rerank_min = 0;
  // What the planner (kAuto) predicts costs from, and what it teaches with this search's measured
  // time.  Borrowed; nullptr: fixed default rates, nothing learned.
  CostModel* costs = nullptr;

  // 2: on 20k x 1536 clustered embeddings (bench/vector, M=16) recall@10 with a pool of 2k
  // matched a pool of 4k at ef >= 32 and stayed within 0.01 of the float32 walk at every ef;
  // a pool of 1k lost up to 0.03.
  static constexpr size_t kDefaultRerankFactor = 2;
};

// One result row: the caller's label and the cosine similarity (dot product of unit vectors).
struct SearchHit {
  uint64_t label = 0;
  float similarity = 0.0f;
};

struct SearchStats {
  // Vector dot products computed (the dominant cost).
  uint64_t distance_computations = 0;
  // Graph nodes whose neighbour lists were expanded.
  uint64_t nodes_visited = 0;
  // Of distance_computations, those on compact codes (the rest read float32 vectors).
  uint64_t code_computations = 0;
  // True when the walk (or the exact scan) ran on compact codes and its best candidates were
  // re-ranked exactly.
  bool compressed = false;
  // Rows an exact scan scored (on codes or on float32 vectors).
  uint64_t scanned = 0;
  // Rows whose float32 similarity an exact scan on codes computed (the rest were ruled out by
  // their estimate's error bound).
  uint64_t reranked = 0;
  // The beam width actually used (0 for an exact scan).
  uint32_t ef_used = 0;
  // True when the whole allowed set was scanned (chosen up front or as a fallback): the hits are
  // then the exact top-k.
  bool exact = false;
  // True when the graph walk found fewer than k admissible nodes and an exact scan completed it.
  bool fell_back_to_exact = false;
  // True when fewer than k hits are returned (fewer than k live, allowed nodes pass
  // min_similarity).
  bool fewer_than_k = false;
};

struct SearchResult {
  // Best first (highest similarity; ties by ascending label).
  std::vector<SearchHit> hits;
  SearchStats stats;
};

}  // namespace mnemo::hnsw
