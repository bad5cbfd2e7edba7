// FileSystem: how the engine reaches its own files — the partitions' saved graphs, partition
// archives and the graph copies in a backup; everything RocksDB does not write.  The default is
// POSIX (PosixFileSystem()); EngineOptions::file_system substitutes another, e.g. one that
// simulates power loss in tests, or one an embedding process routes elsewhere.
//
// Durability follows POSIX, and callers rely on exactly this much: bytes appended to a file are
// durable once WritableFile::Sync() returns; a created, renamed or removed directory entry is
// durable once SyncDir() of the directory holding it returns.  Nothing else is.
//
// Errors: NOT_FOUND for a missing file or directory, UNAVAILABLE for any other I/O failure (the
// message names the path and the reason).
//
// Thread-safety: a FileSystem is thread-safe.  A WritableFile or SequentialFile is used by one
// thread at a time; a RandomRWFile by several (see there).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mnemo/result.h"
#include "mnemo/status.h"

namespace mnemo {

// A file open for appending.  The destructor closes it (without syncing) if Close() was not
// called.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual Status Append(std::string_view data) = 0;
  // Makes everything appended so far durable (fsync).
  virtual Status Sync() = 0;
  virtual Status Close() = 0;
};

// A file open for reading from the start.
class SequentialFile {
 public:
  virtual ~SequentialFile() = default;
  // Reads up to `n` bytes into `out`; fewer only at the end of the file (0 there).
  virtual Result<size_t> Read(char* out, size_t n) = 0;
  // The file's size when it was opened.
  virtual uint64_t size() const = 0;
};

// A file read and written in place at any offset (fixed-size files filled front to back, such
// as vector segments).  Thread-safe: writes and reads of disjoint ranges may run concurrently,
// and Sync() with either.
class RandomRWFile {
 public:
  virtual ~RandomRWFile() = default;
  virtual Status Write(uint64_t offset, std::string_view data) = 0;
  // Reads exactly `n` bytes at `offset`; UNAVAILABLE on a short read.
  virtual Status Read(uint64_t offset, size_t n, char* out) const = 0;
  // Makes every write so far durable (fdatasync).
  virtual Status Sync() = 0;
  // The file's size now.
  virtual Result<uint64_t> Size() const = 0;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // Creates `path`, or truncates it when it exists.  The entry is durable after SyncDir().
  virtual Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) = 0;
  virtual Result<std::unique_ptr<SequentialFile>> NewSequentialFile(const std::string& path) = 0;
  // Opens `path` for reading and writing in place; with `create`, a missing file is created
  // empty (its entry is durable after SyncDir()).  NOT_FOUND when missing and not `create`.
  virtual Result<std::unique_ptr<RandomRWFile>> OpenRandomRWFile(const std::string& path,
                                                                 bool create) = 0;
  // Atomically replaces `to` (when it exists) with `from`.
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  // Removes a file; NOT_FOUND when it does not exist.
  virtual Status Remove(const std::string& path) = 0;
  // Creates one directory; OK when it already exists.
  virtual Status CreateDir(const std::string& path) = 0;
  // Makes the entries of directory `path` durable (fsync of the directory).
  virtual Status SyncDir(const std::string& path) = 0;
  // The names in directory `path` (not "." or ".."), in no particular order.
  virtual Result<std::vector<std::string>> ListDir(const std::string& path) = 0;
};

// The POSIX file system, shared by every engine that is given none.
FileSystem& PosixFileSystem();

// ---- helpers built on the interface ----

// The directory holding `path` ("." when it names none).
std::string ParentDir(const std::string& path);
// Creates directory `path` and its missing parents; each created entry is made durable (its
// parent directory synced).  OK when `path` already exists.
Status CreateDirs(FileSystem& fs, const std::string& path);
// Copies file `from` to `to` (created or truncated) and syncs it; the new entry is durable after
// SyncDir() of its directory.
Status CopyFile(FileSystem& fs, const std::string& from, const std::string& to);
// The whole content of `path`.
Result<std::string> ReadWholeFile(FileSystem& fs, const std::string& path);

}  // namespace mnemo
