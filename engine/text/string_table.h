// StringTable: a set of byte strings, each numbered densely in the order it was first added.
//
// Built for the hot loops of indexing, where a text's tokens are looked up one by one, mostly
// found, in a table too large for the nearest caches: open addressing over a flat slot array
// (linear probing, at most half full) whose slots keep hash bits, so a probe reads an entry only
// when they match; an entry holds a short string's bytes itself, so a hit reads two cache lines.
// No per-string allocation for strings up to 24 bytes; Clear keeps the memory.
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

  // The number of `bytes`, adding it if new (then *added is true, and its value is 0).
  uint32_t Add(std::string_view bytes, bool* added) { return Add(bytes, HashBytes(bytes), added); }
  // The same, with `hash` = HashBytes(bytes) computed by the caller.
  uint32_t Add(std::string_view bytes, uint64_t hash, bool* added) {
    if ((entries_.size() + 1) * 2 > slots_.size()) Grow();
    const uint32_t tag = Tag(hash);
    size_t slot = hash & (slots_.size() - 1);
    for (;; slot = (slot + 1) & (slots_.size() - 1)) {
      const Slot& probe = slots_[slot];
      if (probe.index == kNone) break;
      if (probe.tag == tag && Matches(entries_[probe.index], bytes)) {
        *added = false;
        return probe.index;
      }
    }
    const uint32_t index = static_cast<uint32_t>(entries_.size());
    Entry& entry = entries_.emplace_back();
    entry.length = static_cast<uint32_t>(bytes.size());
    if (bytes.size() <= kInlineBytes) {
      if (!bytes.empty()) std::memcpy(entry.bytes, bytes.data(), bytes.size());
    } else {
      entry.offset = static_cast<uint32_t>(long_bytes_.size());
      long_bytes_.append(bytes);
    }
    slots_[slot] = Slot{tag, index};
    *added = true;
    return index;
  }

  // Hints that strings of hash `hash` will be looked up soon: starts loading the slot they probe
  // first, then (once that slot is loaded, so call again later) the entry it names.  Lookups of
  // many strings go faster when each step is issued for all of them before the next.
  void PrefetchSlot(uint64_t hash) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[hash & (slots_.size() - 1)]);
  }
  void PrefetchEntry(uint64_t hash) const {
    if (slots_.empty()) return;
    const uint32_t index = slots_[hash & (slots_.size() - 1)].index;
    if (index != kNone) __builtin_prefetch(&entries_[index]);
  }

  // The number of `bytes`, kNone if absent.
  uint32_t Find(std::string_view bytes) const {
    if (slots_.empty()) return kNone;
    const uint64_t hash = HashBytes(bytes);
    const uint32_t tag = Tag(hash);
    for (size_t slot = hash & (slots_.size() - 1);; slot = (slot + 1) & (slots_.size() - 1)) {
      const Slot& probe = slots_[slot];
      if (probe.index == kNone) return kNone;
      if (probe.tag == tag && Matches(entries_[probe.index], bytes)) return probe.index;
    }
  }

  // The string numbered `index`; valid until the next Add or Clear.
  std::string_view at(uint32_t index) const { return View(entries_[index]); }
  // A number the owner keeps with the string numbered `index` (0 until set).
  uint32_t& value(uint32_t index) { return entries_[index].value; }
  uint32_t value(uint32_t index) const { return entries_[index].value; }
  size_t size() const { return entries_.size(); }

  void Clear() {
    std::fill(slots_.begin(), slots_.end(), Slot{});
    entries_.clear();
    long_bytes_.clear();
  }

 private:
  // Strings up to this long are kept in their entry (one cache line holds the entry whole).
  static constexpr size_t kInlineBytes = 24;

  struct Slot {
    uint32_t tag = 0;  // bits of the string's hash (Tag), checked before the entry is read
    uint32_t index = kNone;
  };
  struct Entry {
    uint32_t length = 0;
    uint32_t value = 0;
    union {
      char bytes[kInlineBytes];  // length <= kInlineBytes
      uint32_t offset;           // in long_bytes_, otherwise
    };
  };
  static_assert(sizeof(Entry) == 32, "an entry fills half a cache line");

  // The hash bits a slot keeps: not those that pick the slot.
  static uint32_t Tag(uint64_t hash) { return static_cast<uint32_t>(hash >> 32); }

  std::string_view View(const Entry& entry) const {
    if (entry.length <= kInlineBytes) return {entry.bytes, entry.length};
    return {long_bytes_.data() + entry.offset, entry.length};
  }

  bool Matches(const Entry& entry, std::string_view bytes) const {
    return entry.length == bytes.size() &&
           std::memcmp(View(entry).data(), bytes.data(), bytes.size()) == 0;
  }

  void Grow() {
    const size_t capacity = slots_.empty() ? 64 : slots_.size() * 2;
    slots_.assign(capacity, Slot{});
    for (uint32_t index = 0; index < entries_.size(); ++index) {
      const uint64_t hash = HashBytes(View(entries_[index]));
      size_t slot = hash & (capacity - 1);
      while (slots_[slot].index != kNone) slot = (slot + 1) & (capacity - 1);
      slots_[slot] = Slot{Tag(hash), index};
    }
  }

  std::vector<Slot> slots_;  // size a power of two, at most half used
  std::vector<Entry> entries_;
  std::string long_bytes_;
};

}  // namespace mnemo::text
