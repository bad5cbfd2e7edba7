// `mnemo restore`: puts a backup in place as a data directory (offline).
#include <cstdio>
#include <filesystem>

#include "server/cli/commands.h"

namespace mnemo::cli {

namespace fs = std::filesystem;

int Restore(const std::string& backup_path, const std::string& data_dir) {
  std::error_code ec;
  if (!fs::is_directory(backup_path, ec) || !fs::exists(fs::path(backup_path) / "CURRENT", ec)) {
    std::fprintf(stderr, "mnemo: %s is not a mnemo backup (no RocksDB CURRENT file)\n",
                 backup_path.c_str());
    return 2;
  }
  if (fs::exists(data_dir, ec) && !(fs::is_directory(data_dir, ec) && fs::is_empty(data_dir, ec))) {
    std::fprintf(stderr, "mnemo: refusing to restore into %s: it exists and is not empty\n",
                 data_dir.c_str());
    return 2;
  }
  // Copy next to the target, then rename into place: a failed copy never leaves a half data dir.
  fs::path target = fs::absolute(data_dir).lexically_normal();
  if (target.filename().empty()) target = target.parent_path();
  const fs::path staging = target.parent_path() / ("." + target.filename().string() + ".restoring");
  fs::remove_all(staging, ec);
  fs::create_directories(target.parent_path(), ec);
  fs::copy(backup_path, staging, fs::copy_options::recursive, ec);
  if (ec) {
    std::fprintf(stderr, "mnemo: copying %s failed: %s\n", backup_path.c_str(),
                 ec.message().c_str());
    fs::remove_all(staging, ec);
    return 1;
  }
  fs::remove(target, ec);  // an empty directory (or nothing)
  fs::rename(staging, target, ec);
  if (ec) {
    std::fprintf(stderr, "mnemo: moving %s into place failed: %s\n", staging.c_str(),
                 ec.message().c_str());
    return 1;
  }
  std::printf("restored %s into %s; start it with: mnemod --data %s\n", backup_path.c_str(),
              data_dir.c_str(), data_dir.c_str());
  return 0;
}

}  // namespace mnemo::cli
