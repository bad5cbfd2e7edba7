#include "server/stats.h"

#include <bit>
#include <cmath>
#include <filesystem>

#include "server/op_table.h"

namespace mnemo::server {

int LatencyHistogram::BucketOf(uint64_t micros) {
  if (micros < 1) micros = 1;
  const int exponent = std::bit_width(micros) - 1;  // floor(log2)
  // The two bits below the leading one pick the sub-bucket.
  const int sub = exponent >= 2 ? static_cast<int>((micros >> (exponent - 2)) & 3)
                                : static_cast<int>((micros << (2 - exponent)) & 3);
  const int bucket = exponent * kSubBuckets + sub;
  return bucket < kBuckets ? bucket : kBuckets - 1;
}

double LatencyHistogram::BucketLower(int bucket) {
  const int exponent = bucket / kSubBuckets;
  const int sub = bucket % kSubBuckets;
  return std::ldexp(1.0 + sub / static_cast<double>(kSubBuckets), exponent);
}

double LatencyHistogram::BucketUpper(int bucket) {
  const int exponent = bucket / kSubBuckets;
  const int sub = bucket % kSubBuckets;
  return std::ldexp(1.0 + (sub + 1) / static_cast<double>(kSubBuckets), exponent);
}

void LatencyHistogram::Record(uint64_t micros) {
  buckets_[BucketOf(micros)].fetch_add(1, std::memory_order_relaxed);
  sum_micros_.fetch_add(micros, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

uint64_t LatencyHistogram::CountBelow(uint64_t micros) const {
  uint64_t below = 0;
  for (int i = 0; i < kBuckets && BucketUpper(i) <= static_cast<double>(micros); ++i) {
    below += buckets_[i].load(std::memory_order_relaxed);
  }
  return below;
}

double LatencyHistogram::Quantile(double q) const {
  uint64_t total = 0;
  std::array<uint64_t, kBuckets> counts;
  for (int i = 0; i < kBuckets; ++i) {
    counts[i] = buckets_[i].load(std::memory_order_relaxed);
    total += counts[i];
  }
  if (total == 0) return 0;
  const double rank = std::max(1.0, std::ceil(q * static_cast<double>(total)));
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += counts[i];
    if (static_cast<double>(seen) >= rank)
      return (BucketLower(i) + BucketUpper(i)) / 2;  // mid-bucket
  }
  return BucketUpper(kBuckets - 1);
}

ServerStats::ServerStats() : started_(std::chrono::steady_clock::now()) {}

void ServerStats::RecordRequest(wire::RequestBody op, std::chrono::microseconds latency,
                                bool error) {
  const auto index = static_cast<size_t>(op);
  if (index >= kOps) return;
  ops_[index].latency.Record(static_cast<uint64_t>(std::max<int64_t>(0, latency.count())));
  if (error) ops_[index].errors.fetch_add(1, std::memory_order_relaxed);
}

uint64_t ServerStats::uptime_seconds() const {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_)
          .count());
}

std::vector<OpSnapshot> ServerStats::Snapshot() const {
  std::vector<OpSnapshot> out;
  for (size_t i = 0; i < kOps; ++i) {
    const Op& op = ops_[i];
    if (op.latency.count() == 0) continue;
    OpSnapshot snapshot;
    snapshot.name = OpNameOf(i);
    snapshot.count = op.latency.count();
    snapshot.errors = op.errors.load(std::memory_order_relaxed);
    snapshot.p50_us = op.latency.Quantile(0.50);
    snapshot.p99_us = op.latency.Quantile(0.99);
    out.push_back(std::move(snapshot));
  }
  return out;
}

std::string ServerStats::OpNameOf(size_t index) {
  return std::string(OpName(static_cast<wire::RequestBody>(index)));
}

uint64_t DirectoryBytes(const std::string& dir) {
  namespace fs = std::filesystem;
  uint64_t total = 0;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec),
       end;
       !ec && it != end; it.increment(ec)) {
    std::error_code size_ec;
    if (it->is_regular_file(size_ec)) {
      const auto size = it->file_size(size_ec);
      if (!size_ec) total += size;
    }
  }
  return total;
}

}  // namespace mnemo::server
