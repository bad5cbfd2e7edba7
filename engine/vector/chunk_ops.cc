// VectorStore's single-chunk operations: get, list, soft delete, restore, delete.
//
// A soft-deleted chunk keeps its row (now with deleted_at), its vector and its chunk_index slot;
// its payload moves from the live payload key to the deleted-payload key, so search state and
// the open-time scan no longer see it, its terms leave the keyword index, and a purge-queue entry
// records when it was deleted.  Restoring gives the row a new label (its old one is a tombstone
// in the graph) and puts it back in its partition and, under that label, in the keyword index.
#include "storage/key_codec.h"
#include "tables/conversation_store.h"
#include "tables/index_pager.h"
#include "tables/validation.h"
#include "vector/chunk_rows.h"
#include "vector/vector_store.h"

namespace mnemo::vector {
namespace {

using storage::Cf;

Status ChunkNotFound(const Uuid& id) {
  return Status::NotFound("chunk " + id.ToString() + " not found");
}

std::string PayloadKeyOf(const ChunkRow& row) {
  return row.deleted_at ? keys::DeletedPayloadKey(row.month, row.label)
                        : keys::PayloadKey(row.month, row.label);
}

Chunk ToChunk(const ChunkRow& row, const ChunkPayload& payload) {
  Chunk chunk;
  chunk.id = payload.chunk_id;
  chunk.document_id = payload.document_id;
  chunk.chunk_index = payload.chunk_index;
  chunk.chunk_text = row.chunk_text;
  chunk.metadata = payload.metadata;
  chunk.created_at = payload.created_at;
  chunk.is_deleted = row.deleted_at.has_value();
  chunk.deleted_at = row.deleted_at;
  return chunk;
}

// Reads a chunk's row and payload through `get` (a snapshot or a transaction).
template <typename Getter>
Status ReadChunk(const Getter& get, const Uuid& chunk_id, ChunkRow* row, ChunkPayload* payload) {
  std::string value;
  Status found = get(Cf::kChunks, keys::ChunkKey(chunk_id), &value);
  if (found.IsNotFound()) return ChunkNotFound(chunk_id);
  MNEMO_RETURN_IF_ERROR(found);
  MNEMO_RETURN_IF_ERROR(DecodeChunkRow(value, row));
  Status payload_found = get(Cf::kIndex, PayloadKeyOf(*row), &value);
  if (payload_found.IsNotFound())
    return Status::Internal("chunk " + chunk_id.ToString() + " has no payload");
  MNEMO_RETURN_IF_ERROR(payload_found);
  return DecodePayload(value, payload);
}

}  // namespace

struct VectorStore::LocatedChunk {
  ChunkRow row;
  ChunkPayload payload;
  Document document;
};

Result<VectorStore::LocatedChunk> VectorStore::LocateChunk(const storage::WriteTxn& txn,
                                                           std::string_view user_id,
                                                           const tables::DocumentStore& documents,
                                                           const Uuid& chunk_id,
                                                           bool allow_deleted_document) const {
  LocatedChunk located;
  const auto get = [&txn](Cf cf, std::string_view key, std::string* value) {
    return txn.Get(cf, key, value);
  };
  MNEMO_RETURN_IF_ERROR(ReadChunk(get, chunk_id, &located.row, &located.payload));
  if (located.payload.user_id != user_id) return ChunkNotFound(chunk_id);
  auto document =
      documents.LoadForWrite(txn, user_id, located.payload.document_id, allow_deleted_document);
  if (document.status().IsNotFound()) return ChunkNotFound(chunk_id);
  MNEMO_RETURN_IF_ERROR(document.status());
  located.document = std::move(document).value();
  return located;
}

Status VectorStore::StageLeaveSearch(storage::WriteTxn& txn, std::string_view user_id,
                                     const tables::DocumentStore& documents,
                                     LocatedChunk& located) {
  Document document = located.document;
  document.total_chunks = std::max<int64_t>(0, document.total_chunks - 1);
  document.updated_at = tables::NextTimestamp(txn.now(), located.document.updated_at);
  MNEMO_RETURN_IF_ERROR(documents.Save(txn, &located.document, document));
  const ChunkRow& row = located.row;
  if (text_)
    MNEMO_RETURN_IF_ERROR(
        text_->StageRemove(txn, text::RowKind::kChunk, user_id, {{row.month, row.label}}));
  txn.OnCommit(
      [this, user = std::string(user_id), label = row.label] { RemoveRows(user, {label}); });
  return Status::Ok();
}

Result<Chunk> VectorStore::StageSoftDeleteChunk(storage::WriteTxn& txn, std::string_view user_id,
                                                const tables::DocumentStore& documents,
                                                const Uuid& chunk_id) {
  MNEMO_ASSIGN_OR_RETURN(LocatedChunk located,
                         LocateChunk(txn, user_id, documents, chunk_id, false));
  if (located.row.deleted_at) return ToChunk(located.row, located.payload);
  ChunkRow row = located.row;
  row.deleted_at = txn.now();
  txn.Put(Cf::kChunks, keys::ChunkKey(chunk_id), EncodeChunkRow(row));
  txn.Delete(Cf::kIndex, keys::PayloadKey(row.month, row.label));
  txn.Put(Cf::kIndex, keys::DeletedPayloadKey(row.month, row.label),
          EncodePayload(located.payload));
  txn.Put(Cf::kIndex, keys::PurgeKey(*row.deleted_at, keys::PurgeKind::kChunk, chunk_id),
          std::string(user_id));
  MNEMO_RETURN_IF_ERROR(StageLeaveSearch(txn, user_id, documents, located));
  return ToChunk(row, located.payload);
}

Result<Chunk> VectorStore::StageRestoreChunk(storage::WriteTxn& txn, std::string_view user_id,
                                             const tables::DocumentStore& documents,
                                             const Uuid& chunk_id) {
  MNEMO_ASSIGN_OR_RETURN(LocatedChunk located,
                         LocateChunk(txn, user_id, documents, chunk_id, false));
  if (!located.row.deleted_at) return ToChunk(located.row, located.payload);
  const ChunkRow& old = located.row;
  std::vector<float> unit;
  MNEMO_RETURN_IF_ERROR(log_->Get(txn, old.month, old.label, &unit));

  ChunkRow row = old;
  row.deleted_at.reset();
  row.label = next_label_.fetch_add(1);
  txn.Put(Cf::kChunks, keys::ChunkKey(chunk_id), EncodeChunkRow(row));
  txn.Delete(Cf::kIndex, keys::DeletedPayloadKey(old.month, old.label));
  txn.Delete(Cf::kIndex, keys::PurgeKey(*old.deleted_at, keys::PurgeKind::kChunk, chunk_id));
  txn.Put(Cf::kIndex, keys::PayloadKey(row.month, row.label), EncodePayload(located.payload));
  // The record names its (month, label): a new label takes a new record.
  MNEMO_RETURN_IF_ERROR(log_->StageDelete(txn, old.month, old.label));
  const VectorLog::NewVector moved{row.month, row.label, unit.data()};
  std::vector<const float*> addresses;
  MNEMO_RETURN_IF_ERROR(log_->StagePut(txn, std::span(&moved, 1), &addresses));
  const float* in_place = addresses[0];
  if (in_place != nullptr) std::vector<float>().swap(unit);  // read in place: freed
  Document document = located.document;
  document.total_chunks += 1;
  document.updated_at = tables::NextTimestamp(txn.now(), located.document.updated_at);
  MNEMO_RETURN_IF_ERROR(documents.Save(txn, &located.document, document));
  if (text_) {
    MNEMO_RETURN_IF_ERROR(text_->StageAdd(txn, text::RowKind::kChunk, user_id,
                                          {text::TextRow{row.label, row.month, row.chunk_text}}));
  }
  txn.OnCommit([this, row, payload = located.payload, fields = document, unit = std::move(unit),
                in_place]() mutable {
    std::shared_ptr<Tenant> tenant = TenantFor(payload.user_id);
    RowState state;
    state.user_ref = tenant->user_ref();
    state.created_at = payload.created_at;
    state.chunk_index = payload.chunk_index;
    state.chunk_id = payload.chunk_id;
    state.document =
        documents_.Upsert(fields.id, fields.file_type, fields.filename, fields.is_deleted);
    state.metadata = ParseChunkMetadata(payload.metadata);
    std::vector<Tenant::FreshRow> rows;
    rows.push_back(Tenant::FreshRow{row.label, std::move(state), std::move(unit), in_place});
    tenant->InsertBatch(std::move(rows));
    NotifyIndexer(tenant);
  });
  return ToChunk(row, located.payload);
}

Result<Chunk> VectorStore::StageDeleteChunk(storage::WriteTxn& txn, std::string_view user_id,
                                            const tables::DocumentStore& documents,
                                            const Uuid& chunk_id, bool allow_deleted_document) {
  MNEMO_ASSIGN_OR_RETURN(LocatedChunk located,
                         LocateChunk(txn, user_id, documents, chunk_id, allow_deleted_document));
  const ChunkRow& row = located.row;
  const ChunkPayload& payload = located.payload;
  txn.Delete(Cf::kChunks, keys::ChunkKey(chunk_id));
  txn.Delete(Cf::kIndex, keys::ChunkByDocumentKey(payload.document_id,
                                                  static_cast<uint64_t>(payload.chunk_index)));
  txn.Delete(Cf::kIndex, PayloadKeyOf(row));
  MNEMO_RETURN_IF_ERROR(log_->StageDelete(txn, row.month, row.label));
  if (row.deleted_at) {
    txn.Delete(Cf::kIndex, keys::PurgeKey(*row.deleted_at, keys::PurgeKind::kChunk, chunk_id));
  } else {
    MNEMO_RETURN_IF_ERROR(StageLeaveSearch(txn, user_id, documents, located));
  }
  return ToChunk(row, payload);
}

// ---- reads ----------------------------------------------------------------------------------

Result<Chunk> VectorStore::GetChunk(std::string_view user_id,
                                    const tables::DocumentStore& documents, const Uuid& chunk_id,
                                    bool include_deleted) const {
  MNEMO_RETURN_IF_ERROR(tables::ValidateUserId(user_id));
  const storage::ReadView view = db_.Snapshot();
  const auto get = [&view](Cf cf, std::string_view key, std::string* value) {
    return view.Get(cf, key, value);
  };
  ChunkRow row;
  ChunkPayload payload;
  MNEMO_RETURN_IF_ERROR(ReadChunk(get, chunk_id, &row, &payload));
  if (payload.user_id != user_id || (row.deleted_at && !include_deleted))
    return ChunkNotFound(chunk_id);
  auto document = documents.Get(user_id, payload.document_id, /*include_deleted=*/false);
  if (document.status().IsNotFound()) return ChunkNotFound(chunk_id);
  MNEMO_RETURN_IF_ERROR(document.status());
  return ToChunk(row, payload);
}

Result<ChunkPage> VectorStore::ListChunks(std::string_view user_id,
                                          const tables::DocumentStore& documents,
                                          const Uuid& document_id,
                                          const ChunkListOptions& options) const {
  MNEMO_RETURN_IF_ERROR(tables::ValidateUserId(user_id));
  MNEMO_RETURN_IF_ERROR(tables::ValidatePaging(options.skip, options.limit, kMaxChunkPageSize));
  MNEMO_ASSIGN_OR_RETURN(const Document document,
                         documents.Get(user_id, document_id, /*include_deleted=*/false));
  const storage::ReadView view = db_.Snapshot();
  tables::PageRequest request;
  request.prefix = keys::ChunkByDocumentPrefix(document_id);
  request.cursor = options.cursor;
  request.skip = options.skip;
  request.limit = options.limit;
  tables::EntryMatch live_only;
  if (!options.include_deleted) {
    live_only = [&view](std::string_view, std::string_view chunk_id) -> Result<bool> {
      if (chunk_id.size() != Uuid::kSize) return Status::Internal("corrupt chunk index entry");
      std::string value;
      MNEMO_RETURN_IF_ERROR(
          view.Get(Cf::kChunks, keys::ChunkKey(Uuid::FromBytes(chunk_id)), &value));
      ChunkRow row;
      MNEMO_RETURN_IF_ERROR(DecodeChunkRow(value, &row));
      return !row.deleted_at.has_value();
    };
  }
  MNEMO_ASSIGN_OR_RETURN(tables::IndexPage page,
                         tables::ScanPage(view, Cf::kIndex, request, live_only));
  const auto get = [&view](Cf cf, std::string_view key, std::string* value) {
    return view.Get(cf, key, value);
  };
  ChunkPage result;
  result.items.reserve(page.entries.size());
  for (const auto& [key, value] : page.entries) {
    if (value.size() != Uuid::kSize) return Status::Internal("corrupt chunk index entry");
    ChunkRow row;
    ChunkPayload payload;
    MNEMO_RETURN_IF_ERROR(ReadChunk(get, Uuid::FromBytes(value), &row, &payload));
    result.items.push_back(ToChunk(row, payload));
  }
  result.next_cursor = std::move(page.next_cursor);
  if (options.include_deleted) {
    MNEMO_ASSIGN_OR_RETURN(result.total, tables::CountMatches(view, Cf::kIndex, request, {}));
  } else {
    result.total = document.total_chunks;
  }
  return result;
}

}  // namespace mnemo::vector
