// `mnemo stats|partitions|backup|snapshot fetch|archive|drop|attach|rebuild|retention|purge`: ask
// a running mnemod, through the C++ client library.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "mnemo/client/client.h"
#include "mnemo/client/snapshot_fetch.h"
#include "mnemo/types.h"
#include "server/cli/commands.h"

namespace mnemo::cli {
namespace {

int Fail(const client::Error& error) {
  std::fprintf(stderr, "mnemo: %s\n", error.ToString().c_str());
  return 1;
}

client::Result<std::unique_ptr<client::Client>> ConnectTo(const ServerAddress& address) {
  client::ClientOptions options;
  const size_t colon = address.server.rfind(':');
  if (colon == std::string::npos) {
    return client::Error{client::Code::kValidationError, "--server must be host:port", "server"};
  }
  options.host = address.server.substr(0, colon);
  if (options.host.size() >= 2 && options.host.front() == '[')
    options.host = options.host.substr(1, options.host.size() - 2);
  try {
    const int port = std::stoi(address.server.substr(colon + 1));
    if (port <= 0 || port > 65535) throw std::out_of_range("port");
    options.port = static_cast<uint16_t>(port);
  } catch (const std::exception&) {
    return client::Error{client::Code::kValidationError, "--server must be host:port", "server"};
  }
  options.api_key = address.api_key;
  options.client_name = "mnemo-cli";
  options.pool_size = 1;
  options.request_timeout = std::chrono::minutes(10);  // backups of large directories take a while
  return client::Client::Connect(options);
}

void PrintPartitions(const std::vector<client::PartitionInfo>& partitions) {
  if (partitions.empty()) {
    std::printf("no partitions\n");
    return;
  }
  std::printf("%-8s %12s %14s %14s %10s %10s\n", "MONTH", "ROWS", "VECTOR_BYTES", "INDEX_BYTES",
              "PENDING", "DELETED");
  for (const auto& p : partitions) {
    std::printf("%-8s %12lld %14lld %14lld %10lld %10lld\n", p.month.c_str(),
                static_cast<long long>(p.rows), static_cast<long long>(p.vector_bytes),
                static_cast<long long>(p.index_bytes), static_cast<long long>(p.pending_rows),
                static_cast<long long>(p.deleted_in_index));
  }
}

}  // namespace

int Stats(const ServerAddress& address) {
  auto connected = ConnectTo(address);
  if (!connected.ok()) return Fail(connected.error());
  auto stats = (*connected)->GetStats();
  if (!stats.ok()) return Fail(stats.error());
  const auto& info = (*connected)->server_info();
  std::printf("mnemod %s, dimension %u, up %llu s, %u connection(s), %llu bytes on disk\n",
              info.server_version.c_str(), info.dimension,
              static_cast<unsigned long long>(stats->uptime_seconds), stats->connections,
              static_cast<unsigned long long>(stats->data_bytes));
  const client::ClusterInfo& cluster = stats->cluster;
  if (cluster.role != client::ClusterInfo::Role::kStandalone) {
    const bool primary = cluster.role == client::ClusterInfo::Role::kPrimary;
    std::printf("cluster %s: node %s is %s%s; primary %s (epoch %llu)\n", cluster.cluster.c_str(),
                cluster.node_id.c_str(), primary ? "primary" : "a follower",
                primary && !cluster.writable ? " (fenced: refusing writes)" : "",
                cluster.primary_node_id.empty()
                    ? "unknown"
                    : (cluster.primary_node_id + " at " + cluster.primary_address).c_str(),
                static_cast<unsigned long long>(cluster.primary_epoch));
  }
  PrintPartitions(stats->partitions);
  if (!stats->ops.empty()) {
    std::printf("%-24s %10s %8s %12s %12s\n", "OPERATION", "COUNT", "ERRORS", "P50_US", "P99_US");
    for (const auto& op : stats->ops) {
      std::printf("%-24s %10llu %8llu %12.1f %12.1f\n", op.name.c_str(),
                  static_cast<unsigned long long>(op.count),
                  static_cast<unsigned long long>(op.errors), op.p50_us, op.p99_us);
    }
  }
  return 0;
}

int Partitions(const ServerAddress& address) {
  auto connected = ConnectTo(address);
  if (!connected.ok()) return Fail(connected.error());
  auto partitions = (*connected)->ListPartitions();
  if (!partitions.ok()) return Fail(partitions.error());
  PrintPartitions(*partitions);
  return 0;
}

int Backup(const ServerAddress& address, const std::string& path) {
  auto connected = ConnectTo(address);
  if (!connected.ok()) return Fail(connected.error());
  auto done = (*connected)->CreateBackup(path);
  if (!done.ok()) return Fail(done.error());
  std::printf("backup written to %s (on the server's machine)\n", path.c_str());
  return 0;
}

namespace {

bool SyncPath(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  return synced;
}

}  // namespace

int SnapshotFetch(const ServerAddress& address, const std::string& dir) {
  namespace fs = std::filesystem;
  fs::path target = fs::absolute(dir).lexically_normal();
  if (target.filename().empty()) target = target.parent_path();
  std::error_code ec;
  if (fs::exists(target, ec)) {
    std::fprintf(stderr, "mnemo: refusing to fetch into %s: it exists\n", target.c_str());
    return 2;
  }
  auto connected = ConnectTo(address);
  if (!connected.ok()) return Fail(connected.error());
  const fs::path partial = target.string() + ".partial";
  fs::remove_all(partial, ec);
  fs::create_directories(partial, ec);
  if (ec) {
    std::fprintf(stderr, "mnemo: creating %s: %s\n", partial.c_str(), ec.message().c_str());
    return 1;
  }
  auto fetched = client::FetchSnapshot(**connected, partial);
  if (!fetched.ok()) {
    std::fprintf(stderr, "mnemo: snapshot fetch failed: %s (partial copy left in %s)\n",
                 fetched.error().ToString().c_str(), partial.c_str());
    return 1;
  }
  // FetchSnapshot synced the copy; the rename publishes it.
  fs::rename(partial, target, ec);
  if (ec || !SyncPath(target.parent_path())) {
    std::fprintf(stderr, "mnemo: finishing %s failed: %s\n", target.c_str(),
                 ec ? ec.message().c_str() : "sync");
    return 1;
  }
  if (!fetched->close_problem.empty()) {
    std::fprintf(stderr,
                 "mnemo: note: closing the snapshot on the server failed (%s); it expires\n",
                 fetched->close_problem.c_str());
  }
  std::printf("snapshot %s: %zu files, %llu bytes written to %s\n", fetched->id.c_str(),
              fetched->files, static_cast<unsigned long long>(fetched->bytes), target.c_str());
  return 0;
}

int Archive(const ServerAddress& address, const std::string& month, const std::string& path) {
  auto connected = ConnectTo(address);
  if (!connected.ok()) return Fail(connected.error());
  auto rows = (*connected)->ArchivePartition(month, path);
  if (!rows.ok()) return Fail(rows.error());
  std::printf("archived %lld chunk(s) of %s to %s (on the server's machine); the partition stays\n",
              static_cast<long long>(*rows), month.c_str(), path.c_str());
  return 0;
}

int Drop(const ServerAddress& address, const std::string& month) {
  auto connected = ConnectTo(address);
  if (!connected.ok()) return Fail(connected.error());
  auto rows = (*connected)->DropPartition(month);
  if (!rows.ok()) return Fail(rows.error());
  std::printf("dropped %lld chunk(s) of %s\n", static_cast<long long>(*rows), month.c_str());
  return 0;
}

int Attach(const ServerAddress& address, const std::string& path) {
  auto connected = ConnectTo(address);
  if (!connected.ok()) return Fail(connected.error());
  auto attached = (*connected)->AttachArchive(path);
  if (!attached.ok()) return Fail(attached.error());
  std::printf(
      "attached %lld chunk(s) from %s; skipped %lld (document gone, or id or chunk_index taken)\n",
      static_cast<long long>(attached->attached), path.c_str(),
      static_cast<long long>(attached->skipped));
  return 0;
}

int Rebuild(const ServerAddress& address, const std::string& month) {
  auto connected = ConnectTo(address);
  if (!connected.ok()) return Fail(connected.error());
  auto done = (*connected)->RebuildPartition(month);
  if (!done.ok()) return Fail(done.error());
  std::printf("rebuilt the graph of %s\n", month.c_str());
  return 0;
}

int Retention(const ServerAddress& address, const RetentionArgs& args) {
  std::optional<client::RetentionPolicy> policy;
  if (args.policy_given) {
    policy.emplace();
    policy->keep_months = args.keep_months;
    policy->archive_dir = args.archive_dir;
    policy->purge_after_seconds = args.purge_after_days * 24 * 3600;
  }
  auto connected = ConnectTo(address);
  if (!connected.ok()) return Fail(connected.error());
  auto report = (*connected)->ApplyRetention(policy);
  if (!report.ok()) return Fail(report.error());
  for (const auto& month : report->retired) {
    std::printf("retired %s: %lld chunk row(s) deleted%s%s\n", month.month.c_str(),
                static_cast<long long>(month.rows),
                month.archive_path.empty() ? " (not archived)" : ", archived to ",
                month.archive_path.c_str());
  }
  std::printf("%zu month(s) retired", report->retired.size());
  if (report->month_cutoff != 0)
    std::printf(" (cut-off %s)", FormatTimestamp(report->month_cutoff).c_str());
  std::printf("; purged %lld conversation(s), %lld document(s), %lld chunk(s)",
              static_cast<long long>(report->conversations_purged),
              static_cast<long long>(report->documents_purged),
              static_cast<long long>(report->chunks_purged));
  if (report->purge_cutoff != 0)
    std::printf(" deleted before %s", FormatTimestamp(report->purge_cutoff).c_str());
  std::printf("\n");
  return 0;
}

}  // namespace mnemo::cli
