// SnapshotStore: consistent copies of a node's data that clients read over their connection
// (OpenSnapshot / ReadSnapshot / CloseSnapshot): an operator's `mnemo snapshot fetch`, or a node
// that bootstraps from this one.
//
// A snapshot is what Engine::CreateBackup writes (RocksDB checkpoint, saved graphs, vector
// segments) plus the API key file, in <data_dir>/snapshots/<id>/: on the data directory's
// filesystem, so the checkpoint hard-links the database's files instead of copying them.  Its
// file list (paths relative to that directory, sizes) is fixed when it is made; a read names
// one of those paths, so nothing outside the snapshot can be read.  Chunks carry a CRC-32C
// computed from the bytes read, so the reader can tell a damaged transfer from a good one.
//
// Limits: at most kMaxOpen snapshots exist at once (each holds a copy of the vector segments);
// one that no request has touched for kIdleLimit is deleted when the next snapshot request
// arrives; every snapshot left by an earlier run is deleted at start.  The engine keeps the
// directory as a foreign entry (EngineOptions::foreign_entries).
//
// Thread-safety: thread-safe.  Reads of one snapshot may run concurrently; Open runs one backup
// at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "mnemo/engine.h"
#include "mnemo/result.h"

namespace mnemo::server {

class SnapshotStore {
 public:
  static constexpr size_t kMaxOpen = 2;
  static constexpr std::chrono::minutes kIdleLimit{10};
  // The directory under the data directory that holds the snapshots.
  static constexpr const char* kDirName = "snapshots";
  // A chunk's size when the request leaves it to the server (and its upper bound).
  static constexpr uint32_t kChunkBytes = 4u << 20;

  struct File {
    std::string path;  // relative to the snapshot's root, '/'-separated
    uint64_t size = 0;
  };
  struct Manifest {
    std::string id;
    std::vector<File> files;  // sorted by path
  };

  // Deletes what an earlier run left in <data_dir>/snapshots.
  explicit SnapshotStore(std::string data_dir);

  // Makes a snapshot of `engine` (and of the key file beside it).  UNAVAILABLE when kMaxOpen
  // snapshots exist or the backup fails (its partial directory is removed).
  Result<Manifest> Open(Engine& engine);
  // Up to `max_bytes` (0: kChunkBytes; at most kChunkBytes) of `path` from `offset`: fewer only at
  // the end of the file, none at its end.  NOT_FOUND for an unknown (or expired) snapshot or a
  // path it does not list; VALIDATION_ERROR for an offset beyond the file's size.
  Result<std::string> Read(const std::string& id, const std::string& path, uint64_t offset,
                           uint32_t max_bytes);
  // Deletes the snapshot.  NOT_FOUND when it does not exist (closed twice, or expired).
  Status Close(const std::string& id);

  size_t open_count() const;

 private:
  struct Entry {
    std::string dir;
    std::map<std::string, uint64_t> sizes;
    std::chrono::steady_clock::time_point last_used;
  };

  std::string Root() const;
  // Deletes the snapshots idle for longer than kIdleLimit.  REQUIRES: mutex_ held.
  void ExpireLocked();

  const std::string data_dir_;
  std::mutex open_mutex_;  // one backup at a time
  mutable std::mutex mutex_;
  std::map<std::string, Entry> entries_;
};

// Copies the API key file of `data_dir` into `target_dir` (a backup or snapshot of it), so that
// the copy accepts the same keys.  Nothing when there is no key file.
Status CopyKeyFile(const std::string& data_dir, const std::string& target_dir);

}  // namespace mnemo::server
