// PowerCut: what a power cut would leave of the files under one root directory, and the file
// systems (RocksDB's and mnemo's) that keep it informed while passing every call on to the real
// disk.
//
// The model follows POSIX durability and nothing more generous: a file's bytes survive as of its
// last fsync/fdatasync; a directory's entries (files created, renamed, linked or removed in it,
// subdirectories created) survive as of the directory's last fsync.  A file whose content was
// synced but whose entry never was is lost; a removal or rename that was not synced is undone.
// Cut() rewrites the real tree under root to exactly what survives.
//
// Freeze() is the instant of the cut: afterwards calls still reach the disk (the process does
// not notice yet) but nothing more becomes durable.  A test freezes, stops what is writing
// (which may write on), then calls Cut() and reopens.
//
// Only what goes through the two file systems is modelled.  Files under root made any other way
// (RocksDB's LOCK file and info LOG) are treated as lost, which can only make a test stricter.
//
// Thread-safety: thread-safe.  The file systems may be used from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "mnemo/file_system.h"

namespace rocksdb {
class FileSystem;
}  // namespace rocksdb

namespace mnemo::testing {

class PowerCut : public std::enable_shared_from_this<PowerCut> {
 public:
  // REQUIRES: `root` exists.  Everything under it now counts as durable.
  static std::shared_ptr<PowerCut> Create(const std::string& root);

  // File systems over the real ones that report every change here; they keep this alive.
  std::shared_ptr<rocksdb::FileSystem> RocksDbFileSystem();
  std::shared_ptr<FileSystem> MnemoFileSystem();

  // The instant of the power cut: nothing becomes durable after this.
  void Freeze();
  bool frozen() const;
  // Rewrites the tree under root to what survives and makes that the current state (and no
  // longer frozen).  REQUIRES: no file under root is open.
  void Cut();

  // True when a cut now would leave `path` exactly as it is: reachable through durable
  // directory entries and, for a file, with all its current bytes synced.
  bool IsDurable(const std::string& path) const;

  struct Counts {
    int64_t file_syncs = 0;
    int64_t dir_syncs = 0;
    int64_t removed_sst_files = 0;  // RocksDB deletes SST files only after compacting them
  };
  Counts counts() const;

  // ---- events, reported by the file systems after the real call succeeded ----
  // Paths outside root, or under a directory the model does not know, are ignored.
  void FileCreated(const std::string& path);  // created, or truncated to empty
  void FileOpened(const std::string& path);   // created when missing, content kept
  void FileWritten(const std::string& path, uint64_t offset, std::string_view data);
  void FileTruncated(const std::string& path, uint64_t size);
  void FileSynced(const std::string& path);
  void Renamed(const std::string& from, const std::string& to);
  void Linked(const std::string& from, const std::string& to);
  void Removed(const std::string& path);
  void DirCreated(const std::string& path);
  void DirSynced(const std::string& path);

 private:
  struct Node;
  using NodePtr = std::shared_ptr<Node>;

  explicit PowerCut(std::string root);
  // The components of `path` below root; false when it is not under root.
  bool Split(const std::string& path, std::vector<std::string>* parts) const;
  // The directory holding `path` and the entry's name; null when unknown.  REQUIRES: mu_ held.
  Node* ParentOf(const std::string& path, std::string* name) const;
  // The node at `path`; null when unknown.  REQUIRES: mu_ held.
  NodePtr Find(const std::string& path) const;

  const std::string root_;
  mutable std::mutex mu_;
  NodePtr tree_;         // GUARDED_BY(mu_)
  bool frozen_ = false;  // GUARDED_BY(mu_)
  Counts counts_;        // GUARDED_BY(mu_)
};

}  // namespace mnemo::testing
