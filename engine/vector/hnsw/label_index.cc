// LabelIndex (see label_index.h).
#include "vector/hnsw/label_index.h"

#include <bit>

namespace mnemo::hnsw {
namespace {

constexpr size_t kMinCapacity = 16;

}  // namespace

void LabelIndex::Rehash(size_t capacity) {
  std::vector<uint64_t> keys(capacity, kEmpty);
  std::vector<uint32_t> values(capacity, 0);
  keys.swap(keys_);
  values.swap(values_);
  mask_ = capacity - 1;
  shift_ = 64 - static_cast<unsigned>(std::countr_zero(capacity));
  for (size_t old = 0; old < keys.size(); ++old) {
    if (keys[old] == kEmpty) continue;
    size_t slot = Home(keys[old]);
    while (keys_[slot] != kEmpty) slot = (slot + 1) & mask_;
    keys_[slot] = keys[old];
    values_[slot] = values[old];
  }
}

void LabelIndex::Reserve(size_t entries) {
  // At most half full: probes stay short.
  const size_t capacity = std::bit_ceil(std::max(kMinCapacity, entries * 2));
  if (capacity > keys_.size()) Rehash(capacity);
}

void LabelIndex::Upsert(uint64_t label, uint32_t value) {
  if (label == kEmpty) {
    if (!has_zero_) ++size_;
    has_zero_ = true;
    zero_value_ = value;
    return;
  }
  if ((size_ + 1) * 2 > keys_.size()) Rehash(std::max(kMinCapacity, keys_.size() * 2));
  size_t slot = Home(label);
  while (keys_[slot] != kEmpty && keys_[slot] != label) slot = (slot + 1) & mask_;
  if (keys_[slot] == kEmpty) {
    keys_[slot] = label;
    ++size_;
  }
  values_[slot] = value;
}

bool LabelIndex::Erase(uint64_t label) {
  if (label == kEmpty) {
    if (!has_zero_) return false;
    has_zero_ = false;
    --size_;
    return true;
  }
  if (keys_.empty()) return false;
  size_t slot = Home(label);
  while (keys_[slot] != label) {
    if (keys_[slot] == kEmpty) return false;
    slot = (slot + 1) & mask_;
  }
  // Backward shift: move later entries of the cluster into the hole when their home allows it.
  size_t hole = slot;
  for (size_t next = (hole + 1) & mask_; keys_[next] != kEmpty; next = (next + 1) & mask_) {
    const size_t home = Home(keys_[next]);
    // The entry at `next` may move to `hole` iff its home is not inside (hole, next].
    const bool home_in_range = hole <= next ? (home > hole && home <= next) : (home > hole || home <= next);
    if (home_in_range) continue;
    keys_[hole] = keys_[next];
    values_[hole] = values_[next];
    hole = next;
  }
  keys_[hole] = kEmpty;
  --size_;
  return true;
}

void LabelIndex::Clear() {
  std::fill(keys_.begin(), keys_.end(), kEmpty);
  size_ = 0;
  has_zero_ = false;
}

}  // namespace mnemo::hnsw
