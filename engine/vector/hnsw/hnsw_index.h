// HnswIndex: an in-memory HNSW graph (Malkov & Yashunin) for cosine similarity over float32
// vectors, with tombstone deletes, filtered search and checksummed persistence.
//
// Vectors are normalised to unit length on insert and queries on search, so similarity is the dot
// product (cosine) and "closer" means "higher similarity".  Each node carries the caller's uint64
// label (e.g. a row id); internally nodes are numbered densely with uint32 ids.
//
// Compressed traversal: once the index holds kQuantizerMinNodes nodes it fits a per-dimension
// 8-bit scalar quantizer (scalar_quantizer.h) on them and keeps a uint8 code of every vector next
// to its links.  Searches then walk on the codes (a quarter of the bytes per visited node) and
// re-rank the best candidates with the float32 vectors (SearchOptions::compressed, rerank_*), so
// returned similarities stay exact.  The quantizer never changes for the life of an index
// object; Compact() refits it on the live nodes.  Values outside the fitted range clamp, which
// only blurs the walk's estimates (the re-rank is exact).
//
// Exact scans of more than a few rows also run on the codes once they exist: every row gets an
// estimate, and only rows whose estimate plus its error bound (the node's code_error, from
// ScalarQuantizer::Encode, plus the query's rounding_error) can still reach the top k are re-ranked
// with float32 vectors.  The answer is the exact top-k, as from a float32 scan.
//
// Many small indexes (one per tenant) can share their scratch memory and one quantizer
// (HnswResources); such an index never fits a quantizer of its own until Compact() finds it large
// enough, and takes the shared one through AdoptQuantizer().
//
// Full-precision vectors are read by inserts, Compact(), exact scans and re-ranks.  Add() copies
// them into the index's memory; AddExternal() only points at a vector the caller keeps (in a
// memory-mapped file, say), so such an index holds links and codes in RAM but no floats, and
// RepointVector() follows the caller when it moves one.  Save() writes the owned vectors and the
// codes, not the external vectors: Load() asks the caller where they are.
//
// Mapped graphs: a node record (node_store.h) holds no address, so Save() writes the records as
// they are in memory, page-aligned, and Load() maps the file copy-on-write (MAP_PRIVATE) and
// searches the records where they lie: opening a graph costs a pass over the small node table,
// not a copy of the records, and untouched records stay page cache (file-backed) rather than
// anonymous memory.  Writes after such a load (Add, MarkDeleted, Compact, Save) work as on any
// index: the first write to a page gives the process its own copy, and the file never changes.
// Save() always writes a new file and renames it over the old one, so a mapped file is never
// modified in place; nothing else may write or truncate it while an index maps it.  Owned
// vectors saved in the file are read in place too.
//
// Graph: level-0 links (up to 2*m per node) sit with the vector in one cache-aligned record;
// levels >= 1 hold up to m links.  New nodes pick m neighbours per level with the HNSW heuristic
// (keep a candidate only if it is closer to the new node than to every neighbour kept so far);
// when a reverse link overflows a neighbour's list, that list is re-pruned with the same rule.
//
// Thread-safety:
//  * Add() and MarkDeleted() may run concurrently with each other and with every search.  Writers
//    lock one node's link list at a time (a per-node spinlock), the label map briefly (to register
//    or find a label) and, rarely, the entry point.
//  * Search() and ExactSearch() take no lock on the graph: a search sees every node whose Add()
//    returned before it started, and may or may not see nodes added meanwhile.  An exact scan over
//    an enumerable filter, and Contains(), take the label map's reader lock briefly.
//  * Save() and Compact() wait for in-flight Add()/MarkDeleted() calls and hold new ones back until
//    they finish; searches keep running.  So does fitting the quantizer (inside the Add() that
//    reaches kQuantizerMinNodes): it encodes every node, then publishes the quantizer; a search
//    that started before keeps walking on float32 vectors.
//  * The destructor requires that no other call is in flight.
//
// File format (Save/Load), all integers little-endian:
//   header, 64 bytes:
//     u64 magic "MNEMOHNS" (bytes 4D 4E 45 4D 4F 48 4E 53)
//     u32 format version (kFormatVersion = 4; versions 1 to 3 still load, by a copy into memory;
//         version 1 files, which lack the quantizer section, get a quantizer fitted on their nodes)
//     u32 dim, u32 m, u32 ef_construction, u64 seed
//     u64 applied_seqno (opaque to the index: the caller's log position the file reflects)
//     u32 node_count, u32 deleted_count
//     u32 entry_point id (0xFFFFFFFF when empty), u32 max_level
//     u32 record stride (version >= 4; reserved 0 before), u32 reserved (0)
//   quantizer section (version >= 2):
//     u32 present (0 or 1), u32 reserved (0)
//     when present: dim f32 lo, dim f32 step, dim f32 mean code (ScalarQuantizer parameters)
// Version 4, after the quantizer section:
//   node table, node_count entries of 16 bytes in id order: u64 label, f32 code error bound (0
//     without a quantizer), u8 flags (bit 0: deleted; bit 1: external vector), u8 level,
//     u16 reserved (0)
//   upper links: for each node of level >= 1 in id order, for each level 1..level: u32 count,
//     then m u32 slots (the first count are neighbour ids, the rest 0)
//   u32 CRC-32C of every preceding byte (the head)
//   zero bytes up to a multiple of 4096
//   node_count records of `stride` bytes, in NodeStore's record layout (node_store.h): u32 lock
//     word (0), u32 level-0 count, 2*m u32 level-0 slots, zeros up to the code offset, dim u8
//     code (0 without a quantizer), zeros up to the stride
//   for each node without the external flag, in id order: dim f32 (the unit vector), zeros up to
//     a multiple of 64 bytes
//   range checksums: a u32 CRC-32C of each 1 MiB of the bytes from the head's CRC to here (the
//     last range is shorter)
//   trailer: u32 CRC-32C of the range checksums
// So every byte is covered by a checksum.  Load() checks the head and the range checksums; the
// ranges themselves (the records and vectors) it checks at once, or later on request
// (HnswLoadOptions::defer_record_check, CheckRecords()).  A damaged record cannot make a search
// read out of bounds (link counts are clamped to a list's capacity and ids past the node count are
// skipped), only walk badly, and Compact() rebuilds every link and code from the vectors.
// A crash cannot leave a torn file at the saved path (Save writes a temp file, syncs it and then
// renames it); a damaged file is found by the checksums.
// Versions 1 to 3, after the quantizer section:
//   node_count node records, in id order:
//     u64 label, u8 flags (bit 0: deleted; bit 1, version >= 3: external vector), u8 level,
//     u16 reserved (0)
//     for each level 0..level: u32 count, then count u32 neighbour ids
//     version >= 3 with a quantizer: f32 code error bound, dim u8 code
//     unless the vector is external: dim f32, the unit vector
//   trailer: u32 CRC-32C of every preceding byte.
// Versions 1 and 2 store no codes: Load() encodes the vectors with the stored quantizer.
// FROZEN: the magic, the field order and the flag bits never change meaning; a new layout gets a
// new format version.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "mnemo/file_system.h"
#include "mnemo/result.h"
#include "mnemo/status.h"
#include "vector/hnsw/cost_model.h"
#include "vector/hnsw/hnsw_types.h"
#include "vector/hnsw/label_filter.h"
#include "vector/hnsw/label_index.h"
#include "vector/hnsw/node_store.h"
#include "vector/hnsw/scalar_quantizer.h"
#include "vector/hnsw/scratch_pool.h"
#include "vector/hnsw/search_scratch.h"

namespace mnemo::hnsw {

class HnswIndex;
namespace internal {
class ByteReader;
}  // namespace internal

// What several indexes may share.  Every member is optional.
struct HnswResources {
  // Per-query working memory; null: the index keeps a pool of its own.
  std::shared_ptr<ScratchPool<internal::SearchScratch>> scratch;
  // Encodes the index's nodes from the start (instead of a quantizer fitted by the index itself at
  // kQuantizerMinNodes).  With `fit_own_quantizer` false the index never fits one on its own
  // before Compact(): its owner provides one later with AdoptQuantizer().
  std::shared_ptr<const ScalarQuantizer> quantizer;
  bool fit_own_quantizer = true;
};

// How HnswIndex::Load() opens a file.
struct HnswLoadOptions {
  // Leaves the records' checksums of a mapped file to CheckRecords(), so that opening costs no
  // pass over them.  Ignored when the file is read into memory (checked at once).
  bool defer_record_check = false;
};

// What Load() returns: the index and the applied_seqno passed to Save().
struct LoadedHnswIndex {
  std::unique_ptr<HnswIndex> index;
  uint64_t applied_seqno = 0;
  // The file's format version: below HnswIndex::kFormatVersion the file was read by a copy, and
  // saving the index again rewrites it in the current (mapped) format.
  uint32_t format_version = 0;
};

class HnswIndex {
 public:
  static constexpr uint32_t kFormatVersion = 4;
  static constexpr uint32_t kOldestFormatVersion = 1;
  // The quantizer is fitted when the index first holds this many nodes.  Smaller indexes are
  // searched by exact scan for most beams anyway (see SearchOptions::strategy).
  static constexpr size_t kQuantizerMinNodes = 2048;

  // Creates an empty index.  ValidationError when `params` are out of range.
  static Result<std::unique_ptr<HnswIndex>> Create(const HnswParams& params,
                                                   const HnswResources& resources = {});

  ~HnswIndex();
  HnswIndex(const HnswIndex&) = delete;
  HnswIndex& operator=(const HnswIndex&) = delete;

  // Inserts `vector` (dim floats, copied and normalised) under `label`.
  // Errors: ValidationError (wrong dimension, NaN/Inf, zero vector); DuplicateRecord when `label`
  // is live in the index (a label whose node was MarkDeleted() may be added again: the new node
  // replaces it); Unavailable when the index holds 2^32 - 1 nodes.
  Status Add(uint64_t label, std::span<const float> vector);
  // Inserts the unit vector at `unit` (dim floats, unit norm: not checked, nor copied) under
  // `label`, as Add() does.  REQUIRES: the floats stay readable and unchanged at that address
  // while the node is in this index or in a Compact() copy of it, or until RepointVector() names
  // another address (and then until no call that started before can still read the old one).
  Status AddExternal(uint64_t label, const float* unit);
  // The vector of `label`'s node (live or deleted) is now the one at `unit`, which holds the same
  // values, with AddExternal()'s requirements; a copy the index held is given up (its memory is
  // reused by later copies).  False when the label has no node.
  // REQUIRES: no call that may read the node's old vector is in flight when it was a copy.
  bool RepointVector(uint64_t label, const float* unit);

  // Pre-allocates room for `nodes` nodes in total, with owned vectors (optional): a build of known
  // size with Add() then grows in one step and holds no growth slack.  Thread-safe.
  void Reserve(size_t nodes);

  // Tombstones the node of `label`: it is never returned again but keeps routing searches until
  // Compact().  OK when the label was already deleted; NotFound when it was never added.
  Status MarkDeleted(uint64_t label);

  // k nearest live nodes to `query` (dim floats; normalised internally), best first, in `out`
  // (whose buffers are reused).  With a filter, only allowed labels are returned; the walk keeps
  // going past ef until it has ef allowed nodes or runs out of graph, and when it still has fewer
  // than k it completes the answer with an exact scan, so fewer than k hits come back only when
  // fewer than k live allowed nodes exist (or options.min_similarity cuts them).  out->stats says
  // how the answer was produced.  An empty index yields no hits (fewer_than_k set).
  // With options.compressed and a fitted quantizer the walk runs on the compact codes with beam
  // max(ef, pool), pool = max(k * rerank_factor, rerank_min, k), and the best `pool` candidates
  // by estimate are re-ranked with exact float32 similarities (stats.compressed set).
  // options.strategy kAuto answers by exact scan when that is cheaper than a graph walk (a small
  // index, or a filter whose CountHint() marks a small allow-list), by graph walk otherwise.
  // Errors: ValidationError for a wrong dimension, a non-finite or zero query, k == 0, a NaN
  // min_similarity.  REQUIRES: out != nullptr.
  Status Search(std::span<const float> query, const SearchOptions& options,
                SearchResult* out) const;
  // Convenience form of the above.
  Result<SearchResult> Search(std::span<const float> query, size_t k, size_t ef,
                              const LabelFilter* filter = nullptr) const;

  // Exact top-k by scanning every live node that `filter` allows (nullptr: all).  Used for small
  // allow-lists, as the fallback of Search(), and as ground truth.  Errors as Search().
  Status ExactSearch(std::span<const float> query, size_t k, const LabelFilter* filter,
                     SearchResult* out) const;

  // Builds a new index holding only the live nodes (same params, resources and labels; node levels
  // are kept since they derive from (seed, label)), re-inserting them on `threads` threads
  // (>= 1).  The quantizer is refitted on the live nodes when there are kQuantizerMinNodes of
  // them; otherwise the copy keeps this index's quantizer.  Memory and graph quality of the result
  // are those of a fresh build.  This index is unchanged; writers wait until the copy is complete.
  // Errors: ValidationError for threads == 0.
  Result<std::unique_ptr<HnswIndex>> Compact(size_t threads = 1) const;

  // Encodes every node with `quantizer` and makes searches use it, unless the index already has a
  // quantizer (then a no-op).  REQUIRES: quantizer->dim() == params().dim.  Thread-safe; waits for
  // in-flight inserts.
  void AdoptQuantizer(std::shared_ptr<const ScalarQuantizer> quantizer);

  // Writes the index to `path` through `fs` atomically: a temp file in the same directory,
  // fsync, rename, fsync of the directory.  `applied_seqno` is stored verbatim.  Errors: the file
  // system's on I/O failure (the previous file at `path`, if any, is left intact).
  Status Save(const std::string& path, uint64_t applied_seqno,
              FileSystem& fs = PosixFileSystem()) const;

  // Reads a file written by Save().  With the POSIX file system a version 4 file is mapped and its
  // records used in place (see "Mapped graphs" above); through any other file system, and for
  // older versions, the file is read into memory.  The header is checked first, then every count,
  // id and level against it, and the checksums (the records' ones later with
  // options.defer_record_check); the index is returned only if they hold.  Errors: NotFound when
  // the file does not exist; Internal with a message naming the problem for anything else (bad
  // magic, unsupported version, bad params, truncation, checksum mismatch, inconsistent
  // structure); the file system's on an I/O error.  Never trusts a size from the file before
  // checking it against the file's length. `resources` as for Create(); a file without a
  // quantizer section takes resources.quantizer. `external` gives the address of an external
  // vector (as AddExternal() requires) by label, or null when it has none: such a node reads as a
  // zero vector (only a deleted row's vector can be gone).  A file with external vectors and no
  // `external` is an error.  A vector the file holds is not read from there when `external` finds
  // it (the node becomes external).
  using ExternalVectors = std::function<const float*(uint64_t label)>;
  static Result<LoadedHnswIndex> Load(const std::string& path, const HnswResources& resources = {},
                                      FileSystem& fs = PosixFileSystem(),
                                      const ExternalVectors& external = nullptr,
                                      const HnswLoadOptions& options = {});

  // Checks the records of the file this index was loaded from against their checksums, when
  // Load() deferred it; reads them from the file (which never changes), not from memory (which
  // writes since may have changed).  Runs once: later calls return OK.  Thread-safe, concurrent
  // with every other call.  Internal naming the file and byte range on a mismatch or read failure:
  // the index's links or codes may be damaged (searches stay memory-safe but may miss
  // neighbours); its labels, levels and vectors were checked by Load(), so Compact() (or a
  // rebuild from the rows) gives a sound index.
  Status CheckRecords() const;
  // True while a deferred record check has not run.
  bool record_check_pending() const;

  // True when `label` is live.
  bool Contains(uint64_t label) const;
  // Contains() of each label, under one acquisition of the label map's lock: (*live)[i] for
  // labels[i].
  void ContainsEach(std::span<const uint64_t> labels, std::vector<uint8_t>* live) const;
  // Appends the unit vectors of up to `max_nodes` live nodes to `out` (row-major, dim floats
  // each), e.g. to fit a quantizer shared by several indexes.  Thread-safe.
  void CopyVectors(size_t max_nodes, std::vector<float>* out) const;
  // Live nodes (added and not deleted).
  size_t size() const { return live_count_.load(std::memory_order_relaxed); }
  // Tombstoned nodes still held (reclaimed by Compact()).
  size_t deleted_count() const { return deleted_count_.load(std::memory_order_relaxed); }
  // Bytes held by the index (vectors, links, metadata, label map), approximate; excludes the
  // per-thread search scratch (about 2 bytes per node for each thread that has searched).
  size_t memory_bytes() const;
  // Per-node bytes of the compact code and of an owned float32 vector (each padded to a cache
  // line); external vectors take none of the index's memory.
  struct MemoryPerVector {
    size_t code_bytes = 0;
    size_t vector_bytes = 0;
  };
  // Nodes whose float32 vector the index holds (Add), as opposed to external ones.
  size_t owned_vectors() const { return store_.owned_vectors(); }
  MemoryPerVector memory_per_vector() const;
  // True once the quantizer is fitted: searches may then walk on the compact codes.
  bool has_quantizer() const { return quantizer_.load(std::memory_order_acquire) != nullptr; }
  // The quantizer (nullptr before it is fitted).  Valid for the life of the index.
  const ScalarQuantizer* quantizer() const { return quantizer_.load(std::memory_order_acquire); }
  // The quantizer as a shareable handle (null before it is fitted).
  std::shared_ptr<const ScalarQuantizer> shared_quantizer() const;
  const HnswParams& params() const { return params_; }

 private:
  using Candidate = internal::Candidate;
  using Scratch = internal::SearchScratch;

  HnswIndex(const HnswParams& params, const HnswResources& resources);

  // hnsw_io.cc
  // What Load() parsed before the nodes.
  struct FileHeader {
    uint32_t version = 0;
    HnswParams params;
    uint64_t applied_seqno = 0;
    uint32_t node_count = 0, deleted_count = 0, entry_id = 0, max_level = 0;
    std::optional<ScalarQuantizer> quantizer;
  };
  // A deferred record check (HnswLoadOptions::defer_record_check).
  struct PendingRecordCheck {
    std::string path;
    int fd = -1;  // the mapped file, closed by the destructor
    uint64_t begin = 0, end = 0;
    std::vector<uint32_t> range_crcs;
    ~PendingRecordCheck();
  };
  // Version 4: builds the nodes over the file's bytes data[0, size) (owned by `keep`), the
  // quantizer section ending at `offset`; `mapped` when they are a file mapping, not a buffer.
  // With `defer_fd` the record checksums are left to CheckRecords(), which takes the descriptor.
  // REQUIRES: a fresh index.
  Status LoadInPlace(const std::string& path, std::shared_ptr<const void> keep, std::byte* data,
                     uint64_t size, uint64_t offset, const FileHeader& header,
                     const ExternalVectors& external, bool mapped, int* defer_fd);
  // Versions 1 to 3: builds the nodes from the records `in` reads (positioned after the quantizer
  // section), copying them.  REQUIRES: a fresh index.
  Status LoadCopied(const std::string& path, internal::ByteReader& in, const FileHeader& header,
                    const ExternalVectors& external);

  // Fits the quantizer on every ready node and encodes them, if not fitted yet.  Takes
  // structure_mutex_ exclusively.  No-op below kQuantizerMinNodes nodes unless `force`.
  void FitQuantizer(bool force);
  // Encodes every ready node with `quantizer` and publishes it.  REQUIRES: structure_mutex_ held
  // exclusively (or the index not yet shared), no quantizer set.
  void InstallQuantizer(std::shared_ptr<const ScalarQuantizer> quantizer);

  // Reserves an id for `label`, writes the node and links it.  `unit` is already normalised;
  // with `external` the node points at it instead of copying it.
  Status AddNormalized(uint64_t label, const float* unit, bool external, Scratch& scratch);
  // Publishes `quantizer` for nodes whose codes are already written (Load).  REQUIRES: as
  // InstallQuantizer.
  void PublishQuantizer(std::shared_ptr<const ScalarQuantizer> quantizer);
  // Links node `id` (written by InitNode) into the graph.  With a quantizer (the one read when the
  // node was written, so every node the walk reaches has its code), the walk that finds the
  // candidates runs on the codes, as a search does, and the candidates it keeps are scored again
  // on float32 vectors before the neighbours are chosen: the links are picked on exact
  // similarities, and a quarter of the bytes are read per visited node.
  void Insert(uint32_t id, const float* unit, int level, const ScalarQuantizer* quantizer,
              Scratch& scratch);
  // Insert's walk and linking, below the entry point `entry`, with `metric` (search_metric.h).
  template <class Metric>
  void LinkNode(uint32_t id, const float* unit, int level, uint64_t entry, const Metric& metric,
                Scratch& scratch);
  int DrawLevel(uint64_t label) const;

  // hnsw_search.cc
  // Greedy walk (beam width 1) on levels from_level down to to_level, moving *current.  Metric
  // is internal::FloatMetric or internal::CodeMetric (search_metric.h).
  template <class Metric>
  void GreedyDescend(const NodeView& view, const Metric& metric, int from_level, int to_level,
                     Candidate* current, Scratch& scratch, SearchStats* stats) const;
  // Best-first beam search on one level, starting from scratch.candidates/results (already
  // seeded and marked visited).  Leaves up to ef admitted nodes in scratch.results.  kFiltered
  // admits only live nodes that `filter` (may be null) allows; otherwise every node is admitted.
  // With a finite max_dist, a walk that finds nothing within it gives up early.
  template <bool kFiltered, class Metric>
  void SearchLayer(const NodeView& view, const Metric& metric, int level, size_t ef, float max_dist,
                   const LabelFilter* filter, Scratch& scratch, SearchStats* stats) const;
  // Graph search on the normalised query with beam `ef`; the hits are left in scratch.results.
  template <class Metric>
  void GraphSearch(uint64_t entry, const NodeView& view, const Metric& metric, size_t ef,
                   float max_dist, const SearchOptions& options, Scratch& scratch,
                   SearchStats* stats) const;
  // Keeps the best `pool` of scratch.results (by estimate) and replaces their distances by exact
  // float32 ones.
  void Rerank(const NodeView& view, size_t pool, Scratch& scratch, SearchStats* stats) const;
  // Exact top-k over live nodes that `filter` allows, left in scratch.results.  Scores the rows
  // on their codes (then re-ranks the few that can reach the top k) when `quantizer` is set and
  // there are enough rows for it to pay; on float32 vectors otherwise.  Sets stats->compressed
  // when it used the codes.
  void ExactScan(const NodeView& view, size_t k, const LabelFilter* filter, float max_dist,
                 const ScalarQuantizer* quantizer, Scratch& scratch, SearchStats* stats) const;
  // The exact top-k of `ids` (admissible nodes), from their codes and error bounds.
  void CodeScan(const NodeView& view, std::span<const uint32_t> ids, size_t k, float max_dist,
                const ScalarQuantizer& quantizer, Scratch& scratch, SearchStats* stats) const;
  // The planner: true when an exact scan is predicted to cost no more than a walk with beam `ef`.
  // `*effort` is set to the walk's effort (ef / admitted fraction) and `*selective` to whether
  // the filter admits less than CostModel::kSelectiveFraction of the index, for the cost model.
  bool PreferExact(const LabelFilter* filter, size_t ef, bool codes, const CostModel& costs,
                   double* effort, bool* selective) const;
  // True when `id` is live and `filter` (may be null) allows its label.
  bool Admissible(const NodeView& view, uint32_t id, const LabelFilter* filter) const;
  // Validates the query and k, and writes the normalised query to scratch.query.
  Status PrepareQuery(std::span<const float> query, size_t k, Scratch& scratch) const;
  // Sorts scratch.results best first and writes up to k hits within max_dist to out.
  void EmitHits(const NodeView& view, size_t k, float max_dist, Scratch& scratch,
                SearchResult* out) const;

  // hnsw_build.cc
  // Keeps at most `max_count` of `candidates` (distances to one base node) with the HNSW
  // heuristic; the survivors are written to scratch.selected, closest first.
  void SelectNeighbors(const NodeView& view, std::vector<Candidate>& candidates, size_t max_count,
                       Scratch& scratch) const;
  // Adds `additions` (distances to `node`) to node's list on `level`, re-pruning on overflow.
  // REQUIRES: additions does not alias scratch.merged or scratch.selected.
  void MergeLinks(uint32_t node, int level, std::span<const Candidate> additions,
                  Scratch& scratch) const;

  // Entry point and top level, packed as (level << 32) | id; kNoEntry when empty.
  static constexpr uint64_t kNoEntry = ~uint64_t{0};

  const HnswParams params_;
  const double level_multiplier_;
  NodeStore store_;
  // Shared with other indexes when the creator passed one (HnswResources::scratch).
  std::shared_ptr<ScratchPool<internal::SearchScratch>> scratch_pool_;
  const bool fit_own_quantizer_;

  // Set once (FitQuantizer/InstallQuantizer), never replaced: quantizer_ publishes owned_quantizer_
  // with release semantics after every node's code is written.
  std::shared_ptr<const ScalarQuantizer> owned_quantizer_;
  std::atomic<const ScalarQuantizer*> quantizer_{nullptr};

  std::atomic<uint64_t> entry_{kNoEntry};
  std::mutex entry_mutex_;  // serialises changes of entry_ (rare: a new top level)

  // Shared by Add()/MarkDeleted(); exclusive in Save()/Compact() for a stable snapshot.
  mutable std::shared_mutex structure_mutex_;
  // Guards label_to_id_ and serialises NodeStore::Allocate().
  mutable std::shared_mutex label_mutex_;
  LabelIndex label_to_id_;  // newest node of each label

  std::atomic<size_t> live_count_{0};
  std::atomic<size_t> deleted_count_{0};

  mutable std::mutex record_check_mutex_;
  mutable std::unique_ptr<PendingRecordCheck> pending_check_;  // guarded by record_check_mutex_
};

}  // namespace mnemo::hnsw
