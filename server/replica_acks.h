// ReplicaAcks: what the primary knows of its replicas' progress, and the waits built on it.
//
// A replica acknowledges by following: a FollowRequest from sequence N that names the replica
// says it has applied and synced every record below N.  Acknowledge keeps, per replica, the
// highest such sequence (an older, lower one arriving late changes nothing).  A semi-sync write
// calls WaitForAck with its sequence after its commit; one acknowledgement at or above it
// releases it, and every waiter at or below an acknowledgement is released together.
//
// Committed is the other direction: the dispatcher reports each write's sequence, and a
// FollowRequest that found nothing to send waits (WaitForCommit) for the next one, so a replica
// learns of a write within one round trip instead of a polling interval.
//
// Thread-safety: thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace mnemo::server {

class ReplicaAcks {
 public:
  using Clock = std::chrono::steady_clock;

  struct Replica {
    std::string id;
    uint64_t acked = 0;           // every record up to this sequence is on the replica
    Clock::time_point last_seen;  // its last FollowRequest
  };

  // `replica` has applied every record up to `seq`.
  void Acknowledge(const std::string& replica, uint64_t seq);
  // True once some replica has acknowledged `seq` (at once when one already has); false when
  // `timeout` passed first.
  bool WaitForAck(uint64_t seq, Clock::duration timeout);
  // The highest sequence any replica acknowledged; 0 when none did.
  uint64_t HighestAck() const;
  std::vector<Replica> Replicas() const;

  // The log holds every record up to `seq`.
  void Committed(uint64_t seq);
  // Returns when a record above `seq` was reported committed, or when `timeout` passed.
  void WaitForCommit(uint64_t seq, Clock::duration timeout);

 private:
  mutable std::mutex mutex_;
  std::condition_variable acked_;
  std::condition_variable committed_;
  std::map<std::string, Replica> replicas_;  // GUARDED_BY(mutex_)
  uint64_t highest_ack_ = 0;                 // GUARDED_BY(mutex_)
  uint64_t committed_seq_ = 0;               // GUARDED_BY(mutex_)
};

}  // namespace mnemo::server
