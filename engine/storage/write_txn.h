// WriteTxn: a set of writes applied atomically, with read-your-own-writes.
//
// Stores stage their changes (rows and index entries) in a WriteTxn; Commit() applies them in
// one RocksDB WriteBatch, so a row and its index entries — or a whole client batch — become
// visible together or not at all.  Get() sees the transaction's own staged writes first, so a
// batch that creates a conversation and appends messages to it sees the counters it has
// already changed.  Scans are not overlaid: they see committed data only.
//
// Isolation comes from the caller holding the user's LockTable stripe from the first read to
// Commit().
//
// A transaction reads the clock once: every timestamp its writes stage derives from now(), so
// the same call with the same `now` stages the same rows (what a replica replaying the
// primary's write relies on).  Thread-safety: not thread-safe; one thread uses a WriteTxn.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mnemo/base/time.h"
#include "storage/db.h"

namespace mnemo::storage {

class WriteTxn {
 public:
  // `db` must outlive the transaction.  The first form reads the clock for now().
  explicit WriteTxn(Db& db) : WriteTxn(db, NowMicros()) {}
  WriteTxn(Db& db, Timestamp now) : db_(db), now_(now) {}

  // The transaction's clock reading, taken once: stores stamp created_at, updated_at and
  // deleted_at from it (through tables::NextTimestamp where a value must move forward).
  Timestamp now() const { return now_; }

  // The staged value if this transaction wrote the key, else the committed one.
  // NOT_FOUND when absent or staged as deleted.
  Status Get(Cf cf, std::string_view key, std::string* value) const;
  void Put(Cf cf, std::string_view key, std::string value);
  void Delete(Cf cf, std::string_view key);
  // A delete of a key that was written by exactly one Put since it last did not exist, and will
  // never be overwritten (e.g. an index key embedding a timestamp that every update changes).
  // RocksDB drops the Put and the delete together when they meet in a flush or compaction, so
  // such churn leaves no tombstones for later scans to skip; a key Put earlier in this same
  // transaction (hence absent before it) is simply dropped.  Mixing it with Delete or a second
  // Put of the same key is undefined — use Delete when in doubt.
  void SingleDelete(Cf cf, std::string_view key);

  // Registers `fn` to run after a successful Commit() (e.g. to update in-memory indexes so the
  // write is searchable before it is acknowledged).  `fn` must not fail.  Dropped on failure.
  void OnCommit(std::function<void()> fn) { on_commit_.push_back(std::move(fn)); }

  // Registers `fn` to run before the batch is written; Commit() fails with its error, writing
  // nothing, when it fails (e.g. syncing bytes the batch will point at).  A second registration
  // with the same `key` is ignored.
  void BeforeWrite(const void* key, std::function<Status()> fn) {
    for (const auto& [existing, unused] : before_write_) {
      if (existing == key) return;
    }
    before_write_.emplace_back(key, std::move(fn));
  }

  // Keeps `resource` alive until the transaction is destroyed — after Commit() and its
  // OnCommit() actions, or when it is abandoned — e.g. a lock that must be held until a commit's
  // effects are published in memory.
  void Retain(std::shared_ptr<void> resource) { retained_.push_back(std::move(resource)); }
  // True the first time it is called with `key` in this transaction (e.g. to take a shared lock
  // once however many rows a store stages).
  bool FirstUse(const void* key) {
    for (const void* used : used_keys_) {
      if (used == key) return false;
    }
    used_keys_.push_back(key);
    return true;
  }

  // A counter of this transaction's own under `key`, zero at first (e.g. bytes a store has
  // staged so far, against a per-transaction budget).
  uint64_t& Tally(const void* key) {
    for (auto& [existing, count] : tallies_) {
      if (existing == key) return count;
    }
    return tallies_.emplace_back(key, 0).second;
  }

  // Makes Commit() write `record` into the replication log (Cf::kReplog) in the same batch as
  // the staged writes, under the log's next sequence; a transaction that stages nothing then
  // writes no record.  With `seq` (a replica applying its primary's record) the record is
  // written under `seq` even if nothing else is, and Commit() fails, writing nothing, unless
  // `seq` follows the log's last (Db::WriteLogged).
  void Log(std::string record, std::optional<uint64_t> seq = std::nullopt) {
    log_record_ = std::move(record);
    log_seq_ = seq;
  }

  // Makes Commit() return without syncing the write (Db::WriteWithoutSync): for a write a crash
  // may undo without harm.  Not with Log(): a logged write is always synced.
  void SkipSync() { skip_sync_ = true; }

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
  const Timestamp now_;
  // Final state per key: a value, or nullopt for a delete.
  std::map<std::pair<Cf, std::string>, std::optional<std::string>, std::less<>> staged_;
  // Staged deletes (nullopt above) to be written as SingleDelete.
  std::set<std::pair<Cf, std::string>, std::less<>> single_deletes_;
  std::vector<std::pair<const void*, std::function<Status()>>> before_write_;
  std::vector<std::function<void()>> on_commit_;
  std::vector<std::shared_ptr<void>> retained_;
  std::vector<const void*> used_keys_;
  std::optional<std::string> log_record_;
  std::optional<uint64_t> log_seq_;
  bool skip_sync_ = false;
  std::vector<std::pair<const void*, uint64_t>> tallies_;
};

}  // namespace mnemo::storage
