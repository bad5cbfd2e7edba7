// Db: the RocksDB instance behind a data directory, its column families and its format record.
//
// On creation the directory records a format record (magic, schema version, embedding
// dimension); every later open checks it and refuses directories written by another version, with
// another dimension, or by something that is not mnemo.  rocksdb::Status is converted to
// mnemo::Status here and nowhere else.
//
// Thread-safety: Db and ReadView are thread-safe for concurrent reads and writes (RocksDB's own
// guarantees).  A ReadView must not outlive the Db that made it.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "mnemo/maintenance.h"
#include "mnemo/result.h"
#include "mnemo/status.h"

namespace rocksdb {
class ColumnFamilyHandle;
class DB;
class Env;
class EventListener;
class FileSystem;
class Snapshot;
class WriteBatch;
}  // namespace rocksdb

namespace mnemo::storage {

// Column families.  FROZEN: the names are on disk (see kColumnFamilyNames in db.cc).
enum class Cf : uint8_t {
  kMeta = 0,
  kConversations,
  kMessages,
  kDocuments,
  kIndex,
  kChunks,
  kVectors,
  // The replication log: key = big-endian u64 sequence (1, 2, ...), value = a write record
  // (replication/write_record.h), written in the batch of the write it describes.
  kReplog,
  kCount,  // not a family
};

inline constexpr uint32_t kSchemaVersion = 1;
inline constexpr uint32_t kDefaultDimension = 1536;
inline constexpr uint32_t kMaxDimension = 16384;

struct DbOptions {
  std::string path;
  bool create_if_missing = true;
  // Entries of `path` that another owner keeps there (EngineOptions::foreign_entries).
  std::vector<std::string> foreign_entries;
  // Dimension for a new directory (default kDefaultDimension).  When set and the directory
  // already exists with another dimension, Open fails.
  std::optional<uint32_t> dimension;
  // Sync the WAL before a write is acknowledged (durable; SPEC §6 default).
  bool sync_writes = true;
  size_t block_cache_bytes = size_t{256} << 20;
  // The file system RocksDB runs on; null is RocksDB's default.
  std::shared_ptr<rocksdb::FileSystem> file_system;
};

// Calls fn(key, value) for each key; returning false stops the scan.  The views are valid only
// during the call.
using ScanFn = std::function<bool(std::string_view key, std::string_view value)>;

struct ScanRange {
  std::string prefix;  // only keys starting with this
  std::string start;   // first key to visit (forward: >= start; reverse: <= start);
                       // empty = the prefix's first (forward) or last (reverse) key
  bool reverse = false;
  bool skip_start = false;  // do not visit a key equal to `start` (cursor pagination)
};

class ReadView;
class WalSyncFileSystem;

class Db {
 public:
  // Opens or creates the data directory.  Errors: VALIDATION_ERROR for a directory that is not
  // a mnemo directory or has an incompatible version/dimension; UNAVAILABLE for I/O problems
  // (permissions, locked by another process, corruption) — the message says which.
  static Result<std::unique_ptr<Db>> Open(const DbOptions& options);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  uint32_t dimension() const { return dimension_; }
  const std::string& path() const { return path_; }

  // Latest committed value.  NOT_FOUND when absent.
  Status Get(Cf cf, std::string_view key, std::string* value) const;
  // Several keys in one batched lookup; see ReadView::MultiGet.
  Status MultiGet(Cf cf, const std::vector<std::string>& keys,
                  std::vector<std::optional<std::string>>* values) const {
    return MultiGetAt(nullptr, cf, keys, values);
  }
  Status Scan(Cf cf, const ScanRange& range, const ScanFn& fn) const;
  // Applies the batch atomically, synced per DbOptions::sync_writes (readers may see a synced
  // write a moment before it is durable: see wal_sync.h).  UNAVAILABLE ("disk full")
  // without touching RocksDB when the data directory's filesystem has less free space than
  // kDiskReserve (see db.cc): RocksDB 7.8 (Debian 12) aborts on a write after a failed WAL
  // append, so writes stop before the disk is full and resume by themselves once space returns.
  Status Write(rocksdb::WriteBatch* batch);
  // Write() without the sync: durable with the next synced write or SyncWal().  For writes a
  // crash may undo without harm.
  Status WriteWithoutSync(rocksdb::WriteBatch* batch);
  // Write() with `record` added to the batch under the next replication-log sequence, or under
  // `seq` when set (a replica applying the primary's record): VALIDATION_ERROR (field "seq")
  // when `seq` is not the one after the last, writing nothing.  Records reach the log in
  // sequence order, the order their writes commit in.  Returns the sequence written.
  Result<uint64_t> WriteLogged(rocksdb::WriteBatch* batch, std::string_view record,
                               std::optional<uint64_t> seq);
  // The highest sequence in the replication log; 0 when it is empty.
  uint64_t last_log_seq() const;
  // A consistent point-in-time view for multi-key reads.
  ReadView Snapshot() const;
  Status Flush();
  // Makes every write so far durable (a WAL sync), whatever DbOptions::sync_writes says.
  Status SyncWal();
  // Creates a RocksDB checkpoint (a consistent, openable copy) at `path`, which must not exist,
  // durably: its files and its entry in the parent directory are synced when this returns.
  Status Checkpoint(const std::string& path);
  // RocksDB's figures for `metrics`: its families, running compactions and the flushes and
  // compactions completed since open.
  void FillMetrics(EngineMetrics* metrics) const;

  rocksdb::ColumnFamilyHandle* handle(Cf cf) const { return handles_[static_cast<size_t>(cf)]; }
  rocksdb::DB* raw() const { return db_.get(); }

 private:
  friend class ReadView;
  Db() = default;
  Status CheckOrWriteFormat(const DbOptions& options, bool fresh);
  Status GetAt(const rocksdb::Snapshot* snapshot, Cf cf, std::string_view key,
               std::string* value) const;
  Status ScanAt(const rocksdb::Snapshot* snapshot, Cf cf, const ScanRange& range,
                const ScanFn& fn) const;
  Status MultiGetAt(const rocksdb::Snapshot* snapshot, Cf cf, const std::vector<std::string>& keys,
                    std::vector<std::optional<std::string>>* values) const;

  Status ReadLastLogSeq();
  // Starts rewriting, on a thread of its own at background priority, the tables whose one
  // whole-table filter may not fit a block-cache shard (written before filters were
  // partitioned), each in place at its level with partitioned filters.  Reads go on meanwhile; ~Db
  // waits for the table being rewritten and skips the rest.
  void StartRewritingWholeFilters();
  Status CheckWritable() const;
  Status SyncIfDurable();

  std::string path_;
  uint32_t dimension_ = 0;
  // Serializes logged writes, so that sequences commit in order.
  mutable std::mutex log_mutex_;
  uint64_t last_log_seq_ = 0;  // GUARDED_BY(log_mutex_)
  bool sync_writes_ = true;
  std::shared_ptr<WalSyncFileSystem> wal_sync_;  // wraps DbOptions::file_system
  std::unique_ptr<rocksdb::Env> env_;            // runs on wal_sync_; outlives db_
  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::ColumnFamilyHandle* handles_[static_cast<size_t>(Cf::kCount)] = {};
  std::shared_ptr<rocksdb::EventListener> completions_;  // counts flushes and compactions
  std::atomic<bool> closing_{false};
  std::thread filter_rewrite_;  // StartRewritingWholeFilters' thread, if it had tables to rewrite
};

// A snapshot of the Db; reads through it see one consistent state.
class ReadView {
 public:
  ReadView(ReadView&& other) noexcept;
  ReadView& operator=(ReadView&&) = delete;
  ReadView(const ReadView&) = delete;
  ~ReadView();

  Status Get(Cf cf, std::string_view key, std::string* value) const {
    return db_->GetAt(snapshot_, cf, key, value);
  }
  Status Scan(Cf cf, const ScanRange& range, const ScanFn& fn) const {
    return db_->ScanAt(snapshot_, cf, range, fn);
  }
  // Reads several keys in one batched lookup (cheaper than one Get each: one version reference,
  // filter and index blocks visited once per table).  `values` gets one entry per key, in order:
  // nullopt for a key that does not exist.  Errors: the first read error.
  Status MultiGet(Cf cf, const std::vector<std::string>& keys,
                  std::vector<std::optional<std::string>>* values) const {
    return db_->MultiGetAt(snapshot_, cf, keys, values);
  }

 private:
  friend class Db;
  ReadView(const Db* db, const rocksdb::Snapshot* snapshot) : db_(db), snapshot_(snapshot) {}
  const Db* db_;
  const rocksdb::Snapshot* snapshot_;
};

}  // namespace mnemo::storage
