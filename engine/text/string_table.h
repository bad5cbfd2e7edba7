// StringTable: a set of byte strings, each numbered densely in the order it was first added.
//
// Built for the hot loops of indexing, where a text's tokens are looked up one by one: open
// addressing over a flat slot array (linear probing, at most half full), the strings' bytes in
// one buffer, each string's hash kept beside it so a probe compares bytes only on an equal hash.
// No per-string allocation; Clear keeps the memory.
//
// Thread-safety: not thread-safe.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace mnemo::text {

// A 64-bit hash of `bytes` that mixes every byte into every bit (for table slots, not stored).
inline uint64_t HashBytes(std::string_view bytes) {
  constexpr uint64_t kMul = 0x9E3779B97F4A7C15ULL;
  const char* p = bytes.data();
  size_t n = bytes.size();
  uint64_t h = n * kMul;
  while (n >= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    h = (h ^ word) * kMul;
    h ^= h >> 29;
    p += 8;
    n -= 8;
  }
  if (n > 0) {
    uint64_t word = 0;
    std::memcpy(&word, p, n);
    h = (h ^ word) * kMul;
  }
  h ^= h >> 32;
  h *= 0xD6E8FEB86659FD93ULL;
  h ^= h >> 32;
  return h;
}

class StringTable {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;

  // The number of `bytes`, adding it if new (then *added is true).
  uint32_t Add(std::string_view bytes, bool* added) { return Add(bytes, HashBytes(bytes), added); }
  // The same, with `hash` = HashBytes(bytes) computed by the caller.
  uint32_t Add(std::string_view bytes, uint64_t hash, bool* added) {
    if ((entries_.size() + 1) * 2 > slots_.size()) Grow();
    size_t slot = hash & (slots_.size() - 1);
    for (;; slot = (slot + 1) & (slots_.size() - 1)) {
      const uint32_t index = slots_[slot];
      if (index == kNone) break;
      if (Matches(entries_[index], bytes, hash)) {
        *added = false;
        return index;
      }
    }
    const uint32_t index = static_cast<uint32_t>(entries_.size());
    entries_.push_back(
        Entry{hash, static_cast<uint32_t>(bytes_.size()), static_cast<uint32_t>(bytes.size())});
    bytes_.append(bytes);
    slots_[slot] = index;
    *added = true;
    return index;
  }

  // The number of `bytes`, kNone if absent.
  uint32_t Find(std::string_view bytes) const { return Find(bytes, HashBytes(bytes)); }
  uint32_t Find(std::string_view bytes, uint64_t hash) const {
    if (slots_.empty()) return kNone;
    for (size_t slot = hash & (slots_.size() - 1);; slot = (slot + 1) & (slots_.size() - 1)) {
      const uint32_t index = slots_[slot];
      if (index == kNone) return kNone;
      if (Matches(entries_[index], bytes, hash)) return index;
    }
  }

  // The string numbered `index`; valid until the next Add or Clear.
  std::string_view at(uint32_t index) const {
    const Entry& entry = entries_[index];
    return {bytes_.data() + entry.offset, entry.length};
  }
  size_t size() const { return entries_.size(); }
  size_t byte_size() const { return bytes_.size(); }

  void Clear() {
    std::fill(slots_.begin(), slots_.end(), kNone);
    entries_.clear();
    bytes_.clear();
  }

 private:
  struct Entry {
    uint64_t hash;
    uint32_t offset;  // in bytes_
    uint32_t length;
  };

  bool Matches(const Entry& entry, std::string_view bytes, uint64_t hash) const {
    return entry.hash == hash && entry.length == bytes.size() &&
           std::memcmp(bytes_.data() + entry.offset, bytes.data(), bytes.size()) == 0;
  }

  void Grow() {
    const size_t capacity = slots_.empty() ? 64 : slots_.size() * 2;
    slots_.assign(capacity, kNone);
    for (uint32_t index = 0; index < entries_.size(); ++index) {
      size_t slot = entries_[index].hash & (capacity - 1);
      while (slots_[slot] != kNone) slot = (slot + 1) & (capacity - 1);
      slots_[slot] = index;
    }
  }

  std::vector<uint32_t> slots_;  // entry index, kNone when empty; size a power of two
  std::vector<Entry> entries_;
  std::string bytes_;
};

}  // namespace mnemo::text
