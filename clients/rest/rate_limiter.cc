// Token buckets keyed by (class, bucket, user), refilled lazily on access.
#include "rate_limiter.h"

#include <algorithm>
#include <charconv>

namespace mnemo::rest {
namespace {

constexpr uint64_t kSweepEvery = 4096;
constexpr size_t kSweepAboveBuckets = 1024;

double Seconds(RateLimiter::Clock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

std::optional<RateLimit> ParseRateLimit(std::string_view text) {
  if (text == "0" || text == "off") return RateLimit{0, 60};
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  int64_t requests = 0;
  const std::string_view count = text.substr(0, slash);
  auto [end, ec] = std::from_chars(count.data(), count.data() + count.size(), requests);
  if (ec != std::errc() || end != count.data() + count.size() || requests < 0) return std::nullopt;
  std::string_view unit = text.substr(slash + 1);
  double period = 0;
  if (unit == "s" || unit == "sec" || unit == "second") {
    period = 1;
  } else if (unit == "min" || unit == "minute" || unit == "m") {
    period = 60;
  } else if (unit == "h" || unit == "hour") {
    period = 3600;
  } else if (unit.size() >= 2 && unit.back() == 's') {
    unit.remove_suffix(1);
    int64_t seconds = 0;
    auto [e2, ec2] = std::from_chars(unit.data(), unit.data() + unit.size(), seconds);
    if (ec2 != std::errc() || e2 != unit.data() + unit.size() || seconds <= 0) return std::nullopt;
    period = static_cast<double>(seconds);
  } else {
    return std::nullopt;
  }
  return RateLimit{requests, period};
}

RateLimiter::RateLimiter(const std::array<RateLimit, kRateClassCount>& limits) : limits_(limits) {}

RateLimiter::Decision RateLimiter::Acquire(std::string_view user, uint8_t bucket_id,
                                           RateClass rate_class, Clock::time_point now) {
  const RateLimit& limit = limits_[static_cast<size_t>(rate_class)];
  if (limit.requests == 0) return {};
  const double capacity = static_cast<double>(limit.requests);
  const double refill_per_second = capacity / limit.period_seconds;

  std::string key(1, static_cast<char>(rate_class));
  key += static_cast<char>(bucket_id);
  key += user;
  std::lock_guard<std::mutex> lock(mu_);
  if (++acquires_since_sweep_ >= kSweepEvery && buckets_.size() > kSweepAboveBuckets) {
    SweepFullBuckets(now);
  }
  auto [it, inserted] = buckets_.try_emplace(std::move(key), Bucket{capacity, now});
  Bucket& bucket = it->second;
  if (!inserted && now > bucket.updated) {
    bucket.tokens =
        std::min(capacity, bucket.tokens + Seconds(now - bucket.updated) * refill_per_second);
    bucket.updated = now;
  }
  if (bucket.tokens >= 1) {
    bucket.tokens -= 1;
    return {};
  }
  return {false, (1 - bucket.tokens) / refill_per_second};
}

void RateLimiter::SweepFullBuckets(Clock::time_point now) {
  acquires_since_sweep_ = 0;
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    const RateLimit& limit = limits_[static_cast<size_t>(static_cast<uint8_t>(it->first[0]))];
    const double refill = static_cast<double>(limit.requests) / limit.period_seconds;
    const double tokens = it->second.tokens + Seconds(now - it->second.updated) * refill;
    if (tokens >= static_cast<double>(limit.requests)) {
      it = buckets_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace mnemo::rest
