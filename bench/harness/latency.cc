// Percentiles and recall/QPS interpolation (see latency.h).
#include "latency.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace mnemo::bench {
namespace {

double Percentile(const std::vector<double>& sorted, double fraction) {
  const double rank = fraction * static_cast<double>(sorted.size() - 1);
  const size_t index = static_cast<size_t>(std::ceil(rank));
  return sorted[std::min(index, sorted.size() - 1)];
}

}  // namespace

LatencySummary Summarize(std::vector<double> seconds) {
  LatencySummary summary;
  if (seconds.empty()) return summary;
  std::sort(seconds.begin(), seconds.end());
  summary.count = seconds.size();
  summary.mean_ms = 1e3 * std::accumulate(seconds.begin(), seconds.end(), 0.0) /
                    static_cast<double>(seconds.size());
  summary.p50_ms = 1e3 * Percentile(seconds, 0.50);
  summary.p99_ms = 1e3 * Percentile(seconds, 0.99);
  summary.p999_ms = 1e3 * Percentile(seconds, 0.999);
  summary.max_ms = 1e3 * seconds.back();
  return summary;
}

nlohmann::json ToJson(const LatencySummary& summary) {
  return {{"count", summary.count},   {"mean_ms", summary.mean_ms}, {"p50_ms", summary.p50_ms},
          {"p99_ms", summary.p99_ms}, {"p999_ms", summary.p999_ms}, {"max_ms", summary.max_ms}};
}

nlohmann::json LatencyCdf(std::vector<double> seconds, size_t points) {
  nlohmann::json cdf = nlohmann::json::array();
  if (seconds.empty() || points == 0) return cdf;
  std::sort(seconds.begin(), seconds.end());
  const size_t n = seconds.size();
  const size_t step = std::max<size_t>(1, n / points);
  for (size_t i = step - 1; i < n; i += step) {
    cdf.push_back({1e3 * seconds[i], static_cast<double>(i + 1) / static_cast<double>(n)});
  }
  if (cdf.back()[1].get<double>() < 1.0) cdf.push_back({1e3 * seconds.back(), 1.0});
  return cdf;
}

double QpsAtRecall(const std::vector<CurvePoint>& points, double target) {
  for (size_t i = 0; i < points.size(); ++i) {
    if (points[i].recall < target) continue;
    if (i == 0 || points[i].recall == points[i - 1].recall) return points[i].qps;
    const CurvePoint& lo = points[i - 1];
    const CurvePoint& hi = points[i];
    const double t = (target - lo.recall) / (hi.recall - lo.recall);
    return std::exp(std::log(lo.qps) + t * (std::log(hi.qps) - std::log(lo.qps)));
  }
  return 0;
}

}  // namespace mnemo::bench
