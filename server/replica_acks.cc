#include "server/replica_acks.h"

#include <algorithm>

namespace mnemo::server {

void ReplicaAcks::Acknowledge(const std::string& replica, uint64_t seq) {
  {
    std::lock_guard lock(mutex_);
    Replica& entry = replicas_[replica];
    entry.id = replica;
    entry.acked = std::max(entry.acked, seq);
    entry.last_seen = Clock::now();
    if (seq <= highest_ack_) return;
    highest_ack_ = seq;
  }
  acked_.notify_all();
}

bool ReplicaAcks::WaitForAck(uint64_t seq, Clock::duration timeout) {
  std::unique_lock lock(mutex_);
  return acked_.wait_for(lock, timeout, [&] { return highest_ack_ >= seq; });
}

uint64_t ReplicaAcks::HighestAck() const {
  std::lock_guard lock(mutex_);
  return highest_ack_;
}

std::vector<ReplicaAcks::Replica> ReplicaAcks::Replicas() const {
  std::lock_guard lock(mutex_);
  std::vector<Replica> out;
  for (const auto& [id, replica] : replicas_) out.push_back(replica);
  return out;
}

void ReplicaAcks::Committed(uint64_t seq) {
  {
    std::lock_guard lock(mutex_);
    if (seq <= committed_seq_) return;
    committed_seq_ = seq;
  }
  committed_.notify_all();
}

void ReplicaAcks::WaitForCommit(uint64_t seq, Clock::duration timeout) {
  std::unique_lock lock(mutex_);
  committed_.wait_for(lock, timeout, [&] { return committed_seq_ > seq; });
}

}  // namespace mnemo::server
