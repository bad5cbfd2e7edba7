// VectorStore's partition administration: archive, drop, re-attach.
#include <functional>
#include <map>
#include <set>

#include "storage/key_codec.h"
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
                                           const tables::ChunkStore& chunks) {
  std::map<std::string, std::vector<tables::ChunkStore::MonthChunk>> by_user;
  for (const MonthRow& row : rows) {
    const ChunkPayload& p = row.payload;
    by_user[p.user_id].push_back(
        tables::ChunkStore::MonthChunk{p.chunk_id, p.document_id, p.chunk_index,
                                       tables::VectorRef{row.label, month}, row.deleted});
  }
  int64_t dropped = 0;
  for (const auto& [user_id, user_chunks] : by_user) {
    auto guard = locks.LockUser(user_id);
    storage::WriteTxn txn(db_);
    MNEMO_ASSIGN_OR_RETURN(const int64_t removed,
                           chunks.StageDeleteMonthChunks(txn, user_id, user_chunks));
    MNEMO_RETURN_IF_ERROR(txn.Commit());
    dropped += removed;
  }
  return dropped;
}

Result<int64_t> VectorStore::DropPartition(std::string_view month_name, storage::LockTable& locks,
                                           const tables::ChunkStore& chunks) {
  uint32_t month = 0;
  MNEMO_RETURN_IF_ERROR(ParseMonthArgument(month_name, &month));
  return RetireMonth(month, /*archive_path=*/"", locks, chunks);
}

Result<int64_t> VectorStore::RetireMonth(uint32_t month, const std::string& archive_path,
                                         storage::LockTable& locks,
                                         const tables::ChunkStore& chunks) {
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
  return DropMonthRows(month, rows, locks, chunks);
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
                                                const tables::ChunkStore& chunks) {
  MNEMO_ASSIGN_OR_RETURN(Archive archive, ReadArchive(path, dim_, fs()));
  std::map<std::string, std::vector<NewChunk>> by_user;
  for (auto& row : archive.rows) by_user[row.user_id].push_back(std::move(row.chunk));

  AttachResult result;
  for (auto& [user_id, user_chunks] : by_user) {
    auto guard = locks.LockUser(user_id);
    storage::WriteTxn txn(db_);
    std::vector<NewChunk> accepted = std::move(user_chunks);
    MNEMO_ASSIGN_OR_RETURN(const int64_t skipped, chunks.KeepAttachable(txn, user_id, &accepted));
    result.skipped += skipped;
    // Each slice is one atomic write; a slice never exceeds the per-write chunk limit.
    for (size_t begin = 0; begin < accepted.size(); begin += kMaxChunksPerWrite) {
      const size_t end = std::min(accepted.size(), begin + kMaxChunksPerWrite);
      std::vector<NewChunk> slice(
          std::make_move_iterator(accepted.begin() + static_cast<std::ptrdiff_t>(begin)),
          std::make_move_iterator(accepted.begin() + static_cast<std::ptrdiff_t>(end)));
      MNEMO_RETURN_IF_ERROR(chunks.StageAdd(txn, user_id, slice).status());
      MNEMO_RETURN_IF_ERROR(txn.Commit());
      result.attached += static_cast<int64_t>(slice.size());
    }
  }
  return result;
}

}  // namespace mnemo::vector
