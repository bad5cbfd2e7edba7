// PrimaryElection: one mnemod node's part in choosing its cluster's primary through etcd.
//
// mnemo implements no consensus of its own: etcd decides, and this class only asks it.  Per
// cluster <c> there are two keys:
//
//   /mnemo/<c>/epoch    decimal text ("7"): the epoch of the newest primary ever elected.  It has
//                       no lease, so it outlives every primary; it never decreases.
//   /mnemo/<c>/primary  JSON {"node_id": "...", "address": "host:port", "epoch": 7}: the primary.
//                       It is attached to the primary's lease, so etcd deletes it when the
//                       primary stops renewing the lease (crash, partition, pause) or revokes it
//                       (Resign).  Readers ignore fields they do not know.
//   /mnemo/<c>/nodes/<id>  what node <id> reports of itself (PublishNode; the cluster node
//                       writes JSON with its address and applied sequence), on that node's lease:
//                       the live nodes are the keys under /mnemo/<c>/nodes/.
//
// Epoch rule.  A node campaigns with one transaction: if `primary` does not exist
// (create_revision == 0) and `epoch` has not changed since the node read it as E (mod_revision
// equal to what it read; 0 for a missing key), it puts `primary` with epoch E+1 on its lease and
// puts `epoch` = E+1; otherwise it reads `primary`.  etcd applies transactions one at a time, so
// of two campaigns at most one finds its comparisons true: an epoch names at most one primary, and
// a later primary always has a larger epoch.  Whatever carries the epoch (the write stream, a
// replica's acknowledgement) can therefore refuse a deposed primary.
//
// Fencing rule.  etcd expires a lease TTL after the last grant or keep-alive it handled (on the
// etcd leader's clock; a change of etcd leader only extends leases).  Before sending each grant
// or keep-alive, the node reads its own monotonic clock as t0.  etcd handles the request after
// t0, so the lease cannot expire, and no other node can win the next epoch, before t0 + TTL.  The
// node accepts writes only while now < t0 + TTL - margin, with t0 from the last renewal that
// succeeded: it stops before etcd could let anyone else take over.  The margin absorbs the
// difference in clock rates between this host and the etcd leader, and the time that a write
// admitted just before the deadline still needs to take effect.  MayAcceptWrites compares clocks
// itself, so it turns false on time even if the keep-alive thread is stalled or never runs again.
// A successful renewal may make it true again: a lease that etcd renewed never lapsed, so no
// other node can have been elected meanwhile.
//
// The lease.  A node holds a lease from Start to Resign, as a follower too, so that a campaign is
// one transaction.  A background thread renews it every keepalive_interval (sooner after a
// failure).  When etcd reports the lease gone, the node stops being primary and takes a new
// lease.  After each renewal a primary reads `primary` back, and stops being primary if the key
// no longer carries its lease (only a hand-made change to etcd does that).
//
// Thread-safety: thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "cluster/etcd_client.h"
#include "mnemo/result.h"

namespace mnemo::cluster {

enum class Role { kFollower, kPrimary };

// What `/mnemo/<c>/primary` says.
struct PrimaryInfo {
  std::string node_id;
  std::string address;
  uint64_t epoch = 0;
  int64_t lease = 0;  // the etcd lease the key is attached to
};

// The cluster's election state as etcd holds it, read at one revision.
struct ClusterView {
  std::optional<PrimaryInfo> primary;  // nullopt: no primary right now
  uint64_t epoch = 0;                  // the newest epoch ever granted; 0: none yet
  int64_t revision = 0;                // etcd's revision of the read
};

struct CampaignResult {
  bool won = false;
  PrimaryInfo primary;  // this node when won; otherwise the primary that holds the key
};

struct ElectionOptions {
  // Names the keys /mnemo/<cluster>/...; letters, digits, '.', '_' and '-'.
  std::string cluster;
  // This node, unique within the cluster; same characters as `cluster`.
  std::string node_id;
  // Where clients and replicas reach this node when it is primary ("host:port").
  std::string address;
  // The lease's TTL.  etcd may raise it (to at least 1.5 election timeouts, in whole seconds).
  std::chrono::seconds lease_ttl{5};
  // How often the lease is renewed; 0 means lease_ttl / 3.  Each etcd call of the election is
  // bounded by the smaller of this and the etcd options' call_timeout.
  std::chrono::milliseconds keepalive_interval{0};
  // How long before the lease could expire the node stops accepting writes; 0 means
  // lease_ttl / 5.  REQUIRES: keepalive_interval + fencing_margin < lease_ttl.
  std::chrono::milliseconds fencing_margin{0};
};

class PrimaryElection {
 public:
  using Clock = std::chrono::steady_clock;

  // Checks `options`, grants the lease and starts renewing it; the node starts as a follower and
  // becomes primary only through Campaign.  VALIDATION_ERROR for bad options; UNAVAILABLE (or
  // another code from EtcdClient) when etcd does not grant the lease.
  static Result<std::unique_ptr<PrimaryElection>> Start(GatewayOptions etcd,
                                                        ElectionOptions options);
  // Resign(), ignoring its error.
  ~PrimaryElection();
  PrimaryElection(const PrimaryElection&) = delete;
  PrimaryElection& operator=(const PrimaryElection&) = delete;

  // Tries once to become primary (the transaction of the epoch rule).  won = true when this node
  // is primary afterwards, including when it already was; won = false with the current primary
  // when another node holds the key.  UNAVAILABLE when etcd cannot be reached or this node has
  // no live lease right now (it expired and a new one is not granted yet); CONFLICT when three
  // reads in a row were overtaken by other campaigns, or after Resign.
  Result<CampaignResult> Campaign();

  // Reads both keys from etcd (one transaction).  INTERNAL_ERROR when a key holds something this
  // version cannot parse.
  Result<ClusterView> ReadCluster() const;
  // The same read for anyone with an etcd client, no lease needed (e.g. `mnemo cluster status`).
  static Result<ClusterView> ReadCluster(const EtcdClient& client, std::string_view cluster);

  // Primary from a won campaign until the node learns it lost the key (lease gone, key changed,
  // Resign).  A primary may still be fenced: see MayAcceptWrites.
  Role role() const;
  // The epoch this node won; 0 when it is not primary.
  uint64_t epoch() const;
  // True only while this node is primary and inside its fencing deadline (the header comment).
  bool MayAcceptWrites() const;
  // The fencing deadline when primary (writes are allowed while now is before it); nullopt when
  // not primary.
  std::optional<Clock::time_point> WritesAllowedUntil() const;
  // The lease now held; 0 between losing one and being granted the next.
  int64_t lease_id() const;
  // Keep-alives that succeeded since Start.
  uint64_t keepalives_succeeded() const;

  // Stops accepting writes, stops the renewals and revokes the lease, which deletes `primary` if
  // this node held it, so a successor can be elected at once.  Final: afterwards the node is a
  // follower and Campaign fails.  Idempotent; only the first call revokes and reports etcd's
  // answer (a lease already gone is OK).
  Status Resign();

  // Writes this node's entry under NodesPrefix, attached to the lease now held.  UNAVAILABLE
  // between leases (the next call after a grant publishes it again).
  Status PublishNode(std::string_view value);
  // Every live node's entry: node id -> the key as etcd holds it (value, mod_revision, ...).
  Result<std::map<std::string, KeyValue>> ReadNodes() const;

  // Tests only: while paused, the background thread sends nothing (no keep-alive, no grant), as
  // if this process were stalled.
  void TEST_PauseKeepAlive(bool paused);

  // The checks Start makes on `options`, without etcd: OK, or VALIDATION_ERROR naming the field.
  static Status CheckOptions(ElectionOptions options);

  static std::string PrimaryKey(std::string_view cluster);
  static std::string EpochKey(std::string_view cluster);
  static std::string NodesPrefix(std::string_view cluster);  // "/mnemo/<c>/nodes/"

 private:
  struct ClusterRead;
  PrimaryElection(EtcdClient client, ElectionOptions options, Lease lease, Clock::time_point sent);

  Result<ClusterRead> Read() const;
  static Result<ClusterRead> ReadKeys(const EtcdClient& client, const std::string& primary_key,
                                      const std::string& epoch_key);
  // Becomes primary with `info` if `lease` is still the one held; false otherwise.
  bool Adopt(const PrimaryInfo& info, int64_t lease);
  void Run();
  // One round of the background thread without the lock; returns when the next is due.
  Clock::time_point GrantRound();
  Clock::time_point RenewRound(int64_t lease);
  // After renewing `lease` as primary of `epoch`: false (and no longer primary) when etcd's key
  // shows another lease or none; true when it is still this node's or etcd did not answer.
  bool StillHoldsKey(int64_t lease, uint64_t epoch);
  Clock::duration RetryDelay() const;

  const EtcdClient client_;
  const ElectionOptions options_;  // with the defaults filled in
  const std::string primary_key_;
  const std::string epoch_key_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  int64_t lease_id_ = 0;               // GUARDED_BY(mutex_); 0: none held
  Clock::time_point lease_expiry_{};   // GUARDED_BY(mutex_): t0 + TTL of the last renewal
  Role role_ = Role::kFollower;        // GUARDED_BY(mutex_)
  uint64_t epoch_ = 0;                 // GUARDED_BY(mutex_)
  uint64_t keepalives_succeeded_ = 0;  // GUARDED_BY(mutex_)
  Clock::time_point next_round_{};     // GUARDED_BY(mutex_)
  bool paused_ = false;                // GUARDED_BY(mutex_)
  bool stopping_ = false;              // GUARDED_BY(mutex_)
  std::thread thread_;                 // started last, joined by the first Resign
};

}  // namespace mnemo::cluster
