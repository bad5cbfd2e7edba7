// WalSyncFileSystem: a RocksDB file system that passes every call on to another one and keeps
// track of the write-ahead log files, so that a durable write can sync the WAL itself, at the
// same time as other writers sync theirs.
//
// Why: a RocksDB write with WriteOptions::sync holds RocksDB's write queue for the whole
// fdatasync, so a second writer that arrives meanwhile waits for that sync to finish, is woken,
// and only then writes and syncs its own record: two clients' syncs run strictly one after the
// other with a thread hand-off between them.  Writing without sync (the record reaches the OS at
// once) and then calling SyncWals() lets the second writer's sync start while the first one's is
// still running; the device serves the two flushes together.
//
// The guarantee SyncWals() gives is the one WriteOptions::sync gives: every byte handed to any
// WAL file before the call is durable when it returns OK, and so is the file's entry in its
// directory (RocksDB syncs a new WAL's directory only on a synced write, which Db no longer
// makes).  A WAL file is never closed with bytes that were not synced, so a writer whose record
// went into a WAL that RocksDB has closed since is covered too.  Recovery is unchanged: the WAL
// holds the same records in the same order, only the fdatasync calls are made from here.
//
// What differs from WriteOptions::sync: the write is visible to readers from the moment RocksDB
// applies it, before SyncWals() returns (RocksDB publishes a synced write only after its sync).
// A reader may therefore see a write that a power cut then loses; no acknowledged write is
// lost, and any later write that is acknowledged makes the earlier ones durable with it (the WAL
// is one sequence).
//
// A failed sync is sticky: the pages it should have written are in an unknown state, so every
// later SyncWals() fails too (RocksDB likewise stops writing after a failed WAL sync).
//
// Thread-safety: thread-safe.  The WAL files it hands out follow RocksDB's rules for
// FSWritableFile (one writer), except that SyncWals() may sync them from any thread.
#pragma once

#include <rocksdb/file_system.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "mnemo/status.h"

namespace mnemo::storage {

class WalSyncFileSystem final : public rocksdb::FileSystemWrapper {
 public:
  explicit WalSyncFileSystem(const std::shared_ptr<rocksdb::FileSystem>& target);
  ~WalSyncFileSystem() override;

  static const char* kClassName() { return "MnemoWalSyncFileSystem"; }
  const char* Name() const override { return kClassName(); }

  rocksdb::IOStatus NewWritableFile(const std::string& fname, const rocksdb::FileOptions& file_opts,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReopenWritableFile(const std::string& fname,
                                       const rocksdb::FileOptions& file_opts,
                                       std::unique_ptr<rocksdb::FSWritableFile>* result,
                                       rocksdb::IODebugContext* dbg) override;
  // WAL recycling (DBOptions::recycle_log_file_num) is not supported: the recycled file would
  // not be tracked.  Db never enables it.
  rocksdb::IOStatus ReuseWritableFile(const std::string& fname, const std::string& old_fname,
                                      const rocksdb::FileOptions& file_opts,
                                      std::unique_ptr<rocksdb::FSWritableFile>* result,
                                      rocksdb::IODebugContext* dbg) override;

  // Makes durable every byte appended to a WAL file before this call, and each such file's
  // directory entry.  Files with nothing new are skipped; several callers may sync at once.
  // UNAVAILABLE when a sync fails, now or earlier (see the header comment).
  Status SyncWals();
  // OK until a sync has failed; then the error SyncWals() returns.
  Status failure();

  // True for RocksDB's WAL file names ("<number>.log").
  static bool IsWalFileName(const std::string& fname);

  // State shared by a WAL file and the list of open ones (wal_sync.cc).
  struct WalFile;

 private:
  rocksdb::IOStatus Track(const std::string& fname, rocksdb::IOStatus opened,
                          std::unique_ptr<rocksdb::FSWritableFile>* result, bool zero_fill);
  void Untrack(const WalFile* file);
  Status SyncOne(WalFile& file);
  // Syncs `file` up to byte `upto` and, the first time, its directory.  REQUIRES: the caller
  // holds file.lifetime (either way) and the file is not closed.
  rocksdb::IOStatus MakeDurable(WalFile& file, uint64_t upto);
  Status Failed(const std::string& message);
  // The sticky failure as a status (OK: none).  REQUIRES: mutex_ held.
  Status FailureLocked() const;

  std::mutex mutex_;
  std::vector<std::shared_ptr<WalFile>> open_;  // GUARDED_BY(mutex_)
  std::string failure_;                         // GUARDED_BY(mutex_); empty: none yet

  friend class TrackedWalFile;
};

}  // namespace mnemo::storage
