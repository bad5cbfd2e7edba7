// Per-user token-bucket rate limits (seed 001: create 10/min, read 30/min, everything else
// 100/min), each route limited on its own as the backend mnemo replaces limits each endpoint.  Each
// (user, route) pair owns a bucket holding up to its class's `requests` tokens that refills
// continuously at requests/period; a request takes one token or is refused with the time until
// the next token.  State is per process: behind a load balancer each sidecar limits on its own.
//
// Thread-safety: RateLimiter is thread-safe (one mutex; the critical section is a map lookup).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace mnemo::rest {

enum class RateClass : uint8_t { kCreate = 0, kRead = 1, kOther = 2 };
inline constexpr size_t kRateClassCount = 3;

struct RateLimit {
  int64_t requests = 0;        // bucket size; 0 = unlimited
  double period_seconds = 60;  // time to refill a whole bucket
};

// Parses "N/s", "N/min", "N/h", "N/<seconds>s" (e.g. "5/10s") or "0"/"off" (unlimited).
// nullopt for anything else (negative or missing N, unknown unit, zero period).
std::optional<RateLimit> ParseRateLimit(std::string_view text);

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  struct Decision {
    bool allowed = true;
    double retry_after_seconds = 0;  // when refused: until one token is back
  };

  explicit RateLimiter(const std::array<RateLimit, kRateClassCount>& limits);

  // Takes one token from the user's bucket `bucket` (a route), limited by `rate_class`, at time
  // `now`.
  Decision Acquire(std::string_view user, uint8_t bucket, RateClass rate_class,
                   Clock::time_point now);

 private:
  struct Bucket {
    double tokens = 0;
    Clock::time_point updated;
  };
  // Drops buckets that have refilled completely (they equal a fresh bucket).  REQUIRES: mu_ held.
  void SweepFullBuckets(Clock::time_point now);

  const std::array<RateLimit, kRateClassCount> limits_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;  // GUARDED_BY(mu_); key: class, bucket, user
  uint64_t acquires_since_sweep_ = 0;                // GUARDED_BY(mu_)
};

}  // namespace mnemo::rest
