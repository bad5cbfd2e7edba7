// VectorStore: the embeddings of chunks and messages, their search state and the per-user
// indexes that search them (SPEC §3).
//
// The table stores own the rows (tables::ChunkStore chunks, tables::MessageStore messages); the
// vector store owns what search needs of them, keyed by (owner kind, label): search payloads,
// unit vectors and keyword-index terms, staged through the tables::ChunkVectors and
// tables::MessageVectors interfaces in the store's WriteTxn (atomic with the rows).  Chunk
// vectors are keyed by month, so a month is the unit of archive and drop (the chunk rows of a
// dropped month go through the ChunkStore).  Search structures are per user (Tenant): every search
// names one user, so it touches only that user's rows, whatever the number of months and of other
// users.  When a write commits, its rows go into their tenant's fresh buffer and are searchable
// before the write is acknowledged.  A background indexer, at a lower CPU priority than request
// threads (nice 5), links fresh rows into each tenant's HNSW graph.  Tenant graphs share one
// scratch pool and one quantizer, fitted on a sample once the store holds
// hnsw::HnswIndex::kQuantizerMinNodes rows, so a small tenant costs little memory and is scanned on
// codes.  Graphs are saved on Close() and by SaveIndexes() (one file per user with a graph,
// "<index_dir>/tenants/<hash of user>.hnsw"); Open() loads them and catches up from storage (rows a
// saved graph lacks are re-linked, rows deleted since are never returned).
//
// Thread-safety: thread-safe.  Stage* methods REQUIRE the caller to hold the user's LockTable
// stripe until the transaction commits.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "mnemo/file_system.h"
#include "mnemo/records.h"
#include "mnemo/result.h"
#include "storage/db.h"
#include "storage/lock_table.h"
#include "storage/write_txn.h"
#include "tables/chunk_store.h"
#include "tables/document_store.h"
#include "tables/message_vectors.h"
#include "text/text_index.h"
#include "vector/hnsw/cost_model.h"
#include "vector/message_texts.h"
#include "vector/row_state.h"
#include "vector/tenant.h"
#include "vector/vector_log.h"

namespace mnemo::vector {

struct VectorOptions {
  // Where tenant graphs are saved ("<dir>/tenants/<hash of user id>.hnsw").
  std::string index_dir;
  // Where the vectors' segment files are (VectorLog); empty: "<index_dir>/../vectors".
  std::string vector_dir;
  // Bytes per vector segment file (VectorLogOptions::segment_bytes).
  uint64_t segment_bytes = uint64_t{64} << 20;
  // VectorLogOptions::inline_max_bytes.
  uint64_t inline_max_bytes = uint64_t{64} << 10;
  // Sync vectors before the write pointing at them (EngineOptions::sync_writes).
  bool sync_writes = true;
  // The file system graphs and archives go through; null means PosixFileSystem().  Must outlive
  // the store.
  FileSystem* file_system = nullptr;
  // Graph parameters for new tenant graphs (SPEC §3 defaults).
  uint32_t m = 16;
  uint32_t ef_construction = 64;
  // Beam width when a request names none, for a graph of up to 10,000 rows; larger graphs get
  // more (EngineOptions::default_ef says how much).  Raised to top_k.
  size_t default_ef = 128;
  // Compressed graph walk + exact re-rank of k * rerank_factor candidates (hnsw::SearchOptions).
  bool compressed_search = true;
  size_t rerank_factor = hnsw::SearchOptions::kDefaultRerankFactor;
  // Rebuild a tenant's graph when tombstones exceed this fraction of its nodes.
  double compact_deleted_fraction = 0.25;
  // Close() links up to this many pending rows before saving the graphs, so the next open starts
  // with complete graphs; a larger backlog is saved as is and linked by the next open's catch-up
  // (a quick shutdown matters more than a quick start then).
  size_t max_rows_linked_on_close = 200'000;
  // EngineOptions::release_after_linked_bytes.
  uint64_t release_after_linked_bytes = uint64_t{64} << 20;
};

struct MonthRow;  // a stored row of one month (partition_admin.cc)

// A message found by SearchMessages; the caller reads the message row.
struct MessageVectorHit {
  Uuid message_id;
  Uuid conversation_id;
  float similarity = 0;
};

struct MessageVectorAnswer {
  std::vector<MessageVectorHit> hits;  // best first
  bool exact = true;
  uint32_t ef_used = 0;
};

// A message found by SearchMessageText; the caller reads the message row.
struct MessageTextHit {
  Uuid message_id;
  Uuid conversation_id;
  double bm25 = 0;
};

struct MessageTextAnswer {
  std::vector<MessageTextHit> hits;  // best first
  TextLegInfo info;
};

// Message vectors (message_vectors.cc) live in tenants of their own, one per user beside the
// user's chunk tenant, saved as "<hash of user>.messages.hnsw": a chunk search never walks
// messages, nor a message search chunks.  Messages' content terms (message_vectors.cc too) are
// in the keyword index as RowKind::kMessage rows under labels of their own.  Neither is in month
// partitions: archive, drop and retention of months concern the document corpus; a message's
// vector and terms go with its message (deleted with it, purged with its conversation).
class VectorStore : public tables::MessageVectors,
                    public tables::ChunkVectors,
                    public tables::DocumentVectors {
 public:
  // Loads saved graphs and catches up from storage; starts the indexer.  `db` must outlive the
  // store.  Errors: UNAVAILABLE / INTERNAL for unreadable storage (a bad graph file is not an
  // error: the partition is re-linked from storage and a warning is logged).  `text`, when
  // given, is the keyword index chunk writes stage their text into; it must outlive the store.
  static Result<std::unique_ptr<VectorStore>> Open(storage::Db& db, const VectorOptions& options,
                                                   text::TextIndex* text = nullptr);
  // Stops the indexer.  Does not save graphs: call Close() first for a fast next open.
  ~VectorStore() override;
  // The file system the store's own files (graphs, archives) go through.
  FileSystem& fs() const {
    return options_.file_system ? *options_.file_system : PosixFileSystem();
  }
  VectorStore(const VectorStore&) = delete;
  VectorStore& operator=(const VectorStore&) = delete;

  // ---- chunk vectors (tables::ChunkVectors; chunk_vectors.cc) ----
  std::unique_ptr<NewChunks> StartChunks(std::string_view user_id,
                                         std::span<const NewChunk* const> inputs) override;
  Status StageHide(storage::WriteTxn& txn, std::string_view user_id, const Chunk& chunk,
                   const tables::VectorRef& ref) override;
  Result<tables::VectorRef> StageShow(storage::WriteTxn& txn, std::string_view user_id,
                                      const Chunk& chunk, const Document& document,
                                      const tables::VectorRef& ref) override;
  Status StageRemoveChunks(storage::WriteTxn& txn, std::string_view user_id,
                           std::span<const StoredChunk> chunks) override;
  // Publishes a document's state to search when txn commits (tables::DocumentVectors).
  void StageDocumentState(storage::WriteTxn& txn, const Document& document, bool erased) override;

  // ---- message vectors (tables::MessageVectors; message_vectors.cc) ----
  Result<tables::VectorRef> StagePut(storage::WriteTxn& txn, std::string_view user_id,
                                     const Message& message,
                                     const std::vector<float>& embedding) override;
  Result<tables::VectorRef> StageMove(storage::WriteTxn& txn, std::string_view user_id,
                                      const Message& message,
                                      const tables::VectorRef& ref) override;
  Status StageRemove(storage::WriteTxn& txn, std::string_view user_id,
                     const tables::VectorRef& ref) override;
  void StageConversationState(storage::WriteTxn& txn, const Uuid& conversation_id,
                              bool deleted) override;
  void StageConversationErased(storage::WriteTxn& txn, const Uuid& conversation_id) override;
  // The user's message vectors nearest to request.query, leaving out the messages `excluded`
  // names; validation as Search.
  Result<MessageVectorAnswer> SearchMessageVectors(std::string_view user_id,
                                                   const MessageSearchRequest& request,
                                                   std::vector<Uuid> excluded = {}) const;

  // ---- message content terms (tables::MessageVectors; message_vectors.cc) ----
  Result<std::optional<tables::TextRef>> StageTextPut(storage::WriteTxn& txn,
                                                      std::string_view user_id,
                                                      const Message& message,
                                                      bool conversation_deleted) override;
  Status StageTextRemove(storage::WriteTxn& txn, std::string_view user_id,
                         const tables::TextRef& ref) override;
  // The `depth` messages of the user best matching `query` by BM25, filtered as
  // SearchMessageVectors (`excluded` too).  Query errors name `field` (text::ParseQuery): a query
  // of stop words only is no error (info.ran is false).  UNAVAILABLE when the store was opened
  // without a text index.
  Result<MessageTextAnswer> SearchMessageText(std::string_view user_id, std::string_view field,
                                              std::string_view query, size_t depth,
                                              const MessageSearchFilters& filters,
                                              std::vector<Uuid> excluded = {}) const;
  // Messages whose content terms are indexed, all users.
  int64_t message_texts() const { return static_cast<int64_t>(message_texts_.size()); }
  bool keyword_search() const { return text_ != nullptr; }

  // ---- reads ----
  Result<SearchResponse> Search(std::string_view user_id, const SearchRequest& request) const;
  // BM25 keyword search over the user's chunks, with the same filters as Search (text_search.cc).
  // UNAVAILABLE when the store was opened without a text index.
  Result<RankedSearchResponse> SearchText(std::string_view user_id,
                                          const TextSearchRequest& request) const;
  // Keyword and vector search fused into one ranking.
  Result<RankedSearchResponse> SearchHybrid(std::string_view user_id,
                                            const HybridSearchRequest& request) const;
  std::vector<PartitionInfo> Partitions() const;
  // Message vectors in all users' message tenants, and those not yet linked.
  void MessageVectorCounts(int64_t* rows, int64_t* pending) const;
  // Graph compactions (tombstone clean-ups and rebuilds) since open.
  uint64_t graph_compactions() const { return graph_compactions_.load(std::memory_order_relaxed); }

  // ---- maintenance ----
  // Saves every partition's graph.  Safe while serving.
  Status SaveIndexes();
  // Copies the saved graph files into `dir` (created; laid out like index_dir), durably: files
  // and the entries inside `dir` are synced (`dir`'s own entry is the caller's to sync).
  Status CopySavedGraphs(const std::string& dir) const;
  // The vector segment files, for backups: Pin() before the checkpoint whose pointers the copy
  // must cover, CopySegments() after it.
  VectorLog& vector_log() const { return *log_; }
  // Links pending rows (up to VectorOptions::max_rows_linked_on_close), stops the indexer and
  // saves the graphs.  Rows still unlinked are caught up on the next open.
  Status Close();
  // Blocks until every written row is linked into its graph (tests and benchmarks).
  void WaitForIndexing();
  // Rebuilds online the graph of every user with rows in the month ("YYYY-MM").  NOT_FOUND for a
  // month without rows.
  Status RebuildPartition(std::string_view month);
  // Writes the month's rows to an archive file; the partition stays.  Returns the row count.
  Result<int64_t> ArchivePartition(std::string_view month, const std::string& path) const;
  // Deletes every row of the month from storage and search, and its saved graph; the chunk rows
  // (and documents' total_chunks) through `chunks`.  Each owner's rows go in one atomic write
  // under that owner's lock.
  Result<int64_t> DropPartition(std::string_view month, storage::LockTable& locks,
                                const tables::ChunkStore& chunks);
  // Retires one month for retention: writes its live rows to `archive_path` first when it is
  // set, then deletes the month's rows (live and soft-deleted) as DropPartition does.  Both
  // steps work from one snapshot, so every row deleted was archived; rows written to the month
  // after the snapshot stay (the next run retires them).  Returns the rows deleted.
  Result<int64_t> RetireMonth(uint32_t month, const std::string& archive_path,
                              storage::LockTable& locks, const tables::ChunkStore& chunks);
  // Months holding rows (live or soft-deleted), oldest first.
  Result<std::vector<uint32_t>> StoredMonths() const;
  // Re-adds an archive's rows with their original ids.  Rows whose document no longer exists
  // (or was soft-deleted), or whose id or (document, chunk_index) is taken now, are skipped.
  // The chunks are written through `chunks`.
  Result<AttachResult> AttachArchive(const std::string& path, storage::LockTable& locks,
                                     const tables::ChunkStore& chunks);

 private:
  VectorStore(storage::Db& db, const VectorOptions& options, text::TextIndex* text);
  Status Load(const VectorLogOptions& log_options);
  // Message payloads: rows grouped by user, for Load().
  struct LoadedRow {
    uint64_t label;
    uint32_t month;
    RowState row;
  };
  using RowsByUser = std::map<std::string, std::vector<LoadedRow>, std::less<>>;
  Status LoadMessageRows(RowsByUser* rows_by_user, uint64_t* max_label);
  // Scans the message payloads under `prefix` (keys parsed by `parse`), giving `add` each row
  // and its user and raising *max_label; `holds` names what the payloads are for in errors.
  Status ScanMessagePayloads(
      std::string_view prefix, bool (*parse)(std::string_view, uint32_t*, uint64_t*),
      std::string_view holds, uint64_t* max_label,
      const std::function<void(LoadedRow&& loaded, const std::string& user_id)>& add);
  // The search state of every message's content terms, for Load().
  Status LoadMessageTexts(uint64_t* max_label);
  // For Load(): the state of a conversation with message search entries, read from its row once.
  Result<std::shared_ptr<DocumentState>> LoadedConversationState(const Uuid& conversation_id);
  // Resolves message search filters for `user_ref`; VALIDATION_ERROR names the filter field.
  static Status BuildMessagePredicate(const MessageSearchFilters& filters, uint32_t user_ref,
                                      std::vector<Uuid> excluded, RowPredicate* predicate);
  // The tenant of `user_id` (interning the user), created with an empty graph when new.
  std::shared_ptr<Tenant> TenantFor(std::string_view user_id, OwnerKind kind = OwnerKind::kChunk);
  // The tenant of a known user ref, or null.
  std::shared_ptr<Tenant> FindTenant(uint32_t user_ref, OwnerKind kind = OwnerKind::kChunk) const;
  // Chunk tenants (the month partitions' rows).
  std::vector<std::shared_ptr<Tenant>> AllTenants() const;
  // Chunk and message tenants (graph upkeep: linking, saving, the quantizer).
  std::vector<std::shared_ptr<Tenant>> EveryTenant() const;
  static uint64_t TenantKey(OwnerKind kind, uint32_t user_ref) {
    return (static_cast<uint64_t>(kind) << 32) | user_ref;
  }
  // REQUIRES: tenants_mutex_ held (the shared quantizer is read under it).
  Result<std::unique_ptr<hnsw::HnswIndex>> NewGraph() const;
  hnsw::HnswResources GraphResources() const;
  std::string GraphPath(std::string_view user_id, OwnerKind kind = OwnerKind::kChunk) const;
  // Checks a query's top_k, dimension, min_similarity and ef; *unit gets it normalised.
  Status ValidateVectorQuery(const std::vector<float>& query, int64_t top_k,
                             const std::optional<float>& min_similarity,
                             const std::optional<int64_t>& ef, std::vector<float>* unit) const;
  // A search of `tenant` for the top_k rows nearest to `unit` that `predicate` admits, with the
  // store's search options; the beam is `ef`, or the default for the graph's size, at least
  // top_k.  `unit` and `predicate` must outlive the query.
  TenantQuery QueryFor(const Tenant& tenant, const std::vector<float>& unit, int64_t top_k,
                       const std::optional<int64_t>& ef, const std::optional<float>& min_similarity,
                       const RowPredicate& predicate) const;
  // Fits the shared quantizer once the store holds enough rows, and hands it to every tenant.
  void MaybeFitQuantizer();
  // A stored vector moved (VectorLogOptions::on_move): its graph node follows.
  void OnVectorMoved(uint32_t month, uint64_t label, const float* unit);
  void IndexerLoop();
  // Ends the indexer, then the vector log's moves; idempotent.
  void StopThreads();
  // The indexer's check of the graphs opened with their records unchecked (records_unchecked_):
  // each is checked once, and rebuilt when damaged.
  void CheckSavedGraphs();
  // `tenant` has fresh rows to link.
  void NotifyIndexer(std::shared_ptr<Tenant> tenant);
  class NewChunkBatch;  // NewChunks (chunk_vectors.cc)
  Result<int64_t> DropMonthRows(uint32_t month, const std::vector<MonthRow>& rows,
                                storage::LockTable& locks, const tables::ChunkStore& chunks);
  // Hides rows of `user_id` from search (soft or hard deletes, at commit).
  void RemoveRows(std::string_view user_id, const std::vector<uint64_t>& labels);
  // The text leg: validates the query, runs it over the user's rows that `predicate` admits.
  struct TextLeg;
  Result<TextLeg> RunTextLeg(std::string_view user_id, std::string_view field,
                             std::string_view query, size_t depth,
                             const RowPredicate& predicate) const;
  // Chunk rows for hits: fills each hit's chunk_text from storage; drops hits whose row is gone.
  Status LoadChunkTexts(std::vector<RankedHit>* hits) const;

  storage::Db& db_;
  const VectorOptions options_;
  std::unique_ptr<VectorLog> log_;  // every stored vector (cf vectors holds pointers into it)
  text::TextIndex* const text_;     // borrowed, may be null
  const uint32_t dim_;

  UserRegistry users_;
  DocumentRegistry documents_;
  DocumentRegistry conversations_;  // the states of conversations with message search entries
  MessageTexts message_texts_;      // the search state of messages' content terms
  std::atomic<uint64_t> next_label_{1};
  std::atomic<uint64_t> graph_compactions_{0};
  mutable hnsw::CostModel costs_;
  const std::shared_ptr<hnsw::ScratchPool<hnsw::internal::SearchScratch>> scratch_;

  mutable std::shared_mutex tenants_mutex_;
  std::unordered_map<uint64_t, std::shared_ptr<Tenant>> tenants_;  // by TenantKey
  std::shared_ptr<const hnsw::ScalarQuantizer> quantizer_;         // shared by tenant graphs

  std::mutex indexer_mutex_;
  std::condition_variable indexer_wake_;
  std::condition_variable indexer_idle_;
  bool stop_ = false;
  bool work_signalled_ = false;
  // Some graph was opened with its records' checksums not checked yet (Load); the indexer checks
  // them once it has no rows to link.  GUARDED_BY(indexer_mutex_)
  bool records_unchecked_ = false;
  // Tenants given fresh rows since the indexer last looked (may repeat).  The indexer links these
  // only, so a write costs it a look at one tenant, not at every tenant of the store; it looks at
  // every tenant once per kIndexerIdlePoll (graph compaction, and anything missed).
  std::vector<std::shared_ptr<Tenant>> dirty_tenants_;  // GUARDED_BY(indexer_mutex_)
  std::thread indexer_;
};

}  // namespace mnemo::vector
