// The Engine facade: validates the caller's user id, takes the user's write lock, and hands
// each operation to the store that owns it.  No table logic lives here.  The write calls and
// the replication log are in engine_writes.cc.
#include "mnemo/engine.h"

#include <filesystem>
#include <vector>

#include "context/assemble.h"
#include "context/message_search.h"
#include "engine_impl.h"

namespace mnemo {

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() {
  if (impl_) Close().IgnoreError();  // errors are only reportable through Close()
}

Result<std::unique_ptr<Engine>> Engine::Open(const EngineOptions& options) {
  // Options are checked before anything is opened.
  if (options.retention.keep_months < 0 || options.retention.purge_after_seconds < 0) {
    return Status::ValidationError("retention", "keep_months and purge_after_seconds must be >= 0");
  }
  MNEMO_RETURN_IF_ERROR(context::ValidateTokenEstimate(options.token_estimate));
  storage::DbOptions db_options;
  db_options.path = options.data_dir;
  db_options.create_if_missing = options.create_if_missing;
  db_options.foreign_entries = options.foreign_entries;
  db_options.dimension = options.dimension;
  db_options.sync_writes = options.sync_writes;
  db_options.block_cache_bytes = options.block_cache_bytes;
  db_options.file_system = options.rocksdb_file_system;
  MNEMO_ASSIGN_OR_RETURN(std::unique_ptr<storage::Db> db, storage::Db::Open(db_options));
  auto impl = std::make_unique<Impl>(std::move(db), options.file_system);
  vector::VectorOptions vector_options;
  vector_options.index_dir = (std::filesystem::path(options.data_dir) / "hnsw").string();
  vector_options.file_system = impl->file_system.get();
  vector_options.m = options.hnsw_m;
  vector_options.ef_construction = options.hnsw_ef_construction;
  vector_options.default_ef = options.default_ef;
  vector_options.compressed_search = options.compressed_vector_search;
  vector_options.rerank_factor = options.vector_rerank_factor;
  vector_options.max_rows_linked_on_close = options.max_rows_linked_on_close;
  vector_options.release_after_linked_bytes = options.release_after_linked_bytes;
  vector_options.vector_dir = (std::filesystem::path(options.data_dir) / "vectors").string();
  vector_options.segment_bytes = options.vector_segment_bytes;
  vector_options.inline_max_bytes = options.vector_inline_max_bytes;
  vector_options.sync_writes = options.sync_writes;
  text::Bm25Params bm25;
  bm25.k1 = options.bm25_k1;
  bm25.b = options.bm25_b;
  // The keyword index loads on a thread of its own while the vector store opens (they read
  // different keys, and the vector store does not use it while opening); what needs it waits for
  // it, the rest is served meanwhile.
  if (options.keyword_search) {
    MNEMO_ASSIGN_OR_RETURN(impl->text, text::TextIndex::OpenLoading(*impl->db, bm25));
  }
  MNEMO_ASSIGN_OR_RETURN(impl->vectors,
                         vector::VectorStore::Open(*impl->db, vector_options, impl->text.get()));
  // The stores that own the rows stage what search sees through the vector layer.
  impl->messages.set_vectors(impl->vectors.get());
  impl->documents.set_vectors(impl->vectors.get());
  impl->chunk_store.set_vectors(impl->vectors.get());
  impl->conversations.set_message_vectors(impl->vectors.get());
  impl->retention =
      std::make_unique<maintenance::Retention>(*impl->db, impl->locks, impl->conversations,
                                               impl->documents, impl->chunk_store, *impl->vectors);
  MNEMO_RETURN_IF_ERROR(impl->retention->EnsurePurgeQueue());
  if (impl->text) {
    impl->backfill = std::make_unique<maintenance::MessageTextBackfill>(
        *impl->db, impl->locks, impl->conversations, impl->messages);
    MNEMO_RETURN_IF_ERROR(impl->backfill->Init());
    if (!impl->backfill->done() && options.backfill_message_terms) {
      impl->backfill_runner =
          std::make_unique<maintenance::MessageTextBackfillRunner>(*impl->backfill);
    }
  } else {
    // Messages written now store no terms: a later open with keyword search backfills them.
    MNEMO_RETURN_IF_ERROR(maintenance::MessageTextBackfill::Reset(*impl->db));
  }
  impl->log_writes = options.replication_log;
  if (impl->log_writes) MNEMO_RETURN_IF_ERROR(impl->ReadLogEpoch());
  impl->policy = options.retention;
  impl->token_estimate = options.token_estimate;
  if (options.retention.enabled()) {
    impl->retention_runner = std::make_unique<maintenance::RetentionRunner>(
        *impl->retention, options.retention, options.retention_interval);
  }
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

uint32_t Engine::dimension() const { return impl_->db->dimension(); }
Status Engine::Flush() { return impl_->db->Flush(); }

Status Engine::CreateBackup(const std::string& path) {
  std::error_code ec;
  if (path.empty() || std::filesystem::exists(path, ec)) {
    return Status::ValidationError("path",
                                   "backup path must name a directory that does not exist yet");
  }
  // Graphs first: they then cover no row the checkpoint lacks (rows deleted in between are
  // filtered out on open; rows added in between are caught up from the checkpoint).
  MNEMO_RETURN_IF_ERROR(impl_->vectors->SaveIndexes());
  // Vector segments stay in place from before the checkpoint until they are copied, so every
  // pointer the checkpoint holds names a record the copy has.
  vector::VectorLog& vectors = impl_->vectors->vector_log();
  const std::shared_ptr<void> pin = vectors.Pin();
  MNEMO_RETURN_IF_ERROR(impl_->db->Checkpoint(path));
  // The saved graphs and the segments, copied and synced like the checkpoint's own files.
  MNEMO_RETURN_IF_ERROR(
      impl_->vectors->CopySavedGraphs((std::filesystem::path(path) / "hnsw").string()));
  MNEMO_RETURN_IF_ERROR(vectors.CopySegments((std::filesystem::path(path) / "vectors").string()));
  return impl_->fs().SyncDir(path);
}

Status Engine::Close() {
  if (impl_->closed) return Status::Ok();
  impl_->closed = true;
  impl_->retention_runner.reset();
  impl_->backfill_runner.reset();
  Status saved = impl_->vectors->Close();
  Status flushed = impl_->db->Flush();
  return saved.ok() ? flushed : saved;
}

// ---- conversations ----

Result<Conversation> Engine::GetConversation(std::string_view user_id, const Uuid& id,
                                             bool include_deleted) {
  return impl_->conversations.Get(user_id, id, include_deleted);
}

Result<ConversationPage> Engine::ListConversations(std::string_view user_id,
                                                   const ConversationListOptions& options) {
  return impl_->conversations.List(user_id, options);
}

Result<ConversationPage> Engine::SearchConversationsByTitle(
    std::string_view user_id, std::string_view query, const ConversationListOptions& options) {
  return impl_->conversations.SearchByTitle(user_id, query, options);
}

Result<int64_t> Engine::CountConversations(std::string_view user_id,
                                           const ConversationFilter& filter, bool include_deleted,
                                           int64_t stop_at) {
  return impl_->conversations.Count(user_id, include_deleted, filter, stop_at);
}

Result<UserStats> Engine::GetUserStats(std::string_view user_id) {
  return impl_->conversations.Stats(user_id);
}

// ---- messages ----

Result<Message> Engine::GetMessage(std::string_view user_id, const Uuid& message_id) {
  return impl_->messages.Get(user_id, message_id);
}

Result<MessagePage> Engine::ListMessages(std::string_view user_id, const Uuid& conversation_id,
                                         const MessageQuery& query) {
  return impl_->messages.List(user_id, conversation_id, query);
}

Result<int64_t> Engine::CountMessages(std::string_view user_id, const Uuid& conversation_id,
                                      const MessageQuery& query, int64_t stop_at) {
  return impl_->messages.Count(user_id, conversation_id, query, stop_at);
}

Result<std::vector<Message>> Engine::LastMessages(std::string_view user_id,
                                                  const Uuid& conversation_id, int64_t count) {
  return impl_->messages.Last(user_id, conversation_id, count);
}

Result<std::optional<Message>> Engine::LastMessageByRole(std::string_view user_id,
                                                         const Uuid& conversation_id, Role role) {
  return impl_->messages.LastByRole(user_id, conversation_id, role);
}

Result<TokenStats> Engine::GetTokenStats(std::string_view user_id, const Uuid& conversation_id) {
  return impl_->messages.TokenUsage(user_id, conversation_id);
}

// ---- documents ----

Result<Document> Engine::GetDocument(std::string_view user_id, const Uuid& id,
                                     bool include_deleted) {
  return impl_->documents.Get(user_id, id, include_deleted);
}

Result<DocumentPage> Engine::ListDocuments(std::string_view user_id,
                                           const DocumentListOptions& options) {
  return impl_->documents.List(user_id, options);
}

Result<DocumentPage> Engine::SearchDocumentsByFilename(std::string_view user_id,
                                                       std::string_view query,
                                                       const DocumentListOptions& options) {
  return impl_->documents.SearchByFilename(user_id, query, options);
}

Result<DocumentCounts> Engine::CountDocuments(std::string_view user_id) {
  return impl_->documents.Count(user_id);
}

Result<int64_t> Engine::CountDocuments(std::string_view user_id, const DocumentFilter& filter,
                                       bool include_deleted, int64_t stop_at) {
  return impl_->documents.CountMatching(user_id, include_deleted, filter, stop_at);
}

// ---- chunks and vector search ----

Result<Chunk> Engine::GetChunk(std::string_view user_id, const Uuid& chunk_id,
                               bool include_deleted) {
  return impl_->chunk_store.Get(user_id, chunk_id, include_deleted);
}

Result<ChunkPage> Engine::ListChunks(std::string_view user_id, const Uuid& document_id,
                                     const ChunkListOptions& options) {
  return impl_->chunk_store.List(user_id, document_id, options);
}

Result<SearchResponse> Engine::Search(std::string_view user_id, const SearchRequest& request) {
  return impl_->vectors->Search(user_id, request);
}

Result<std::vector<SearchResponse>> Engine::SearchBatch(
    std::string_view user_id, const std::vector<SearchRequest>& requests) {
  if (requests.empty() || requests.size() > kMaxSearchBatchQueries) {
    return Status::ValidationError(
        "requests",
        "a batch search holds 1.." + std::to_string(kMaxSearchBatchQueries) + " queries");
  }
  std::vector<SearchResponse> responses;
  responses.reserve(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    auto response = impl_->vectors->Search(user_id, requests[i]);
    if (!response.ok()) {
      const Status& s = response.status();
      return Status::FromCode(
          s.code(), "query " + std::to_string(i) + ": " + std::string(s.message()), s.field());
    }
    responses.push_back(std::move(response).value());
  }
  return responses;
}

Result<RankedSearchResponse> Engine::SearchText(std::string_view user_id,
                                                const TextSearchRequest& request) {
  return impl_->vectors->SearchText(user_id, request);
}

Result<RankedSearchResponse> Engine::SearchHybrid(std::string_view user_id,
                                                  const HybridSearchRequest& request) {
  return impl_->vectors->SearchHybrid(user_id, request);
}

Result<MessageSearchResponse> Engine::SearchMessages(std::string_view user_id,
                                                     const MessageSearchRequest& request) {
  return context::SearchMessages(impl_->messages, *impl_->vectors, user_id, request);
}

Result<ContextResponse> Engine::AssembleContext(std::string_view user_id,
                                                const ContextRequest& request) {
  const context::Sources sources{impl_->messages, *impl_->vectors, impl_->db->dimension(),
                                 impl_->token_estimate};
  return context::Assemble(sources, user_id, request);
}

std::optional<TextIndexInfo> Engine::TextIndexStats() {
  if (!impl_->text) return std::nullopt;
  const text::TextIndexStats stats = impl_->text->Stats();
  TextIndexInfo info;
  info.rows = static_cast<int64_t>(stats.rows);
  info.message_rows = static_cast<int64_t>(stats.message_rows);
  info.terms = static_cast<int64_t>(stats.terms);
  info.postings = static_cast<int64_t>(stats.postings);
  info.stored_bytes = static_cast<int64_t>(stats.stored_bytes);
  info.memory_bytes = static_cast<int64_t>(stats.memory_bytes);
  return info;
}

std::vector<PartitionInfo> Engine::ListPartitions() { return impl_->vectors->Partitions(); }
Status Engine::RebuildPartition(std::string_view month) {
  return impl_->vectors->RebuildPartition(month);
}
Status Engine::SaveIndexes() { return impl_->vectors->SaveIndexes(); }

Result<int64_t> Engine::ArchivePartition(std::string_view month, const std::string& path) {
  return impl_->vectors->ArchivePartition(month, path);
}

Result<int64_t> Engine::DropPartition(std::string_view month) {
  return impl_->vectors->DropPartition(month, impl_->locks, impl_->chunk_store);
}

Result<AttachResult> Engine::AttachArchive(const std::string& path) {
  return impl_->vectors->AttachArchive(path, impl_->locks, impl_->chunk_store);
}
void Engine::WaitForIndexing() { impl_->vectors->WaitForIndexing(); }

Result<bool> Engine::BackfillMessageTerms(std::optional<size_t> max_steps) {
  if (!impl_->backfill) return Status::Unavailable("keyword search is not enabled on this store");
  if (!max_steps) {
    MNEMO_RETURN_IF_ERROR(impl_->backfill->Finish());
    return true;
  }
  bool done = impl_->backfill->done();
  for (size_t step = 0; step < *max_steps && !done; ++step)
    MNEMO_RETURN_IF_ERROR(impl_->backfill->Step(&done));
  return done;
}

Result<RetentionReport> Engine::ApplyRetention(const RetentionPolicy& policy, Timestamp now) {
  return impl_->retention->Apply(policy, now);
}

const RetentionPolicy& Engine::retention_policy() const { return impl_->policy; }

EngineMetrics Engine::GetMetrics() {
  EngineMetrics metrics;
  metrics.partitions = impl_->vectors->Partitions();
  impl_->vectors->MessageVectorCounts(&metrics.message_vectors, &metrics.message_vectors_pending);
  metrics.message_terms = impl_->vectors->message_texts();
  if (impl_->backfill) {
    metrics.message_terms_backfill_done = impl_->backfill->done();
    metrics.message_terms_backfilled = impl_->backfill->indexed();
  }
  impl_->db->FillMetrics(&metrics);
  metrics.graph_compactions = impl_->vectors->graph_compactions();
  impl_->retention->FillMetrics(&metrics);
  return metrics;
}

}  // namespace mnemo
