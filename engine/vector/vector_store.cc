#include "vector/vector_store.h"

#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <unordered_map>

#include "kernels/distance.h"
#include "storage/key_codec.h"
#include "tables/conversation_store.h"
#include "tables/row_codec.h"
#include "tables/validation.h"
#include "vector/chunk_rows.h"

namespace mnemo::vector {
namespace {

using storage::Cf;

// Rows linked per partition per indexer turn: small enough that every partition progresses.
constexpr size_t kIndexBatch = 64;
constexpr auto kIndexerIdlePoll = std::chrono::seconds(1);
// The indexer's nice value: graph linking is background work that must not take CPU from the
// writes and searches being answered (fresh rows are searchable without it).  On an idle core
// it runs at full speed; under contention it gets about a third of a request thread's share.
constexpr int kIndexerNice = 5;

// The error of item `index` ("chunk 3: ..." or, in a batch, "op 7: ...").
Status ItemError(std::string_view name, size_t index, const Status& status) {
  return Status::FromCode(status.code(),
                          std::string(name) + " " + std::to_string(index) + ": " + std::string(status.message()),
                          status.field());
}

// Field rules of one chunk; the embedding is checked (and normalised) by the caller.
Status ValidateChunk(const NewChunk& chunk) {
  if (chunk.id && chunk.id->IsNil()) return Status::ValidationError("id", "must not be the nil UUID");
  if (chunk.chunk_index < 0) return Status::ValidationError("chunk_index", "must be >= 0");
  MNEMO_RETURN_IF_ERROR(tables::ValidateText("chunk_text", chunk.chunk_text));
  if (chunk.chunk_text.empty()) return Status::ValidationError("chunk_text", "must not be empty");
  if (chunk.metadata) MNEMO_RETURN_IF_ERROR(tables::ValidateJsonObject("metadata", *chunk.metadata));
  if (chunk.created_at && (*chunk.created_at < kMinTimestamp || *chunk.created_at > kMaxTimestamp)) {
    return Status::ValidationError("created_at", "must be between 1970 and 9999");
  }
  return Status::Ok();
}

}  // namespace

VectorStore::VectorStore(storage::Db& db, const VectorOptions& options)
    : db_(db), options_(options), dim_(db.dimension()) {}

Result<std::unique_ptr<VectorStore>> VectorStore::Open(storage::Db& db, const VectorOptions& options) {
  std::error_code ec;
  std::filesystem::create_directories(options.index_dir, ec);
  if (ec) return Status::Unavailable("cannot create index directory " + options.index_dir + ": " + ec.message());
  std::unique_ptr<VectorStore> store(new VectorStore(db, options));
  MNEMO_RETURN_IF_ERROR(store->NewGraph().status());  // parameters are valid
  MNEMO_RETURN_IF_ERROR(store->Load());
  store->indexer_ = std::thread([raw = store.get()] { raw->IndexerLoop(); });
  return store;
}

VectorStore::~VectorStore() {
  {
    std::lock_guard lock(indexer_mutex_);
    stop_ = true;
  }
  indexer_wake_.notify_all();
  if (indexer_.joinable()) indexer_.join();
}

Result<std::unique_ptr<hnsw::HnswIndex>> VectorStore::NewGraph() const {
  hnsw::HnswParams params;
  params.dim = dim_;
  params.m = options_.m;
  params.ef_construction = options_.ef_construction;
  return hnsw::HnswIndex::Create(params);
}

std::string VectorStore::GraphPath(uint32_t month) const {
  return (std::filesystem::path(options_.index_dir) / (MonthName(month) + ".hnsw")).string();
}

Status VectorStore::Load() {
  // Documents first: rows point at their document's shared state.
  Status decoded;
  MNEMO_RETURN_IF_ERROR(db_.Scan(Cf::kDocuments, {}, [&](std::string_view key, std::string_view value) {
    Document d;
    decoded = tables::DecodeDocument(value, Uuid::FromBytes(key), &d);
    if (!decoded.ok()) return false;
    documents_.Upsert(d.id, d.file_type, d.filename, d.is_deleted);
    return true;
  }));
  MNEMO_RETURN_IF_ERROR(decoded);

  // Then every row's payload, grouped by month.
  std::map<uint32_t, std::vector<std::pair<uint64_t, RowState>>> rows_by_month;
  uint64_t max_label = 0;
  storage::ScanRange payloads;
  payloads.prefix = keys::PayloadTagPrefix();
  MNEMO_RETURN_IF_ERROR(db_.Scan(Cf::kIndex, payloads, [&](std::string_view key, std::string_view value) {
    uint32_t month = 0;
    uint64_t label = 0;
    if (!keys::ParsePayloadKey(key, &month, &label)) {
      decoded = Status::Internal("corrupt chunk payload key");
      return false;
    }
    ChunkPayload payload;
    decoded = DecodePayload(value, &payload);
    if (!decoded.ok()) return false;
    auto document = documents_.Find(payload.document_id);
    if (!document) {
      decoded = Status::Internal("chunk " + payload.chunk_id.ToString() + " has no document");
      return false;
    }
    RowState row;
    row.user_ref = users_.Intern(payload.user_id);
    row.created_at = payload.created_at;
    row.chunk_index = payload.chunk_index;
    row.chunk_id = payload.chunk_id;
    row.document = std::move(document);
    row.metadata = ParseChunkMetadata(payload.metadata);
    max_label = std::max(max_label, label);
    rows_by_month[month].emplace_back(label, std::move(row));
    return true;
  }));
  MNEMO_RETURN_IF_ERROR(decoded);

  // Saved graphs, then catch-up: rows a graph lacks go to the fresh buffer.
  uint64_t next_label = max_label + 1;
  for (auto& [month, rows] : rows_by_month) {
    std::unique_ptr<hnsw::HnswIndex> graph;
    auto loaded = hnsw::HnswIndex::Load(GraphPath(month));
    if (loaded.ok() && loaded->index->params().dim == dim_) {
      graph = std::move(loaded->index);
      // Every label in a saved graph is below the label counter it was saved with.
      next_label = std::max(next_label, loaded->applied_seqno);
    } else {
      if (!loaded.ok() && !loaded.status().IsNotFound()) {
        spdlog::warn("partition {}: saved graph unusable ({}); re-linking from storage",
                     MonthName(month), loaded.status().ToString());
      }
      MNEMO_ASSIGN_OR_RETURN(graph, NewGraph());
    }
    auto partition = std::make_shared<Partition>(month, dim_, std::move(graph));
    std::vector<float> vector;
    for (auto& [label, row] : rows) {
      if (partition->Indexed(label)) {
        partition->Restore(label, std::move(row));
        continue;
      }
      std::string bytes;
      MNEMO_RETURN_IF_ERROR(db_.Get(Cf::kVectors, keys::VectorKey(month, label), &bytes));
      MNEMO_RETURN_IF_ERROR(DecodeVector(bytes, dim_, &vector));
      partition->Insert(label, std::move(row), vector);
    }
    partitions_[month] = std::move(partition);
  }
  next_label_.store(next_label);
  return Status::Ok();
}

std::shared_ptr<Partition> VectorStore::PartitionFor(uint32_t month, bool create) {
  {
    std::shared_lock lock(partitions_mutex_);
    auto it = partitions_.find(month);
    if (it != partitions_.end()) return it->second;
  }
  if (!create) return nullptr;
  auto graph = NewGraph();
  if (!graph.ok()) return nullptr;  // parameters were validated in Open()
  std::unique_lock lock(partitions_mutex_);
  auto& slot = partitions_[month];
  if (!slot) slot = std::make_shared<Partition>(month, dim_, std::move(graph).value());
  return slot;
}

void VectorStore::InsertRows(uint32_t month, std::vector<Partition::FreshRow> rows) {
  // Under the registry lock, so a partition found here is not retired (erased when empty) before
  // the rows are in it.
  {
    std::shared_lock lock(partitions_mutex_);
    auto it = partitions_.find(month);
    if (it != partitions_.end()) {
      it->second->InsertBatch(std::move(rows));
      return;
    }
  }
  auto graph = NewGraph();
  std::unique_lock lock(partitions_mutex_);
  auto& slot = partitions_[month];
  if (!slot) slot = std::make_shared<Partition>(month, dim_, std::move(graph).value());  // params validated in Open()
  slot->InsertBatch(std::move(rows));
}

std::vector<std::shared_ptr<Partition>> VectorStore::AllPartitions() const {
  std::shared_lock lock(partitions_mutex_);
  std::vector<std::shared_ptr<Partition>> all;
  for (const auto& [month, partition] : partitions_) all.push_back(partition);
  return all;
}

// ---- writes -----------------------------------------------------------------------------------

Result<std::vector<Chunk>> VectorStore::StageAddChunks(storage::WriteTxn& txn, std::string_view user_id,
                                                       const tables::DocumentStore& documents,
                                                       const std::vector<NewChunk>& chunks,
                                                       std::string_view name, size_t first_index) {
  const auto ChunkError = [&](size_t i, const Status& status) { return ItemError(name, first_index + i, status); };
  if (chunks.empty()) return Status::ValidationError("chunks", "at least one chunk is required");
  if (chunks.size() > kMaxChunksPerWrite) {
    return Status::ValidationError("chunks", "at most " + std::to_string(kMaxChunksPerWrite) + " chunks per write");
  }
  struct DocumentChange {
    Document before;
    Document after;
  };
  std::unordered_map<Uuid, DocumentChange, UuidHash> changed;
  std::vector<Chunk> written;
  written.reserve(chunks.size());
  // What the commit hook publishes to search: one hook for the whole call, so the user, each
  // document and each partition are looked up (and locked) once, not once per row.
  struct StagedRow {
    uint64_t label;
    uint32_t month;
    Uuid document_id;
    ChunkPayload payload;
    std::vector<float> unit;
  };
  std::vector<StagedRow> staged_rows;
  staged_rows.reserve(chunks.size());
  const Timestamp now = NowMicros();

  for (size_t i = 0; i < chunks.size(); ++i) {
    const NewChunk& input = chunks[i];
    Status valid = ValidateChunk(input);
    if (!valid.ok()) return ChunkError(i, valid);
    if (input.embedding.size() != dim_) {
      return ChunkError(i, Status::ValidationError("embedding", "has " + std::to_string(input.embedding.size()) +
                                                                    " values; this data directory stores " +
                                                                    std::to_string(dim_) + "-dimensional embeddings"));
    }
    std::vector<float> unit(input.embedding);
    if (!kernels::Normalize(unit.data(), unit.size())) {
      return ChunkError(i, Status::ValidationError("embedding", "must be finite and have a non-zero norm"));
    }

    auto doc_it = changed.find(input.document_id);
    if (doc_it == changed.end()) {
      auto loaded = documents.LoadForWrite(txn, user_id, input.document_id, /*allow_deleted=*/false);
      if (!loaded.ok()) return ChunkError(i, loaded.status());
      doc_it = changed.emplace(input.document_id, DocumentChange{*loaded, *loaded}).first;
    }

    // Uniqueness of the chunk id and of (document, chunk_index).
    const std::string by_document = keys::ChunkByDocumentKey(input.document_id, static_cast<uint64_t>(input.chunk_index));
    std::string existing_id;
    Status slot = txn.Get(Cf::kIndex, by_document, &existing_id);
    if (slot.ok()) {
      if (input.id && existing_id == input.id->bytes()) {
        Chunk same;
        same.id = *input.id;
        same.document_id = input.document_id;
        same.chunk_index = input.chunk_index;
        written.push_back(std::move(same));  // idempotent retry: already stored
        continue;
      }
      return ChunkError(i, Status::FromCode(StatusCode::kDuplicateRecord,
                                            "document already has chunk_index " + std::to_string(input.chunk_index),
                                            "chunk_index"));
    }
    if (!slot.IsNotFound()) return ChunkError(i, slot);
    const Uuid chunk_id = input.id.value_or(Uuid::Generate());
    if (input.id) {
      std::string ignored;
      Status taken = txn.Get(Cf::kChunks, keys::ChunkKey(chunk_id), &ignored);
      if (taken.ok()) return ChunkError(i, Status::DuplicateRecord("chunk id " + chunk_id.ToString() + " is already in use"));
      if (!taken.IsNotFound()) return ChunkError(i, taken);
    }

    const uint64_t label = next_label_.fetch_add(1);
    ChunkPayload payload;
    payload.user_id = std::string(user_id);
    payload.chunk_id = chunk_id;
    payload.document_id = input.document_id;
    payload.chunk_index = input.chunk_index;
    payload.created_at = input.created_at.value_or(now);
    payload.metadata = input.metadata.value_or("{}");
    const uint32_t month = MonthOf(payload.created_at);

    txn.Put(Cf::kChunks, keys::ChunkKey(chunk_id), EncodeChunkRow(ChunkRow{label, month, input.chunk_text, std::nullopt}));
    txn.Put(Cf::kIndex, by_document, std::string(chunk_id.bytes()));
    txn.Put(Cf::kIndex, keys::PayloadKey(month, label), EncodePayload(payload));
    txn.Put(Cf::kVectors, keys::VectorKey(month, label), EncodeVector(unit.data(), dim_));
    doc_it->second.after.total_chunks += 1;

    Chunk chunk;
    chunk.id = chunk_id;
    chunk.document_id = input.document_id;
    chunk.chunk_index = input.chunk_index;
    chunk.chunk_text = input.chunk_text;
    chunk.metadata = payload.metadata;
    chunk.created_at = payload.created_at;
    written.push_back(std::move(chunk));
    staged_rows.push_back(StagedRow{label, month, input.document_id, std::move(payload), std::move(unit)});
  }
  // The hook keeps only what the row state needs of each document (not its content).
  struct DocumentFields {
    std::string file_type;
    std::string filename;
    bool is_deleted;
  };
  std::unordered_map<Uuid, DocumentFields, UuidHash> document_fields;
  for (auto& [id, change] : changed) {
    const Document& after = change.after;
    document_fields.emplace(id, DocumentFields{after.file_type, after.filename, after.is_deleted});
    if (after.total_chunks == change.before.total_chunks) continue;
    change.after.updated_at = tables::NextTimestamp(change.before.updated_at);
    MNEMO_RETURN_IF_ERROR(documents.Save(txn, &change.before, change.after));
  }
  if (staged_rows.empty()) return written;  // every chunk was an idempotent retry
  txn.OnCommit([this, user = std::string(user_id), staged_rows = std::move(staged_rows),
                document_fields = std::move(document_fields)]() mutable {
    const uint32_t user_ref = users_.Intern(user);
    std::unordered_map<Uuid, std::shared_ptr<DocumentState>, UuidHash> states;
    for (const auto& [id, fields] : document_fields) {
      states.emplace(id, documents_.Upsert(id, fields.file_type, fields.filename, fields.is_deleted));
    }
    // Rows of one call mostly share a month: insert each month's run under one lock.
    std::vector<Partition::FreshRow> run;
    run.reserve(staged_rows.size());
    for (size_t i = 0; i < staged_rows.size(); ++i) {
      StagedRow& staged = staged_rows[i];
      RowState row;
      row.user_ref = user_ref;
      row.created_at = staged.payload.created_at;
      row.chunk_index = staged.payload.chunk_index;
      row.chunk_id = staged.payload.chunk_id;
      row.document = states.at(staged.document_id);
      row.metadata = ParseChunkMetadata(staged.payload.metadata);
      run.push_back(Partition::FreshRow{staged.label, std::move(row), std::move(staged.unit)});
      if (i + 1 == staged_rows.size() || staged_rows[i + 1].month != staged.month) {
        InsertRows(staged.month, std::move(run));
        run.clear();
      }
    }
    NotifyIndexer();
  });
  return written;
}

Status VectorStore::StageDeleteDocumentChunks(storage::WriteTxn& txn, const Uuid& document_id) {
  storage::ScanRange range;
  range.prefix = keys::ChunkByDocumentPrefix(document_id);
  std::vector<std::pair<std::string, Uuid>> entries;
  MNEMO_RETURN_IF_ERROR(db_.Scan(Cf::kIndex, range, [&](std::string_view key, std::string_view value) {
    if (value.size() == Uuid::kSize) entries.emplace_back(std::string(key), Uuid::FromBytes(value));
    return true;
  }));
  std::vector<std::pair<uint32_t, uint64_t>> removed;
  for (const auto& [index_key, chunk_id] : entries) {
    std::string value;
    MNEMO_RETURN_IF_ERROR(db_.Get(Cf::kChunks, keys::ChunkKey(chunk_id), &value));
    ChunkRow row;
    MNEMO_RETURN_IF_ERROR(DecodeChunkRow(value, &row));
    txn.Delete(Cf::kIndex, index_key);
    txn.Delete(Cf::kChunks, keys::ChunkKey(chunk_id));
    txn.Delete(Cf::kVectors, keys::VectorKey(row.month, row.label));
    if (row.deleted_at) {
      txn.Delete(Cf::kIndex, keys::DeletedPayloadKey(row.month, row.label));
      txn.Delete(Cf::kIndex, keys::PurgeKey(*row.deleted_at, keys::PurgeKind::kChunk, chunk_id));
      continue;
    }
    txn.Delete(Cf::kIndex, keys::PayloadKey(row.month, row.label));
    removed.emplace_back(row.month, row.label);
  }
  txn.OnCommit([this, removed = std::move(removed)] {
    for (const auto& [month, label] : removed) {
      if (auto partition = PartitionFor(month, /*create=*/false)) partition->Remove(label);
    }
  });
  return Status::Ok();
}

void VectorStore::StageDocumentState(storage::WriteTxn& txn, const Document& document, bool erased) {
  txn.OnCommit([this, document, erased] {
    if (erased) {
      documents_.Erase(document.id);
    } else {
      documents_.Upsert(document.id, document.file_type, document.filename, document.is_deleted);
    }
  });
}

// ---- maintenance ------------------------------------------------------------------------------

std::vector<PartitionInfo> VectorStore::Partitions() const {
  std::vector<PartitionInfo> infos;
  for (const auto& partition : AllPartitions()) infos.push_back(partition->Info());
  return infos;
}

Status VectorStore::SaveIndexes() {
  const uint64_t label_watermark = next_label_.load();
  for (const auto& partition : AllPartitions()) {
    MNEMO_RETURN_IF_ERROR(partition->Save(GraphPath(partition->month()), label_watermark));
  }
  return Status::Ok();
}

Status VectorStore::Close() {
  size_t pending = 0;
  for (const auto& partition : AllPartitions()) pending += partition->pending();
  if (pending > 0 && pending <= options_.max_rows_linked_on_close) {
    spdlog::info("linking {} pending rows into their graphs before saving", pending);
    WaitForIndexing();
  }
  {
    std::lock_guard lock(indexer_mutex_);
    stop_ = true;
  }
  indexer_wake_.notify_all();
  if (indexer_.joinable()) indexer_.join();
  return SaveIndexes();
}

Status VectorStore::RebuildPartition(std::string_view month) {
  for (const auto& partition : AllPartitions()) {
    if (MonthName(partition->month()) != month) continue;
    MNEMO_RETURN_IF_ERROR(partition->Rebuild());
    graph_compactions_.fetch_add(1, std::memory_order_relaxed);
    return Status::Ok();
  }
  return Status::NotFound("no partition " + std::string(month));
}

void VectorStore::NotifyIndexer() {
  {
    std::lock_guard lock(indexer_mutex_);
    work_signalled_ = true;
  }
  indexer_wake_.notify_one();
}

void VectorStore::WaitForIndexing() {
  std::unique_lock lock(indexer_mutex_);
  indexer_idle_.wait(lock, [&] {
    if (stop_) return true;
    for (const auto& partition : AllPartitions()) {
      if (partition->pending() > 0) return false;
    }
    return !work_signalled_;
  });
}

void VectorStore::IndexerLoop() {
  // Linux: PRIO_PROCESS with a thread id sets that thread's nice value.  Best effort.
  if (::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), kIndexerNice) != 0) {
    spdlog::debug("indexer: cannot lower its priority: errno {}", errno);
  }
  while (true) {
    {
      std::lock_guard lock(indexer_mutex_);
      if (stop_) break;
      work_signalled_ = false;
    }
    size_t linked = 0;
    for (const auto& partition : AllPartitions()) linked += partition->IndexPending(kIndexBatch);
    if (linked > 0) continue;
    for (const auto& partition : AllPartitions()) {
      Result<bool> compacted = partition->CompactIfNeeded(options_.compact_deleted_fraction);
      if (!compacted.ok()) {
        spdlog::warn("partition {}: compaction failed: {}", MonthName(partition->month()), compacted.status().ToString());
      } else if (*compacted) {
        graph_compactions_.fetch_add(1, std::memory_order_relaxed);
      }
    }
    std::unique_lock lock(indexer_mutex_);
    indexer_idle_.notify_all();
    indexer_wake_.wait_for(lock, kIndexerIdlePoll, [&] { return stop_ || work_signalled_; });
  }
  indexer_idle_.notify_all();
}

}  // namespace mnemo::vector
