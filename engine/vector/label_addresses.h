// LabelAddresses: where each stored vector reads in place, by row label, while a store opens
// (saved graphs and rows caught up look their vectors up by label).
//
// Labels come from one counter, so the live ones are mostly dense: an array indexed by label
// holds them, at most a few slots per address held; a label past that (a store with many rows
// deleted) goes to a hash map instead.
//
// Thread-safety: not thread-safe; const methods may run concurrently with each other.
#pragma once

#include <algorithm>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace mnemo::vector {

class LabelAddresses {
 public:
  // The array holds labels below slots_per_address * (addresses added) + min_slots.
  explicit LabelAddresses(uint64_t slots_per_address = 4, uint64_t min_slots = uint64_t{1} << 20)
      : slots_per_address_(slots_per_address), min_slots_(min_slots) {}

  // REQUIRES: `unit` is not null, and `label` was not added before.
  void Add(uint64_t label, const float* unit) {
    ++count_;
    const uint64_t limit = slots_per_address_ * count_ + min_slots_;
    if (label < limit) {
      if (label >= dense_.size())
        dense_.resize(std::min<uint64_t>(limit, std::max<uint64_t>(label + 1, dense_.size() * 2)));
      dense_[label] = unit;
    } else {
      sparse_.emplace(label, unit);
    }
  }

  // Null for a label never added.
  const float* Find(uint64_t label) const {
    if (label < dense_.size() && dense_[label] != nullptr) return dense_[label];
    if (sparse_.empty()) return nullptr;
    auto it = sparse_.find(label);
    return it == sparse_.end() ? nullptr : it->second;
  }

  size_t array_slots() const { return dense_.size(); }

 private:
  const uint64_t slots_per_address_;
  const uint64_t min_slots_;
  std::vector<const float*> dense_;
  std::unordered_map<uint64_t, const float*> sparse_;
  uint64_t count_ = 0;
};

}  // namespace mnemo::vector
