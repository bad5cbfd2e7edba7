// ServerStats: request counts, errors and latency per operation kind, plus connection count and
// uptime, for GetStats (SPEC §6).  Latencies go into a log-scale histogram (4 buckets per power
// of two, so percentiles are within ~10%).
//
// Thread-safety: thread-safe; recording is lock-free.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "mnemo/wire/mnemo_generated.h"

namespace mnemo::server {

class LatencyHistogram {
 public:
  static constexpr int kSubBuckets = 4;
  static constexpr int kBuckets = 40 * kSubBuckets;  // up to 2^40 us (~12 days)

  void Record(uint64_t micros);
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  uint64_t sum_micros() const { return sum_micros_.load(std::memory_order_relaxed); }
  // Samples below `micros` (exact when `micros` is a bucket's lower bound, e.g. a power of two).
  uint64_t CountBelow(uint64_t micros) const;
  // The q-quantile (0 < q <= 1) in microseconds; 0 when empty.
  double Quantile(double q) const;

  static int BucketOf(uint64_t micros);
  // [lower, upper) of a bucket in microseconds.
  static double BucketLower(int bucket);
  static double BucketUpper(int bucket);

 private:
  std::array<std::atomic<uint64_t>, kBuckets> buckets_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_micros_{0};
};

struct OpSnapshot {
  std::string name;
  uint64_t count = 0;
  uint64_t errors = 0;
  double p50_us = 0;
  double p99_us = 0;
};

class ServerStats {
 public:
  ServerStats();

  void RecordRequest(wire::RequestBody op, std::chrono::microseconds latency, bool error);
  void ConnectionOpened() { connections_.fetch_add(1, std::memory_order_relaxed); }
  void ConnectionClosed() { connections_.fetch_sub(1, std::memory_order_relaxed); }
  // A semi-sync write answered UNAVAILABLE because no replica acknowledged it in time.
  void RecordReplicaAckTimeout() { replica_ack_timeouts_.fetch_add(1, std::memory_order_relaxed); }
  uint64_t replica_ack_timeouts() const {
    return replica_ack_timeouts_.load(std::memory_order_relaxed);
  }

  uint32_t connections() const { return connections_.load(std::memory_order_relaxed); }
  uint64_t uptime_seconds() const;
  // The operations seen at least once, in RequestBody order.
  std::vector<OpSnapshot> Snapshot() const;
  // Calls fn(name, latency, errors) for each operation seen at least once, in RequestBody order.
  template <typename Fn>
  void ForEachOp(Fn&& fn) const {
    for (size_t i = 0; i < kOps; ++i) {
      if (ops_[i].latency.count() == 0) continue;
      fn(OpNameOf(i), ops_[i].latency, ops_[i].errors.load(std::memory_order_relaxed));
    }
  }

 private:
  static constexpr size_t kOps = static_cast<size_t>(wire::RequestBody::MAX) + 1;
  static std::string OpNameOf(size_t index);
  struct Op {
    std::atomic<uint64_t> errors{0};
    LatencyHistogram latency;
  };

  const std::chrono::steady_clock::time_point started_;
  std::atomic<uint32_t> connections_{0};
  std::atomic<uint64_t> replica_ack_timeouts_{0};
  std::array<Op, kOps> ops_;
};

// Bytes of the regular files under `dir` (unreadable entries are skipped).
uint64_t DirectoryBytes(const std::string& dir);

}  // namespace mnemo::server
