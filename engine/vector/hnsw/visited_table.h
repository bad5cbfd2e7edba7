// VisitedTable: the "already seen" set of one graph walk, cleared in O(1).
//
// Each node id owns a 16-bit tag; a node counts as visited when its tag equals the current epoch.
// Starting a new walk bumps the epoch, so clearing costs nothing; only when the epoch wraps
// around (every 65535 walks) is the array actually zeroed.
//
// Thread-safety: none; a table belongs to one walk at a time (see ScratchPool).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace mnemo::hnsw {

class VisitedTable {
 public:
  // Starts a new walk over ids [0, n): forgets every mark and grows the table when needed.
  void Reset(size_t n) {
    if (tags_.size() < n) tags_.resize(std::max(n, tags_.size() * 2), 0);
    if (++epoch_ == 0) {  // wrapped: stale tags could now collide with the epoch
      std::fill(tags_.begin(), tags_.end(), 0);
      epoch_ = 1;
    }
  }

  // REQUIRES: id < n of the last Reset().
  bool IsVisited(uint32_t id) const { return tags_[id] == epoch_; }
  // Marks `id`; returns true when it was not marked before.  REQUIRES: id < n of the last Reset().
  bool Visit(uint32_t id) {
    if (tags_[id] == epoch_) return false;
    tags_[id] = epoch_;
    return true;
  }
  void Prefetch(uint32_t id) const { __builtin_prefetch(tags_.data() + id); }

  size_t memory_bytes() const { return tags_.capacity() * sizeof(uint16_t); }

 private:
  std::vector<uint16_t> tags_;
  uint16_t epoch_ = 0;
};

}  // namespace mnemo::hnsw
