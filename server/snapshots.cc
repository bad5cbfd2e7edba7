#include "server/snapshots.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "mnemo/base/uuid.h"
#include "server/auth/key_store.h"

namespace mnemo::server {
namespace {

namespace fs = std::filesystem;

// Every regular file under `root`, with its size, by relative path.
Result<std::map<std::string, uint64_t>> ListFiles(const fs::path& root) {
  std::map<std::string, uint64_t> files;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    const uint64_t size = it->file_size(ec);
    if (ec) break;
    files.emplace(fs::relative(it->path(), root, ec).generic_string(), size);
  }
  if (ec) return Status::Unavailable("listing snapshot " + root.string() + ": " + ec.message());
  return files;
}

}  // namespace

Status CopyKeyFile(const std::string& data_dir, const std::string& target_dir) {
  const fs::path keys = KeyStore::PathFor(data_dir);
  std::error_code ec;
  if (!fs::exists(keys, ec)) return Status::Ok();
  const fs::path target = KeyStore::PathFor(target_dir);
  fs::create_directories(target.parent_path(), ec);
  if (!ec) fs::copy_file(keys, target, fs::copy_options::overwrite_existing, ec);
  if (ec) return Status::Unavailable("copying the key file failed: " + ec.message());
  return Status::Ok();
}

SnapshotStore::SnapshotStore(std::string data_dir) : data_dir_(std::move(data_dir)) {
  std::error_code ec;
  if (fs::exists(Root(), ec)) {
    fs::remove_all(Root(), ec);
    if (ec) spdlog::warn("cannot remove old snapshots in {}: {}", Root(), ec.message());
  }
}

std::string SnapshotStore::Root() const { return (fs::path(data_dir_) / kDirName).string(); }

Result<SnapshotStore::Manifest> SnapshotStore::Open(Engine& engine) {
  std::lock_guard one_backup(open_mutex_);
  {
    std::lock_guard lock(mutex_);
    ExpireLocked();
    if (entries_.size() >= kMaxOpen) {
      return Status::Unavailable(
          std::to_string(kMaxOpen) + " snapshots are open already; close one (or wait " +
          std::to_string(kIdleLimit.count()) + " minutes for an idle one to expire)");
    }
  }
  const std::string id = Uuid::Generate().ToString();
  const std::string dir = (fs::path(Root()) / id).string();
  std::error_code ec;
  fs::create_directories(Root(), ec);
  if (ec) return Status::Unavailable("creating " + Root() + ": " + ec.message());
  Status made = engine.CreateBackup(dir);
  if (made.ok()) made = CopyKeyFile(data_dir_, dir);
  Result<std::map<std::string, uint64_t>> files =
      made.ok() ? ListFiles(dir) : Result<std::map<std::string, uint64_t>>(made);
  if (!files.ok()) {
    fs::remove_all(dir, ec);
    return files.status();
  }
  Manifest manifest{id, {}};
  for (const auto& [path, size] : *files) manifest.files.push_back(File{path, size});
  {
    std::lock_guard lock(mutex_);
    entries_[id] = Entry{dir, std::move(*files), std::chrono::steady_clock::now()};
  }
  spdlog::info("snapshot {} made ({} files)", id, manifest.files.size());
  return manifest;
}

Result<std::string> SnapshotStore::Read(const std::string& id, const std::string& path,
                                        uint64_t offset, uint32_t max_bytes) {
  std::string dir;
  uint64_t size = 0;
  {
    std::lock_guard lock(mutex_);
    ExpireLocked();
    auto entry = entries_.find(id);
    if (entry == entries_.end())
      return Status::NotFound("snapshot " + id + " does not exist (closed, or expired)");
    auto file = entry->second.sizes.find(path);
    if (file == entry->second.sizes.end())
      return Status::NotFound("snapshot " + id + " has no file " + path);
    entry->second.last_used = std::chrono::steady_clock::now();
    dir = entry->second.dir;
    size = file->second;
  }
  if (offset > size) {
    return Status::ValidationError("offset", "offset " + std::to_string(offset) +
                                                 " is beyond the end of " + path + " (" +
                                                 std::to_string(size) + " bytes)");
  }
  const uint32_t limit = max_bytes == 0 ? kChunkBytes : std::min(max_bytes, kChunkBytes);
  std::string data(static_cast<size_t>(std::min<uint64_t>(limit, size - offset)), '\0');
  const std::string full = (fs::path(dir) / path).string();
  const int fd = ::open(full.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::Unavailable("opening " + full + " failed");
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n =
        ::pread(fd, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  // The snapshot's files do not change; a short read means the file was damaged or removed.
  if (done < data.size()) return Status::Unavailable("reading " + full + " failed");
  return data;
}

Status SnapshotStore::Close(const std::string& id) {
  std::string dir;
  {
    std::lock_guard lock(mutex_);
    auto entry = entries_.find(id);
    if (entry == entries_.end())
      return Status::NotFound("snapshot " + id + " does not exist (closed, or expired)");
    dir = entry->second.dir;
    entries_.erase(entry);
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (ec) spdlog::warn("cannot remove snapshot {}: {}", dir, ec.message());
  return Status::Ok();
}

size_t SnapshotStore::open_count() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

void SnapshotStore::ExpireLocked() {
  const auto now = std::chrono::steady_clock::now();
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (now - it->second.last_used < kIdleLimit) {
      ++it;
      continue;
    }
    std::error_code ec;
    fs::remove_all(it->second.dir, ec);
    spdlog::info("snapshot {} expired after {} idle minutes", it->first, kIdleLimit.count());
    it = entries_.erase(it);
  }
}

}  // namespace mnemo::server
