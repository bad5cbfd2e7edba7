// Engine: mnemo's storage engine for one data directory — the public API that mnemod, tools and
// tests use.  (SPEC §2; vector search arrives in engine/vector.)
//
// Every operation is scoped to a user_id: rows of other users are NOT_FOUND, never revealed.
// Errors come back as Status/Result with the SPEC §4 codes; VALIDATION_ERROR names the field.
// Writes are durable when they return (EngineOptions::sync_writes) and atomic: a row, its
// indexes and the counters it moves commit together.
//
// Thread-safety: an Engine is fully thread-safe; share one instance across threads.  Writes of
// one user are serialized; different users write in parallel.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "mnemo/batch.h"
#include "mnemo/maintenance.h"
#include "mnemo/options.h"
#include "mnemo/records.h"
#include "mnemo/result.h"

namespace mnemo {

class Engine {
 public:
  // Opens (or creates) the data directory.  VALIDATION_ERROR for a directory that is not
  // mnemo's or has another schema version/dimension; UNAVAILABLE for I/O problems.
  static Result<std::unique_ptr<Engine>> Open(const EngineOptions& options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  uint32_t dimension() const;

  // ---- conversations ----
  Result<Conversation> CreateConversation(std::string_view user_id, const NewConversation& input);
  Result<Conversation> UpsertConversation(std::string_view user_id, const NewConversation& input);
  // Soft-deleted conversations are NOT_FOUND unless include_deleted.
  Result<Conversation> GetConversation(std::string_view user_id, const Uuid& id,
                                       bool include_deleted = false);
  Result<ConversationPage> ListConversations(std::string_view user_id,
                                             const ConversationListOptions& options);
  Result<ConversationPage> SearchConversationsByTitle(std::string_view user_id,
                                                      std::string_view query,
                                                      const ConversationListOptions& options);
  // The number of the user's conversations matching `filter`; counting stops at `stop_at`
  // (1 answers "does any exist").
  Result<int64_t> CountConversations(std::string_view user_id, const ConversationFilter& filter,
                                     bool include_deleted = false, int64_t stop_at = INT64_MAX);
  Result<UserStats> GetUserStats(std::string_view user_id);
  Result<Conversation> UpdateConversation(std::string_view user_id, const Uuid& id,
                                          const ConversationUpdate& update);
  Result<Conversation> SoftDeleteConversation(std::string_view user_id, const Uuid& id);
  Result<Conversation> UndeleteConversation(std::string_view user_id, const Uuid& id);
  // Removes the conversation and all its messages.
  Status HardDeleteConversation(std::string_view user_id, const Uuid& id);

  // ---- messages ----
  Result<Message> AppendMessage(std::string_view user_id, const NewMessage& input);
  Result<Message> UpsertMessage(std::string_view user_id, const NewMessage& input);
  Result<Message> GetMessage(std::string_view user_id, const Uuid& message_id);
  Result<MessagePage> ListMessages(std::string_view user_id, const Uuid& conversation_id,
                                   const MessageQuery& query);
  // The number of the conversation's messages matching the query's filters (its paging is
  // ignored); counting stops at `stop_at`.
  Result<int64_t> CountMessages(std::string_view user_id, const Uuid& conversation_id,
                                const MessageQuery& query, int64_t stop_at = INT64_MAX);
  // Changes the fields set in `update`; the conversation's total_tokens and updated_at follow.
  Result<Message> UpdateMessage(std::string_view user_id, const Uuid& message_id,
                                const MessageUpdate& update);
  // Deletes one message for good; the conversation's counters follow.  Returns the message.
  Result<Message> DeleteMessage(std::string_view user_id, const Uuid& message_id);
  // The last `count` messages in chronological order.
  Result<std::vector<Message>> LastMessages(std::string_view user_id, const Uuid& conversation_id,
                                            int64_t count);
  Result<std::optional<Message>> LastMessageByRole(std::string_view user_id,
                                                   const Uuid& conversation_id, Role role);
  Result<Message> SetToolResults(std::string_view user_id, const Uuid& message_id,
                                 std::string_view tool_results_json);
  Result<TokenStats> GetTokenStats(std::string_view user_id, const Uuid& conversation_id);
  // Returns the number of messages deleted.
  Result<int64_t> DeleteAllMessages(std::string_view user_id, const Uuid& conversation_id);

  // ---- documents ----
  Result<Document> CreateDocument(std::string_view user_id, const NewDocument& input);
  Result<Document> GetDocument(std::string_view user_id, const Uuid& id,
                               bool include_deleted = false);
  Result<DocumentPage> ListDocuments(std::string_view user_id, const DocumentListOptions& options);
  Result<DocumentPage> SearchDocumentsByFilename(std::string_view user_id, std::string_view query,
                                                 const DocumentListOptions& options);
  Result<DocumentCounts> CountDocuments(std::string_view user_id);
  // The number of the user's documents matching `filter`; counting stops at `stop_at`.
  Result<int64_t> CountDocuments(std::string_view user_id, const DocumentFilter& filter,
                                 bool include_deleted = false, int64_t stop_at = INT64_MAX);
  // Changes the fields set in `update` of a live document; a new filename or file type shows in
  // search at once.
  Result<Document> UpdateDocument(std::string_view user_id, const Uuid& id,
                                  const DocumentUpdate& update);
  Result<Document> SoftDeleteDocument(std::string_view user_id, const Uuid& id);
  Result<Document> UndeleteDocument(std::string_view user_id, const Uuid& id);
  Status HardDeleteDocument(std::string_view user_id, const Uuid& id);

  // ---- chunks and vector search ----
  // Adds chunks (with embeddings) to the user's live documents, atomically: all or none.  The
  // chunks are searchable when this returns.
  Result<std::vector<Chunk>> AddChunks(std::string_view user_id,
                                       const std::vector<NewChunk>& chunks);
  // Replaces every chunk of a live document (soft-deleted ones too) by `chunks`, atomically: a
  // search sees the old set or the new one.  An empty list removes them all.
  Result<std::vector<Chunk>> ReplaceChunks(std::string_view user_id, const Uuid& document_id,
                                           const std::vector<NewChunk>& chunks);
  // One chunk of a live document; a soft-deleted chunk only with include_deleted.
  Result<Chunk> GetChunk(std::string_view user_id, const Uuid& chunk_id,
                         bool include_deleted = false);
  // A live document's chunks in chunk_index order.
  Result<ChunkPage> ListChunks(std::string_view user_id, const Uuid& document_id,
                               const ChunkListOptions& options = {});
  // Hides a chunk from search (its chunk_index stays taken); the document's total_chunks counts
  // live chunks.  Deleting a deleted chunk returns it unchanged.
  Result<Chunk> SoftDeleteChunk(std::string_view user_id, const Uuid& chunk_id);
  // Undoes a soft delete; restoring a live chunk returns it unchanged.
  Result<Chunk> RestoreChunk(std::string_view user_id, const Uuid& chunk_id);
  // Removes a chunk (live or soft-deleted) and its vector for good.  Returns it.
  Result<Chunk> DeleteChunk(std::string_view user_id, const Uuid& chunk_id);
  // Cosine top-k over the user's chunks of live documents (SPEC §3).
  Result<SearchResponse> Search(std::string_view user_id, const SearchRequest& request);
  // Several searches in one call; fails as a whole on the first invalid request.
  Result<std::vector<SearchResponse>> SearchBatch(std::string_view user_id,
                                                  const std::vector<SearchRequest>& requests);
  // BM25 keyword search over the user's chunks of live documents, with the same filters as
  // Search.  A query of stop words only, or of terms the user's chunks never hold, is an empty
  // answer whose `text` says why; a blank query is VALIDATION_ERROR.
  Result<RankedSearchResponse> SearchText(std::string_view user_id,
                                          const TextSearchRequest& request);
  // Keyword and vector search fused (reciprocal rank fusion by default) in one call.
  Result<RankedSearchResponse> SearchHybrid(std::string_view user_id,
                                            const HybridSearchRequest& request);
  // The user's messages stored with an embedding nearest to request.query (the vector leg, with
  // the guarantees of Search, SPEC §3), the user's messages best matching request.query_text by
  // BM25 over their content (the text leg, as SearchText), or both fused as SearchHybrid does;
  // the response's `text` and `vector` say which legs ran.  VALIDATION_ERROR names the field
  // (query, query_text, top_k, ef, min_similarity, filters.*, fusion, rrf_k, text_weight,
  // candidates); UNAVAILABLE for query_text when keyword search is off.  Messages stored before
  // their content was indexed are found by keyword once the backfill reached them
  // (BackfillMessageTerms).
  Result<MessageSearchResponse> SearchMessages(std::string_view user_id,
                                               const MessageSearchRequest& request);
  std::vector<PartitionInfo> ListPartitions();
  // The keyword index's size; nullopt when keyword search is off (EngineOptions::keyword_search).
  std::optional<TextIndexInfo> TextIndexStats();
  // Rebuilds one month's graph ("YYYY-MM") online.
  Status RebuildPartition(std::string_view month);
  // Writes a month's chunks to an archive file (the partition stays).  Returns the row count.
  Result<int64_t> ArchivePartition(std::string_view month, const std::string& path);
  // Deletes a month's chunks from storage and search; documents' total_chunks follow.
  Result<int64_t> DropPartition(std::string_view month);
  // Re-attaches an archive: rows come back with their ids where their document still exists.
  Result<AttachResult> AttachArchive(const std::string& path);
  // Applies a retention policy once, as of `now` (EngineOptions::retention runs in the
  // background).  See mnemo/maintenance.h.
  Result<RetentionReport> ApplyRetention(const RetentionPolicy& policy, Timestamp now);
  // The retention policy the engine was opened with.
  const RetentionPolicy& retention_policy() const;
  // Rows, bytes, partitions, pending rows, compactions and retention counters.
  EngineMetrics GetMetrics();
  // Saves every partition's graph so the next open does not re-link rows.
  Status SaveIndexes();
  // Gives messages stored without terms (by earlier builds, or with keyword_search off) their
  // content's terms: the backfill that EngineOptions::backfill_message_terms otherwise runs in
  // the background (both may run at once; their steps take turns).  Runs at most `max_steps`
  // steps of at most 256 messages each (unset: until the pass ends); returns whether the pass
  // has ended.  UNAVAILABLE when keyword search is off.
  Result<bool> BackfillMessageTerms(std::optional<size_t> max_steps = std::nullopt);
  // Blocks until every written chunk is linked into its graph.  Search never needs this (rows
  // are searchable at once); tests and benchmarks use it to measure the graph path.
  void WaitForIndexing();

  // ---- context assembly ----
  // The conversation, its most recent messages and the relevant chunks within a token budget
  // (ContextRequest says how the budget is spent; EngineOptions::token_estimate how text without
  // tokens_used is counted).  Errors: NOT_FOUND for a conversation that is not the user's or is
  // soft-deleted; VALIDATION_ERROR naming the field for bad input, and for a budget smaller than
  // the system prompt (field token_budget: the answer is never silently truncated);
  // UNAVAILABLE for query_text when keyword search is off.
  Result<ContextResponse> AssembleContext(std::string_view user_id, const ContextRequest& request);

  // ---- atomic batches ----
  // Applies up to kMaxBatchOps writes atomically.  On failure nothing is written; the Status
  // is the failing op's, with its message prefixed by "op N: ".
  Result<BatchResult> ApplyBatch(std::string_view user_id, const std::vector<WriteOp>& ops);

  // ---- replication log (EngineOptions::replication_log) ----
  // Up to `max_records` records of the log, from sequence `from` on, in order; empty when the
  // log holds none there.  UNAVAILABLE when the log is off.
  Result<std::vector<LogRecord>> ReadLog(uint64_t from, size_t max_records);
  // The highest sequence in the log; 0 when it is empty.
  uint64_t LastLogSeq();
  // Deletes the log's records below sequence `below`, except the last record, which always
  // stays (it carries the log's position and epoch).  A replica that needs a deleted record must
  // re-bootstrap.  Returns the lowest sequence that may remain.  UNAVAILABLE when the log is off.
  Result<uint64_t> TrimLog(uint64_t below);
  // The epoch written into records from now on (the primary's, from its election).
  // VALIDATION_ERROR (field "epoch") below the highest epoch written or applied so far.
  Status SetLogEpoch(uint64_t epoch);
  // Applies a record of another engine's log (a replica following its primary): makes the call
  // the record names with its arguments and the primary's clock reading, and writes the record
  // into this engine's log under the same sequence, atomically with the call's writes, so both
  // logs hold the same history.  Errors, with nothing written: VALIDATION_ERROR naming "seq" when
  // `record.seq` does not follow this log's last sequence, "epoch" when the record's epoch is
  // below the highest this engine has written or applied, "record" for an unknown version or
  // kind or malformed bytes; UNAVAILABLE when the log is off; and the call's own error when it
  // fails here (the replica has diverged from its primary).
  Status ApplyLogged(const LogRecord& record);

  // Writes a consistent copy of the data directory to `path`, which must not exist yet: a RocksDB
  // checkpoint (hard links where the filesystem allows) plus the partitions' saved graphs.
  // Restoring is opening that directory (or copying it into place).  Safe while serving.  The
  // backup is durable when this returns (files and directory entries synced).
  // Errors: VALIDATION_ERROR when `path` exists; UNAVAILABLE for I/O failures.
  Status CreateBackup(const std::string& path);

  // Flushes memtables to disk (faster next open; not needed for durability).
  Status Flush();
  // Stops background work (after linking pending rows, up to
  // EngineOptions::max_rows_linked_on_close), saves the graphs and flushes.  Called by the
  // destructor when not called before; calling it lets the caller see errors.  No other call may
  // follow.
  Status Close();

 private:
  struct Impl;
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mnemo
