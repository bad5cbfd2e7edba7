// Metrics: request counts and latency histograms of mnemo-rest by route, method and status, and
// the latency of the upstream (mnemod) calls by route and outcome; rendered as Prometheus text
// exposition format 0.0.4 for GET /metrics.
//
// Routes are the route table's patterns ("/api/v1/conversations/{id}"), so label cardinality is
// bounded; requests that match no route count under route="unmatched".
//
// Thread-safety: thread-safe (one mutex; recording is a map lookup and a few additions).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>

namespace mnemo::rest {

class Metrics {
 public:
  // Upper bounds (seconds) of the histogram buckets; +Inf is implied.
  static constexpr std::array<double, 14> kBuckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

  void RecordRequest(std::string_view route, std::string_view method, int status, double seconds);
  // `outcome`: "ok" or the error code name, e.g. "UNAVAILABLE".
  void RecordUpstream(std::string_view route, std::string_view outcome, double seconds);

  std::string RenderPrometheus() const;

 private:
  struct Histogram {
    std::array<uint64_t, kBuckets.size()> buckets{};  // non-cumulative counts
    uint64_t count = 0;
    double sum = 0;
    void Observe(double seconds);
  };
  using RequestKey = std::tuple<std::string, std::string, int>;  // route, method, status
  using UpstreamKey = std::tuple<std::string, std::string>;      // route, outcome

  mutable std::mutex mu_;
  std::map<RequestKey, Histogram> requests_;   // GUARDED_BY(mu_)
  std::map<UpstreamKey, Histogram> upstream_;  // GUARDED_BY(mu_)
};

}  // namespace mnemo::rest
