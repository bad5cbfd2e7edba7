// The two similarity metrics a graph walk can run on, internal to HnswIndex: exact float32 dot
// products of the stored unit vectors, or estimates from the compact uint8 codes (the compressed
// traversal, see scalar_quantizer.h).  HnswIndex's walk templates take one of them, so each walk
// is compiled for its metric with no per-node branch.
//
// Thread-safety: a metric borrows the query and one scratch; it serves one walk on one thread.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/distance.h"
#include "kernels/int8_dot.h"
#include "vector/hnsw/node_store.h"
#include "vector/hnsw/scalar_quantizer.h"
#include "vector/hnsw/search_scratch.h"

namespace mnemo::hnsw::internal {

// Exact similarities from the float32 vectors.  `query`: dim floats, normalised, borrowed.
struct FloatMetric {
  const float* query;
  uint32_t dim;

  float One(const NodeView& view, uint32_t id) const {
    return kernels::Dot(query, view.Vector(id), dim);
  }
  // sims[j] = similarity of ids[j], j in [0, n).  REQUIRES: scratch.ReserveBatch(n) done.
  void Many(const NodeView& view, const uint32_t* ids, size_t n, float* sims,
            SearchScratch& scratch) const {
    const float** rows = scratch.batch_rows.data();
    for (size_t j = 0; j < n; ++j) rows[j] = view.Vector(ids[j]);
    kernels::DotGather(query, rows, n, dim, sims);
  }
};

// Estimated similarities from the uint8 codes.  `query`: prepared for the index's quantizer,
// borrowed.  REQUIRES: every node the walk reaches has its code written.
struct CodeMetric {
  const QuantizedQuery* query;
  uint32_t dim;

  float One(const NodeView& view, uint32_t id) const {
    return query->Similarity(kernels::DotU8S16(view.Code(id), query->weights.data(), dim));
  }
  void Many(const NodeView& view, const uint32_t* ids, size_t n, float* sims,
            SearchScratch& scratch) const {
    const uint8_t** rows = scratch.batch_codes.data();
    int32_t* raw = scratch.batch_raw.data();
    for (size_t j = 0; j < n; ++j) rows[j] = view.Code(ids[j]);
    kernels::DotU8S16Gather(query->weights.data(), rows, n, dim, raw);
    for (size_t j = 0; j < n; ++j) sims[j] = query->Similarity(raw[j]);
  }
};

}  // namespace mnemo::hnsw::internal
