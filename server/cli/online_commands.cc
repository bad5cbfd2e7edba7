// `mnemo stats|partitions|backup`: ask a running mnemod, through the C++ client library.
#include <cstdio>
#include <string>

#include "mnemo/client/client.h"
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
  if (options.host.size() >= 2 && options.host.front() == '[') options.host = options.host.substr(1, options.host.size() - 2);
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
  std::printf("%-8s %12s %14s %14s %10s %10s\n", "MONTH", "ROWS", "VECTOR_BYTES", "INDEX_BYTES", "PENDING", "DELETED");
  for (const auto& p : partitions) {
    std::printf("%-8s %12lld %14lld %14lld %10lld %10lld\n", p.month.c_str(), static_cast<long long>(p.rows),
                static_cast<long long>(p.vector_bytes), static_cast<long long>(p.index_bytes),
                static_cast<long long>(p.pending_rows), static_cast<long long>(p.deleted_in_index));
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
              info.server_version.c_str(), info.dimension, static_cast<unsigned long long>(stats->uptime_seconds),
              stats->connections, static_cast<unsigned long long>(stats->data_bytes));
  PrintPartitions(stats->partitions);
  if (!stats->ops.empty()) {
    std::printf("%-24s %10s %8s %12s %12s\n", "OPERATION", "COUNT", "ERRORS", "P50_US", "P99_US");
    for (const auto& op : stats->ops) {
      std::printf("%-24s %10llu %8llu %12.1f %12.1f\n", op.name.c_str(), static_cast<unsigned long long>(op.count),
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

}  // namespace mnemo::cli
