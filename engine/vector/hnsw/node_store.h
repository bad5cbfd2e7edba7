// NodeStore: the memory of an HNSW graph, laid out for search speed.
//
// Each node has one fixed-stride record holding, in this order:
//   offset 0   uint32 lock word (NodeLock)
//   offset 4   uint32 level-0 link count, then 2*m uint32 level-0 links
//   offset C   uint8 code[dim] (the scalar-quantized vector the compressed traversal reads),
//              C = 8 + 8*m rounded up to 64 bytes (cache-line aligned)
// The stride is C + dim rounded up to 64 bytes, so every code starts on a cache line; the bytes
// between the links and the code, and after the code, are zero.  A record holds no address, so
// its bytes mean the same wherever they sit: a saved graph file holds them as they are, and
// Load() maps the file and uses them in place (AdoptRecords).  A walk reads a node's links and
// code, which sit together in its record; the float vector is read only for exact similarities
// (re-ranking, inserts, exact scans).  Codes are written by InitNode() when the owner already has
// a quantizer, otherwise by the owner (EncodeCodes) before it publishes its quantizer.
//
// Float vectors live outside the records; NodeMeta::vector points at each.  An owned vector is
// copied into the store's vector arena (cache-line aligned slots, allocated in growing blocks,
// freed with the store), or read in place from an adopted mapping.  An external vector stays where
// the owner keeps it (a memory-mapped file): the node only points at it, so a graph over vectors
// kept on disk holds links and codes and no floats.  The owner may move an external vector
// (SetVector) while readers run: a reader uses whichever address it loaded, so both copies must
// stay readable until no reader can hold the old one.
//
// Records live in blocks allocated as the store grows: each new block doubles the capacity, up to
// 32 MiB per block, so small indexes stay small and large ones need few allocations (Reserve()
// makes one block of an exact size).  Blocks are advised to use transparent huge pages, which
// removes most TLB misses from the random record accesses of a search.  A block never moves, so a
// reader holding a node pointer stays valid while writers append.  Blocks are addressed through a
// table of fixed-size chunks (a block spans one or more chunks), so finding a record is one shift,
// one table load and one multiply.  The chunks of an adopted mapping are addressed the same way.
// Per-node metadata (label, vector address, level, state, links of levels >= 1) sits in a
// parallel NodeMeta array, dense so exact scans read it cheaply.
// Link lists share one format: [count, id_1 .. id_count], capacity 2*m on level 0, m above.
//
// Concurrency protocol (the invariants that let readers run without locks):
//  * Allocate() is called by one writer at a time (the owner serialises it).  It publishes the
//    new node count with release semantics after the block table covers it; View() acquires it.
//  * A node's vector, label, level and upper-link storage are written once, by InitNode(), before
//    its state gains kNodeReady (release) and before its id is stored in any link list.
//  * Link lists change only under the owning node's NodeLock.  Slots are written with release
//    stores and read with acquire loads (StoreSlot/LoadSlot), without the lock.  A reader may see
//    a list mid-update (some old ids, some new), which is harmless: every id it sees names a
//    fully initialised node.
//  * Ids >= the View()'s limit may appear in lists (nodes allocated after the snapshot, or a
//    damaged adopted record); readers skip them, and clamp a count to the list's capacity.
//
// Thread-safety: as above; View() and NodeView accessors are safe from any thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <vector>

namespace mnemo::hnsw {

inline constexpr uint32_t kInvalidId = std::numeric_limits<uint32_t>::max();
inline constexpr uint32_t kMaxNodes = kInvalidId;  // ids 0 .. kMaxNodes - 1
inline constexpr int kMaxLevel = 16;

// NodeMeta::state bits.  A node is live iff state == kNodeReady.  (Whether its vector is owned
// or external is NodeMeta::external.)
inline constexpr uint8_t kNodeReady = 1;    // vector and label written; exact scans may use it
inline constexpr uint8_t kNodeDeleted = 2;  // tombstone: traversable, never returned

struct NodeMeta {
  uint64_t label = 0;
  // The node's unit vector (dim floats): in the arena, in an adopted mapping, or the owner's.
  std::atomic<const float*> vector{nullptr};
  // Links of levels 1..level, (1 + m) uint32 each: [count, ids...].  Null when level == 0.
  std::unique_ptr<uint32_t[]> upper;
  // Bound on the norm of (vector - decoded code) (ScalarQuantizer::Encode); meaningful once the
  // code is written.  Fills what would otherwise be padding.
  float code_error = 0;
  std::atomic<uint8_t> state{0};
  uint8_t level = 0;
  // The vector is the owner's (InitNode, or moved there by the owner), not a copy in the arena.
  std::atomic<bool> external{false};
};

// Atomic access to one link slot (count or id).  A store releases and a load acquires, so a
// reader that sees an id also sees the node data written before the id was stored (on x86 both
// are plain moves).
inline uint32_t LoadSlot(const uint32_t* slot) {
  return std::atomic_ref<uint32_t>(*const_cast<uint32_t*>(slot)).load(std::memory_order_acquire);
}
inline void StoreSlot(uint32_t* slot, uint32_t value) {
  std::atomic_ref<uint32_t>(*slot).store(value, std::memory_order_release);
}

// A spinlock in a node's record word.  Writers hold at most one at a time, briefly.
class NodeLock {
 public:
  explicit NodeLock(uint32_t* word);
  ~NodeLock();
  NodeLock(const NodeLock&) = delete;
  NodeLock& operator=(const NodeLock&) = delete;

 private:
  uint32_t* word_;
};

// One chunk of the store as readers see it.
struct BlockRef {
  std::byte* records = nullptr;
  NodeMeta* meta = nullptr;
};

// A read snapshot: nodes [0, limit()) are addressable.  Cheap to copy; valid while the store lives.
class NodeView {
 public:
  uint32_t limit() const { return limit_; }
  std::byte* Record(uint32_t id) const {
    return table_[id >> shift_].records + static_cast<size_t>(id & mask_) * stride_;
  }
  // The node's unit vector (dim floats).  REQUIRES: the node is initialised (InitNode).
  const float* Vector(uint32_t id) const { return Meta(id).vector.load(std::memory_order_acquire); }
  // Makes the node's vector the one at `vector` (see the header comment on moving vectors).
  void SetVector(uint32_t id, const float* vector) const {
    Meta(id).vector.store(vector, std::memory_order_release);
  }
  const uint8_t* Code(uint32_t id) const {
    return reinterpret_cast<const uint8_t*>(Record(id) + code_offset_);
  }
  uint8_t* MutableCode(uint32_t id) const {
    return reinterpret_cast<uint8_t*>(Record(id) + code_offset_);
  }
  uint32_t* LockWord(uint32_t id) const { return reinterpret_cast<uint32_t*>(Record(id)); }
  NodeMeta& Meta(uint32_t id) const { return table_[id >> shift_].meta[id & mask_]; }
  // The link list [count, ids...] of `id` on `level`.  REQUIRES: level <= Meta(id).level.
  uint32_t* Links(uint32_t id, int level) const {
    if (level == 0) return reinterpret_cast<uint32_t*>(Record(id) + sizeof(uint32_t));
    return Meta(id).upper.get() + static_cast<size_t>(level - 1) * upper_list_size_;
  }
  // Starts loading the link list of `id` on `level` into the cache.
  void PrefetchLinks(uint32_t id, int level) const {
    if (level > 0) return;  // upper levels are small and searched rarely
    const std::byte* record = Record(id);
    for (size_t offset = 0; offset < links_bytes_; offset += 64)
      __builtin_prefetch(record + offset);
  }

 private:
  friend class NodeStore;
  const BlockRef* table_ = nullptr;
  uint32_t limit_ = 0;
  uint32_t shift_ = 0;
  uint32_t mask_ = 0;
  size_t stride_ = 0;
  size_t code_offset_ = 0;
  size_t upper_list_size_ = 0;
  size_t links_bytes_ = 0;  // lock word, count and level-0 links
};

class NodeStore {
 public:
  // REQUIRES: dim >= 1, m >= 1 (validated by the owner).
  NodeStore(uint32_t dim, uint32_t m);
  NodeStore(const NodeStore&) = delete;
  NodeStore& operator=(const NodeStore&) = delete;

  uint32_t dim() const { return dim_; }
  uint32_t m() const { return m_; }
  // Capacity of a link list on `level`.
  uint32_t Capacity(int level) const { return level == 0 ? 2 * m_ : m_; }

  // Reserves the next id, growing the storage when needed; returns kInvalidId when full.  The
  // node is not usable until InitNode().  REQUIRES: calls serialised by the owner.
  uint32_t Allocate();
  // Writes a reserved node: vector (dim floats: copied into the arena, or with `external` only
  // pointed at), code (dim bytes, copied; nullptr leaves the code unset) and its error bound,
  // label, level, empty link lists; then marks it ready.
  // REQUIRES: id was returned by Allocate() and not initialised yet; 0 <= level <= kMaxLevel; an
  // external vector stays readable while the node can be read (or until SetVector moves it).  Safe
  // to run concurrently for distinct ids.
  void InitNode(uint32_t id, uint64_t label, int level, const float* vector, bool external,
                const uint8_t* code, float code_error);

  // Makes the first `nodes` records the ones at `records` (nodes * stride() bytes in this store's
  // record layout, e.g. a graph file mapped MAP_PRIVATE), used in place rather than copied: whole
  // chunks are addressed where they lie, a last partial chunk is copied into a block of its own.
  // Writes (links, lock words) then go to those bytes.  `mapping` keeps them alive, and owned
  // vectors inside [mapping_begin, mapping_end) are read in place and never reused as arena slots.
  // `heap`: the bytes are ordinary memory (a file read into a buffer), counted by memory_bytes();
  // otherwise a file mapping, which is page cache until written.  The nodes are allocated but
  // not initialised: InitAdoptedNode() each.
  // REQUIRES: the store is empty; `records` is 64-byte aligned and writable.
  void AdoptRecords(std::byte* records, uint32_t nodes, std::shared_ptr<const void> mapping,
                    const std::byte* mapping_begin, const std::byte* mapping_end, bool heap);
  // InitNode() for an adopted node, whose record (links and code) is already in place: sets the
  // vector (pointed at, never copied: `external` says whose it is), label, level, code error
  // bound and empty upper link lists; then marks it ready.
  void InitAdoptedNode(uint32_t id, uint64_t label, int level, const float* vector, bool external,
                       float code_error);

  // Bytes of one record.
  size_t stride() const { return stride_; }

  // Makes room for `nodes` nodes in total with one allocation (no-op when already there), so a
  // build of known size wastes no growth slack.  REQUIRES: serialised with Allocate().
  void Reserve(size_t nodes);
  // Makes room for `vectors` more owned vectors in the arena with one allocation (a build that
  // knows how many it copies).  Thread-safe.
  void ReserveOwnedVectors(size_t vectors);

  // Number of ids allocated (including nodes still being initialised).
  uint32_t allocated() const { return allocated_.load(std::memory_order_acquire); }
  NodeView View() const;
  // Bytes held: blocks, link storage of upper levels, block tables, the vector arena (external
  // vectors and mapped records, which are the file's page cache until written, are not counted).
  size_t memory_bytes() const;
  // Bytes of adopted records (AdoptRecords), in place in the owner's mapping.
  size_t adopted_bytes() const { return adopted_bytes_; }
  // Bytes of one record's code region, and of one owned vector's arena slot (each padded to a
  // cache line).
  size_t code_bytes_per_node() const { return stride_ - code_offset_; }
  size_t vector_bytes_per_node() const { return vector_slot_bytes_; }
  // Nodes whose vector is in the arena.
  size_t owned_vectors() const { return owned_vectors_.load(std::memory_order_relaxed); }
  // Node `id`'s vector is now the owner's, at `vector`: an owned one's arena slot is reused by
  // later copies.  REQUIRES: the node is initialised; no reader of its old vector is in flight
  // when it was owned (its slot may be overwritten at once).
  void MakeExternal(uint32_t id, const float* vector);

 private:
  struct alignas(64) CacheLine {
    std::byte bytes[64];
  };
  struct Block {
    std::unique_ptr<CacheLine[]> records;
    std::unique_ptr<NodeMeta[]> meta;
  };

  // Appends a block of `chunks` chunks and publishes it in the reader table.  With `records` the
  // chunks are those bytes (adopted, not allocated).
  void AddBlock(size_t chunks, std::byte* records = nullptr);
  // Writes the metadata of a node (not its record) and marks it ready.
  void InitMeta(uint32_t id, uint64_t label, int level, const float* vector, bool external,
                float code_error);
  // A fresh slot of the vector arena, holding a copy of `vector`.
  const float* CopyToArena(const float* vector);
  // Starts a new arena block of `slots` slots.  REQUIRES: arena_mutex_ held.
  void AddArenaBlock(size_t slots);

  const uint32_t dim_;
  const uint32_t m_;
  size_t links_bytes_;  // lock word, count and level-0 links
  size_t code_offset_;
  size_t stride_;
  uint32_t chunk_shift_;     // log2(nodes per chunk)
  size_t max_block_chunks_;  // growth cap, in chunks

  // Writer side (serialised by the owner).
  std::vector<Block> blocks_;
  size_t capacity_ = 0;                              // nodes covered by blocks_
  std::vector<std::unique_ptr<BlockRef[]>> tables_;  // back() is current; older ones kept alive
  size_t table_capacity_ = 0;                        // chunks the current table can address

  // The vector arena (owned vectors): slots are handed out in order from the newest block.
  size_t vector_slot_bytes_;
  std::mutex arena_mutex_;
  std::vector<std::unique_ptr<CacheLine[]>> arena_blocks_;
  size_t arena_block_slots_ = 0;              // slots of arena_blocks_.back()
  size_t arena_free_ = 0;                     // of which are not handed out yet
  std::vector<const float*> released_slots_;  // handed out once, free again (MakeExternal)
  std::atomic<size_t> arena_bytes_{0};
  std::atomic<size_t> owned_vectors_{0};

  // An adopted mapping (AdoptRecords); set before the store is shared, never changed.
  std::shared_ptr<const void> mapping_;
  const std::byte* mapping_begin_ = nullptr;
  const std::byte* mapping_end_ = nullptr;
  size_t adopted_bytes_ = 0;

  // Reader side.
  std::atomic<const BlockRef*> table_{nullptr};
  std::atomic<uint32_t> allocated_{0};
  std::atomic<size_t> block_bytes_{0};
  std::atomic<size_t> upper_bytes_{0};
  std::atomic<size_t> table_bytes_{0};
};

}  // namespace mnemo::hnsw
