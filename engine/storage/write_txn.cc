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
  staged_[std::make_pair(cf, std::string(key))] = std::move(value);
}

void WriteTxn::Delete(Cf cf, std::string_view key) {
  staged_[std::make_pair(cf, std::string(key))] = std::nullopt;
}

Status WriteTxn::Commit() {
  MNEMO_RETURN_IF_ERROR(WriteStaged());
  for (auto& fn : on_commit_) fn();
  on_commit_.clear();
  return Status::Ok();
}

Status WriteTxn::WriteStaged() {
  if (staged_.empty()) return Status::Ok();
  rocksdb::WriteBatch batch;
  for (const auto& [cf_key, value] : staged_) {
    const auto& [cf, key] = cf_key;
    rocksdb::Status status = value ? batch.Put(db_.handle(cf), key, *value)
                                   : batch.Delete(db_.handle(cf), key);
    if (!status.ok()) return Status::Internal("staging write: " + status.ToString());
  }
  staged_.clear();
  return db_.Write(&batch);
}

}  // namespace mnemo::storage
