// ServerConfig: mnemod's settings, from flags and/or a config file (`--config FILE`, INI/TOML
// `key = value` lines named like the long flags).  Defaults make `mnemod --data ./data` work.
//
// Thread-safety: plain value types and stateless functions.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mnemo/maintenance.h"
#include "mnemo/options.h"

namespace mnemo::server {

struct ListenAddress {
  std::string host;   // an IPv4/IPv6 literal ("localhost" is read as 127.0.0.1)
  uint16_t port = 0;  // 0: an ephemeral port (see ServerConfig::port_file)
  bool IsLoopback() const;
  std::string ToString() const;  // "127.0.0.1:7420", "[::1]:7420"
};

// Parses "host:port" or "[v6]:port".  nullopt with a reason in *error on anything else.
std::optional<ListenAddress> ParseListenAddress(const std::string& text, std::string* error);

// When the primary answers a write (server/replica_acks.h).
enum class AckPolicy : uint8_t {
  kAsync,     // after its own commit
  kSemiSync,  // after its commit and one replica's acknowledgement, or UNAVAILABLE on timeout
};

// Cluster mode (server/cluster_node.h).  Without etcd endpoints mnemod runs alone, as before,
// and needs no etcd.  With them, the node takes part in electing its cluster's primary; only the
// primary accepts writes, and every other node replicates the primary's write stream
// (server/replicator.h) and serves reads from its copy.
struct ClusterConfig {
  std::vector<std::string> etcd;  // client URLs of etcd members; empty: single-node (the default)
  std::string cluster;            // names the etcd keys /mnemo/<cluster>/...; required with etcd
  std::string node_id;            // unique within the cluster; required with etcd
  // "host:port" clients are redirected to while this node is primary; empty: the listen address
  // with the bound port (which must then not be a wildcard address).
  std::string advertise;
  std::chrono::seconds lease_ttl{5};  // the etcd lease; writes stop when it may have lapsed
  AckPolicy ack_policy = AckPolicy::kSemiSync;
  std::chrono::milliseconds replica_ack_timeout{1000};  // semi-sync: the longest wait for a replica
  // The replication log keeps at most this many newest records (server/replicator.h: trimming).
  uint64_t log_keep = 100'000;
  // A file holding the API key (a service key) this node presents to the primary when it
  // bootstraps and follows; empty: none, and the primary must be in protected mode.
  std::string replication_key_file;
  bool enabled() const { return !etcd.empty(); }
};

struct ServerConfig {
  // ---- behaviour ----
  std::string data_dir = "./data";
  ListenAddress listen{"127.0.0.1", 7420};
  std::optional<uint32_t> dimension;  // only used when the data directory is created
  bool sync_writes = true;            // sync the WAL before acknowledging writes (SPEC §6)
  std::string log_level = "info";     // trace|debug|info|warn|error|critical|off
  std::string port_file;              // when set, the bound port is written here after listen
  bool keyword_search = true;         // EngineOptions::keyword_search
  // EngineOptions::replication_log (FollowRequest reads it); always on in cluster mode.
  bool replication_log = false;
  double bm25_k1 = 1.2;          // keyword search (EngineOptions::bm25_k1)
  double bm25_b = 0.75;          // keyword search (EngineOptions::bm25_b)
  TokenEstimate token_estimate;  // context assembly (EngineOptions::token_estimate)
  // Prometheus metrics over HTTP (GET /metrics); off unless set.  "PORT" means 127.0.0.1:PORT.
  std::optional<ListenAddress> metrics_listen;
  std::string metrics_port_file;  // when set, the metrics port is written here after listen

  // ---- retention (mnemo/maintenance.h), applied every retention_interval ----
  int32_t retention_months = 0;       // keep this many newest months of chunks; 0 keeps all
  std::string retention_archive_dir;  // retired months are archived here first; empty: not archived
  int64_t purge_after_days =
      kDefaultPurgeAfterDays;  // soft-deleted rows are purged after this; 0 never
  std::chrono::seconds retention_interval{3600};

  // ---- limits ----
  uint32_t max_connections = 1024;
  uint32_t max_in_flight = 64;  // per connection; reading pauses at the limit
  size_t max_queued_bytes = size_t{16}
                            << 20;  // per connection's unsent replies; reading pauses above
  uint32_t max_frame_bytes = 0;     // 0 = protocol::kDefaultMaxFrameBytes (set by parsing)
  std::chrono::seconds idle_timeout{300};
  std::chrono::seconds shutdown_timeout{10};

  // ---- performance ----
  uint32_t io_threads = 0;       // 0 = number of cores (set by parsing)
  uint32_t workers = 0;          // 0 = number of cores (set by parsing)
  uint32_t worker_queue = 4096;  // engine requests waiting for a worker; beyond: UNAVAILABLE
  // How long an I/O thread with nothing to do keeps polling its sockets (yielding its core to
  // any other thread that wants it) before it sleeps in epoll_wait; 0: sleeps at once.  See
  // RunIoThread in server.cc.
  std::chrono::microseconds io_spin{50};
  // HNSW graph parameters for new graphs (EngineOptions::hnsw_m, hnsw_ef_construction); unset:
  // the engine's defaults.  The engine checks the range when it opens.
  std::optional<uint32_t> hnsw_m;
  std::optional<uint32_t> hnsw_ef_construction;

  // ---- cluster ----
  ClusterConfig cluster;
};

// The lease TTLs --lease-ttl accepts, in seconds.
inline constexpr int64_t kMinLeaseTtlSeconds = 1;
inline constexpr int64_t kMaxLeaseTtlSeconds = 3600;
// The replica acknowledgement timeouts --replica-ack-timeout-ms accepts.
inline constexpr int64_t kMinReplicaAckTimeoutMs = 1;
inline constexpr int64_t kMaxReplicaAckTimeoutMs = 600'000;

// Splits --etcd's comma-separated list (blanks around items ignored) and checks each endpoint
// with the etcd client's parser.  nullopt with a reason in *error when there is none or one is
// bad.
std::optional<std::vector<std::string>> ParseEtcdEndpoints(const std::string& text,
                                                           std::string* error);
// The cluster settings' checks beyond the endpoints: names, TTL, advertise address.  The reason
// (naming the flag) when they are wrong; nullopt when they are fine.  REQUIRES: config.enabled().
std::optional<std::string> CheckClusterConfig(const ClusterConfig& config,
                                              const ListenAddress& listen);

// Outcome of ParseServerConfig: either a config to run with, or an exit (help, version or an
// error) with the text to print.
struct ConfigOutcome {
  std::optional<ServerConfig> config;
  int exit_code = 0;
  std::string output;  // for stdout on exit_code 0, stderr otherwise
};

// Parses mnemod's command line (and the file named by --config).  Exit code 2 for usage errors.
ConfigOutcome ParseServerConfig(int argc, const char* const* argv);

}  // namespace mnemo::server
