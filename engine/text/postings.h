// PostingList: the rows of one user that hold one term, as block-compressed (row, tf) pairs
// with per-block bounds for top-k pruning; PostingCursor walks one.
//
// Rows are a user's dense in-memory row numbers ("docs"), appended in increasing order.  Every
// kBlockSize postings form a block.  A block's bytes hold, per posting,
//   varint((doc - previous doc) << 1 | (tf > 1)), then varint(tf) when tf > 1
// where the previous doc of a block's first posting is the last doc of the block before (0 for
// the first block).  Beside the bytes, each block records its last doc, its byte offset and its
// "impacts": the (tf, row length) pairs of its postings that no other posting of the block
// beats in both (a larger or equal tf in a shorter or equal row).  The BM25 part of a term grows
// with tf and shrinks with row length, so the best score any posting of a block can reach is
// the best over its impacts: the bound that lets a query skip a whole block.  The list keeps
// the same for all its postings.
//
// In memory only: the lists are rebuilt from the stored rows when a data directory opens.
//
// Thread-safety: not thread-safe; the owner serialises appends against cursors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

namespace mnemo::text {

inline constexpr uint32_t kEndDoc = std::numeric_limits<uint32_t>::max();

class PostingList {
 public:
  static constexpr uint32_t kBlockSize = 64;

  struct Impact {
    uint32_t tf = 0;
    uint32_t length = 0;
  };
  struct Block {
    uint32_t last_doc = 0;
    uint32_t offset = 0;        // of its first byte
    uint32_t impact_begin = 0;  // its impacts: impacts_[impact_begin, impact_begin + impact_count)
    uint32_t impact_count = 0;
  };

  // REQUIRES: doc > every doc appended before; tf >= 1; length >= tf.
  void Append(uint32_t doc, uint32_t tf, uint32_t length);
  // Hints that Append will be called soon: starts loading the memory it touches.
  void PrefetchAppend() const {
    if (blocks_.empty() || impacts_.empty()) return;
    __builtin_prefetch(&blocks_.back(), 1);
    __builtin_prefetch(bytes_.data() + bytes_.size() - 1, 1);
    __builtin_prefetch(&impacts_.back(), 1);
    __builtin_prefetch(list_impacts_.data(), 1);
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const std::vector<Block>& blocks() const { return blocks_; }
  // Postings in block `block`.
  uint32_t BlockCount(size_t block) const;
  // Decodes block `block` into docs[] and tfs[] (kBlockSize each); returns its posting count.
  uint32_t DecodeBlock(size_t block, uint32_t* docs, uint32_t* tfs) const;
  std::span<const Impact> block_impacts(size_t block) const {
    const Block& b = blocks_[block];
    return {impacts_.data() + b.impact_begin, b.impact_count};
  }
  // The impacts of the whole list.
  std::span<const Impact> impacts() const { return list_impacts_; }
  // Heap bytes held (for size reports).
  size_t memory_bytes() const {
    return bytes_.capacity() + blocks_.capacity() * sizeof(Block) +
           (impacts_.capacity() + list_impacts_.capacity()) * sizeof(Impact);
  }

 private:
  std::string bytes_;
  std::vector<Block> blocks_;
  std::vector<Impact> impacts_;
  std::vector<Impact> list_impacts_;
  size_t size_ = 0;
};

// A forward-only cursor over one list.  Borrows the list, which must not change while the
// cursor is used.
class PostingCursor {
 public:
  explicit PostingCursor(const PostingList& list);

  // The current doc, kEndDoc when exhausted.
  uint32_t doc() const { return doc_; }
  uint32_t tf() const { return tfs_[position_]; }
  void Next();
  // Moves to the first doc >= target (never backwards).  Skips whole blocks by their last doc.
  void Advance(uint32_t target);

  // The current block (REQUIRES: doc() != kEndDoc).
  const PostingList::Block& block() const { return list_.blocks()[block_]; }
  size_t block_index() const { return block_; }
  const PostingList& list() const { return list_; }

 private:
  void Load(size_t block);

  const PostingList& list_;
  size_t block_ = 0;
  uint32_t count_ = 0;
  uint32_t position_ = 0;
  uint32_t doc_ = kEndDoc;
  uint32_t docs_[PostingList::kBlockSize];
  uint32_t tfs_[PostingList::kBlockSize];
};

}  // namespace mnemo::text
