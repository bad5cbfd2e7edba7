// The subcommands of the `mnemo` admin CLI.  Each returns the process exit code (0 success,
// 1 failure, 2 usage error) and prints its own messages.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mnemo::cli {

// ---- offline: work on a data directory directly ----
int KeysCreate(const std::string& data_dir, const std::string& kind, const std::string& user_id);
int KeysList(const std::string& data_dir);
int KeysRevoke(const std::string& data_dir, const std::string& id);
// Copies a backup directory (made by `mnemo backup` / CreateBackup) into place as `data_dir`,
// which must not exist or be empty.  mnemod must not be running on it.
int Restore(const std::string& backup_path, const std::string& data_dir);

// ---- online: talk to a running mnemod ----
struct ServerAddress {
  std::string server = "127.0.0.1:7420";  // host:port
  std::string api_key;                    // empty: protected mode (loopback, no keys yet)
};
int Stats(const ServerAddress& address);
int Partitions(const ServerAddress& address);
int Backup(const ServerAddress& address, const std::string& path);
// Copies a snapshot of the server's data (what `backup` writes, on the server's machine) over the
// connection into `dir` on this machine, which must not exist: a directory that `restore` puts in
// place or mnemod opens.  Each chunk's CRC-32C and each file's size are checked; the files are
// synced, and `dir` appears under its name only once complete (it is written as DIR.partial).
int SnapshotFetch(const ServerAddress& address, const std::string& dir);
// Partition administration (paths are on the server's machine).
int Archive(const ServerAddress& address, const std::string& month, const std::string& path);
int Drop(const ServerAddress& address, const std::string& month);
int Attach(const ServerAddress& address, const std::string& path);
int Rebuild(const ServerAddress& address, const std::string& month);
// Runs retention once: the server's configured policy when `policy_given` is false.
struct RetentionArgs {
  bool policy_given = false;
  int32_t keep_months = 0;
  std::string archive_dir;
  int64_t purge_after_days = 0;
};
int Retention(const ServerAddress& address, const RetentionArgs& args);

// ---- cluster ----
// Prints the primary and epoch from etcd (with `etcd` and `cluster`) and each node's role as the
// node reports it (with `nodes`).  Exit code 1 when etcd or a node cannot be asked.
struct ClusterStatusArgs {
  std::string etcd;                // comma-separated etcd endpoints
  std::string cluster;             // the cluster's name
  std::vector<std::string> nodes;  // mnemod addresses, host:port
  std::string api_key;             // a service key for the nodes' stats
};
int ClusterStatus(const ClusterStatusArgs& args);

}  // namespace mnemo::cli
