// Latency samples and their summary (percentiles), and reading a recall/QPS curve.
//
// Thread-safety: value types; LatencyRecorder is not thread-safe (use one per thread, then
// Merge).
#pragma once

#include <cstddef>
#include <vector>

#include <nlohmann/json.hpp>

namespace mnemo::bench {

struct LatencySummary {
  size_t count = 0;
  double mean_ms = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  double p999_ms = 0;
  double max_ms = 0;
};

// Summarises samples (seconds).  All zero when empty.
LatencySummary Summarize(std::vector<double> seconds);
nlohmann::json ToJson(const LatencySummary& summary);

// Up to `points` (latency ms, cumulative fraction) pairs of the samples' CDF, for plots.
nlohmann::json LatencyCdf(std::vector<double> seconds, size_t points = 200);

struct CurvePoint {
  double recall = 0;
  double qps = 0;
};

// QPS at `target` recall, interpolating log(QPS) linearly in recall between the two points that
// bracket it (points sorted by increasing effort).  0 when the curve never reaches the target.
double QpsAtRecall(const std::vector<CurvePoint>& points, double target);

}  // namespace mnemo::bench
