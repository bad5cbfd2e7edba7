#include "server/replicator.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>

#include "cluster/etcd_client.h"
#include "cluster/primary_election.h"
#include "mnemo/client/client.h"
#include "mnemo/client/snapshot_fetch.h"
#include "mnemo/file_system.h"
#include "server/snapshots.h"

namespace mnemo::server {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Records asked for per FollowRequest, and their bytes.
constexpr uint32_t kFollowRecords = 256;
constexpr uint32_t kFollowBytes = 4u << 20;
// Back-off after a failure, doubling from the first to the last.
constexpr auto kMinBackoff = 50ms;
constexpr auto kMaxBackoff = 2000ms;
// How often a node with nothing to follow (it is primary, or knows no primary) looks again.
constexpr auto kIdlePoll = 100ms;
// How often the log is trimmed.
constexpr auto kTrimInterval = 1000ms;

fs::path Normalized(const std::string& data_dir) {
  fs::path path = fs::absolute(data_dir).lexically_normal();
  if (path.filename().empty()) path = path.parent_path();
  return path;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

fs::path MarkerPath(const fs::path& data) { return data.string() + ".rebootstrap"; }

// Missing, or holding nothing but what exists before the engine first opens it.
bool HoldsNoData(const fs::path& data) {
  std::error_code ec;
  if (!fs::exists(data, ec)) return true;
  for (const auto& entry : fs::directory_iterator(data, ec)) {
    const std::string name = entry.path().filename().string();
    if (name != "auth" && name != SnapshotStore::kDirName) return false;
  }
  return !ec;
}

client::ClientOptions ClientTo(const std::string& address, std::chrono::milliseconds timeout,
                               const std::string& api_key) {
  client::ClientOptions options;
  options.addresses = {address};
  options.api_key = api_key;
  options.follow_primary = false;
  options.pool_size = 1;
  options.direct_calls = false;
  options.request_timeout = timeout;
  options.connect_timeout = 2s;
  options.client_name = "mnemod-replica";
  return options;
}

// Fetches the primary's snapshot into `data` (see the header comment).
Status Bootstrap(const fs::path& data, const std::string& primary, const std::string& node_id,
                 const std::string& api_key) {
  const fs::path partial = data.string() + ".bootstrap.partial";
  spdlog::info("replica {}: bootstrapping {} from the primary at {}", node_id, data.string(),
               primary);
  auto connected = client::Client::Connect(ClientTo(primary, 60s, api_key));
  if (!connected.ok()) {
    return Status::Unavailable("bootstrap: cannot reach the primary at " + primary + ": " +
                               connected.error().ToString());
  }
  std::error_code ec;
  fs::remove_all(partial, ec);
  fs::create_directories(partial, ec);
  if (ec) {
    return Status::Unavailable("bootstrap: creating " + partial.string() + ": " + ec.message());
  }
  auto fetched = client::FetchSnapshot(**connected, partial);
  if (!fetched.ok()) {
    return Status::Unavailable("bootstrap from " + primary +
                               " failed: " + fetched.error().ToString() +
                               " (partial copy left in " + partial.string() + ")");
  }
  if (!fetched->close_problem.empty()) {
    spdlog::warn("replica {}: closing snapshot {} on the primary failed (it expires): {}", node_id,
                 fetched->id, fetched->close_problem);
  }
  // Into place: the whole directory, or next to what a not-yet-opened one holds (its own keys
  // win over the primary's copy).
  if (!fs::exists(data, ec)) {
    fs::rename(partial, data, ec);
  } else {
    for (const auto& entry : fs::directory_iterator(partial, ec)) {
      const fs::path target = data / entry.path().filename();
      if (fs::exists(target)) continue;
      fs::rename(entry.path(), target, ec);
      if (ec) break;
    }
    if (!ec) fs::remove_all(partial, ec);
  }
  if (ec || !PosixFileSystem().SyncDir(data.string()).ok() ||
      !PosixFileSystem().SyncDir(data.parent_path().string()).ok()) {
    return Status::Unavailable("bootstrap: moving " + partial.string() + " to " + data.string() +
                               " failed" + (ec ? ": " + ec.message() : ""));
  }
  // A warning: the node's whole data set was replaced, which an operator wants to see.
  spdlog::warn(
      "replica {}: {} bootstrapped from snapshot {} of the primary at {} ({} files, {} bytes)",
      node_id, data.string(), fetched->id, primary, fetched->files, fetched->bytes);
  return Status::Ok();
}

}  // namespace

Result<std::string> ReadReplicationKey(const ClusterConfig& config) {
  if (config.replication_key_file.empty()) return std::string();
  std::ifstream in(config.replication_key_file);
  std::string key;
  if (!in || !(in >> key) || key.empty()) {
    return Status::ValidationError(
        "replication_key_file",
        "--replication-key-file: cannot read an API key from " + config.replication_key_file);
  }
  return key;
}

Status PrepareReplicaData(const ServerConfig& config, const std::string& api_key) {
  const fs::path data = Normalized(config.data_dir);
  const std::string& node_id = config.cluster.node_id;
  std::error_code ec;
  const fs::path marker = MarkerPath(data);
  if (fs::exists(marker, ec)) {
    if (fs::exists(data, ec)) {
      const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
      const fs::path aside = data.string() + ".diverged-" + std::to_string(seconds);
      fs::rename(data, aside, ec);
      if (ec) {
        return Status::Unavailable("re-bootstrap: cannot move " + data.string() + " aside to " +
                                   aside.string() + ": " + ec.message());
      }
      spdlog::warn("replica {}: {} asks for a re-bootstrap; the old data is kept in {}", node_id,
                   marker.string(), aside.string());
    }
    fs::remove(marker, ec);
  }
  if (!HoldsNoData(data)) return Status::Ok();

  cluster::GatewayOptions etcd;
  etcd.endpoints = config.cluster.etcd;
  MNEMO_ASSIGN_OR_RETURN(const cluster::EtcdClient client,
                         cluster::EtcdClient::Create(std::move(etcd)));
  auto view = cluster::PrimaryElection::ReadCluster(client, config.cluster.cluster);
  if (!view.ok()) {
    return Status::Unavailable("bootstrap: cannot learn the primary from etcd: " +
                               view.status().ToString());
  }
  if (!view->primary || view->primary->node_id == node_id) {
    spdlog::info("replica {}: empty data directory and no other primary to copy; starting empty",
                 node_id);
    return Status::Ok();
  }
  return Bootstrap(data, view->primary->address, node_id, api_key);
}

Replicator::Replicator(Engine& engine, const ServerConfig& config, std::string api_key,
                       const ReplicaAcks& acks, std::function<void()> request_exit)
    : engine_(engine),
      node_id_(config.cluster.node_id),
      data_dir_(config.data_dir),
      api_key_(std::move(api_key)),
      request_exit_(std::move(request_exit)),
      acks_(acks),
      log_keep_(config.cluster.log_keep) {}

void Replicator::MaybeTrim(bool primary) {
  const auto now = std::chrono::steady_clock::now();
  if (now < next_trim_) return;
  next_trim_ = now + kTrimInterval;
  const uint64_t last = engine_.LastLogSeq();
  uint64_t below = last + 1 > log_keep_ ? last + 1 - log_keep_ : 0;
  if (primary) {
    // Every live replica must have acknowledged something to this primary; until then only the
    // bound applies.
    std::map<std::string, uint64_t> acked;
    for (const ReplicaAcks::Replica& replica : acks_.Replicas()) acked[replica.id] = replica.acked;
    uint64_t lowest = last;
    bool all_known = true;
    for (const std::string& id : cluster_->LiveNodes()) {
      if (id == node_id_) continue;
      const auto found = acked.find(id);
      if (found == acked.end()) {
        all_known = false;
        break;
      }
      lowest = std::min(lowest, found->second);
    }
    if (all_known) below = std::max(below, lowest);
  }
  if (below <= trimmed_below_ || below <= 1) return;
  auto trimmed = engine_.TrimLog(below);
  if (!trimmed.ok()) {
    const std::string problem = trimmed.status().ToString();
    if (problem != last_trim_problem_) {
      spdlog::warn("replica {}: trimming the log: {}", node_id_, problem);
    }
    last_trim_problem_ = problem;
    return;
  }
  last_trim_problem_.clear();
  trimmed_below_ = *trimmed;
}

Replicator::~Replicator() { Stop(); }

void Replicator::Start(const ClusterNode& cluster) {
  cluster_ = &cluster;
  thread_ = std::thread([this] { Run(); });
}

void Replicator::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Status Replicator::Promote(uint64_t epoch) {
  std::lock_guard apply(apply_mutex_);
  MNEMO_RETURN_IF_ERROR(engine_.SetLogEpoch(epoch));
  spdlog::info("replica {}: promoted at log sequence {}; this node's writes carry epoch {}",
               node_id_, engine_.LastLogSeq(), epoch);
  return Status::Ok();
}

ReplicaLag Replicator::Lag() const {
  ReplicaLag lag;
  const uint64_t primary_last = primary_last_seq_.load();
  const uint64_t applied = engine_.LastLogSeq();
  lag.records = primary_last > applied ? primary_last - applied : 0;
  const int64_t caught_up_at = caught_up_at_ms_.load();
  if (caught_up_at >= 0) lag.ms = std::max<int64_t>(0, NowMs() - caught_up_at);
  return lag;
}

bool Replicator::Sleep(std::chrono::milliseconds delay) {
  std::unique_lock lock(mutex_);
  return !wake_.wait_for(lock, delay, [this] { return stopping_; });
}

void Replicator::Rebootstrap(const std::string& why) {
  const fs::path marker = MarkerPath(Normalized(data_dir_));
  {
    std::ofstream out(marker, std::ios::trunc);
    out << why << "\n";
  }
  spdlog::critical(
      "replica {}: {}.  This node's data cannot follow the primary; it exits now (code {}), and "
      "at its next start moves {} aside and bootstraps from the primary ({} says why)",
      node_id_, why, kRebootstrapExitCode, data_dir_, marker.string());
  request_exit_();
}

void Replicator::Run() {
  std::unique_ptr<client::Client> client;
  std::string following;  // the primary `client` is connected to
  bool checked = false;
  auto backoff = std::chrono::milliseconds(kMinBackoff);
  std::string last_problem;
  // Logs a failure once (until it changes), drops the connection and waits.
  const auto failed = [&](const std::string& problem) {
    if (problem != last_problem) spdlog::warn("replica {}: {}", node_id_, problem);
    last_problem = problem;
    client.reset();
    following.clear();
    const bool go_on = Sleep(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(kMaxBackoff));
    return go_on;
  };
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
    }
    const ClusterStatus status = cluster_->Describe();
    MaybeTrim(status.primary);
    if (status.primary || status.primary_address.empty()) {
      client.reset();
      following.clear();
      if (!Sleep(kIdlePoll)) return;
      continue;
    }
    if (status.primary_address != following) {
      auto connected = client::Client::Connect(ClientTo(status.primary_address, 10s, api_key_));
      if (!connected.ok()) {
        if (!failed("cannot reach the primary " + status.primary_node_id + " at " +
                    status.primary_address + ": " + connected.error().ToString())) {
          return;
        }
        continue;
      }
      client = std::move(connected).value();
      following = status.primary_address;
      checked = false;
    }
    const uint64_t last = engine_.LastLogSeq();
    if (!checked && last > 0) {
      // The record this node applied last, against the primary's of the same sequence.
      auto theirs = client->Follow(last, 1, kFollowBytes, "");
      if (!theirs.ok()) {
        if (!failed("checking history against " + following + ": " + theirs.error().ToString())) {
          return;
        }
        continue;
      }
      auto ours = engine_.ReadLog(last, 1);
      std::string why;
      if (theirs->records.empty()) {
        why = "the primary's log ends at " + std::to_string(theirs->last_seq) +
              ", below this node's " + std::to_string(last);
      } else if (theirs->records.front().seq != last) {
        why = "the primary's log no longer holds record " + std::to_string(last) +
              " (it starts at " + std::to_string(theirs->records.front().seq) + ")";
      } else if (!ours.ok() || ours->empty() ||
                 ours->front().record != theirs->records.front().record) {
        why = "this node's record " + std::to_string(last) + " differs from the primary's";
      }
      if (!why.empty()) return Rebootstrap(why);
    }
    if (!checked) {
      spdlog::info("replica {}: following {} at {} from sequence {}", node_id_,
                   status.primary_node_id, following, last + 1);
      checked = true;
    }
    const uint64_t from = last + 1;
    auto batch = client->Follow(from, kFollowRecords, kFollowBytes, node_id_);
    if (!batch.ok()) {
      if (!failed("following " + following + ": " + batch.error().ToString())) return;
      continue;
    }
    if (!batch->records.empty() && batch->records.front().seq != from) {
      return Rebootstrap("the primary's log no longer holds record " + std::to_string(from) +
                         " (it starts at " + std::to_string(batch->records.front().seq) + ")");
    }
    {
      std::lock_guard apply(apply_mutex_);
      // Promote may have run since Describe: a primary applies no other node's records.
      if (cluster_->Describe().primary) continue;
      for (client::LogEntry& entry : batch->records) {
        const Status applied = engine_.ApplyLogged(LogRecord{entry.seq, std::move(entry.record)});
        if (!applied.ok()) {
          return Rebootstrap("applying the primary's record " + std::to_string(entry.seq) +
                             " failed: " + applied.ToString());
        }
      }
    }
    primary_last_seq_ = batch->last_seq;
    if (engine_.LastLogSeq() >= batch->last_seq) caught_up_at_ms_ = NowMs();
    if (!last_problem.empty()) spdlog::info("replica {}: following {} again", node_id_, following);
    last_problem.clear();
    backoff = kMinBackoff;
  }
}

}  // namespace mnemo::server
