// ClusterNode: mnemod's role in its cluster when etcd is configured (ServerConfig::cluster).
//
// Every node campaigns once at start (PrimaryElection, cluster/primary_election.h): the first
// campaign wins and the others become followers.  A watcher thread then reads the cluster's keys
// every keepalive interval; while no primary exists, a follower campaigns again, so a successor
// is elected within about one lease TTL after the primary dies.  Only the primary, and only while
// PrimaryElection::MayAcceptWrites() holds, accepts writes (CheckWrite, called once per write
// request by the dispatcher).  Everything else answers NOT_PRIMARY, which means the write was not
// applied:
//   - a follower names the primary it last saw (address and epoch), or none when there is none;
//   - a fenced primary (it cannot confirm its lease in time) names no primary and its own epoch.
//
// Reads are served by every node.  Replication of the write stream does not exist yet, so a
// follower's data is its own: this class is the plumbing of failover, not a replicated store.
//
// Thread-safety: thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "mnemo/result.h"
#include "server/config.h"

namespace mnemo::cluster {
class PrimaryElection;
}

namespace mnemo::server {

// Why a write is refused, for the NOT_PRIMARY error.
struct NotPrimary {
  std::string message;
  std::string primary_address;  // empty: no primary known
  uint64_t primary_epoch = 0;
};

// What a node says of itself (GetStats' cluster section).
struct ClusterStatus {
  bool primary = false;
  bool writable = false;  // primary and not fenced
  uint64_t epoch = 0;     // this node's epoch when primary, else 0
  std::string cluster;
  std::string node_id;
  std::string address;  // advertised
  // The primary this node knows of (itself when primary); empty node id: none known.
  std::string primary_node_id;
  std::string primary_address;
  uint64_t primary_epoch = 0;
};

class ClusterNode {
 public:
  // Grants the node's etcd lease, campaigns once and starts the watcher.  `advertise` is the
  // address clients are sent to while this node is primary.  UNAVAILABLE when etcd cannot be
  // reached (mnemod does not start without its cluster); VALIDATION_ERROR for bad settings.
  static Result<std::unique_ptr<ClusterNode>> Start(const ClusterConfig& config,
                                                    std::string advertise);
  // Resign().
  ~ClusterNode();
  ClusterNode(const ClusterNode&) = delete;
  ClusterNode& operator=(const ClusterNode&) = delete;

  // nullopt when this node may apply a write now; otherwise why not (the NOT_PRIMARY details).
  std::optional<NotPrimary> CheckWrite() const;
  ClusterStatus Describe() const;

  // Stops the watcher and gives up the lease (a successor may be elected at once).  Afterwards
  // every write is refused.  Idempotent.
  void Resign();

 private:
  ClusterNode(const ClusterConfig& config, std::string advertise,
              std::unique_ptr<cluster::PrimaryElection> election);
  // One look at etcd: remembers the primary, campaigns when there is none.
  void Observe();
  void Watch();

  const ClusterConfig config_;
  const std::string advertise_;
  const std::chrono::milliseconds interval_;
  std::unique_ptr<cluster::PrimaryElection> election_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::string known_node_id_;  // GUARDED_BY(mutex_): the primary last seen; empty: none
  std::string known_address_;  // GUARDED_BY(mutex_)
  uint64_t known_epoch_ = 0;   // GUARDED_BY(mutex_)
  bool was_primary_ = false;   // GUARDED_BY(mutex_): for logging role changes
  std::string last_problem_;   // GUARDED_BY(mutex_): the last etcd failure logged
  bool stopping_ = false;      // GUARDED_BY(mutex_)
  std::thread watcher_;        // started last, joined by the first Resign
};

}  // namespace mnemo::server
