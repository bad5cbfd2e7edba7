// VectorStore's partition administration: archive, drop, re-attach.
#include <map>

#include "storage/key_codec.h"
#include "tables/conversation_store.h"
#include "vector/chunk_rows.h"
#include "vector/partition_archive.h"
#include "vector/vector_store.h"

namespace mnemo::vector {
namespace {

Status ParseMonthArgument(std::string_view text, uint32_t* month) {
  if (!ParseMonth(text, month)) return Status::ValidationError("month", "must be YYYY-MM");
  return Status::Ok();
}

}  // namespace

Result<int64_t> VectorStore::ArchivePartition(std::string_view month_name, const std::string& path) const {
  uint32_t month = 0;
  MNEMO_RETURN_IF_ERROR(ParseMonthArgument(month_name, &month));
  return WriteArchive(db_, month, path, fs());
}

Result<int64_t> VectorStore::DropPartition(std::string_view month_name, storage::LockTable& locks,
                                           const tables::DocumentStore& documents) {
  uint32_t month = 0;
  MNEMO_RETURN_IF_ERROR(ParseMonthArgument(month_name, &month));
  struct Row {
    uint64_t label;
    ChunkPayload payload;
  };
  std::map<std::string, std::vector<Row>> by_user;
  storage::ScanRange range;
  range.prefix = keys::PayloadPrefix(month);
  Status decoded;
  MNEMO_RETURN_IF_ERROR(db_.Scan(storage::Cf::kIndex, range, [&](std::string_view key, std::string_view value) {
    Row row;
    uint32_t key_month = 0;
    if (!keys::ParsePayloadKey(key, &key_month, &row.label)) {
      decoded = Status::Internal("corrupt chunk payload key");
      return false;
    }
    decoded = DecodePayload(value, &row.payload);
    if (!decoded.ok()) return false;
    by_user[row.payload.user_id].push_back(std::move(row));
    return true;
  }));
  MNEMO_RETURN_IF_ERROR(decoded);

  int64_t dropped = 0;
  for (const auto& [user_id, rows] : by_user) {
    auto guard = locks.LockUser(user_id);
    storage::WriteTxn txn(db_);
    std::map<Uuid, std::pair<Document, Document>> changed;  // before, after
    for (const Row& row : rows) {
      const ChunkPayload& p = row.payload;
      txn.Delete(storage::Cf::kChunks, keys::ChunkKey(p.chunk_id));
      txn.Delete(storage::Cf::kIndex, keys::ChunkByDocumentKey(p.document_id, static_cast<uint64_t>(p.chunk_index)));
      txn.Delete(storage::Cf::kIndex, keys::PayloadKey(month, row.label));
      txn.Delete(storage::Cf::kVectors, keys::VectorKey(month, row.label));
      auto it = changed.find(p.document_id);
      if (it == changed.end()) {
        auto loaded = documents.LoadForWrite(txn, user_id, p.document_id, /*allow_deleted=*/true);
        if (!loaded.ok()) continue;  // rows of a vanished document: just remove them
        it = changed.emplace(p.document_id, std::make_pair(*loaded, *loaded)).first;
      }
      it->second.second.total_chunks = std::max<int64_t>(0, it->second.second.total_chunks - 1);
    }
    for (auto& [id, change] : changed) {
      change.second.updated_at = tables::NextTimestamp(change.first.updated_at);
      MNEMO_RETURN_IF_ERROR(documents.Save(txn, &change.first, change.second));
    }
    std::vector<uint64_t> labels;
    std::vector<text::RowRef> text_rows;
    for (const Row& row : rows) {
      labels.push_back(row.label);
      text_rows.push_back(text::RowRef{month, row.label});
    }
    if (text_) MNEMO_RETURN_IF_ERROR(text_->StageRemove(txn, text::RowKind::kChunk, user_id, text_rows));
    txn.OnCommit([this, user = user_id, labels = std::move(labels)] {
      uint32_t user_ref = 0;
      if (!users_.Find(user, &user_ref)) return;
      if (auto tenant = FindTenant(user_ref)) {
        for (uint64_t label : labels) tenant->Remove(label);
      }
    });
    MNEMO_RETURN_IF_ERROR(txn.Commit());
    dropped += static_cast<int64_t>(rows.size());
  }
  return dropped;
}

Result<AttachResult> VectorStore::AttachArchive(const std::string& path, storage::LockTable& locks,
                                                const tables::DocumentStore& documents) {
  MNEMO_ASSIGN_OR_RETURN(Archive archive, ReadArchive(path, dim_, fs()));
  std::map<std::string, std::vector<NewChunk>> by_user;
  for (auto& row : archive.rows) by_user[row.user_id].push_back(std::move(row.chunk));

  AttachResult result;
  for (auto& [user_id, chunks] : by_user) {
    auto guard = locks.LockUser(user_id);
    storage::WriteTxn txn(db_);
    std::vector<NewChunk> accepted;
    for (auto& chunk : chunks) {
      std::string ignored;
      const bool document_live = documents.LoadForWrite(txn, user_id, chunk.document_id, false).ok();
      const bool slot_free =
          txn.Get(storage::Cf::kIndex, keys::ChunkByDocumentKey(chunk.document_id, static_cast<uint64_t>(chunk.chunk_index)),
                  &ignored).IsNotFound() &&
          txn.Get(storage::Cf::kChunks, keys::ChunkKey(*chunk.id), &ignored).IsNotFound();
      if (document_live && slot_free) {
        accepted.push_back(std::move(chunk));
      } else {
        ++result.skipped;
      }
    }
    // Each slice is one atomic write; a slice never exceeds the per-write chunk limit.
    for (size_t begin = 0; begin < accepted.size(); begin += kMaxChunksPerWrite) {
      const size_t end = std::min(accepted.size(), begin + kMaxChunksPerWrite);
      std::vector<NewChunk> slice(std::make_move_iterator(accepted.begin() + static_cast<std::ptrdiff_t>(begin)),
                                  std::make_move_iterator(accepted.begin() + static_cast<std::ptrdiff_t>(end)));
      MNEMO_RETURN_IF_ERROR(StageAddChunks(txn, user_id, documents, slice).status());
      MNEMO_RETURN_IF_ERROR(txn.Commit());
      result.attached += static_cast<int64_t>(slice.size());
    }
  }
  return result;
}

}  // namespace mnemo::vector
