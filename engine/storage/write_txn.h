// WriteTxn: a set of writes applied atomically, with read-your-own-writes.
//
// Stores stage their changes (rows and index entries) in a WriteTxn; Commit() applies them in
// one RocksDB WriteBatch, so a row and its index entries — or a whole client batch — become
// visible together or not at all.  Get() sees the transaction's own staged writes first, so a
// batch that creates a conversation and appends messages to it sees the counters it has
// already changed.  Scans are not overlaid: they see committed data only.
//
// Isolation comes from the caller holding the user's LockTable stripe from the first read to
// Commit().  Thread-safety: not thread-safe; one thread uses a WriteTxn.
#pragma once

#include <functional>
#include <map>
#include <vector>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "storage/db.h"

namespace mnemo::storage {

class WriteTxn {
 public:
  // `db` must outlive the transaction.
  explicit WriteTxn(Db& db) : db_(db) {}

  // The staged value if this transaction wrote the key, else the committed one.
  // NOT_FOUND when absent or staged as deleted.
  Status Get(Cf cf, std::string_view key, std::string* value) const;
  void Put(Cf cf, std::string_view key, std::string value);
  void Delete(Cf cf, std::string_view key);

  // Registers `fn` to run after a successful Commit() (e.g. to update in-memory indexes so the
  // write is searchable before it is acknowledged).  `fn` must not fail.  Dropped on failure.
  void OnCommit(std::function<void()> fn) { on_commit_.push_back(std::move(fn)); }

  // Applies every staged write atomically, then runs the OnCommit() actions in order; the
  // transaction is empty afterwards.
  Status Commit();
  bool empty() const { return staged_.empty(); }
  Db& db() const { return db_; }

 private:
  Status WriteStaged();
  // Upper bound of the staged writes' size in a rocksdb::WriteBatch.
  size_t BatchBytes() const;

  Db& db_;
  // Final state per key: a value, or nullopt for a delete.
  std::map<std::pair<Cf, std::string>, std::optional<std::string>, std::less<>> staged_;
  std::vector<std::function<void()>> on_commit_;
};

}  // namespace mnemo::storage
