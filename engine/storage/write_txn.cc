#include "storage/write_txn.h"

#include <rocksdb/write_batch.h>

namespace mnemo::storage {

Status WriteTxn::Get(Cf cf, std::string_view key, std::string* value) const {
  auto it = staged_.find(std::make_pair(cf, std::string(key)));
  if (it == staged_.end()) return db_.Get(cf, key, value);
  if (!it->second) return Status::NotFound("key deleted in this transaction");
  *value = *it->second;
  return Status::Ok();
}

void WriteTxn::Put(Cf cf, std::string_view key, std::string value) {
  auto cf_key = std::make_pair(cf, std::string(key));
  single_deletes_.erase(cf_key);
  staged_[std::move(cf_key)] = std::move(value);
}

void WriteTxn::Delete(Cf cf, std::string_view key) {
  auto cf_key = std::make_pair(cf, std::string(key));
  single_deletes_.erase(cf_key);
  staged_[std::move(cf_key)] = std::nullopt;
}

void WriteTxn::SingleDelete(Cf cf, std::string_view key) {
  auto cf_key = std::make_pair(cf, std::string(key));
  if (auto it = staged_.find(cf_key); it != staged_.end() && it->second) {
    // Put by this transaction, so (written once) absent before it: nothing to write at all.
    staged_.erase(it);
    single_deletes_.erase(cf_key);
    return;
  }
  single_deletes_.insert(cf_key);
  staged_[std::move(cf_key)] = std::nullopt;
}

Status WriteTxn::Commit() {
  for (auto& [key, fn] : before_write_) MNEMO_RETURN_IF_ERROR(fn());
  before_write_.clear();
  MNEMO_RETURN_IF_ERROR(WriteStaged());
  for (auto& fn : on_commit_) fn();
  on_commit_.clear();
  return Status::Ok();
}

size_t WriteTxn::BatchBytes() const {
  // A WriteBatch is a 12-byte header, then per entry a type byte, the family id and the key and
  // value, each length-prefixed (varint32: at most 5 bytes).
  constexpr size_t kHeader = 12;
  constexpr size_t kEntryOverhead = 1 + 5 + 5 + 5;
  size_t bytes = kHeader;
  for (const auto& [cf_key, value] : staged_) {
    bytes += kEntryOverhead + cf_key.second.size() + (value ? value->size() : 0);
  }
  if (log_record_) bytes += kEntryOverhead + sizeof(uint64_t) + log_record_->size();
  return bytes;
}

Status WriteTxn::WriteStaged() {
  // A replica writes the primary's record even if its call staged nothing: its log keeps every
  // sequence.
  if (staged_.empty() && !(log_record_ && log_seq_)) return Status::Ok();
  // Sized once: a 1000-chunk write stages ~6 MB of vectors, and growing the batch by doubling
  // would copy them again at every step.
  rocksdb::WriteBatch batch(BatchBytes());
  for (const auto& [cf_key, value] : staged_) {
    const auto& [cf, key] = cf_key;
    rocksdb::Status status = value ? batch.Put(db_.handle(cf), key, *value)
                             : single_deletes_.contains(cf_key)
                                 ? batch.SingleDelete(db_.handle(cf), key)
                                 : batch.Delete(db_.handle(cf), key);
    if (!status.ok()) return Status::Internal("staging write: " + status.ToString());
  }
  staged_.clear();
  single_deletes_.clear();
  if (!log_record_) return skip_sync_ ? db_.WriteWithoutSync(&batch) : db_.Write(&batch);
  Result<uint64_t> logged = db_.WriteLogged(&batch, *log_record_, log_seq_);
  log_record_.reset();
  return logged.status();
}

}  // namespace mnemo::storage
