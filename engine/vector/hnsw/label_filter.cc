#include "vector/hnsw/label_filter.h"

namespace mnemo::hnsw {

LabelSetFilter::LabelSetFilter(std::span<const uint64_t> labels) {
  set_.reserve(labels.size());
  labels_.reserve(labels.size());
  for (uint64_t label : labels) {
    if (set_.insert(label).second) labels_.push_back(label);
  }
}

LabelBitsetFilter::LabelBitsetFilter(uint64_t universe)
    : universe_(universe), words_((universe + 63) / 64, 0) {}

void LabelBitsetFilter::Add(uint64_t label) {
  if (label >= universe_) return;
  uint64_t& word = words_[label >> 6];
  const uint64_t bit = uint64_t{1} << (label & 63);
  if ((word & bit) == 0) ++count_;
  word |= bit;
}

}  // namespace mnemo::hnsw
