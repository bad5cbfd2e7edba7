// LabelIndex: a map from a row label (any uint64) to a uint32, stored flat.
//
// Searches look labels up on their hot path (is this label allowed, where is its node), so the
// map avoids std::unordered_map's node per entry: keys and values sit in two arrays with linear
// probing, a lookup touches one or two cache lines, and an erase shifts later entries of its
// cluster back (no tombstones, so lookups never slow down after many deletes).  Labels are
// assigned in increasing order, so they are spread over the table by a multiplicative hash.
//
// Thread-safety: not thread-safe; const methods may run concurrently with each other.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace mnemo::hnsw {

class LabelIndex {
 public:
  static constexpr uint32_t kMissing = UINT32_MAX;

  // The value of `label`, or kMissing.
  uint32_t Find(uint64_t label) const {
    if (label == kEmpty) return has_zero_ ? zero_value_ : kMissing;
    if (size_ == (has_zero_ ? 1u : 0u)) return kMissing;
    for (size_t slot = Home(label);; slot = (slot + 1) & mask_) {
      const uint64_t key = keys_[slot];
      if (key == label) return values_[slot];
      if (key == kEmpty) return kMissing;
    }
  }
  bool Contains(uint64_t label) const { return Find(label) != kMissing; }
  // Starts loading the cache lines a Find or Upsert of `label` reads first (bulk loops call it a
  // few labels ahead, so the misses of a large table overlap).
  void Prefetch(uint64_t label) const {
    if (keys_.empty()) return;
    const size_t slot = Home(label);
    __builtin_prefetch(&keys_[slot]);
    __builtin_prefetch(&values_[slot]);
  }

  // Sets the value of `label` (inserting it when absent).
  void Upsert(uint64_t label, uint32_t value);
  // Removes `label`; false when it was absent.
  bool Erase(uint64_t label);
  void Clear();
  void Reserve(size_t entries);

  size_t size() const { return size_; }
  // Bytes of the two arrays.
  size_t memory_bytes() const {
    return keys_.capacity() * sizeof(uint64_t) + values_.capacity() * sizeof(uint32_t);
  }

  // Calls fn(label, value) for every entry.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    if (has_zero_) fn(uint64_t{0}, zero_value_);
    for (size_t slot = 0; slot < keys_.size(); ++slot) {
      if (keys_[slot] != kEmpty) fn(keys_[slot], values_[slot]);
    }
  }

 private:
  // Marks an empty table slot; label 0 itself is kept aside (has_zero_).
  static constexpr uint64_t kEmpty = 0;

  size_t Home(uint64_t label) const {
    return static_cast<size_t>((label * 0x9E3779B97F4A7C15ull) >> shift_) & mask_;
  }
  void Rehash(size_t capacity);

  std::vector<uint64_t> keys_;
  std::vector<uint32_t> values_;
  size_t size_ = 0;  // entries, label 0 included
  bool has_zero_ = false;
  uint32_t zero_value_ = 0;
  size_t mask_ = 0;
  unsigned shift_ = 64;
};

}  // namespace mnemo::hnsw
