// LabelFilter: decides which labels a search may return.
//
// A filter is consulted only when a node is about to join the results; the graph walk still
// passes through nodes the filter rejects, so filtering never disconnects the graph.  A filter
// may also report how many labels it admits and list them, which lets Search() answer small
// allow-lists with an exact scan of just those labels.
//
// Thread-safety: implementations must allow concurrent const calls (Search() may run on many
// threads with the same filter).  The ready-made filters below are immutable after construction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <unordered_set>
#include <vector>

namespace mnemo::hnsw {

class LabelFilter {
 public:
  virtual ~LabelFilter() = default;

  // True if `label` may appear in the results.
  virtual bool Allows(uint64_t label) const = 0;

  // An upper bound on the number of labels Allows() accepts, when cheaply known.  Used only to
  // choose between graph search and exact scan; nullopt (the default) means "unknown".
  virtual std::optional<size_t> CountHint() const { return std::nullopt; }

  // Every allowed label (duplicates allowed), when the filter can enumerate them; nullptr (the
  // default) otherwise.  The pointee lives as long as the filter.
  virtual const std::vector<uint64_t>* AllowedLabels() const { return nullptr; }
};

// An explicit allow-list held in a hash set.  Enumerable, so small lists are answered by an exact
// scan touching only the listed labels.
class LabelSetFilter final : public LabelFilter {
 public:
  explicit LabelSetFilter(std::span<const uint64_t> labels);

  bool Allows(uint64_t label) const override { return set_.contains(label); }
  std::optional<size_t> CountHint() const override { return labels_.size(); }
  const std::vector<uint64_t>* AllowedLabels() const override { return &labels_; }

 private:
  std::vector<uint64_t> labels_;  // deduplicated, in first-seen order
  std::unordered_set<uint64_t> set_;
};

// A dense bitset over labels [0, universe): one bit per possible label, O(1) membership with no
// hashing.  Suits row ids that are small integers.  Labels >= universe are never allowed.
class LabelBitsetFilter final : public LabelFilter {
 public:
  explicit LabelBitsetFilter(uint64_t universe);

  // Allows `label`; ignored when label >= universe.  Not thread-safe: build the filter first,
  // then share it.
  void Add(uint64_t label);

  bool Allows(uint64_t label) const override {
    return label < universe_ && ((words_[label >> 6] >> (label & 63)) & 1u) != 0;
  }
  std::optional<size_t> CountHint() const override { return count_; }

 private:
  uint64_t universe_;
  size_t count_ = 0;
  std::vector<uint64_t> words_;
};

}  // namespace mnemo::hnsw
