#include "vector/hnsw/node_store.h"

#include <sys/mman.h>

#include <algorithm>
#include <cassert>
#include <cstdint>
#include <cstring>
#include <thread>

namespace mnemo::hnsw {
namespace {

// A chunk (the unit of addressing) holds about this many bytes of records; a block (the unit of
// allocation) grows by doubling up to kMaxBlockBytes.
constexpr size_t kChunkBytes = size_t{256} << 10;
constexpr size_t kMaxBlockBytes = size_t{32} << 20;
constexpr uint32_t kMaxChunkShift = 12;  // <= 4096 nodes per chunk
constexpr size_t kLine = 64;

size_t RoundUp(size_t value, size_t multiple) {
  return (value + multiple - 1) / multiple * multiple;
}

// Asks the kernel to back [data, data + bytes) with transparent huge pages where it can.  A search
// touches a few thousand random records; with 4 KiB pages nearly every one costs a TLB miss and a
// page walk, with 2 MiB pages almost none do.  Only the 2 MiB-aligned interior qualifies.  Best
// effort: a failure (or a kernel without THP) just leaves normal pages.
void AdviseHugePages(std::byte* data, size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  constexpr uintptr_t kHugePage = uintptr_t{2} << 20;
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(data) + kHugePage - 1) & ~(kHugePage - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(data) + bytes) & ~(kHugePage - 1);
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
#else
  (void)data;
  (void)bytes;
#endif
}

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

NodeStore::NodeStore(uint32_t dim, uint32_t m)
    : dim_(dim),
      m_(m),
      vector_slot_bytes_(RoundUp(sizeof(float) * static_cast<size_t>(dim), kLine)) {
  links_bytes_ = sizeof(uint32_t) * (2 + 2 * static_cast<size_t>(m));
  code_offset_ = RoundUp(links_bytes_, kLine);
  stride_ = code_offset_ + RoundUp(dim, kLine);
  chunk_shift_ = 0;
  while (chunk_shift_ < kMaxChunkShift && (stride_ << (chunk_shift_ + 1)) <= kChunkBytes) {
    ++chunk_shift_;
  }
  max_block_chunks_ = std::max<size_t>(1, kMaxBlockBytes / (stride_ << chunk_shift_));
}

void NodeStore::AddBlock(size_t chunks, std::byte* records) {
  const size_t first_chunk = capacity_ >> chunk_shift_;
  const size_t nodes = chunks << chunk_shift_;
  Block block;
  if (records == nullptr) {
    block.records = std::make_unique_for_overwrite<CacheLine[]>(nodes * stride_ / kLine);
    records = reinterpret_cast<std::byte*>(block.records.get());
    AdviseHugePages(records, nodes * stride_);
    block_bytes_.fetch_add(nodes * stride_, std::memory_order_relaxed);
  }
  block.meta = std::make_unique<NodeMeta[]>(nodes);
  if (first_chunk + chunks > table_capacity_) {
    // Grow the reader table by copying; the old table stays alive for readers still using it.
    const size_t capacity = std::max(first_chunk + chunks, table_capacity_ * 2);
    auto table = std::make_unique<BlockRef[]>(capacity);
    if (!tables_.empty()) std::copy_n(tables_.back().get(), table_capacity_, table.get());
    tables_.push_back(std::move(table));
    table_capacity_ = capacity;
    table_bytes_.fetch_add(capacity * sizeof(BlockRef), std::memory_order_relaxed);
  }
  for (size_t c = 0; c < chunks; ++c) {
    tables_.back()[first_chunk + c] =
        BlockRef{records + ((c << chunk_shift_) * stride_), block.meta.get() + (c << chunk_shift_)};
  }
  blocks_.push_back(std::move(block));
  capacity_ += nodes;
  block_bytes_.fetch_add(nodes * sizeof(NodeMeta), std::memory_order_relaxed);
  table_.store(tables_.back().get(), std::memory_order_release);
}

void NodeStore::Reserve(size_t nodes) {
  nodes = std::min<size_t>(nodes, kMaxNodes);
  if (nodes <= capacity_) return;
  const size_t chunk = size_t{1} << chunk_shift_;
  AddBlock((nodes - capacity_ + chunk - 1) / chunk);
}

uint32_t NodeStore::Allocate() {
  const uint32_t id = allocated_.load(std::memory_order_relaxed);
  if (id >= kMaxNodes) return kInvalidId;
  if (id == capacity_) {
    // A new block as large as everything so far (capacity doubles), capped.
    AddBlock(std::clamp<size_t>(capacity_ >> chunk_shift_, 1, max_block_chunks_));
  }
  allocated_.store(id + 1, std::memory_order_release);
  return id;
}

void NodeStore::AddArenaBlock(size_t slots) {
  arena_blocks_.push_back(
      std::make_unique_for_overwrite<CacheLine[]>(slots * vector_slot_bytes_ / kLine));
  arena_block_slots_ = slots;
  arena_free_ = slots;
  arena_bytes_.fetch_add(slots * vector_slot_bytes_, std::memory_order_relaxed);
}

void NodeStore::ReserveOwnedVectors(size_t vectors) {
  std::lock_guard lock(arena_mutex_);
  if (vectors > arena_free_) AddArenaBlock(vectors);
}

const float* NodeStore::CopyToArena(const float* vector) {
  std::byte* slot;
  {
    std::lock_guard lock(arena_mutex_);
    if (!released_slots_.empty()) {
      slot = reinterpret_cast<std::byte*>(const_cast<float*>(released_slots_.back()));
      released_slots_.pop_back();
    } else {
      if (arena_free_ == 0) {
        // Blocks grow with the arena (each as large as all before it), from 16 slots to 32 MiB.
        const size_t held = arena_bytes_.load(std::memory_order_relaxed) / vector_slot_bytes_;
        AddArenaBlock(std::clamp<size_t>(
            held, 16, std::max<size_t>(16, kMaxBlockBytes / vector_slot_bytes_)));
      }
      slot = reinterpret_cast<std::byte*>(arena_blocks_.back().get()) +
             (arena_block_slots_ - arena_free_) * vector_slot_bytes_;
      --arena_free_;
    }
  }
  std::memcpy(slot, vector, sizeof(float) * dim_);
  owned_vectors_.fetch_add(1, std::memory_order_relaxed);
  return reinterpret_cast<const float*>(slot);
}

void NodeStore::MakeExternal(uint32_t id, const float* vector) {
  const NodeView view = View();
  NodeMeta& meta = view.Meta(id);
  const float* old = view.Vector(id);
  view.SetVector(id, vector);
  if (meta.external.exchange(true, std::memory_order_acq_rel)) return;
  const auto* old_bytes = reinterpret_cast<const std::byte*>(old);
  if (old_bytes >= mapping_begin_ && old_bytes < mapping_end_) return;  // not an arena slot
  std::lock_guard lock(arena_mutex_);
  released_slots_.push_back(old);
  owned_vectors_.fetch_sub(1, std::memory_order_relaxed);
}

void NodeStore::InitNode(uint32_t id, uint64_t label, int level, const float* vector, bool external,
                         const uint8_t* code, float code_error) {
  assert(level >= 0 && level <= kMaxLevel);  // invariant: levels are drawn capped
  const NodeView view = View();
  assert(id < view.limit());  // invariant: id came from Allocate()
  // All of it, padding included: Save() writes records as they are.
  std::memset(view.Record(id), 0, stride_);
  if (code != nullptr) std::memcpy(view.MutableCode(id), code, dim_);
  InitMeta(id, label, level, external ? vector : CopyToArena(vector), external, code_error);
}

void NodeStore::AdoptRecords(std::byte* records, uint32_t nodes,
                             std::shared_ptr<const void> mapping, const std::byte* mapping_begin,
                             const std::byte* mapping_end, bool heap) {
  assert(capacity_ == 0 && nodes < kMaxNodes);  // invariant: Load adopts into a fresh store
  mapping_ = std::move(mapping);
  mapping_begin_ = mapping_begin;
  mapping_end_ = mapping_end;
  if (heap) block_bytes_.fetch_add(mapping_end - mapping_begin, std::memory_order_relaxed);
  const size_t whole_chunks = nodes >> chunk_shift_;
  if (whole_chunks > 0) AddBlock(whole_chunks, records);
  const size_t adopted = whole_chunks << chunk_shift_;
  adopted_bytes_ = adopted * stride_;
  if (adopted < nodes) {
    // The last chunk's records may end before a chunk does: copied, so that the chunk's tail,
    // which the mapping may not hold, is ordinary memory for later nodes.
    AddBlock(1);
    std::memcpy(table_.load(std::memory_order_relaxed)[whole_chunks].records,
                records + adopted * stride_, (nodes - adopted) * stride_);
  }
  allocated_.store(nodes, std::memory_order_release);
}

void NodeStore::InitAdoptedNode(uint32_t id, uint64_t label, int level, const float* vector,
                                bool external, float code_error) {
  InitMeta(id, label, level, vector, external, code_error);
  if (!external) owned_vectors_.fetch_add(1, std::memory_order_relaxed);
}

void NodeStore::InitMeta(uint32_t id, uint64_t label, int level, const float* vector, bool external,
                         float code_error) {
  assert(level >= 0 && level <= kMaxLevel);  // invariant: levels are drawn capped
  const NodeView view = View();
  assert(id < view.limit());  // invariant: id came from Allocate() or AdoptRecords()
  view.SetVector(id, vector);
  NodeMeta& meta = view.Meta(id);
  meta.external.store(external, std::memory_order_relaxed);
  meta.label = label;
  meta.code_error = code_error;
  meta.level = static_cast<uint8_t>(level);
  if (level > 0) {
    const size_t slots = static_cast<size_t>(level) * (1 + m_);
    meta.upper = std::make_unique<uint32_t[]>(slots);  // zeroed: every count starts at 0
    upper_bytes_.fetch_add(slots * sizeof(uint32_t), std::memory_order_relaxed);
  }
  // OR, not store: MarkDeleted() may already have tombstoned this node (its label is registered
  // before the node is written).
  meta.state.fetch_or(kNodeReady, std::memory_order_release);
}

NodeView NodeStore::View() const {
  NodeView view;
  view.limit_ = allocated_.load(std::memory_order_acquire);
  view.table_ = table_.load(std::memory_order_acquire);
  view.shift_ = chunk_shift_;
  view.mask_ = (uint32_t{1} << chunk_shift_) - 1;
  view.stride_ = stride_;
  view.code_offset_ = code_offset_;
  view.upper_list_size_ = 1 + static_cast<size_t>(m_);
  view.links_bytes_ = links_bytes_;
  return view;
}

size_t NodeStore::memory_bytes() const {
  return block_bytes_.load(std::memory_order_relaxed) +
         table_bytes_.load(std::memory_order_relaxed) +
         upper_bytes_.load(std::memory_order_relaxed) +
         arena_bytes_.load(std::memory_order_relaxed);
}

}  // namespace mnemo::hnsw
