// A soft-deleted chunk keeps its row (now with deleted_at), its vector and its chunk_index slot;
// the vector layer hides its payload, so search state and the open-time scan no longer see it,
// and a purge-queue entry records when it was deleted.  Restoring gives the chunk a new
// VectorRef (its old label is a tombstone in the graph).
#include "tables/chunk_store.h"

#include <algorithm>
#include <map>
#include <unordered_map>

#include "storage/key_codec.h"
#include "tables/chunk_row.h"
#include "tables/conversation_store.h"
#include "tables/index_pager.h"
#include "tables/validation.h"
#include "vector/chunk_rows.h"

namespace mnemo::tables {
namespace {

using storage::Cf;

Status ChunkNotFound(const Uuid& id) {
  return Status::NotFound("chunk " + id.ToString() + " not found");
}

// The error of item `index` ("chunk 3: ..." or, in a batch, "op 7: ...").
Status ItemError(std::string_view name, size_t index, const Status& status) {
  return Status::FromCode(
      status.code(),
      std::string(name) + " " + std::to_string(index) + ": " + std::string(status.message()),
      status.field());
}

// Field rules of one chunk; the embedding is checked by the vector layer.
Status ValidateChunk(const NewChunk& chunk) {
  if (chunk.id && chunk.id->IsNil())
    return Status::ValidationError("id", "must not be the nil UUID");
  if (chunk.chunk_index < 0) return Status::ValidationError("chunk_index", "must be >= 0");
  MNEMO_RETURN_IF_ERROR(ValidateText("chunk_text", chunk.chunk_text));
  if (chunk.chunk_text.empty()) return Status::ValidationError("chunk_text", "must not be empty");
  if (chunk.metadata) MNEMO_RETURN_IF_ERROR(ValidateJsonObject("metadata", *chunk.metadata));
  if (chunk.created_at &&
      (*chunk.created_at < kMinTimestamp || *chunk.created_at > kMaxTimestamp)) {
    return Status::ValidationError("created_at", "must be between 1970 and 9999");
  }
  return Status::Ok();
}

// Where the vector layer keeps the search payload of a chunk with this row.
std::string PayloadKeyOf(const ChunkRow& row) {
  return row.deleted_at ? keys::DeletedPayloadKey(row.month, row.label)
                        : keys::PayloadKey(row.month, row.label);
}

VectorRef RefOf(const ChunkRow& row) { return VectorRef{row.label, row.month}; }

Chunk ToChunk(const ChunkRow& row, const vector::ChunkPayload& payload) {
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
Status ReadChunk(const Getter& get, const Uuid& chunk_id, ChunkRow* row,
                 vector::ChunkPayload* payload) {
  std::string value;
  Status found = get(Cf::kChunks, keys::ChunkKey(chunk_id), &value);
  if (found.IsNotFound()) return ChunkNotFound(chunk_id);
  MNEMO_RETURN_IF_ERROR(found);
  MNEMO_RETURN_IF_ERROR(DecodeChunkRow(value, row));
  Status payload_found = get(Cf::kIndex, PayloadKeyOf(*row), &value);
  if (payload_found.IsNotFound())
    return Status::Internal("chunk " + chunk_id.ToString() + " has no payload");
  MNEMO_RETURN_IF_ERROR(payload_found);
  return vector::DecodePayload(value, payload);
}

}  // namespace

struct ChunkStore::Located {
  ChunkRow row;
  vector::ChunkPayload payload;
  Document document;
};

// ---- writes ---------------------------------------------------------------------------------

Result<std::vector<Chunk>> ChunkStore::StageAdd(storage::WriteTxn& txn, std::string_view user_id,
                                                const std::vector<NewChunk>& chunks,
                                                std::string_view name, size_t first_index) const {
  std::vector<const NewChunk*> borrowed;
  borrowed.reserve(chunks.size());
  for (const NewChunk& chunk : chunks) borrowed.push_back(&chunk);
  return StageAdd(txn, user_id, borrowed, name, first_index);
}

Result<std::vector<Chunk>> ChunkStore::StageAdd(storage::WriteTxn& txn, std::string_view user_id,
                                                std::span<const NewChunk* const> chunks,
                                                std::string_view name, size_t first_index) const {
  const auto ChunkError = [&](size_t i, const Status& status) {
    return ItemError(name, first_index + i, status);
  };
  if (chunks.empty()) return Status::ValidationError("chunks", "at least one chunk is required");
  if (chunks.size() > kMaxChunksPerWrite) {
    return Status::ValidationError(
        "chunks", "at most " + std::to_string(kMaxChunksPerWrite) + " chunks per write");
  }
  for (size_t i = 0; i < chunks.size(); ++i) {
    Status valid = ValidateChunk(*chunks[i]);
    if (!valid.ok()) return ChunkError(i, valid);
  }
  const std::unique_ptr<ChunkVectors::NewChunks> vectors = vectors_->StartChunks(user_id, chunks);
  // Node-based: the vector layer borrows each `after` until Stage.
  struct DocumentChange {
    Document before;
    Document after;
  };
  std::unordered_map<Uuid, DocumentChange, UuidHash> changed;
  std::vector<Chunk> written;
  written.reserve(chunks.size());
  bool added = false;
  const Timestamp now = txn.now();

  for (size_t i = 0; i < chunks.size(); ++i) {
    const NewChunk& input = *chunks[i];
    Status checked = vectors->Check(i);
    if (!checked.ok()) return ChunkError(i, checked);

    auto doc_it = changed.find(input.document_id);
    if (doc_it == changed.end()) {
      auto loaded =
          documents_.LoadForWrite(txn, user_id, input.document_id, /*allow_deleted=*/false);
      if (!loaded.ok()) return ChunkError(i, loaded.status());
      doc_it = changed.emplace(input.document_id, DocumentChange{*loaded, *loaded}).first;
    }

    // Uniqueness of the chunk id and of (document, chunk_index).
    const std::string by_document =
        keys::ChunkByDocumentKey(input.document_id, static_cast<uint64_t>(input.chunk_index));
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
                                            "document already has chunk_index " +
                                                std::to_string(input.chunk_index),
                                            "chunk_index"));
    }
    if (!slot.IsNotFound()) return ChunkError(i, slot);
    const Uuid chunk_id = input.id.value_or(Uuid::Generate());
    if (input.id) {
      std::string ignored;
      Status taken = txn.Get(Cf::kChunks, keys::ChunkKey(chunk_id), &ignored);
      if (taken.ok())
        return ChunkError(
            i, Status::DuplicateRecord("chunk id " + chunk_id.ToString() + " is already in use"));
      if (!taken.IsNotFound()) return ChunkError(i, taken);
    }

    Chunk chunk;
    chunk.id = chunk_id;
    chunk.document_id = input.document_id;
    chunk.chunk_index = input.chunk_index;
    chunk.chunk_text = input.chunk_text;
    chunk.metadata = input.metadata.value_or("{}");
    chunk.created_at = input.created_at.value_or(now);
    const VectorRef ref = vectors->Add(i, chunk, doc_it->second.after);
    txn.Put(Cf::kChunks, keys::ChunkKey(chunk_id),
            EncodeChunkRow(ChunkRow{ref.label, ref.month, input.chunk_text, std::nullopt}));
    txn.Put(Cf::kIndex, by_document, std::string(chunk_id.bytes()));
    doc_it->second.after.total_chunks += 1;
    written.push_back(std::move(chunk));
    added = true;
  }
  for (auto& [id, change] : changed) {
    if (change.after.total_chunks == change.before.total_chunks) continue;
    change.after.updated_at = NextTimestamp(txn.now(), change.before.updated_at);
    MNEMO_RETURN_IF_ERROR(documents_.Save(txn, &change.before, change.after));
  }
  if (!added) return written;  // every chunk was an idempotent retry
  MNEMO_RETURN_IF_ERROR(vectors->Stage(txn));
  return written;
}

Result<ChunkStore::Located> ChunkStore::Locate(const storage::WriteTxn& txn,
                                               std::string_view user_id, const Uuid& chunk_id,
                                               bool allow_deleted_document) const {
  Located located;
  const auto get = [&txn](Cf cf, std::string_view key, std::string* value) {
    return txn.Get(cf, key, value);
  };
  MNEMO_RETURN_IF_ERROR(ReadChunk(get, chunk_id, &located.row, &located.payload));
  if (located.payload.user_id != user_id) return ChunkNotFound(chunk_id);
  auto document =
      documents_.LoadForWrite(txn, user_id, located.payload.document_id, allow_deleted_document);
  if (document.status().IsNotFound()) return ChunkNotFound(chunk_id);
  MNEMO_RETURN_IF_ERROR(document.status());
  located.document = std::move(document).value();
  return located;
}

Status ChunkStore::StageUncount(storage::WriteTxn& txn, const Located& located) const {
  Document document = located.document;
  document.total_chunks = std::max<int64_t>(0, document.total_chunks - 1);
  document.updated_at = NextTimestamp(txn.now(), located.document.updated_at);
  return documents_.Save(txn, &located.document, document);
}

Result<Chunk> ChunkStore::StageSoftDelete(storage::WriteTxn& txn, std::string_view user_id,
                                          const Uuid& chunk_id) const {
  MNEMO_ASSIGN_OR_RETURN(const Located located, Locate(txn, user_id, chunk_id, false));
  if (located.row.deleted_at) return ToChunk(located.row, located.payload);
  ChunkRow row = located.row;
  row.deleted_at = txn.now();
  txn.Put(Cf::kChunks, keys::ChunkKey(chunk_id), EncodeChunkRow(row));
  txn.Put(Cf::kIndex, keys::PurgeKey(*row.deleted_at, keys::PurgeKind::kChunk, chunk_id),
          std::string(user_id));
  Chunk chunk = ToChunk(row, located.payload);
  MNEMO_RETURN_IF_ERROR(StageUncount(txn, located));
  MNEMO_RETURN_IF_ERROR(vectors_->StageHide(txn, user_id, chunk, RefOf(row)));
  return chunk;
}

Result<Chunk> ChunkStore::StageRestore(storage::WriteTxn& txn, std::string_view user_id,
                                       const Uuid& chunk_id) const {
  MNEMO_ASSIGN_OR_RETURN(const Located located, Locate(txn, user_id, chunk_id, false));
  if (!located.row.deleted_at) return ToChunk(located.row, located.payload);
  const ChunkRow& old = located.row;
  ChunkRow row = old;
  row.deleted_at.reset();
  const Chunk chunk = ToChunk(row, located.payload);
  MNEMO_ASSIGN_OR_RETURN(const VectorRef ref,
                         vectors_->StageShow(txn, user_id, chunk, located.document, RefOf(old)));
  row.label = ref.label;
  row.month = ref.month;
  txn.Put(Cf::kChunks, keys::ChunkKey(chunk_id), EncodeChunkRow(row));
  txn.Delete(Cf::kIndex, keys::PurgeKey(*old.deleted_at, keys::PurgeKind::kChunk, chunk_id));
  Document document = located.document;
  document.total_chunks += 1;
  document.updated_at = NextTimestamp(txn.now(), located.document.updated_at);
  MNEMO_RETURN_IF_ERROR(documents_.Save(txn, &located.document, document));
  return chunk;
}

Result<Chunk> ChunkStore::StageDelete(storage::WriteTxn& txn, std::string_view user_id,
                                      const Uuid& chunk_id, bool allow_deleted_document) const {
  MNEMO_ASSIGN_OR_RETURN(const Located located,
                         Locate(txn, user_id, chunk_id, allow_deleted_document));
  const ChunkRow& row = located.row;
  const vector::ChunkPayload& payload = located.payload;
  txn.Delete(Cf::kChunks, keys::ChunkKey(chunk_id));
  txn.Delete(Cf::kIndex, keys::ChunkByDocumentKey(payload.document_id,
                                                  static_cast<uint64_t>(payload.chunk_index)));
  if (row.deleted_at) {
    txn.Delete(Cf::kIndex, keys::PurgeKey(*row.deleted_at, keys::PurgeKind::kChunk, chunk_id));
  } else {
    MNEMO_RETURN_IF_ERROR(StageUncount(txn, located));
  }
  const ChunkVectors::StoredChunk stored{RefOf(row), row.deleted_at.has_value()};
  MNEMO_RETURN_IF_ERROR(vectors_->StageRemoveChunks(txn, user_id, std::span(&stored, 1)));
  return ToChunk(row, payload);
}

Status ChunkStore::StageDeleteDocumentChunks(storage::WriteTxn& txn, std::string_view user_id,
                                             const Uuid& document_id) const {
  storage::ScanRange range;
  range.prefix = keys::ChunkByDocumentPrefix(document_id);
  std::vector<std::pair<std::string, Uuid>> entries;
  MNEMO_RETURN_IF_ERROR(
      db_.Scan(Cf::kIndex, range, [&](std::string_view key, std::string_view value) {
        if (value.size() == Uuid::kSize)
          entries.emplace_back(std::string(key), Uuid::FromBytes(value));
        return true;
      }));
  std::vector<ChunkVectors::StoredChunk> removed;
  removed.reserve(entries.size());
  for (const auto& [index_key, chunk_id] : entries) {
    std::string value;
    MNEMO_RETURN_IF_ERROR(db_.Get(Cf::kChunks, keys::ChunkKey(chunk_id), &value));
    ChunkRow row;
    MNEMO_RETURN_IF_ERROR(DecodeChunkRow(value, &row));
    txn.Delete(Cf::kIndex, index_key);
    txn.Delete(Cf::kChunks, keys::ChunkKey(chunk_id));
    if (row.deleted_at)
      txn.Delete(Cf::kIndex, keys::PurgeKey(*row.deleted_at, keys::PurgeKind::kChunk, chunk_id));
    removed.push_back(ChunkVectors::StoredChunk{RefOf(row), row.deleted_at.has_value()});
  }
  return vectors_->StageRemoveChunks(txn, user_id, removed);
}

// ---- partition administration ---------------------------------------------------------------

Result<int64_t> ChunkStore::StageDeleteMonthChunks(storage::WriteTxn& txn, std::string_view user_id,
                                                   std::span<const MonthChunk> chunks) const {
  std::map<Uuid, std::pair<Document, Document>> changed;  // before, after
  std::vector<ChunkVectors::StoredChunk> removed;
  for (const MonthChunk& chunk : chunks) {
    // Read from a snapshot: skip a chunk deleted, soft-deleted or restored (moved) since.
    std::string value;
    Status found = txn.Get(Cf::kChunks, keys::ChunkKey(chunk.chunk_id), &value);
    if (found.IsNotFound()) continue;
    MNEMO_RETURN_IF_ERROR(found);
    ChunkRow row;
    MNEMO_RETURN_IF_ERROR(DecodeChunkRow(value, &row));
    if (row.label != chunk.ref.label || row.month != chunk.ref.month ||
        row.deleted_at.has_value() != chunk.deleted) {
      continue;
    }
    txn.Delete(Cf::kChunks, keys::ChunkKey(chunk.chunk_id));
    txn.Delete(Cf::kIndex, keys::ChunkByDocumentKey(chunk.document_id,
                                                    static_cast<uint64_t>(chunk.chunk_index)));
    removed.push_back(ChunkVectors::StoredChunk{chunk.ref, chunk.deleted});
    if (row.deleted_at) {
      txn.Delete(Cf::kIndex,
                 keys::PurgeKey(*row.deleted_at, keys::PurgeKind::kChunk, chunk.chunk_id));
      continue;  // not counted in total_chunks
    }
    auto it = changed.find(chunk.document_id);
    if (it == changed.end()) {
      auto loaded =
          documents_.LoadForWrite(txn, user_id, chunk.document_id, /*allow_deleted=*/true);
      if (!loaded.ok()) continue;  // chunks of a vanished document: just remove them
      it = changed.emplace(chunk.document_id, std::make_pair(*loaded, *loaded)).first;
    }
    it->second.second.total_chunks = std::max<int64_t>(0, it->second.second.total_chunks - 1);
  }
  for (auto& [id, change] : changed) {
    change.second.updated_at = NextTimestamp(txn.now(), change.first.updated_at);
    MNEMO_RETURN_IF_ERROR(documents_.Save(txn, &change.first, change.second));
  }
  MNEMO_RETURN_IF_ERROR(vectors_->StageRemoveChunks(txn, user_id, removed));
  return static_cast<int64_t>(removed.size());
}

Result<int64_t> ChunkStore::KeepAttachable(const storage::WriteTxn& txn, std::string_view user_id,
                                           std::vector<NewChunk>* chunks) const {
  int64_t skipped = 0;
  std::vector<NewChunk> accepted;
  for (NewChunk& chunk : *chunks) {
    std::string ignored;
    const bool document_live = documents_.LoadForWrite(txn, user_id, chunk.document_id, false).ok();
    const bool slot_free = txn.Get(Cf::kIndex,
                                   keys::ChunkByDocumentKey(
                                       chunk.document_id, static_cast<uint64_t>(chunk.chunk_index)),
                                   &ignored)
                               .IsNotFound() &&
                           txn.Get(Cf::kChunks, keys::ChunkKey(*chunk.id), &ignored).IsNotFound();
    if (document_live && slot_free) {
      accepted.push_back(std::move(chunk));
    } else {
      ++skipped;
    }
  }
  *chunks = std::move(accepted);
  return skipped;
}

Result<std::optional<Timestamp>> ChunkStore::DeletedAt(const storage::WriteTxn& txn,
                                                       const Uuid& chunk_id) const {
  std::string value;
  Status found = txn.Get(Cf::kChunks, keys::ChunkKey(chunk_id), &value);
  if (found.IsNotFound()) return ChunkNotFound(chunk_id);
  MNEMO_RETURN_IF_ERROR(found);
  ChunkRow row;
  MNEMO_RETURN_IF_ERROR(DecodeChunkRow(value, &row));
  return row.deleted_at;
}

// ---- reads ----------------------------------------------------------------------------------

Result<Chunk> ChunkStore::Get(std::string_view user_id, const Uuid& chunk_id,
                              bool include_deleted) const {
  MNEMO_RETURN_IF_ERROR(ValidateUserId(user_id));
  const storage::ReadView view = db_.Snapshot();
  const auto get = [&view](Cf cf, std::string_view key, std::string* value) {
    return view.Get(cf, key, value);
  };
  ChunkRow row;
  vector::ChunkPayload payload;
  MNEMO_RETURN_IF_ERROR(ReadChunk(get, chunk_id, &row, &payload));
  if (payload.user_id != user_id || (row.deleted_at && !include_deleted))
    return ChunkNotFound(chunk_id);
  auto document = documents_.Get(user_id, payload.document_id, /*include_deleted=*/false);
  if (document.status().IsNotFound()) return ChunkNotFound(chunk_id);
  MNEMO_RETURN_IF_ERROR(document.status());
  return ToChunk(row, payload);
}

Result<ChunkPage> ChunkStore::List(std::string_view user_id, const Uuid& document_id,
                                   const ChunkListOptions& options) const {
  MNEMO_RETURN_IF_ERROR(ValidateUserId(user_id));
  MNEMO_RETURN_IF_ERROR(ValidatePaging(options.skip, options.limit, kMaxChunkPageSize));
  MNEMO_ASSIGN_OR_RETURN(const Document document,
                         documents_.Get(user_id, document_id, /*include_deleted=*/false));
  const storage::ReadView view = db_.Snapshot();
  PageRequest request;
  request.prefix = keys::ChunkByDocumentPrefix(document_id);
  request.cursor = options.cursor;
  request.skip = options.skip;
  request.limit = options.limit;
  EntryMatch live_only;
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
  MNEMO_ASSIGN_OR_RETURN(IndexPage page, ScanPage(view, Cf::kIndex, request, live_only));
  const auto get = [&view](Cf cf, std::string_view key, std::string* value) {
    return view.Get(cf, key, value);
  };
  ChunkPage result;
  result.items.reserve(page.entries.size());
  for (const auto& [key, value] : page.entries) {
    if (value.size() != Uuid::kSize) return Status::Internal("corrupt chunk index entry");
    ChunkRow row;
    vector::ChunkPayload payload;
    MNEMO_RETURN_IF_ERROR(ReadChunk(get, Uuid::FromBytes(value), &row, &payload));
    result.items.push_back(ToChunk(row, payload));
  }
  result.next_cursor = std::move(page.next_cursor);
  if (options.include_deleted) {
    MNEMO_ASSIGN_OR_RETURN(result.total, CountMatches(view, Cf::kIndex, request, {}));
  } else {
    result.total = document.total_chunks;
  }
  return result;
}

}  // namespace mnemo::tables
