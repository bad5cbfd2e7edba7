// The replication phase (see replication_phase.h).
#include "replication_phase.h"

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

#include "latency.h"
#include "mnemo/client/client.h"
#include "mnemod_process.h"

#ifdef MNEMO_BENCH_HAS_ETCD
#include "cluster/testing/etcd_cluster.h"
#endif

namespace mnemo::bench {

using nlohmann::json;

#ifdef MNEMO_BENCH_HAS_ETCD
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr double kStartTimeoutS = 120;
constexpr double kSettleTimeoutS = 60;  // a replica catching up, a restart, a failover
constexpr size_t kBatchChunks = 1000;
constexpr size_t kMinBatches = 10;  // the batch load runs past `seconds` until it has these
constexpr double kMaxBatchSeconds = 90;
constexpr auto kLagPoll = 50ms;
constexpr size_t kFailoverWarmup = 20;  // writes acknowledged before each kill
constexpr int kLeaseTtlSeconds = 2;

std::unique_ptr<client::Client> Connect(const std::vector<std::string>& addresses, bool follow,
                                        int pool_size, std::string* error = nullptr) {
  client::ClientOptions options;
  options.addresses = addresses;
  options.follow_primary = follow;
  options.pool_size = pool_size;
  options.request_timeout = 30s;
  options.connect_timeout = 1s;
  options.client_name = "mnemo-bench";
  auto client = client::Client::Connect(options);
  if (!client.ok()) {
    if (error != nullptr) *error = client.error().ToString();
    return nullptr;
  }
  return std::move(client).value();
}

std::string Address(const MnemodProcess& node) {
  return "127.0.0.1:" + std::to_string(node.port());
}

std::optional<client::ClusterInfo> InfoOf(const MnemodProcess& node) {
  auto client = Connect({Address(node)}, false, 1);
  if (client == nullptr) return std::nullopt;
  auto stats = client->GetStats();
  if (!stats.ok()) return std::nullopt;
  return stats->cluster;
}

// Polls `done` every 20 ms for at most `seconds`; whether it held.
template <typename Done>
bool WaitFor(Done done, double seconds) {
  const double deadline = NowSeconds() + seconds;
  while (NowSeconds() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return done();
}

// Reads every replica's lag while a load runs.
class LagSampler {
 public:
  explicit LagSampler(std::vector<std::string> replicas) {
    if (replicas.empty()) return;
    thread_ = std::thread([this, replicas = std::move(replicas)] { Run(replicas); });
  }
  ~LagSampler() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  // REQUIRES: Stop() was called.
  json Summary() const {
    json out = {{"samples", records_.size()}};
    if (records_.empty()) return out;
    double sum_records = 0;
    for (const double r : records_) sum_records += r;
    out["mean_records"] = sum_records / static_cast<double>(records_.size());
    out["max_records"] = *std::max_element(records_.begin(), records_.end());
    if (!ms_.empty()) {
      double sum_ms = 0;
      for (const double m : ms_) sum_ms += m;
      out["mean_ms"] = sum_ms / static_cast<double>(ms_.size());
      out["max_ms"] = *std::max_element(ms_.begin(), ms_.end());
    }
    return out;
  }

 private:
  void Run(const std::vector<std::string>& replicas) {
    std::vector<std::unique_ptr<client::Client>> clients;
    for (const std::string& address : replicas) clients.push_back(Connect({address}, false, 1));
    while (!stop_) {
      for (auto& client : clients) {
        if (client == nullptr) continue;
        auto stats = client->GetStats();
        if (!stats.ok()) continue;
        records_.push_back(static_cast<double>(stats->cluster.lag_records));
        if (stats->cluster.lag) ms_.push_back(static_cast<double>(stats->cluster.lag->count()));
      }
      std::this_thread::sleep_for(kLagPoll);
    }
  }

  std::atomic<bool> stop_{false};
  std::vector<double> records_;  // sampler thread until Stop
  std::vector<double> ms_;
  std::thread thread_;
};

// `threads` threads append ~200-byte messages for `seconds`.
json AppendLoad(client::Client& client, size_t threads, double seconds) {
  std::vector<std::vector<double>> samples(threads);
  std::atomic<size_t> errors{0};
  std::string first_error;
  std::mutex error_mutex;
  const std::string content(200, 'x');
  const double start = NowSeconds();
  std::vector<std::thread> workers;
  for (size_t t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      const std::string user = "append" + std::to_string(t);
      client::NewConversation conversation;
      conversation.title = "replication bench";
      auto created = client.CreateConversation(user, conversation);
      if (!created.ok()) {
        ++errors;
        std::lock_guard lock(error_mutex);
        if (first_error.empty()) first_error = created.error().ToString();
        return;
      }
      client::NewMessage message;
      message.conversation_id = created->id;
      message.content = content;
      message.tokens_used = 50;
      while (NowSeconds() - start < seconds) {
        const double sent = NowSeconds();
        auto appended = client.AppendMessage(user, message);
        if (appended.ok()) {
          samples[t].push_back(NowSeconds() - sent);
        } else {
          ++errors;
          std::lock_guard lock(error_mutex);
          if (first_error.empty()) first_error = appended.error().ToString();
        }
      }
    });
  }
  for (std::thread& worker : workers) worker.join();
  const double elapsed = NowSeconds() - start;
  std::vector<double> all;
  for (const auto& each : samples) all.insert(all.end(), each.begin(), each.end());
  json out = {{"ops", all.size()},
              {"ops_per_s", static_cast<double>(all.size()) / elapsed},
              {"errors", errors.load()},
              {"latency", ToJson(Summarize(all))}};
  if (!first_error.empty()) out["first_error"] = first_error;
  return out;
}

// One thread sends atomic batches of a document and kBatchChunks chunks.
json BatchLoad(client::Client& client, size_t dimension, double seconds) {
  std::mt19937_64 rng(7);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<std::vector<float>> vectors(kBatchChunks, std::vector<float>(dimension));
  for (auto& vector : vectors) {
    double norm = 0;
    for (float& x : vector) {
      x = normal(rng);
      norm += static_cast<double>(x) * x;
    }
    for (float& x : vector) x = static_cast<float>(x / std::sqrt(norm));
  }
  std::vector<double> samples;
  size_t errors = 0;
  std::string first_error;
  const double start = NowSeconds();
  while ((NowSeconds() - start < seconds || samples.size() + errors < kMinBatches) &&
         NowSeconds() - start < kMaxBatchSeconds) {
    client::NewDocument document;
    document.id = client::Uuid::Generate();
    document.filename = "batch.md";
    document.file_type = "md";
    document.content = "replication bench";
    client::Batch batch;
    batch.CreateDocument(document);
    for (size_t i = 0; i < kBatchChunks; ++i) {
      client::NewChunk chunk;
      chunk.document_id = *document.id;
      chunk.chunk_index = static_cast<int64_t>(i);
      chunk.chunk_text = "chunk " + std::to_string(i) + " of a replicated batch";
      chunk.embedding = vectors[i];
      batch.AddChunk(std::move(chunk));
    }
    const double sent = NowSeconds();
    auto applied = client.ApplyBatch("batches", batch);
    if (applied.ok()) {
      samples.push_back(NowSeconds() - sent);
    } else {
      ++errors;
      if (first_error.empty()) first_error = applied.error().ToString();
    }
  }
  const double elapsed = NowSeconds() - start;
  json out = {{"batches", samples.size()},
              {"chunks_per_s", static_cast<double>(samples.size() * kBatchChunks) / elapsed},
              {"errors", errors},
              {"latency", ToJson(Summarize(samples))}};
  if (!first_error.empty()) out["first_error"] = first_error;
  return out;
}

using Nodes = std::vector<std::unique_ptr<MnemodProcess>>;

// Starts `count` nodes of cluster `name` (n0 first: it becomes primary) and waits until every
// other node follows it.  An error message, or "".
std::string StartCluster(const ReplicationPhaseInput& input, const std::string& etcd,
                         const std::string& name, size_t count, bool semi_sync, Nodes* nodes) {
  for (size_t i = 0; i < count; ++i) {
    const std::string dir = input.work_dir + "/" + name + "/n" + std::to_string(i);
    fs::create_directories(dir);
    auto node = std::make_unique<MnemodProcess>(input.mnemod_binary, dir, input.options->dim,
                                                *input.options);
    node->set_extra_args({"--etcd", etcd, "--cluster", name, "--node-id", "n" + std::to_string(i),
                          "--lease-ttl", std::to_string(kLeaseTtlSeconds), "--ack-policy",
                          semi_sync ? "semi-sync" : "async"});
    std::string error;
    if (!node->Start(kStartTimeoutS, &error))
      return "starting " + name + " n" + std::to_string(i) + ": " + error;
    nodes->push_back(std::move(node));
  }
  for (size_t i = 1; i < count; ++i) {
    const bool following = WaitFor(
        [&] {
          auto info = InfoOf(*(*nodes)[i]);
          return info && info->role == client::ClusterInfo::Role::kFollower &&
                 info->primary_node_id == "n0" && info->lag.has_value();
        },
        kSettleTimeoutS);
    if (!following) return name + " n" + std::to_string(i) + " does not follow n0";
  }
  return "";
}

std::vector<std::string> Addresses(const Nodes& nodes, size_t from = 0) {
  std::vector<std::string> out;
  for (size_t i = from; i < nodes.size(); ++i) {
    if (nodes[i]->running()) out.push_back(Address(*nodes[i]));
  }
  return out;
}

// Starts a killed node again: twice when it finds its history diverged (it exits asking for a
// re-bootstrap, which its next start does).
std::string Restart(MnemodProcess& node) {
  std::string error;
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (!node.Start(kStartTimeoutS, &error)) continue;
    // A diverged node exits soon after start, once it has compared histories with the primary.
    bool exited = false;
    const bool follows = WaitFor(
        [&] {
          exited = node.Exited();
          auto info = exited ? std::nullopt : InfoOf(node);
          return exited || (info && info->role == client::ClusterInfo::Role::kFollower &&
                            info->lag.has_value() && info->lag_records == 0);
        },
        kSettleTimeoutS);
    if (follows && !exited) return "";
    if (!exited) {
      node.Kill();
      error = "it did not catch up";
    } else {
      error = "it exited (" + FileTail(node.log_path(), 300) + ")";
    }
  }
  return "restart failed: " + error;
}

json Failover(Nodes& nodes, size_t rounds, const TimeBudget& budget) {
  json out = {{"rounds", json::array()}, {"errors", json::array()}};
  for (size_t round = 0; round < rounds && !budget.Expired(); ++round) {
    size_t primary = nodes.size();
    for (size_t i = 0; i < nodes.size(); ++i) {
      auto info = InfoOf(*nodes[i]);
      if (info && info->role == client::ClusterInfo::Role::kPrimary && info->writable) primary = i;
    }
    if (primary == nodes.size()) {
      out["errors"].push_back("round " + std::to_string(round) + ": no writable primary");
      break;
    }
    std::string error;
    auto client = Connect(Addresses(nodes), /*follow=*/true, 1, &error);
    if (client == nullptr) {
      out["errors"].push_back(error);
      break;
    }
    client::NewConversation conversation;
    conversation.title = "failover";
    auto created = client->CreateConversation("failover", conversation);
    if (!created.ok()) {
      out["errors"].push_back(created.error().ToString());
      break;
    }
    std::atomic<bool> stop{false};
    std::atomic<size_t> acked{0};
    std::mutex mutex;
    double killed_at = 0;    // GUARDED_BY(mutex); 0: not yet
    double first_after = 0;  // GUARDED_BY(mutex): first ack of a write sent after the kill
    std::thread writer([&] {
      client::NewMessage message;
      message.conversation_id = created->id;
      message.content = "failover probe";
      while (!stop) {
        const double sent = NowSeconds();
        if (client->AppendMessage("failover", message).ok()) {
          ++acked;
          const double now = NowSeconds();
          std::lock_guard lock(mutex);
          if (killed_at != 0 && sent >= killed_at && first_after == 0) first_after = now;
        } else {
          std::this_thread::sleep_for(5ms);
        }
      }
    });
    WaitFor([&] { return acked >= kFailoverWarmup; }, kSettleTimeoutS);
    {
      std::lock_guard lock(mutex);
      killed_at = NowSeconds();
    }
    nodes[primary]->Kill();
    const bool moved = WaitFor(
        [&] {
          std::lock_guard lock(mutex);
          return first_after != 0;
        },
        kSettleTimeoutS);
    stop = true;
    writer.join();
    if (!moved) {
      out["errors"].push_back("round " + std::to_string(round) + ": no write acknowledged within " +
                              std::to_string(kSettleTimeoutS) + " s of the kill");
      break;
    }
    out["rounds"].push_back(first_after - killed_at);
    const std::string restarted = Restart(*nodes[primary]);
    if (!restarted.empty()) {
      out["errors"].push_back("round " + std::to_string(round) + ": " + restarted);
      break;
    }
  }
  return out;
}

}  // namespace

json RunReplicationPhase(const ReplicationPhaseInput& input) {
  fs::create_directories(input.work_dir);
  auto etcd = cluster::testing::EtcdCluster::Start(1);
  if (!etcd.ok()) return {{"error", "etcd: " + etcd.status().ToString()}};
  const std::string etcd_url = (*etcd)->ClientUrl(0);
  json out = {{"configs", json::array()},        {"etcd", "1 member"},
              {"lease_ttl_s", kLeaseTtlSeconds}, {"seconds", input.seconds},
              {"threads", input.threads},        {"dim", input.options->dim}};
  Progress progress("replication", 4);
  Nodes last;
  for (size_t replicas = 0; replicas <= 2 && !input.budget->Expired(); ++replicas) {
    const bool semi_sync = replicas > 0;
    const std::string name = "r" + std::to_string(replicas);
    Nodes nodes;
    const std::string problem =
        StartCluster(input, etcd_url, name, replicas + 1, semi_sync, &nodes);
    if (!problem.empty()) return {{"error", problem}};
    std::string error;
    auto client = Connect({Address(*nodes[0])}, false, static_cast<int>(input.threads), &error);
    if (client == nullptr) return {{"error", error}};
    json config = {{"replicas", replicas}, {"ack_policy", semi_sync ? "semi-sync" : "async"}};
    LagSampler lag(Addresses(nodes, 1));
    config["append"] = AppendLoad(*client, input.threads, input.seconds);
    config["batch"] = BatchLoad(*client, input.options->dim, input.seconds);
    lag.Stop();
    if (replicas > 0) config["lag"] = lag.Summary();
    out["configs"].push_back(config);
    progress.Advance();
    client.reset();
    if (replicas == 2) last = std::move(nodes);
  }
  if (!last.empty()) out["failover"] = Failover(last, input.failover_rounds, *input.budget);
  progress.Advance();
  return out;
}

#else

json RunReplicationPhase(const ReplicationPhaseInput&) {
  return {{"error", "built without the etcd test launcher (MNEMO_BUILD_TESTS=OFF)"}};
}

#endif  // MNEMO_BENCH_HAS_ETCD

std::string ReplicationMarkdown(const json& results) {
  if (!results.contains("configs")) return "";
  std::ostringstream out;
  const auto number = [](const json& node, const char* key, int precision = 1) {
    std::ostringstream text;
    text.setf(std::ios::fixed);
    text.precision(precision);
    if (node.contains(key) && node[key].is_number()) {
      text << node[key].get<double>();
    } else {
      text << "-";
    }
    return text.str();
  };
  out << "### Replication (cluster mode on 127.0.0.1: " << results["etcd"].get<std::string>()
      << " etcd, lease TTL " << results["lease_ttl_s"].get<int>()
      << " s, d=" << results["dim"].get<size_t>() << ", " << results["threads"].get<size_t>()
      << " append threads, 1 batch thread, " << results["seconds"].get<double>()
      << " s per load)\n\n";
  out << "| replicas | acks | appends/s | append p50 ms | append p99 ms | 1000-chunk batch: "
         "chunks/s "
         "| batch p50 ms | batch p99 ms | lag records mean / max | lag ms mean / max | errors |\n";
  out << "|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const json& config : results["configs"]) {
    const json& append = config["append"];
    const json& batch = config["batch"];
    out << "| " << config["replicas"].get<size_t>() << " | "
        << config["ack_policy"].get<std::string>() << " | " << number(append, "ops_per_s") << " | "
        << number(append["latency"], "p50_ms") << " | " << number(append["latency"], "p99_ms")
        << " | " << number(batch, "chunks_per_s") << " | " << number(batch["latency"], "p50_ms")
        << " | " << number(batch["latency"], "p99_ms") << " | ";
    if (config.contains("lag")) {
      const json& lag = config["lag"];
      out << number(lag, "mean_records") << " / " << number(lag, "max_records") << " | "
          << number(lag, "mean_ms") << " / " << number(lag, "max_ms");
    } else {
      out << "- | -";
    }
    out << " | " << append["errors"].get<size_t>() + batch["errors"].get<size_t>() << " |\n";
  }
  if (results.contains("failover")) {
    const json& failover = results["failover"];
    std::vector<double> rounds;
    for (const json& s : failover["rounds"]) rounds.push_back(s.get<double>());
    out << "\nFailover, kill -9 of the primary to the first write acknowledged by the new primary "
           "(2 replicas, semi-sync): ";
    for (size_t i = 0; i < rounds.size(); ++i) {
      out << (i > 0 ? ", " : "") << number(json{{"s", rounds[i]}}, "s", 2) << " s";
    }
    if (!rounds.empty()) {
      std::sort(rounds.begin(), rounds.end());
      out << " (median " << number(json{{"s", rounds[rounds.size() / 2]}}, "s", 2) << " s)";
    }
    for (const json& error : failover["errors"]) out << "; " << error.get<std::string>();
    out << "\n";
  }
  out << "\n";
  return out.str();
}

}  // namespace mnemo::bench
