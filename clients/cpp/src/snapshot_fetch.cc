#include "mnemo/client/snapshot_fetch.h"

#include <fcntl.h>
#include <unistd.h>

#include <optional>
#include <system_error>

namespace mnemo::client {
namespace {

namespace fs = std::filesystem;

Error LocalError(std::string message) { return Error{Code::kInternalError, std::move(message)}; }

bool WriteAll(int fd, const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

bool SyncPath(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  return synced;
}

// Copies one file of the snapshot to `target`; its size, or the error.
Result<uint64_t> FetchFile(Client& client, const std::string& snapshot_id, const SnapshotFile& file,
                           const fs::path& target) {
  std::error_code ec;
  fs::create_directories(target.parent_path(), ec);
  if (ec) return LocalError("creating " + target.parent_path().string() + ": " + ec.message());
  const int fd = ::open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return LocalError("creating " + target.string() + " failed");
  uint64_t offset = 0;
  std::optional<Error> failure;
  while (!failure) {
    auto chunk = client.ReadSnapshot(snapshot_id, file.path, offset);
    if (!chunk.ok()) {
      failure = chunk.error();
    } else if (chunk->empty()) {
      break;
    } else if (!WriteAll(fd, *chunk)) {
      failure = LocalError("writing " + target.string() + " failed");
    } else {
      offset += chunk->size();
    }
  }
  if (!failure && offset != file.size) {
    failure = LocalError(file.path + ": received " + std::to_string(offset) +
                         " bytes, the manifest says " + std::to_string(file.size));
  }
  if (!failure && ::fsync(fd) != 0) failure = LocalError("syncing " + target.string() + " failed");
  ::close(fd);
  if (failure) return *failure;
  return offset;
}

// Every file of `manifest` into `root`, then every directory synced.
Result<uint64_t> FetchFiles(Client& client, const SnapshotManifest& manifest,
                            const fs::path& root) {
  uint64_t bytes = 0;
  for (const SnapshotFile& file : manifest.files) {
    const fs::path relative = fs::path(file.path).lexically_normal();
    if (relative.empty() || relative.is_absolute() || *relative.begin() == "..") {
      return LocalError("the server named a file outside the snapshot: " + file.path);
    }
    auto written = FetchFile(client, manifest.id, file, root / relative);
    if (!written.ok()) return written.error();
    bytes += *written;
  }
  std::error_code ec;
  for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_directory(ec) && !SyncPath(it->path())) {
      return LocalError("syncing " + it->path().string() + " failed");
    }
  }
  if (ec) return LocalError("listing " + root.string() + ": " + ec.message());
  if (!SyncPath(root)) return LocalError("syncing " + root.string() + " failed");
  return bytes;
}

}  // namespace

Result<FetchedSnapshot> FetchSnapshot(Client& client, const std::filesystem::path& dir) {
  auto manifest = client.OpenSnapshot();
  if (!manifest.ok()) return manifest.error();
  auto bytes = FetchFiles(client, *manifest, dir);
  auto closed = client.CloseSnapshot(manifest->id);  // the server deletes its copy either way
  if (!bytes.ok()) return bytes.error();
  FetchedSnapshot fetched;
  fetched.id = manifest->id;
  fetched.files = manifest->files.size();
  fetched.bytes = *bytes;
  if (!closed.ok()) fetched.close_problem = closed.error().ToString();
  return fetched;
}

}  // namespace mnemo::client
