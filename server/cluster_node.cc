#include "server/cluster_node.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "cluster/primary_election.h"

namespace mnemo::server {

using nlohmann::json;

Result<std::unique_ptr<ClusterNode>> ClusterNode::Start(const ClusterConfig& config,
                                                        std::string advertise, ClusterHooks hooks) {
  cluster::GatewayOptions etcd;
  etcd.endpoints = config.etcd;
  cluster::ElectionOptions options;
  options.cluster = config.cluster;
  options.node_id = config.node_id;
  options.address = advertise;
  options.lease_ttl = config.lease_ttl;
  MNEMO_ASSIGN_OR_RETURN(auto election,
                         cluster::PrimaryElection::Start(std::move(etcd), std::move(options)));
  std::unique_ptr<ClusterNode> node(
      new ClusterNode(config, std::move(advertise), std::move(hooks), std::move(election)));
  spdlog::info("cluster {}: node {} ({}) in cluster mode, {} acknowledgements", config.cluster,
               config.node_id, node->advertise_,
               config.ack_policy == AckPolicy::kSemiSync ? "semi-sync" : "async");
  node->Observe();
  node->watcher_ = std::thread([raw = node.get()] { raw->Watch(); });
  return node;
}

ClusterNode::ClusterNode(const ClusterConfig& config, std::string advertise, ClusterHooks hooks,
                         std::unique_ptr<cluster::PrimaryElection> election)
    : config_(config),
      advertise_(std::move(advertise)),
      interval_(std::chrono::duration_cast<std::chrono::milliseconds>(config.lease_ttl) / 3),
      hooks_(std::move(hooks)),
      election_(std::move(election)) {}

ClusterNode::~ClusterNode() { Resign(); }

void ClusterNode::Resign() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (watcher_.joinable()) watcher_.join();
  const Status resigned = election_->Resign();
  if (!resigned.ok()) {
    spdlog::warn("cluster {}: resigning: {}", config_.cluster, resigned.ToString());
  } else {
    spdlog::info("cluster {}: node {} resigned", config_.cluster, config_.node_id);
  }
}

std::string ClusterNode::CampaignBlocker(const std::map<std::string, cluster::KeyValue>& nodes,
                                         uint64_t applied, int64_t vacancy_revision) {
  for (const auto& [id, kv] : nodes) {
    if (id == config_.node_id) continue;
    if (kv.mod_revision <= vacancy_revision) {
      return "node " + id + " has not reported its applied sequence since the primary left";
    }
    const json entry = json::parse(kv.value, nullptr, /*allow_exceptions=*/false);
    const auto seq = entry.is_object() ? entry.find("applied_seq") : entry.end();
    if (!entry.is_object() || seq == entry.end() || !seq->is_number_unsigned()) {
      // An entry this version cannot read (a newer node, a hand edit) does not stop anyone.
      continue;
    }
    const uint64_t theirs = seq->get<uint64_t>();
    if (theirs > applied || (theirs == applied && id < config_.node_id)) {
      return "node " + id + " has applied sequence " + std::to_string(theirs) + " (this node " +
             std::to_string(applied) + ")";
    }
  }
  return "";
}

void ClusterNode::Observe() {
  const uint64_t applied = hooks_.applied_seq ? hooks_.applied_seq() : 0;
  const Status published =
      election_->PublishNode(json{{"address", advertise_}, {"applied_seq", applied}}.dump());
  std::optional<cluster::PrimaryInfo> primary;
  std::string problem;
  std::string blocker;
  if (!published.ok()) problem = "publishing this node's entry: " + published.ToString();
  auto nodes = election_->ReadNodes();
  if (problem.empty() && !nodes.ok()) {
    problem = "reading the live nodes: " + nodes.status().ToString();
  }
  if (problem.empty() && election_->role() == cluster::Role::kPrimary) {
    primary = cluster::PrimaryInfo{config_.node_id, advertise_, election_->epoch(), 0};
  } else if (problem.empty()) {
    auto view = election_->ReadCluster();
    if (!view.ok()) {
      problem = view.status().ToString();
    } else if (view->primary) {
      primary = view->primary;
      vacancy_revision_ = 0;
    } else {
      // Entries read before this revision predate it: with other live nodes, the first look at
      // a vacancy never campaigns.
      if (vacancy_revision_ == 0) vacancy_revision_ = view->revision;
      blocker = CampaignBlocker(*nodes, applied, vacancy_revision_);
      if (blocker.empty()) {
        auto campaign = election_->Campaign();
        if (campaign.ok()) {
          primary = campaign->primary;
        } else {
          problem = campaign.status().ToString();
        }
      }
    }
  }
  const bool is_primary = election_->role() == cluster::Role::kPrimary;
  const uint64_t epoch = election_->epoch();
  bool promote = false;
  {
    std::lock_guard lock(mutex_);
    promote = is_primary && ready_epoch_ != epoch;
    if (nodes.ok()) {
      live_nodes_.clear();
      for (const auto& [id, value] : *nodes) live_nodes_.push_back(id);
    }
    if (blocker != last_blocker_ && !blocker.empty()) {
      spdlog::info("cluster {}: node {} does not campaign: {}", config_.cluster, config_.node_id,
                   blocker);
    }
    last_blocker_ = blocker;
  }
  if (promote) {
    const Status promoted = hooks_.on_promoted ? hooks_.on_promoted(epoch) : Status::Ok();
    if (!promoted.ok()) {
      spdlog::error("cluster {}: node {} won epoch {} but cannot take writes yet: {}",
                    config_.cluster, config_.node_id, epoch, promoted.ToString());
    } else {
      std::lock_guard lock(mutex_);
      ready_epoch_ = epoch;
    }
  }
  std::lock_guard lock(mutex_);
  if (!problem.empty() && problem != last_problem_) {
    spdlog::warn("cluster {}: cannot learn the primary from etcd: {}", config_.cluster, problem);
  }
  last_problem_ = problem;
  if (!problem.empty()) return;  // keep what was known
  const std::string node_id = primary ? primary->node_id : "";
  if (is_primary != was_primary_ || node_id != known_node_id_ ||
      (primary && primary->epoch != known_epoch_)) {
    if (is_primary) {
      spdlog::info("cluster {}: node {} is primary at epoch {}", config_.cluster, config_.node_id,
                   election_->epoch());
    } else if (primary) {
      spdlog::info("cluster {}: node {} is a follower; primary {} at {} (epoch {})",
                   config_.cluster, config_.node_id, primary->node_id, primary->address,
                   primary->epoch);
    } else {
      spdlog::info("cluster {}: node {} is a follower; no primary right now", config_.cluster,
                   config_.node_id);
    }
  }
  was_primary_ = is_primary;
  known_node_id_ = node_id;
  known_address_ = primary ? primary->address : "";
  known_epoch_ = primary ? primary->epoch : 0;
}

void ClusterNode::Watch() {
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, interval_, [this] { return stopping_; })) {
    lock.unlock();
    Observe();
    lock.lock();
  }
}

std::optional<NotPrimary> ClusterNode::CheckWrite() const {
  if (election_->MayAcceptWrites()) {
    const uint64_t epoch = election_->epoch();
    std::lock_guard lock(mutex_);
    if (ready_epoch_ == epoch) return std::nullopt;
    return NotPrimary{"node " + config_.node_id + " won epoch " + std::to_string(epoch) +
                          " and is still becoming primary; the write was not applied",
                      "", epoch};
  }
  if (election_->role() == cluster::Role::kPrimary) {
    const uint64_t epoch = election_->epoch();
    return NotPrimary{"node " + config_.node_id + " is the primary of epoch " +
                          std::to_string(epoch) +
                          " but cannot confirm its etcd lease (fenced); the write was not applied",
                      "", epoch};
  }
  std::lock_guard lock(mutex_);
  // A primary record naming this node is stale once the node is no longer primary.
  if (known_node_id_.empty() || known_node_id_ == config_.node_id) {
    return NotPrimary{"node " + config_.node_id +
                          " is not the primary and knows of none right now; the write was not "
                          "applied",
                      "", 0};
  }
  return NotPrimary{"node " + config_.node_id + " is a follower; the primary is " + known_node_id_ +
                        " at " + known_address_ + " (epoch " + std::to_string(known_epoch_) +
                        "); the write was not applied",
                    known_address_, known_epoch_};
}

std::vector<std::string> ClusterNode::LiveNodes() const {
  std::lock_guard lock(mutex_);
  return live_nodes_;
}

ClusterStatus ClusterNode::Describe() const {
  ClusterStatus out;
  out.primary = election_->role() == cluster::Role::kPrimary;
  out.writable = !CheckWrite().has_value();
  out.epoch = election_->epoch();
  out.cluster = config_.cluster;
  out.node_id = config_.node_id;
  out.address = advertise_;
  if (hooks_.applied_seq) out.applied_seq = hooks_.applied_seq();
  if (!out.primary && hooks_.lag) out.lag = hooks_.lag();
  std::lock_guard lock(mutex_);
  if (out.primary) {
    out.primary_node_id = config_.node_id;
    out.primary_address = advertise_;
    out.primary_epoch = out.epoch;
  } else if (known_node_id_ != config_.node_id) {
    out.primary_node_id = known_node_id_;
    out.primary_address = known_address_;
    out.primary_epoch = known_epoch_;
  }
  return out;
}

}  // namespace mnemo::server
