// Dispatcher: runs one verified wire request against the engine and builds the wire reply.
// It owns no state of its own beyond borrowed references; the handlers live in one file per
// operation group (dispatch_<group>.cc).  It knows nothing of sockets or framing.
//
// Thread-safety: thread-safe (the engine and stats are); called from worker threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "mnemo/engine.h"
#include "mnemo/wire/mnemo_generated.h"
#include "server/auth/principal.h"
#include "server/cluster_node.h"
#include "server/config.h"
#include "server/replica_acks.h"
#include "server/snapshots.h"
#include "server/stats.h"

namespace mnemo::server {

struct DispatcherOptions {
  std::string data_dir;          // for GetStats.data_bytes, backups of the key file, snapshots
  uint32_t max_frame_bytes = 0;  // a reply larger than this becomes PAYLOAD_TOO_LARGE
};

class Dispatcher {
 public:
  // `engine` and `stats` are borrowed and must outlive the dispatcher.
  Dispatcher(Engine& engine, ServerStats& stats, DispatcherOptions options);

  // Runs `request` (verified; any body but Hello) as `principal` and returns the finished
  // Response payload (unframed): the reply, or an error echoing the request id.  Records the
  // request in the stats and logs it.  Never throws.
  std::string Handle(const Principal& principal, const wire::Request& request);

  // Cluster mode: from now on every write request asks `cluster` first and is answered
  // NOT_PRIMARY when it says no; a write that was applied reports its sequence to the
  // acknowledgements (replica_acks()), and under semi-sync its answer waits until a replica
  // acknowledged it, or is UNAVAILABLE after `ack_timeout` (the write stays applied on this
  // node).  `cluster` is borrowed and must outlive the dispatcher.
  // REQUIRES: no request is being handled (call before serving).
  void AttachCluster(const ClusterNode* cluster, AckPolicy policy,
                     std::chrono::milliseconds ack_timeout) {
    cluster_ = cluster;
    ack_policy_ = policy;
    ack_timeout_ = ack_timeout;
  }
  ReplicaAcks& replica_acks() { return acks_; }

 private:
  std::string Run(const Principal& principal, const wire::Request& request, bool* failed);

  Engine& engine_;
  ServerStats& stats_;
  const DispatcherOptions options_;
  const ClusterNode* cluster_ = nullptr;  // null: single-node
  AckPolicy ack_policy_ = AckPolicy::kAsync;
  std::chrono::milliseconds ack_timeout_{0};
  ReplicaAcks acks_;
  SnapshotStore snapshots_;
};

}  // namespace mnemo::server
