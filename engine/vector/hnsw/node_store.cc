#include "vector/hnsw/node_store.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <thread>

namespace mnemo::hnsw {
namespace {

// Blocks aim at this size: large enough that block bookkeeping is negligible, small enough that
// the unused tail of the last block stays modest.
constexpr size_t kTargetBlockBytes = size_t{4} << 20;
constexpr uint32_t kMinBlockShift = 4;   // >= 16 nodes per block
constexpr uint32_t kMaxBlockShift = 16;  // <= 65536 nodes per block
constexpr size_t kLine = 64;

size_t RoundUp(size_t value, size_t multiple) { return (value + multiple - 1) / multiple * multiple; }

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

}  // namespace

NodeLock::NodeLock(uint32_t* word) : word_(word) {
  std::atomic_ref<uint32_t> lock(*word_);
  for (int spins = 0;; ++spins) {
    if (lock.load(std::memory_order_relaxed) == 0 &&
        lock.exchange(1, std::memory_order_acquire) == 0) {
      return;
    }
    if (spins < 64) {
      CpuRelax();
    } else {
      std::this_thread::yield();
    }
  }
}

NodeLock::~NodeLock() { std::atomic_ref<uint32_t>(*word_).store(0, std::memory_order_release); }

NodeStore::NodeStore(uint32_t dim, uint32_t m) : dim_(dim), m_(m) {
  const size_t header = sizeof(uint32_t) * (2 + 2 * static_cast<size_t>(m));
  vector_offset_ = RoundUp(header, kLine);
  stride_ = RoundUp(vector_offset_ + sizeof(float) * static_cast<size_t>(dim), kLine);
  shift_ = kMinBlockShift;
  while (shift_ < kMaxBlockShift && (stride_ << (shift_ + 1)) <= kTargetBlockBytes) ++shift_;
  block_lines_ = (stride_ << shift_) / kLine;
}

uint32_t NodeStore::Allocate() {
  const uint32_t id = allocated_.load(std::memory_order_relaxed);
  if (id >= kMaxNodes) return kInvalidId;
  const size_t block = id >> shift_;
  if (block == blocks_.size()) {
    Block fresh;
    fresh.records = std::make_unique_for_overwrite<CacheLine[]>(block_lines_);
    fresh.meta = std::make_unique<NodeMeta[]>(size_t{1} << shift_);
    if (block == table_capacity_) {
      // Grow the reader table by copying; the old table stays alive for readers still using it.
      const size_t capacity = std::max<size_t>(8, table_capacity_ * 2);
      auto table = std::make_unique<BlockRef[]>(capacity);
      if (!tables_.empty()) std::copy_n(tables_.back().get(), table_capacity_, table.get());
      tables_.push_back(std::move(table));
      table_capacity_ = capacity;
      table_bytes_.fetch_add(capacity * sizeof(BlockRef), std::memory_order_relaxed);
    }
    tables_.back()[block] = BlockRef{reinterpret_cast<std::byte*>(fresh.records.get()),
                                     fresh.meta.get()};
    blocks_.push_back(std::move(fresh));
    table_.store(tables_.back().get(), std::memory_order_release);
  }
  allocated_.store(id + 1, std::memory_order_release);
  return id;
}

void NodeStore::InitNode(uint32_t id, uint64_t label, int level, const float* vector) {
  assert(level >= 0 && level <= kMaxLevel);  // invariant: levels are drawn capped
  const NodeView view = View();
  assert(id < view.limit());  // invariant: id came from Allocate()
  std::byte* record = view.Record(id);
  std::memset(record, 0, sizeof(uint32_t) * (2 + 2 * static_cast<size_t>(m_)));
  std::memcpy(view.MutableVector(id), vector, sizeof(float) * dim_);
  NodeMeta& meta = view.Meta(id);
  meta.label = label;
  meta.level = static_cast<uint8_t>(level);
  if (level > 0) {
    const size_t slots = static_cast<size_t>(level) * (1 + m_);
    meta.upper = std::make_unique<uint32_t[]>(slots);  // zeroed: every count starts at 0
    upper_bytes_.fetch_add(slots * sizeof(uint32_t), std::memory_order_relaxed);
  }
  meta.state.store(kNodeReady, std::memory_order_release);
}

NodeView NodeStore::View() const {
  NodeView view;
  view.limit_ = allocated_.load(std::memory_order_acquire);
  view.table_ = table_.load(std::memory_order_acquire);
  view.shift_ = shift_;
  view.mask_ = (uint32_t{1} << shift_) - 1;
  view.stride_ = stride_;
  view.vector_offset_ = vector_offset_;
  view.upper_list_size_ = 1 + static_cast<size_t>(m_);
  return view;
}

size_t NodeStore::memory_bytes() const {
  const size_t nodes_per_block = size_t{1} << shift_;
  const size_t blocks = (allocated() + nodes_per_block - 1) >> shift_;
  const size_t block_bytes = block_lines_ * kLine + nodes_per_block * sizeof(NodeMeta);
  return blocks * block_bytes + table_bytes_.load(std::memory_order_relaxed) +
         upper_bytes_.load(std::memory_order_relaxed);
}

}  // namespace mnemo::hnsw
