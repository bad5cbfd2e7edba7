// Per-query working memory of HnswIndex, pooled by ScratchPool so queries allocate nothing in the
// steady state.  Internal to the index.
//
// Thread-safety: none; one query (or one insert) uses a scratch object at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "vector/hnsw/scalar_quantizer.h"
#include "vector/hnsw/visited_table.h"

namespace mnemo::hnsw::internal {

// A node and its distance to the query.  Distance = -similarity, so smaller is closer.
struct Candidate {
  float dist;
  uint32_t id;
};

// Strict order by distance (ties by id, for determinism).
inline bool NearerThan(const Candidate& a, const Candidate& b) {
  return a.dist < b.dist || (a.dist == b.dist && a.id < b.id);
}

// Heap orders for std::push_heap / std::pop_heap.
struct FartherFirst {  // max-heap on dist: the worst result on top
  bool operator()(const Candidate& a, const Candidate& b) const { return a.dist < b.dist; }
};
struct CloserFirst {  // min-heap on dist: the best candidate on top
  bool operator()(const Candidate& a, const Candidate& b) const { return a.dist > b.dist; }
};

struct SearchScratch {
  VisitedTable visited;
  std::vector<Candidate> candidates;  // walk frontier (CloserFirst heap)
  std::vector<Candidate> results;     // best nodes so far (FartherFirst heap)
  std::vector<Candidate> selected;    // neighbour selection output
  std::vector<Candidate> neighbors;   // neighbours chosen for the node being inserted
  std::vector<Candidate> merged;      // link-list merge input
  std::vector<float> query;           // normalised copy of the query
  QuantizedQuery quantized_query;     // the query prepared for the compressed traversal
  std::vector<uint8_t> code;          // code of the vector being inserted
  std::vector<uint32_t> listed_ids;   // ids of an enumerable filter's labels
  std::vector<uint32_t> scan_ids;     // admissible ids of an exact scan
  std::vector<float> scan_estimates;  // their code estimates (exact scan on codes)
  std::vector<float> scan_floors;     // their estimates' lower bounds
  // One batch of neighbours whose similarities are computed together.
  std::vector<uint32_t> batch_ids;
  std::vector<const float*> batch_rows;
  std::vector<float> batch_sims;
  std::vector<const uint8_t*> batch_codes;
  std::vector<int32_t> batch_raw;

  // Makes the batch buffers hold at least `n` entries.
  void ReserveBatch(size_t n) {
    if (batch_ids.size() < n) {
      batch_ids.resize(n);
      batch_rows.resize(n);
      batch_sims.resize(n);
      batch_codes.resize(n);
      batch_raw.resize(n);
    }
  }
};

}  // namespace mnemo::hnsw::internal
