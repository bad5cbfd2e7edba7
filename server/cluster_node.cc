#include "server/cluster_node.h"

#include <spdlog/spdlog.h>

#include "cluster/primary_election.h"

namespace mnemo::server {

Result<std::unique_ptr<ClusterNode>> ClusterNode::Start(const ClusterConfig& config,
                                                        std::string advertise) {
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
      new ClusterNode(config, std::move(advertise), std::move(election)));
  spdlog::warn(
      "cluster {}: node {} ({}) in cluster mode.  The write stream is not replicated yet: only "
      "the primary accepts writes, every node serves reads from its own data, so a follower's "
      "data is not the primary's (failover plumbing only)",
      config.cluster, config.node_id, node->advertise_);
  node->Observe();
  node->watcher_ = std::thread([raw = node.get()] { raw->Watch(); });
  return node;
}

ClusterNode::ClusterNode(const ClusterConfig& config, std::string advertise,
                         std::unique_ptr<cluster::PrimaryElection> election)
    : config_(config),
      advertise_(std::move(advertise)),
      interval_(std::chrono::duration_cast<std::chrono::milliseconds>(config.lease_ttl) / 3),
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

void ClusterNode::Observe() {
  std::optional<cluster::PrimaryInfo> primary;
  std::string problem;
  if (election_->role() == cluster::Role::kPrimary) {
    primary = cluster::PrimaryInfo{config_.node_id, advertise_, election_->epoch(), 0};
  } else {
    auto view = election_->ReadCluster();
    if (!view.ok()) {
      problem = view.status().ToString();
    } else if (view->primary) {
      primary = view->primary;
    } else {
      auto campaign = election_->Campaign();
      if (campaign.ok()) {
        primary = campaign->primary;
      } else {
        problem = campaign.status().ToString();
      }
    }
  }
  const bool is_primary = election_->role() == cluster::Role::kPrimary;
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
  if (election_->MayAcceptWrites()) return std::nullopt;
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

ClusterStatus ClusterNode::Describe() const {
  ClusterStatus out;
  out.primary = election_->role() == cluster::Role::kPrimary;
  out.writable = election_->MayAcceptWrites();
  out.epoch = election_->epoch();
  out.cluster = config_.cluster;
  out.node_id = config_.node_id;
  out.address = advertise_;
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
