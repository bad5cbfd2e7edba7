// ClusterNode: mnemod's role in its cluster when etcd is configured (ServerConfig::cluster).
//
// Every node campaigns at start (PrimaryElection, cluster/primary_election.h) unless the rule
// below stops it: the first campaign wins and the others become followers.  A watcher thread then
// looks at the cluster every keepalive interval (a third of the lease TTL): it publishes the
// node's entry (address and applied sequence, ClusterHooks::applied_seq) under
// /mnemo/<cluster>/nodes/<id> on the node's lease, and while no primary exists a follower
// campaigns again, so a successor is elected within about one lease TTL after the primary dies.
//
// Campaign rule: a node campaigns only if no live node reports a higher applied sequence, or the
// same one under a lower node id, and only once every other live node has published its entry
// after this node first saw the primary key gone (etcd's mod_revision above the revision of that
// read).  A follower's applied sequence no longer moves once its primary is gone (a fenced
// primary applies nothing), so those entries are final: the most caught-up node wins, and it
// holds every write a replica acknowledged.  The wait costs at most one look (a third of the
// TTL); a node that stops publishing holds the campaign until its lease expires.
//
// Promotion: when the node wins, ClusterHooks::on_promoted(epoch) runs (it stops the follow loop
// and sets the engine's log epoch) before the node accepts its first write.
//
// Only the primary, promoted and while PrimaryElection::MayAcceptWrites() holds, accepts writes
// (CheckWrite, called once per write request by the dispatcher).  Everything else answers
// NOT_PRIMARY, which means the write was not applied:
//   - a follower names the primary it last saw (address and epoch), or none when there is none;
//   - a fenced primary (it cannot confirm its lease in time), or one still being promoted, names
//     no primary and its own epoch.
//
// Reads are served by every node; a follower's data is what it replicated (server/replicator.h).
//
// Thread-safety: thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "mnemo/result.h"
#include "server/config.h"

namespace mnemo::cluster {
class PrimaryElection;
struct KeyValue;
}  // namespace mnemo::cluster

namespace mnemo::server {

// Why a write is refused, for the NOT_PRIMARY error.
struct NotPrimary {
  std::string message;
  std::string primary_address;  // empty: no primary known
  uint64_t primary_epoch = 0;
};

// A follower's distance from its primary (Replicator::Lag).
struct ReplicaLag {
  uint64_t records = 0;  // what it knew it lacked at its last answer from the primary
  int64_t ms = -1;       // since it last held all the primary had; -1: unknown
};

// What the node asks of the rest of the server.  Both run on the watcher thread (and on the
// thread calling Start) and must not call back into the ClusterNode.
struct ClusterHooks {
  // The highest log sequence this node has applied; published for the campaign rule.
  std::function<uint64_t()> applied_seq;
  // Makes the node ready to accept writes as primary of `epoch`.  On an error the node keeps
  // refusing writes and tries again at the next look.
  std::function<Status(uint64_t epoch)> on_promoted;
  // For Describe on a follower; unset: unknown.
  std::function<ReplicaLag()> lag;
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
  uint64_t applied_seq = 0;  // ClusterHooks::applied_seq
  ReplicaLag lag;            // ClusterHooks::lag; the defaults on a primary
};

class ClusterNode {
 public:
  // Grants the node's etcd lease, campaigns once and starts the watcher.  `advertise` is the
  // address clients are sent to while this node is primary.  UNAVAILABLE when etcd cannot be
  // reached (mnemod does not start without its cluster); VALIDATION_ERROR for bad settings.
  static Result<std::unique_ptr<ClusterNode>> Start(const ClusterConfig& config,
                                                    std::string advertise, ClusterHooks hooks);
  // Resign().
  ~ClusterNode();
  ClusterNode(const ClusterNode&) = delete;
  ClusterNode& operator=(const ClusterNode&) = delete;

  // nullopt when this node may apply a write now; otherwise why not (the NOT_PRIMARY details).
  std::optional<NotPrimary> CheckWrite() const;
  ClusterStatus Describe() const;
  // The node ids with an entry in etcd at the last look (this node included); empty before the
  // first successful read.
  std::vector<std::string> LiveNodes() const;

  // Stops the watcher and gives up the lease (a successor may be elected at once).  Afterwards
  // every write is refused.  Idempotent.
  void Resign();

 private:
  ClusterNode(const ClusterConfig& config, std::string advertise, ClusterHooks hooks,
              std::unique_ptr<cluster::PrimaryElection> election);
  // One look at etcd: publishes this node's entry, remembers the primary, campaigns when there is
  // none and the campaign rule allows, and promotes the node when it won.
  void Observe();
  // Empty when this node may campaign; otherwise the live node that should, and why.
  // `nodes` as ReadNodes returns them, read after the primary vanished at `vacancy_revision`.
  std::string CampaignBlocker(const std::map<std::string, cluster::KeyValue>& nodes,
                              uint64_t applied, int64_t vacancy_revision);
  void Watch();

  const ClusterConfig config_;
  const std::string advertise_;
  const std::chrono::milliseconds interval_;
  const ClusterHooks hooks_;
  std::unique_ptr<cluster::PrimaryElection> election_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::string known_node_id_;  // GUARDED_BY(mutex_): the primary last seen; empty: none
  std::string known_address_;  // GUARDED_BY(mutex_)
  uint64_t known_epoch_ = 0;   // GUARDED_BY(mutex_)
  bool was_primary_ = false;   // GUARDED_BY(mutex_): for logging role changes
  uint64_t ready_epoch_ = 0;   // GUARDED_BY(mutex_): the epoch on_promoted succeeded for
  std::string last_blocker_;   // GUARDED_BY(mutex_): the last campaign rule refusal logged
  std::vector<std::string> live_nodes_;  // GUARDED_BY(mutex_)
  // The etcd revision at which this node first saw no primary; 0 while one exists.  Watcher
  // thread only (and Start, before the watcher exists).
  int64_t vacancy_revision_ = 0;
  std::string last_problem_;  // GUARDED_BY(mutex_): the last etcd failure logged
  bool stopping_ = false;     // GUARDED_BY(mutex_)
  std::thread watcher_;       // started last, joined by the first Resign
};

}  // namespace mnemo::server
