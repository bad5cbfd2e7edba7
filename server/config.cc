#include "server/config.h"

#include <algorithm>
#include <sstream>
#include <thread>

#include <CLI/CLI.hpp>
#include <boost/asio/ip/address.hpp>

#include "cluster/gateway_transport.h"
#include "cluster/primary_election.h"
#include "protocol/version.h"

namespace mnemo::server {

bool ListenAddress::IsLoopback() const {
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(host, ec);
  return !ec && address.is_loopback();
}

std::string ListenAddress::ToString() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::optional<ListenAddress> ParseListenAddress(const std::string& text, std::string* error) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon + 1 == text.size()) {
    *error = "listen address \"" + text + "\" is not host:port";
    return std::nullopt;
  }
  ListenAddress out;
  out.host = text.substr(0, colon);
  if (out.host.size() >= 2 && out.host.front() == '[' && out.host.back() == ']') {
    out.host = out.host.substr(1, out.host.size() - 2);
  }
  if (out.host == "localhost") out.host = "127.0.0.1";
  boost::system::error_code ec;
  boost::asio::ip::make_address(out.host, ec);
  if (ec) {
    *error = "listen host \"" + out.host + "\" is not an IP address";
    return std::nullopt;
  }
  const std::string port = text.substr(colon + 1);
  unsigned long value = 0;
  for (char c : port) {
    if (c < '0' || c > '9' || value > 65535) {
      *error = "listen port \"" + port + "\" is not a number in 0..65535";
      return std::nullopt;
    }
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value > 65535) {
    *error = "listen port \"" + port + "\" is not a number in 0..65535";
    return std::nullopt;
  }
  out.port = static_cast<uint16_t>(value);
  return out;
}

std::optional<std::vector<std::string>> ParseEtcdEndpoints(const std::string& text,
                                                           std::string* error) {
  std::vector<std::string> endpoints;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(start, end - start);
    const size_t first = item.find_first_not_of(" \t");
    const size_t last = item.find_last_not_of(" \t");
    item = first == std::string::npos ? "" : item.substr(first, last - first + 1);
    if (!item.empty()) endpoints.push_back(std::move(item));
    start = end + 1;
  }
  if (endpoints.empty()) {
    *error = "--etcd: no etcd endpoint given (cluster mode needs at least one)";
    return std::nullopt;
  }
  // The etcd client's own parser decides what an endpoint is.
  cluster::GatewayOptions options;
  options.endpoints = endpoints;
  auto transport = cluster::GatewayTransport::Create(options);
  if (!transport.ok()) {
    *error = "--etcd: " + std::string(transport.status().message());
    return std::nullopt;
  }
  return endpoints;
}

std::optional<std::string> CheckClusterConfig(const ClusterConfig& config,
                                              const ListenAddress& listen) {
  if (config.lease_ttl.count() < kMinLeaseTtlSeconds ||
      config.lease_ttl.count() > kMaxLeaseTtlSeconds) {
    return "--lease-ttl: " + std::to_string(config.lease_ttl.count()) + " is not a number of " +
           "seconds in " + std::to_string(kMinLeaseTtlSeconds) + ".." +
           std::to_string(kMaxLeaseTtlSeconds);
  }
  if (config.cluster.empty()) return std::string("--cluster is required with --etcd");
  if (config.node_id.empty()) return std::string("--node-id is required with --etcd");
  if (config.advertise.empty()) {
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address(listen.host, ec);
    if (!ec && address.is_unspecified()) {
      return "--advertise is required when listening on " + listen.ToString() +
             ": clients cannot reach a wildcard address";
    }
  } else {
    const size_t colon = config.advertise.rfind(':');
    const std::string port = colon == std::string::npos ? "" : config.advertise.substr(colon + 1);
    const bool port_ok = !port.empty() && port.size() <= 5 &&
                         port.find_first_not_of("0123456789") == std::string::npos &&
                         std::stoul(port) >= 1 && std::stoul(port) <= 65535;
    if (colon == 0 || !port_ok) {
      return "--advertise: \"" + config.advertise + "\" is not host:port (port 1..65535)";
    }
  }
  cluster::ElectionOptions election;
  election.cluster = config.cluster;
  election.node_id = config.node_id;
  election.address = config.advertise.empty() ? listen.ToString() : config.advertise;
  election.lease_ttl = config.lease_ttl;
  const Status checked = cluster::PrimaryElection::CheckOptions(election);
  if (!checked.ok()) {
    std::string flag = "--" + std::string(checked.field());  // node_id -> --node-id
    std::replace(flag.begin(), flag.end(), '_', '-');
    return flag + ": " + std::string(checked.message());
  }
  return std::nullopt;
}

ConfigOutcome ParseServerConfig(int argc, const char* const* argv) {
  ServerConfig config;
  const uint32_t cores = std::max(1u, std::thread::hardware_concurrency());
  config.io_threads = cores;
  config.workers = cores;
  config.max_frame_bytes = protocol::kDefaultMaxFrameBytes;

  CLI::App app{
      "mnemod: the mnemo storage server (conversations, messages, documents, vector search)"};
  app.set_config("--config", "", "read settings from this file (INI/TOML: key = value)");
  app.set_version_flag("--version", "mnemod " MNEMO_SERVER_VERSION);
  std::string listen = config.listen.ToString();
  int64_t idle_seconds = config.idle_timeout.count();
  int64_t shutdown_seconds = config.shutdown_timeout.count();
  int64_t io_spin_us = config.io_spin.count();
  uint32_t dimension = 0;
  uint32_t hnsw_m = 0;
  uint32_t hnsw_ef_construction = 0;
  app.add_option("--data", config.data_dir, "data directory (created on first run)")
      ->capture_default_str();
  app.add_option("--listen", listen, "address to listen on, host:port (port 0: ephemeral)")
      ->capture_default_str();
  app.add_option("--port-file", config.port_file,
                 "write the bound port to this file once listening");
  app.add_option("--dimension", dimension,
                 "embedding dimension of a new data directory (default 1536)")
      ->check(CLI::Range(1u, 65536u));
  app.add_option("--hnsw-m", hnsw_m,
                 "HNSW links per node of new graphs (default: the engine's, 16)")
      ->check(CLI::PositiveNumber);
  app.add_option("--hnsw-ef-construction", hnsw_ef_construction,
                 "HNSW build beam width of new graphs (default: the engine's, 64)")
      ->check(CLI::PositiveNumber);
  app.add_option("--sync-writes", config.sync_writes, "sync the WAL before acknowledging a write")
      ->capture_default_str();
  app.add_option("--log-level", config.log_level, "trace|debug|info|warn|error|critical|off")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  app.add_option("--io-threads", config.io_threads, "network I/O threads (default: cores)")
      ->check(CLI::Range(1u, 1024u));
  app.add_option("--workers", config.workers, "engine worker threads (default: cores)")
      ->check(CLI::Range(1u, 1024u));
  app.add_option(
         "--io-spin-us", io_spin_us,
         "microseconds an idle I/O thread keeps polling (yielding to other threads) before it "
         "sleeps; 0: sleeps at once")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{10000}));
  app.add_option("--worker-queue", config.worker_queue,
                 "requests waiting for a worker before the server answers UNAVAILABLE")
      ->capture_default_str()
      ->check(CLI::Range(1u, 1u << 20));
  app.add_option("--max-connections", config.max_connections, "open connections at most")
      ->capture_default_str()
      ->check(CLI::Range(1u, 1u << 20));
  app.add_option("--max-in-flight", config.max_in_flight, "unanswered requests per connection")
      ->capture_default_str()
      ->check(CLI::Range(1u, 65536u));
  app.add_option("--max-queued-bytes", config.max_queued_bytes,
                 "unsent reply bytes per connection before reading pauses")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1} << 10, size_t{1} << 34));
  app.add_option("--max-frame-bytes", config.max_frame_bytes, "largest frame accepted")
      ->capture_default_str()
      ->check(CLI::Range(1024u, 0xffffffffu));
  app.add_option("--idle-timeout", idle_seconds,
                 "seconds a connection may stay idle, or not read its replies, before it is closed")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{86400 * 365}));
  app.add_option("--shutdown-timeout", shutdown_seconds,
                 "seconds to let in-flight requests finish on SIGTERM/SIGINT")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{3600}));
  app.add_option(
         "--keyword-search", config.keyword_search,
         "index chunk texts for keyword and hybrid search (false: for measuring its write cost)")
      ->capture_default_str();
  auto* replication_log_option =
      app.add_option("--replication-log", config.replication_log,
                     "log every write call for replicas to follow (FollowRequest); always on in "
                     "cluster mode")
          ->capture_default_str();
  app.add_option("--bm25-k1", config.bm25_k1,
                 "keyword search: BM25 k1, how much repeated terms add")
      ->capture_default_str()
      ->check(CLI::Range(0.001, 100.0));
  app.add_option("--bm25-b", config.bm25_b,
                 "keyword search: BM25 b, how strongly long chunks are normalised")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--token-ascii-bytes", config.token_estimate.ascii_bytes_per_token,
                 "context assembly: ASCII bytes per token for texts without tokens_used")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 1000.0));
  app.add_option("--token-other-chars", config.token_estimate.tokens_per_other_char,
                 "context assembly: tokens per non-ASCII character (CJK: about 1)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 100.0));
  app.add_option("--token-overhead", config.token_estimate.per_text_overhead,
                 "context assembly: tokens added per message, prompt or chunk (framing)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{1000}));

  std::string metrics_listen;
  app.add_option(
      "--metrics-listen", metrics_listen,
      "serve Prometheus metrics at GET /metrics on PORT (127.0.0.1) or HOST:PORT; off when unset");
  app.add_option("--metrics-port-file", config.metrics_port_file,
                 "write the bound metrics port to this file");
  app.add_option(
         "--retention-months", config.retention_months,
         "keep the newest N calendar months of chunks; older months are retired (0 keeps all)")
      ->capture_default_str()
      ->check(CLI::Range(0, 100000));
  app.add_option(
      "--retention-archive-dir", config.retention_archive_dir,
      "archive retired months here before deleting them (default: delete without archive)");
  app.add_option(
         "--purge-after-days", config.purge_after_days,
         "delete soft-deleted conversations, documents and chunks for good after N days (0 never)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{100000}));
  int64_t retention_interval_seconds = config.retention_interval.count();
  app.add_option("--retention-interval", retention_interval_seconds,
                 "seconds between retention runs")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{86400 * 30}));

  std::string etcd;
  int64_t lease_ttl_seconds = config.cluster.lease_ttl.count();
  auto* etcd_option =
      app.add_option("--etcd", etcd,
                     "cluster mode: etcd client URLs, comma-separated (http://host:port); unset: "
                     "single-node, no etcd");
  app.add_option("--cluster", config.cluster.cluster,
                 "cluster mode: the cluster's name (letters, digits, '.', '_', '-')");
  app.add_option("--node-id", config.cluster.node_id,
                 "cluster mode: this node's id, unique within the cluster");
  app.add_option("--advertise", config.cluster.advertise,
                 "cluster mode: host:port clients use to reach this node (default: the listen "
                 "address with the bound port)");
  auto* lease_ttl_option =
      app.add_option("--lease-ttl", lease_ttl_seconds,
                     "cluster mode: seconds of the etcd lease; a primary that cannot renew it "
                     "stops accepting writes before it lapses")
          ->capture_default_str();
  std::string ack_policy;
  auto* ack_policy_option = app.add_option(
      "--ack-policy", ack_policy,
      "cluster mode: when the primary answers a write: async (after its own commit) or semi-sync "
      "(also after one replica acknowledged it; the default)");
  int64_t replica_ack_timeout_ms = config.cluster.replica_ack_timeout.count();
  auto* ack_timeout_option =
      app.add_option("--replica-ack-timeout-ms", replica_ack_timeout_ms,
                     "cluster mode, semi-sync: milliseconds a write waits for a replica before "
                     "it is answered UNAVAILABLE (applied on the primary, not yet on a replica)")
          ->capture_default_str();
  auto* log_keep_option =
      app.add_option("--replication-log-keep", config.cluster.log_keep,
                     "cluster mode: the newest log records always kept; older ones are deleted "
                     "once every live replica has them, and beyond this bound in any case (a "
                     "replica that needs a deleted record re-bootstraps)")
          ->capture_default_str()
          ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 40));

  auto* key_file_option = app.add_option(
      "--replication-key-file", config.cluster.replication_key_file,
      "cluster mode: a file holding the service API key this node presents to the primary when "
      "it bootstraps and follows (unset: none; the primary must then have no keys)");

  ConfigOutcome outcome;
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    std::ostringstream out;
    std::ostringstream err;
    const int code = app.exit(e, out, err);
    outcome.exit_code = code == 0 ? 0 : 2;
    outcome.output = code == 0 ? out.str() : err.str();
    return outcome;
  }
  std::string error;
  auto address = ParseListenAddress(listen, &error);
  if (!address) {
    outcome.exit_code = 2;
    outcome.output = "mnemod: " + error + "\n";
    return outcome;
  }
  config.listen = *address;
  if (!metrics_listen.empty()) {
    const bool port_only = metrics_listen.find_first_not_of("0123456789") == std::string::npos;
    auto metrics =
        ParseListenAddress(port_only ? "127.0.0.1:" + metrics_listen : metrics_listen, &error);
    if (!metrics) {
      outcome.exit_code = 2;
      outcome.output = "mnemod: --metrics-listen: " + error + "\n";
      return outcome;
    }
    config.metrics_listen = *metrics;
  }
  const bool cluster_flags = !config.cluster.cluster.empty() || !config.cluster.node_id.empty() ||
                             !config.cluster.advertise.empty() || lease_ttl_option->count() > 0 ||
                             ack_policy_option->count() > 0 || ack_timeout_option->count() > 0 ||
                             log_keep_option->count() > 0 || key_file_option->count() > 0;
  config.cluster.lease_ttl = std::chrono::seconds(lease_ttl_seconds);
  const bool etcd_given = etcd_option->count() > 0;
  if (!etcd_given && cluster_flags) {
    outcome.exit_code = 2;
    outcome.output =
        "mnemod: --cluster, --node-id, --advertise, --lease-ttl, --ack-policy, "
        "--replica-ack-timeout-ms, --replication-log-keep and --replication-key-file need "
        "--etcd\n";
    return outcome;
  }
  if (ack_policy == "async") {
    config.cluster.ack_policy = AckPolicy::kAsync;
  } else if (ack_policy == "semi-sync" || ack_policy.empty()) {
    config.cluster.ack_policy = AckPolicy::kSemiSync;
  } else {
    outcome.exit_code = 2;
    outcome.output =
        "mnemod: --ack-policy: \"" + ack_policy + "\" is neither async nor semi-sync\n";
    return outcome;
  }
  if (replica_ack_timeout_ms < kMinReplicaAckTimeoutMs ||
      replica_ack_timeout_ms > kMaxReplicaAckTimeoutMs) {
    outcome.exit_code = 2;
    outcome.output = "mnemod: --replica-ack-timeout-ms: " + std::to_string(replica_ack_timeout_ms) +
                     " is not a number of milliseconds in " +
                     std::to_string(kMinReplicaAckTimeoutMs) + ".." +
                     std::to_string(kMaxReplicaAckTimeoutMs) + "\n";
    return outcome;
  }
  config.cluster.replica_ack_timeout = std::chrono::milliseconds(replica_ack_timeout_ms);
  if (etcd_given) {
    auto endpoints = ParseEtcdEndpoints(etcd, &error);
    if (endpoints) {
      config.cluster.etcd = std::move(*endpoints);
      std::optional<std::string> problem = CheckClusterConfig(config.cluster, config.listen);
      if (problem) error = *problem;
    }
    if (!error.empty()) {
      outcome.exit_code = 2;
      outcome.output = "mnemod: " + error + "\n";
      return outcome;
    }
    // Replicas follow the log, and any node may become primary: cluster nodes always keep it.
    if (replication_log_option->count() > 0 && !config.replication_log) {
      outcome.exit_code = 2;
      outcome.output =
          "mnemod: --replication-log false: cluster nodes (--etcd) replicate through the log, "
          "which is always on for them\n";
      return outcome;
    }
    config.replication_log = true;
  }
  config.retention_interval = std::chrono::seconds(retention_interval_seconds);
  config.idle_timeout = std::chrono::seconds(idle_seconds);
  config.shutdown_timeout = std::chrono::seconds(shutdown_seconds);
  config.io_spin = std::chrono::microseconds(io_spin_us);
  if (dimension != 0) config.dimension = dimension;
  if (hnsw_m != 0) config.hnsw_m = hnsw_m;
  if (hnsw_ef_construction != 0) config.hnsw_ef_construction = hnsw_ef_construction;
  outcome.config = std::move(config);
  return outcome;
}

}  // namespace mnemo::server
