// Histogram bookkeeping and Prometheus text rendering.
#include "metrics.h"

#include <algorithm>
#include <cstdio>

namespace mnemo::rest {
namespace {

// Escapes a label value (backslash, quote, newline) per the exposition format.
std::string Escape(std::string_view value) {
  std::string out;
  for (const char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string FormatDouble(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.9g", v);
  return buf;
}

void RenderHistogram(std::string& out, const std::string& name, const std::string& labels,
                     const auto& h) {
  uint64_t cumulative = 0;
  for (size_t i = 0; i < Metrics::kBuckets.size(); ++i) {
    cumulative += h.buckets[i];
    out += name + "_bucket{" + labels + ",le=\"" + FormatDouble(Metrics::kBuckets[i]) + "\"} " +
           std::to_string(cumulative) + "\n";
  }
  out += name + "_bucket{" + labels + ",le=\"+Inf\"} " + std::to_string(h.count) + "\n";
  out += name + "_sum{" + labels + "} " + FormatDouble(h.sum) + "\n";
  out += name + "_count{" + labels + "} " + std::to_string(h.count) + "\n";
}

}  // namespace

void Metrics::Histogram::Observe(double seconds) {
  const auto it = std::lower_bound(kBuckets.begin(), kBuckets.end(), seconds);
  if (it != kBuckets.end()) ++buckets[static_cast<size_t>(it - kBuckets.begin())];
  ++count;
  sum += seconds;
}

void Metrics::RecordRequest(std::string_view route, std::string_view method, int status,
                            double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  requests_[{std::string(route), std::string(method), status}].Observe(seconds);
}

void Metrics::RecordUpstream(std::string_view route, std::string_view outcome, double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  upstream_[{std::string(route), std::string(outcome)}].Observe(seconds);
}

std::string Metrics::RenderPrometheus() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  out += "# HELP mnemo_rest_requests_total HTTP requests answered, by route, method and status.\n";
  out += "# TYPE mnemo_rest_requests_total counter\n";
  for (const auto& [key, h] : requests_) {
    const auto& [route, method, status] = key;
    out += "mnemo_rest_requests_total{route=\"" + Escape(route) + "\",method=\"" + Escape(method) +
           "\",status=\"" + std::to_string(status) + "\"} " + std::to_string(h.count) + "\n";
  }
  out += "# HELP mnemo_rest_request_duration_seconds Time from request read to response ready.\n";
  out += "# TYPE mnemo_rest_request_duration_seconds histogram\n";
  for (const auto& [key, h] : requests_) {
    const auto& [route, method, status] = key;
    RenderHistogram(out, "mnemo_rest_request_duration_seconds",
                    "route=\"" + Escape(route) + "\",method=\"" + Escape(method) + "\",status=\"" +
                        std::to_string(status) + "\"",
                    h);
  }
  out +=
      "# HELP mnemo_rest_upstream_duration_seconds Time spent in mnemod calls, by route and "
      "outcome.\n";
  out += "# TYPE mnemo_rest_upstream_duration_seconds histogram\n";
  for (const auto& [key, h] : upstream_) {
    const auto& [route, outcome] = key;
    RenderHistogram(out, "mnemo_rest_upstream_duration_seconds",
                    "route=\"" + Escape(route) + "\",outcome=\"" + Escape(outcome) + "\"", h);
  }
  return out;
}

}  // namespace mnemo::rest
