// VectorStore's partition administration: archive, drop, re-attach.
#include <functional>
#include <map>
#include <set>

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

Result<int64_t> VectorStore::ArchivePartition(std::string_view month_name,
                                              const std::string& path) const {
  uint32_t month = 0;
  MNEMO_RETURN_IF_ERROR(ParseMonthArgument(month_name, &month));
  const std::shared_ptr<void> pin = log_->Pin();
  return WriteArchive(db_, *log_, month, path, fs());
}

// A stored row of a month: live (payload under the live tag) or soft-deleted.
struct MonthRow {
  uint64_t label = 0;
  ChunkPayload payload;
  bool deleted = false;
};

namespace {

// Every row of `month` in `view`, live rows first.
Status CollectMonth(const storage::ReadView& view, uint32_t month,
                    const std::function<void(MonthRow)>& add) {
  Status decoded;
  for (const bool deleted : {false, true}) {
    storage::ScanRange range;
    range.prefix = deleted ? keys::DeletedPayloadPrefix(month) : keys::PayloadPrefix(month);
    MNEMO_RETURN_IF_ERROR(
        view.Scan(storage::Cf::kIndex, range, [&](std::string_view key, std::string_view value) {
          MonthRow row;
          row.deleted = deleted;
          // Both tags share the layout [tag][month][label].
          std::string live_key(key);
          live_key[0] = keys::PayloadTagPrefix()[0];
          uint32_t key_month = 0;
          if (!keys::ParsePayloadKey(live_key, &key_month, &row.label)) {
            decoded = Status::Internal("corrupt chunk payload key");
            return false;
          }
          decoded = DecodePayload(value, &row.payload);
          if (!decoded.ok()) return false;
          add(std::move(row));
          return true;
        }));
    MNEMO_RETURN_IF_ERROR(decoded);
  }
  return Status::Ok();
}

}  // namespace

Result<int64_t> VectorStore::DropMonthRows(uint32_t month, const std::vector<MonthRow>& rows,
                                           storage::LockTable& locks,
                                           const tables::DocumentStore& documents) {
  std::map<std::string, std::vector<const MonthRow*>> by_user;
  for (const MonthRow& row : rows) by_user[row.payload.user_id].push_back(&row);

  int64_t dropped = 0;
  for (const auto& [user_id, user_rows] : by_user) {
    auto guard = locks.LockUser(user_id);
    storage::WriteTxn txn(db_);
    std::map<Uuid, std::pair<Document, Document>> changed;  // before, after
    std::vector<uint64_t> labels;
    for (const MonthRow* row : user_rows) {
      const ChunkPayload& p = row->payload;
      // The rows were read from a snapshot: skip any deleted, soft-deleted or restored since.
      const std::string payload_key = row->deleted ? keys::DeletedPayloadKey(month, row->label)
                                                   : keys::PayloadKey(month, row->label);
      std::string still;
      Status present = txn.Get(storage::Cf::kIndex, payload_key, &still);
      if (present.IsNotFound()) continue;
      MNEMO_RETURN_IF_ERROR(present);
      txn.Delete(storage::Cf::kChunks, keys::ChunkKey(p.chunk_id));
      txn.Delete(storage::Cf::kIndex,
                 keys::ChunkByDocumentKey(p.document_id, static_cast<uint64_t>(p.chunk_index)));
      txn.Delete(storage::Cf::kIndex, payload_key);
      MNEMO_RETURN_IF_ERROR(log_->StageDelete(txn, month, row->label));
      ++dropped;
      if (row->deleted) {
        std::string chunk_value;
        ChunkRow chunk;
        if (txn.Get(storage::Cf::kChunks, keys::ChunkKey(p.chunk_id), &chunk_value).ok() &&
            DecodeChunkRow(chunk_value, &chunk).ok() && chunk.deleted_at) {
          txn.Delete(storage::Cf::kIndex,
                     keys::PurgeKey(*chunk.deleted_at, keys::PurgeKind::kChunk, p.chunk_id));
        }
        continue;  // not counted in total_chunks, not in search
      }
      labels.push_back(row->label);
      auto it = changed.find(p.document_id);
      if (it == changed.end()) {
        auto loaded = documents.LoadForWrite(txn, user_id, p.document_id, /*allow_deleted=*/true);
        if (!loaded.ok()) continue;  // rows of a vanished document: just remove them
        it = changed.emplace(p.document_id, std::make_pair(*loaded, *loaded)).first;
      }
      it->second.second.total_chunks = std::max<int64_t>(0, it->second.second.total_chunks - 1);
    }
    for (auto& [id, change] : changed) {
      change.second.updated_at = tables::NextTimestamp(txn.now(), change.first.updated_at);
      MNEMO_RETURN_IF_ERROR(documents.Save(txn, &change.first, change.second));
    }
    std::vector<text::RowRef> text_rows;
    for (uint64_t label : labels) text_rows.push_back(text::RowRef{month, label});
    if (text_)
      MNEMO_RETURN_IF_ERROR(text_->StageRemove(txn, text::RowKind::kChunk, user_id, text_rows));
    txn.OnCommit([this, user = user_id, labels = std::move(labels)] { RemoveRows(user, labels); });
    MNEMO_RETURN_IF_ERROR(txn.Commit());
  }
  return dropped;
}

Result<int64_t> VectorStore::DropPartition(std::string_view month_name, storage::LockTable& locks,
                                           const tables::DocumentStore& documents) {
  uint32_t month = 0;
  MNEMO_RETURN_IF_ERROR(ParseMonthArgument(month_name, &month));
  return RetireMonth(month, /*archive_path=*/"", locks, documents);
}

Result<int64_t> VectorStore::RetireMonth(uint32_t month, const std::string& archive_path,
                                         storage::LockTable& locks,
                                         const tables::DocumentStore& documents) {
  const std::shared_ptr<void> pin = log_->Pin();
  const storage::ReadView view = db_.Snapshot();
  std::vector<MonthRow> rows;
  std::vector<std::pair<uint64_t, ChunkPayload>> live;
  MNEMO_RETURN_IF_ERROR(CollectMonth(view, month, [&](MonthRow row) {
    if (!row.deleted && !archive_path.empty()) live.emplace_back(row.label, row.payload);
    rows.push_back(std::move(row));
  }));
  if (!archive_path.empty()) {
    MNEMO_RETURN_IF_ERROR(WriteArchiveRows(view, *log_, month, live, archive_path, fs()).status());
  }
  return DropMonthRows(month, rows, locks, documents);
}

Result<std::vector<uint32_t>> VectorStore::StoredMonths() const {
  std::set<uint32_t> months;
  for (const auto& tenant : AllTenants()) {
    for (const auto& [month, stats] : tenant->MonthStats()) {
      if (stats.rows > 0) months.insert(month);
    }
  }
  // Soft-deleted rows are in no tenant: their months come from storage.
  storage::ScanRange range;
  range.prefix = std::string(1, static_cast<char>(keys::IndexTag::kDeletedChunkPayload));
  MNEMO_RETURN_IF_ERROR(
      db_.Scan(storage::Cf::kIndex, range, [&](std::string_view key, std::string_view) {
        std::string live_key(key);
        live_key[0] = keys::PayloadTagPrefix()[0];
        uint32_t month = 0;
        uint64_t label = 0;
        if (keys::ParsePayloadKey(live_key, &month, &label)) months.insert(month);
        return true;
      }));
  return std::vector<uint32_t>(months.begin(), months.end());
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
      const bool document_live =
          documents.LoadForWrite(txn, user_id, chunk.document_id, false).ok();
      const bool slot_free =
          txn.Get(storage::Cf::kIndex,
                  keys::ChunkByDocumentKey(chunk.document_id,
                                           static_cast<uint64_t>(chunk.chunk_index)),
                  &ignored)
              .IsNotFound() &&
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
      std::vector<NewChunk> slice(
          std::make_move_iterator(accepted.begin() + static_cast<std::ptrdiff_t>(begin)),
          std::make_move_iterator(accepted.begin() + static_cast<std::ptrdiff_t>(end)));
      MNEMO_RETURN_IF_ERROR(StageAddChunks(txn, user_id, documents, slice).status());
      MNEMO_RETURN_IF_ERROR(txn.Commit());
      result.attached += static_cast<int64_t>(slice.size());
    }
  }
  return result;
}

}  // namespace mnemo::vector
