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

// The WAL file RocksDB writes: counts the bytes appended and, on close, syncs what no sync has
// covered yet.
class TrackedWalFile final : public rocksdb::FSWritableFileWrapper {
 public:
  TrackedWalFile(std::shared_ptr<WalSyncFileSystem::WalFile> state, WalSyncFileSystem* owner)
      : FSWritableFileWrapper(state->file.get()), state_(std::move(state)), owner_(owner) {}
  ~TrackedWalFile() override {
    if (!closing_done_) Close(rocksdb::IOOptions(), nullptr).PermitUncheckedError();
  }

  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
    return Appended(target()->Append(data, options, dbg), data.size());
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           const rocksdb::DataVerificationInfo& info,
                           rocksdb::IODebugContext* dbg) override {
    return Appended(target()->Append(data, options, info, dbg), data.size());
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                     const rocksdb::IOOptions& options,
                                     rocksdb::IODebugContext* dbg) override {
    return Appended(target()->PositionedAppend(data, offset, options, dbg), data.size());
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                     const rocksdb::IOOptions& options,
                                     const rocksdb::DataVerificationInfo& info,
                                     rocksdb::IODebugContext* dbg) override {
    return Appended(target()->PositionedAppend(data, offset, options, info, dbg), data.size());
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    const uint64_t upto = state_->appended.load(std::memory_order_acquire);
    rocksdb::IOStatus status = target()->Sync(options, dbg);
    if (status.ok()) state_->MarkSynced(upto);
    return status;
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    const uint64_t upto = state_->appended.load(std::memory_order_acquire);
    rocksdb::IOStatus status = target()->Fsync(options, dbg);
    if (status.ok()) state_->MarkSynced(upto);
    return status;
  }
  rocksdb::IOStatus Close(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus status;
    {
      std::unique_lock lock(state_->lifetime);
      if (state_->closed) return status;
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
  rocksdb::IOStatus Appended(rocksdb::IOStatus status, size_t bytes) {
    if (status.ok()) state_->appended.fetch_add(bytes, std::memory_order_release);
    return status;
  }

  std::shared_ptr<WalSyncFileSystem::WalFile> state_;
  WalSyncFileSystem* owner_;  // outlives every file it hands out (RocksDB closes them first)
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
  return Track(fname, target()->NewWritableFile(fname, file_opts, result, dbg), result);
}

rocksdb::IOStatus WalSyncFileSystem::ReopenWritableFile(
    const std::string& fname, const rocksdb::FileOptions& file_opts,
    std::unique_ptr<rocksdb::FSWritableFile>* result, rocksdb::IODebugContext* dbg) {
  return Track(fname, target()->ReopenWritableFile(fname, file_opts, result, dbg), result);
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
                                           std::unique_ptr<rocksdb::FSWritableFile>* result) {
  if (!opened.ok() || !IsWalFileName(fname)) return opened;
  auto state = std::make_shared<WalFile>();
  state->path = fname;
  state->file = std::move(*result);
  {
    std::lock_guard lock(mutex_);
    open_.push_back(state);
  }
  *result = std::make_unique<TrackedWalFile>(std::move(state), this);
  return opened;
}

void WalSyncFileSystem::Untrack(const WalFile* file) {
  std::lock_guard lock(mutex_);
  std::erase_if(open_, [file](const std::shared_ptr<WalFile>& open) { return open.get() == file; });
}

Status WalSyncFileSystem::Failed(const std::string& message) {
  std::lock_guard lock(mutex_);
  if (failure_.empty()) failure_ = message;
  return Status::Unavailable("WAL sync failed: " + failure_);
}

Status WalSyncFileSystem::failure() {
  std::lock_guard lock(mutex_);
  if (failure_.empty()) return Status::Ok();
  return Status::Unavailable("WAL sync failed: " + failure_);
}

Status WalSyncFileSystem::SyncWals() {
  std::vector<std::shared_ptr<WalFile>> files;
  {
    std::lock_guard lock(mutex_);
    if (!failure_.empty()) return Status::Unavailable("WAL sync failed: " + failure_);
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
  const size_t slash = file.path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : file.path.substr(0, slash);
  std::unique_ptr<rocksdb::FSDirectory> directory;
  rocksdb::IOStatus status = target()->NewDirectory(dir, rocksdb::IOOptions(), &directory, nullptr);
  if (status.ok()) status = directory->Fsync(rocksdb::IOOptions(), nullptr);
  if (status.ok()) file.dir_synced.store(true, std::memory_order_release);
  return status;
}

}  // namespace mnemo::storage
