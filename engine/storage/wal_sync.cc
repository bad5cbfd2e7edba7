#include "storage/wal_sync.h"

#include <algorithm>
#include <atomic>
#include <shared_mutex>

namespace mnemo::storage {

struct WalSyncFileSystem::WalFile {
  std::string path;
  // The target's file.  Kept after closing until the last reference goes: a SyncWals() that
  // listed the file may still hold one (it sees `closed` and leaves the file alone).
  std::unique_ptr<rocksdb::FSWritableFile> file;
  // SyncWals() holds it shared while it syncs `file`; closing holds it exclusively, so the file
  // is never closed under a running sync.
  std::shared_mutex lifetime;
  bool closed = false;  // GUARDED_BY(lifetime)
  // Bytes handed to `file`, and the prefix of them known to be durable.
  std::atomic<uint64_t> appended{0};
  std::atomic<uint64_t> synced{0};
  std::atomic<bool> dir_synced{false};

  void MarkSynced(uint64_t upto) {
    uint64_t now = synced.load(std::memory_order_relaxed);
    while (now < upto && !synced.compare_exchange_weak(now, upto, std::memory_order_release)) {
    }
  }
};

// Zeros are written this far ahead of a new WAL's end (see ZeroAhead).
constexpr uint64_t kZeroChunk = uint64_t{1} << 20;
// ... and only while the filesystem has this much free: zeros must never take the room that a
// write needs (Db refuses writes below its disk reserve; on a nearly full filesystem the zeros
// would use up the reserve and the WAL append would fail, which RocksDB 7.8 does not survive).
constexpr uint64_t kZeroFillMinFree = uint64_t{64} << 20;

std::string DirOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

// The WAL file RocksDB writes: counts the bytes appended and, on close, syncs what no sync has
// covered yet.
//
// A new WAL is also kept zero-filled up to 1-2 MiB past its end.  An fdatasync after an append
// that grows a file must write the inode (its size; on ext4 without a journal, a second
// synchronous write per sync) besides the data; an append that overwrites bytes the file already
// has does not.  So the size grows once per chunk, and the sync after that pays for it once.
// RocksDB's log reader skips zeros after the last record (it reads them as the zero-length
// padding records of preallocated files, in every recovery mode), and closing the file
// truncates them away.
class TrackedWalFile final : public rocksdb::FSWritableFileWrapper {
 public:
  // `zeroer` is a second handle on the new, empty file; null: no zero-filling.
  TrackedWalFile(std::shared_ptr<WalSyncFileSystem::WalFile> state, WalSyncFileSystem* owner,
                 std::unique_ptr<rocksdb::FSRandomRWFile> zeroer)
      : FSWritableFileWrapper(state->file.get()),
        state_(std::move(state)),
        owner_(owner),
        zeroer_(std::move(zeroer)) {}
  ~TrackedWalFile() override {
    if (!closing_done_) Close(rocksdb::IOOptions(), nullptr).PermitUncheckedError();
  }

  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
    ZeroAhead(data.size());
    return Appended(target()->Append(data, options, dbg), data.size());
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           const rocksdb::DataVerificationInfo& info,
                           rocksdb::IODebugContext* dbg) override {
    ZeroAhead(data.size());
    return Appended(target()->Append(data, options, info, dbg), data.size());
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                     const rocksdb::IOOptions& options,
                                     rocksdb::IODebugContext* dbg) override {
    StopZeroing();  // the end is no longer the count of bytes appended
    return Appended(target()->PositionedAppend(data, offset, options, dbg), data.size());
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                     const rocksdb::IOOptions& options,
                                     const rocksdb::DataVerificationInfo& info,
                                     rocksdb::IODebugContext* dbg) override {
    StopZeroing();
    return Appended(target()->PositionedAppend(data, offset, options, info, dbg), data.size());
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    return SyncAndMark([&] { return target()->Sync(options, dbg); });
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    return SyncAndMark([&] { return target()->Fsync(options, dbg); });
  }
  rocksdb::IOStatus Close(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus status;
    {
      std::unique_lock lock(state_->lifetime);
      if (state_->closed) return status;
      StopZeroing();
      status = owner_->MakeDurable(*state_, state_->appended.load(std::memory_order_acquire));
      rocksdb::IOStatus closed = target()->Close(options, dbg);
      if (status.ok()) status = closed;
      state_->closed = true;
    }
    closing_done_ = true;
    owner_->Untrack(state_.get());
    return status;
  }

 private:
  // Runs RocksDB's own sync of the file; what was appended before it is then durable.
  template <typename SyncFn>
  rocksdb::IOStatus SyncAndMark(SyncFn sync) {
    const uint64_t upto = state_->appended.load(std::memory_order_acquire);
    rocksdb::IOStatus status = sync();
    if (status.ok()) state_->MarkSynced(upto);
    return status;
  }
  rocksdb::IOStatus Appended(rocksdb::IOStatus status, size_t bytes) {
    if (status.ok()) state_->appended.fetch_add(bytes, std::memory_order_release);
    return status;
  }

  // Before `bytes` are appended: when they would reach past the zeros, zero-fills from there to
  // at least a chunk past their end.  A failure only ends the zero-filling.
  void ZeroAhead(size_t bytes) {
    if (zeroer_ == nullptr) return;
    const uint64_t end = state_->appended.load(std::memory_order_relaxed) + bytes;
    if (end <= zeroed_end_) return;
    uint64_t free_bytes = 0;
    if (!owner_->target()
             ->GetFreeSpace(DirOf(state_->path), rocksdb::IOOptions(), &free_bytes, nullptr)
             .ok() ||
        free_bytes < kZeroFillMinFree) {
      return StopZeroing();  // this WAL grows as it would without zeros
    }
    static const std::string zeros(kZeroChunk, '\0');
    const uint64_t target_end = (end + kZeroChunk + kZeroChunk - 1) / kZeroChunk * kZeroChunk;
    for (uint64_t at = std::max(zeroed_end_, end); at < target_end;) {
      const size_t length = static_cast<size_t>(std::min(target_end - at, kZeroChunk));
      if (!zeroer_->Write(at, rocksdb::Slice(zeros.data(), length), rocksdb::IOOptions(), nullptr)
               .ok()) {
        return StopZeroing();
      }
      at += length;
    }
    zeroed_end_ = target_end;
  }
  void StopZeroing() {
    if (zeroer_ == nullptr) return;
    zeroer_->Close(rocksdb::IOOptions(), nullptr).PermitUncheckedError();
    zeroer_.reset();
  }

  std::shared_ptr<WalSyncFileSystem::WalFile> state_;
  WalSyncFileSystem* owner_;  // outlives every file it hands out (RocksDB closes them first)
  std::unique_ptr<rocksdb::FSRandomRWFile> zeroer_;  // null: not zero-filling
  uint64_t zeroed_end_ = 0;                          // the file is zero-filled up to here
  bool closing_done_ = false;
};

WalSyncFileSystem::WalSyncFileSystem(const std::shared_ptr<rocksdb::FileSystem>& target)
    : FileSystemWrapper(target) {}

WalSyncFileSystem::~WalSyncFileSystem() = default;

bool WalSyncFileSystem::IsWalFileName(const std::string& fname) {
  constexpr std::string_view kSuffix = ".log";
  const size_t slash = fname.rfind('/');
  const std::string_view base =
      std::string_view(fname).substr(slash == std::string::npos ? 0 : slash + 1);
  if (base.size() <= kSuffix.size() || !base.ends_with(kSuffix)) return false;
  const std::string_view number = base.substr(0, base.size() - kSuffix.size());
  return std::all_of(number.begin(), number.end(), [](char c) { return c >= '0' && c <= '9'; });
}

rocksdb::IOStatus WalSyncFileSystem::NewWritableFile(
    const std::string& fname, const rocksdb::FileOptions& file_opts,
    std::unique_ptr<rocksdb::FSWritableFile>* result, rocksdb::IODebugContext* dbg) {
  return Track(fname, target()->NewWritableFile(fname, file_opts, result, dbg), result,
               /*zero_fill=*/true);
}

rocksdb::IOStatus WalSyncFileSystem::ReopenWritableFile(
    const std::string& fname, const rocksdb::FileOptions& file_opts,
    std::unique_ptr<rocksdb::FSWritableFile>* result, rocksdb::IODebugContext* dbg) {
  // Appends continue at the old end, which this file does not know: no zero-filling.
  return Track(fname, target()->ReopenWritableFile(fname, file_opts, result, dbg), result,
               /*zero_fill=*/false);
}

rocksdb::IOStatus WalSyncFileSystem::ReuseWritableFile(
    const std::string& fname, const std::string& old_fname, const rocksdb::FileOptions& file_opts,
    std::unique_ptr<rocksdb::FSWritableFile>* result, rocksdb::IODebugContext* dbg) {
  if (IsWalFileName(fname)) {
    return rocksdb::IOStatus::NotSupported("mnemo does not recycle WAL files: " + fname);
  }
  return target()->ReuseWritableFile(fname, old_fname, file_opts, result, dbg);
}

rocksdb::IOStatus WalSyncFileSystem::Track(const std::string& fname, rocksdb::IOStatus opened,
                                           std::unique_ptr<rocksdb::FSWritableFile>* result,
                                           bool zero_fill) {
  if (!opened.ok() || !IsWalFileName(fname)) return opened;
  std::unique_ptr<rocksdb::FSRandomRWFile> zeroer;
  if (zero_fill &&
      !target()->NewRandomRWFile(fname, rocksdb::FileOptions(), &zeroer, nullptr).ok()) {
    zeroer.reset();  // a file system without random writes: the WAL just grows
  }
  auto state = std::make_shared<WalFile>();
  state->path = fname;
  state->file = std::move(*result);
  {
    std::lock_guard lock(mutex_);
    open_.push_back(state);
  }
  *result = std::make_unique<TrackedWalFile>(std::move(state), this, std::move(zeroer));
  return opened;
}

void WalSyncFileSystem::Untrack(const WalFile* file) {
  std::lock_guard lock(mutex_);
  std::erase_if(open_, [file](const std::shared_ptr<WalFile>& open) { return open.get() == file; });
}

Status WalSyncFileSystem::FailureLocked() const {
  if (failure_.empty()) return Status::Ok();
  return Status::Unavailable("WAL sync failed: " + failure_);
}

Status WalSyncFileSystem::Failed(const std::string& message) {
  std::lock_guard lock(mutex_);
  if (failure_.empty()) failure_ = message;
  return FailureLocked();
}

Status WalSyncFileSystem::failure() {
  std::lock_guard lock(mutex_);
  return FailureLocked();
}

Status WalSyncFileSystem::SyncWals() {
  std::vector<std::shared_ptr<WalFile>> files;
  {
    std::lock_guard lock(mutex_);
    MNEMO_RETURN_IF_ERROR(FailureLocked());
    files = open_;
  }
  for (const auto& file : files) MNEMO_RETURN_IF_ERROR(SyncOne(*file));
  return Status::Ok();
}

Status WalSyncFileSystem::SyncOne(WalFile& file) {
  const uint64_t upto = file.appended.load(std::memory_order_acquire);
  if (file.synced.load(std::memory_order_acquire) >= upto &&
      (upto == 0 || file.dir_synced.load(std::memory_order_acquire))) {
    return Status::Ok();
  }
  std::shared_lock lock(file.lifetime);
  if (file.closed) {
    // Closing made durable whatever was appended, unless that failed.
    if (file.synced.load(std::memory_order_acquire) >= upto) return Status::Ok();
    return Failed(file.path + " was closed before its last bytes were synced");
  }
  const rocksdb::IOStatus status = MakeDurable(file, upto);
  if (!status.ok()) return Failed(file.path + ": " + status.ToString());
  return Status::Ok();
}

rocksdb::IOStatus WalSyncFileSystem::MakeDurable(WalFile& file, uint64_t upto) {
  if (upto == 0) return rocksdb::IOStatus::OK();
  if (file.synced.load(std::memory_order_acquire) < upto) {
    rocksdb::IOStatus status = file.file->Sync(rocksdb::IOOptions(), nullptr);
    if (!status.ok()) return status;
    file.MarkSynced(upto);
  }
  if (file.dir_synced.load(std::memory_order_acquire)) return rocksdb::IOStatus::OK();
  const std::string dir = DirOf(file.path);
  std::unique_ptr<rocksdb::FSDirectory> directory;
  rocksdb::IOStatus status = target()->NewDirectory(dir, rocksdb::IOOptions(), &directory, nullptr);
  if (status.ok()) status = directory->Fsync(rocksdb::IOOptions(), nullptr);
  if (status.ok()) file.dir_synced.store(true, std::memory_order_release);
  return status;
}

}  // namespace mnemo::storage
