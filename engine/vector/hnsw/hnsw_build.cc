// Neighbour selection and link-list updates of HnswIndex.
#include <algorithm>

#include "kernels/distance.h"
#include "vector/hnsw/hnsw_index.h"

namespace mnemo::hnsw {

void HnswIndex::SelectNeighbors(const NodeView& view, std::vector<Candidate>& candidates,
                                size_t max_count, Scratch& scratch) const {
  std::vector<Candidate>& selected = scratch.selected;
  selected.clear();
  std::sort(candidates.begin(), candidates.end(), internal::NearerThan);
  if (candidates.size() <= max_count) {
    selected.assign(candidates.begin(), candidates.end());
    return;
  }
  const size_t dim = params_.dim;
  for (const Candidate& candidate : candidates) {
    if (selected.size() >= max_count) break;
    // Keep the candidate only if it is closer to the base node than to every neighbour kept so
    // far: sim(candidate, kept) <= sim(candidate, base) = -candidate.dist for all kept.  One
    // product at a time: most candidates are rejected by one of the first (closest) kept ones.
    const float* vector = view.Vector(candidate.id);
    const float base_sim = -candidate.dist;
    bool keep = true;
    for (size_t i = 0; keep && i < selected.size(); ++i) {
      keep = kernels::Dot(vector, view.Vector(selected[i].id), dim) <= base_sim;
    }
    if (keep) selected.push_back(candidate);
  }
}

void HnswIndex::MergeLinks(uint32_t node, int level, std::span<const Candidate> additions,
                           Scratch& scratch) const {
  NodeLock lock(store_.View().LockWord(node));
  // A fresh view after locking: every id already in this list was allocated before it was written
  // here under this lock, so the view covers it.
  const NodeView view = store_.View();
  uint32_t* list = view.Links(node, level);
  const uint32_t capacity = store_.Capacity(level);
  const uint32_t count = std::min(LoadSlot(list), capacity);

  std::vector<Candidate>& merged = scratch.merged;
  merged.clear();
  for (const Candidate& add : additions) {
    if (add.id == node) continue;
    bool present = false;
    for (uint32_t i = 1; i <= count && !present; ++i) present = LoadSlot(list + i) == add.id;
    for (const Candidate& earlier : merged) present = present || earlier.id == add.id;
    if (!present) merged.push_back(add);
  }
  if (merged.empty()) return;

  if (count + merged.size() <= capacity) {
    for (size_t i = 0; i < merged.size(); ++i) StoreSlot(list + 1 + count + i, merged[i].id);
    StoreSlot(list, count + static_cast<uint32_t>(merged.size()));
    return;
  }

  // Overflow: re-select among the current links and the additions.
  scratch.ReserveBatch(count);
  // An id past the view can only come from a damaged mapped record (see the store's protocol):
  // dropped, like searches skip it.
  uint32_t kept_count = 0;
  for (uint32_t i = 0; i < count; ++i) {
    const uint32_t id = LoadSlot(list + 1 + i);
    if (id >= view.limit()) continue;
    scratch.batch_ids[kept_count] = id;
    scratch.batch_rows[kept_count] = view.Vector(id);
    ++kept_count;
  }
  kernels::DotGather(view.Vector(node), scratch.batch_rows.data(), kept_count, params_.dim,
                     scratch.batch_sims.data());
  for (uint32_t i = 0; i < kept_count; ++i) {
    merged.push_back(Candidate{-scratch.batch_sims[i], scratch.batch_ids[i]});
  }
  SelectNeighbors(view, merged, capacity, scratch);
  const std::vector<Candidate>& kept = scratch.selected;
  for (size_t i = 0; i < kept.size(); ++i) StoreSlot(list + 1 + i, kept[i].id);
  StoreSlot(list, static_cast<uint32_t>(kept.size()));
}

}  // namespace mnemo::hnsw
