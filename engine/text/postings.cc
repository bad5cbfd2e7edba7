#include "text/postings.h"

#include <algorithm>

namespace mnemo::text {
namespace {

void PutVarint(std::string* out, uint64_t value) {
  while (value >= 0x80) {
    out->push_back(static_cast<char>(value | 0x80));
    value >>= 7;
  }
  out->push_back(static_cast<char>(value));
}

// REQUIRES: a well-formed varint at *p (the list wrote it).
uint64_t GetVarint(const uint8_t** p) {
  uint64_t value = 0;
  for (int shift = 0;; shift += 7) {
    const uint8_t byte = *(*p)++;
    value |= static_cast<uint64_t>(byte & 0x7F) << shift;
    if (byte < 0x80) return value;
  }
}

// Adds (tf, length) to the impacts in (*impacts)[begin, end) unless one of them beats or
// equals it in both; drops those it beats.  Returns whether it was added.
bool AddImpact(std::vector<PostingList::Impact>* impacts, size_t begin, uint32_t tf,
               uint32_t length) {
  for (size_t i = begin; i < impacts->size(); ++i) {
    if ((*impacts)[i].tf >= tf && (*impacts)[i].length <= length) return false;
  }
  auto first = impacts->begin() + static_cast<std::ptrdiff_t>(begin);
  impacts->erase(std::remove_if(first, impacts->end(),
                                [&](const PostingList::Impact& p) {
                                  return p.tf <= tf && p.length >= length;
                                }),
                 impacts->end());
  impacts->push_back(PostingList::Impact{tf, length});
  return true;
}

}  // namespace

void PostingList::Append(uint32_t doc, uint32_t tf, uint32_t length) {
  uint32_t previous = 0;
  if (size_ % kBlockSize == 0) {
    if (!blocks_.empty()) previous = blocks_.back().last_doc;
    Block block;
    block.offset = static_cast<uint32_t>(bytes_.size());
    block.impact_begin = static_cast<uint32_t>(impacts_.size());
    blocks_.push_back(block);
  } else {
    previous = blocks_.back().last_doc;
  }
  Block& block = blocks_.back();
  const uint64_t delta = doc - previous;
  PutVarint(&bytes_, (delta << 1) | (tf > 1 ? 1 : 0));
  if (tf > 1) PutVarint(&bytes_, tf);
  block.last_doc = doc;
  // A posting beaten within its block is beaten in the list: the list's impacts beat or equal
  // every impact a block ever had.
  if (AddImpact(&impacts_, block.impact_begin, tf, length)) {
    block.impact_count = static_cast<uint32_t>(impacts_.size() - block.impact_begin);
    AddImpact(&list_impacts_, 0, tf, length);
  }
  ++size_;
}

uint32_t PostingList::BlockCount(size_t block) const {
  const size_t before = block * kBlockSize;
  return static_cast<uint32_t>(std::min<size_t>(kBlockSize, size_ - before));
}

uint32_t PostingList::DecodeBlock(size_t block, uint32_t* docs, uint32_t* tfs) const {
  const uint32_t count = BlockCount(block);
  const uint8_t* p = reinterpret_cast<const uint8_t*>(bytes_.data()) + blocks_[block].offset;
  uint32_t doc = block == 0 ? 0 : blocks_[block - 1].last_doc;
  for (uint32_t i = 0; i < count; ++i) {
    const uint64_t word = GetVarint(&p);
    doc += static_cast<uint32_t>(word >> 1);
    docs[i] = doc;
    tfs[i] = (word & 1) ? static_cast<uint32_t>(GetVarint(&p)) : 1;
  }
  return count;
}

PostingCursor::PostingCursor(const PostingList& list) : list_(list) {
  if (!list.empty()) Load(0);
}

void PostingCursor::Load(size_t block) {
  block_ = block;
  if (block >= list_.blocks().size()) {
    doc_ = kEndDoc;
    count_ = 0;
    position_ = 0;
    return;
  }
  count_ = list_.DecodeBlock(block, docs_, tfs_);
  position_ = 0;
  doc_ = docs_[0];
}

void PostingCursor::Next() {
  if (doc_ == kEndDoc) return;
  if (++position_ < count_) {
    doc_ = docs_[position_];
    return;
  }
  Load(block_ + 1);
}

void PostingCursor::Advance(uint32_t target) {
  if (doc_ == kEndDoc || doc_ >= target) return;
  const auto& blocks = list_.blocks();
  if (blocks[block_].last_doc < target) {
    // The first later block that may hold target; blocks are sorted by last doc.
    auto it = std::lower_bound(
        blocks.begin() + static_cast<std::ptrdiff_t>(block_) + 1, blocks.end(), target,
        [](const PostingList::Block& b, uint32_t t) { return b.last_doc < t; });
    Load(static_cast<size_t>(it - blocks.begin()));
    if (doc_ == kEndDoc) return;
  }
  while (docs_[position_] < target) ++position_;
  doc_ = docs_[position_];
}

}  // namespace mnemo::text
