// Replicator: a cluster follower's copy of its primary's data (server/cluster/
// replication_design.md has the design, and "As built" what exists).
//
// Bootstrap.  PrepareReplicaData runs before the engine opens.  When the data directory holds no
// data yet (missing, or only the key store and snapshot directories) and etcd names a primary
// other than this node, it fetches a snapshot from that primary (Client::OpenSnapshot and
// ReadSnapshot, CRC-checked chunks) into `<data>.bootstrap.partial`, syncs it and moves it into
// place; the engine then opens the primary's data as of the snapshot, and its log's last record
// is where following resumes.  A fresh node with no primary to copy starts empty.
//
// Following.  A thread asks the primary that ClusterNode knows (the address etcd holds, as the
// NOT_PRIMARY redirect names) for its log from LastLogSeq() + 1, naming this node as the
// follower, applies each record with Engine::ApplyLogged (which writes it, under the primary's
// sequence, into this node's own log atomically with the write, synced as the engine syncs
// writes) and asks again at once: the next request acknowledges what was applied, and the
// primary holds it briefly when nothing is new (long poll).  Errors (primary unreachable,
// connection lost, no primary known) back off from 50 ms up to 2 s and re-resolve the primary.
// The loop does nothing while this node is primary: promotion (Promote) waits for a batch being
// applied, then sets the engine's log epoch, and the same engine serves as primary.
//
// History check.  On each new connection to a primary the replicator compares its last record
// with the primary's record of the same sequence.  When the primary's log no longer holds it (it
// was trimmed), ends below it, or holds another record there (this node was a primary whose last
// writes no replica acknowledged), or a record fails to apply, this node's data cannot follow:
// the replicator writes `<data>.rebootstrap` with the reason, logs it and asks the server to exit
// (code 3).  At the next start PrepareReplicaData moves the data directory aside to
// `<data>.diverged-<unix seconds>` (kept for inspection) and bootstraps; a supervisor that
// restarts mnemod completes the re-bootstrap.
//
// Trimming.  About once a second the same thread deletes old records of this node's log
// (Engine::TrimLog): beyond the newest ClusterConfig::log_keep in any case, and on the primary
// also every record below the lowest acknowledgement of the live replicas (the nodes with an
// entry in etcd), once each of them has acknowledged something to this primary.  A replica
// keeps its own log to the same bound (it may be promoted).  The record a replica applied last
// is never deleted while it is live and within the bound, so its history check still finds it.
//
// Thread-safety: Start, Stop from one thread; Promote from any.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "mnemo/engine.h"
#include "mnemo/result.h"
#include "server/cluster_node.h"
#include "server/config.h"
#include "server/replica_acks.h"

namespace mnemo::server {

// The exit code of a node that must re-bootstrap.
inline constexpr int kRebootstrapExitCode = 3;

// The key in ClusterConfig::replication_key_file (surrounding blanks dropped); empty when none is
// configured.  VALIDATION_ERROR (field "replication_key_file") when the file cannot be read or
// holds no key.
Result<std::string> ReadReplicationKey(const ClusterConfig& config);

// See the header comment; `api_key` is what ReadReplicationKey returned.  UNAVAILABLE when etcd
// cannot be read or the snapshot cannot be fetched or put in place (mnemod does not start); OK
// otherwise.  REQUIRES: cluster mode.
Status PrepareReplicaData(const ServerConfig& config, const std::string& api_key);

class Replicator {
 public:
  // `engine` is borrowed and must outlive the replicator; `request_exit` is called (from the
  // replicator's thread) when this node must re-bootstrap.
  // `acks` (the primary's view of its replicas) is borrowed and must outlive the replicator.
  Replicator(Engine& engine, const ServerConfig& config, std::string api_key,
             const ReplicaAcks& acks, std::function<void()> request_exit);
  // Stop().
  ~Replicator();
  Replicator(const Replicator&) = delete;
  Replicator& operator=(const Replicator&) = delete;

  // Starts following whichever primary `cluster` knows.  `cluster` is borrowed and must outlive
  // the replicator's Stop.
  void Start(const ClusterNode& cluster);
  // Ends the follow loop (a request in flight finishes first).  Idempotent.
  void Stop();

  // ClusterHooks::on_promoted: no record is applied from here on while this node is primary; the
  // engine logs this node's writes under `epoch`.
  Status Promote(uint64_t epoch);
  // ClusterHooks::lag: from the last answer of the primary being followed.
  ReplicaLag Lag() const;

 private:
  void Run();
  // Waits `delay` or until Stop; false when stopping.
  bool Sleep(std::chrono::milliseconds delay);
  void Rebootstrap(const std::string& why);
  // Trims the log when a second has passed since the last trim (see the header comment).
  void MaybeTrim(bool primary);

  Engine& engine_;
  const std::string node_id_;
  const std::string data_dir_;
  const std::string api_key_;  // presented to the primary; empty: none
  const std::function<void()> request_exit_;
  const ReplicaAcks& acks_;
  const uint64_t log_keep_;
  const ClusterNode* cluster_ = nullptr;
  // Used by the follow thread only.
  std::chrono::steady_clock::time_point next_trim_{};
  uint64_t trimmed_below_ = 0;
  std::string last_trim_problem_;

  std::mutex apply_mutex_;  // held while a batch is applied, and by Promote
  // The primary's last sequence at its last answer, and when (system clock, ms since the epoch)
  // this node last held all of it; -1: not since start.
  std::atomic<uint64_t> primary_last_seq_{0};
  std::atomic<int64_t> caught_up_at_ms_{-1};

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // GUARDED_BY(mutex_)
  std::thread thread_;
};

}  // namespace mnemo::server
