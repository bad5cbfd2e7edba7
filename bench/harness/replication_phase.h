// The `replication` phase (opt-in: `--phases replication`): what cluster mode costs and how fast
// it fails over, over the wire on 127.0.0.1.  The harness starts one etcd member (Debian's etcd,
// through server/cluster/testing) and, per configuration, fresh mnemod nodes in one cluster with
// lease TTL 2 s, durable writes and the run's dimension.
//
// For 0, 1 and 2 replicas (semi-sync; 0 replicas is the primary alone, which semi-sync would
// refuse, so it runs async):
//   - append: `threads` client threads append ~200-byte messages to their own conversations for
//     `seconds`: appends/s and per-call latency (send to acknowledgement) p50/p99;
//   - batch: one client thread sends atomic batches of a document and 1000 chunks (the run's
//     dimension) for `seconds`: chunks/s and per-batch latency p50/p99;
//   - lag: during both loads every replica's GetStats is read every 50 ms: ClusterInfo's
//     lag_records and lag (ms), their mean and maximum.
// Failover (2 replicas): one client that knows every node appends without pause; the primary is
// SIGKILLed; the figure is from the kill to the first write acknowledged afterwards (by the new
// primary), `rounds` times; between rounds the killed node starts again (as a replica, after a
// re-bootstrap if its last write never reached a replica) and catches up.
//
// Thread-safety: call from one thread (the etcd member dies with the thread that started it).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "options.h"
#include "progress.h"

namespace mnemo::bench {

struct ReplicationPhaseInput {
  const BenchOptions* options = nullptr;  // the run's (dimension, HNSW parameters); not owned
  std::string mnemod_binary;
  std::string work_dir;                // created if missing; holds every node's data directory
  const TimeBudget* budget = nullptr;  // not owned
  double seconds = 10;                 // per load and configuration
  size_t threads = 2;                  // append threads
  size_t failover_rounds = 3;
};

// {"configs": [{"replicas", "ack_policy", "append": {ops, ops_per_s, errors, latency},
//   "batch": {batches, chunks_per_s, errors, latency}, "lag": {samples, mean_records,
//   max_records, mean_ms, max_ms}}...], "failover": {"rounds": [s...], "errors"}, "etcd"}, or
// {"error"} when etcd or mnemod could not be started.
nlohmann::json RunReplicationPhase(const ReplicationPhaseInput& input);

// The phase's Markdown tables ("" when `results` has no configs).
std::string ReplicationMarkdown(const nlohmann::json& results);

}  // namespace mnemo::bench
