// A strict parser of the Prometheus text exposition format 0.0.4, for tests.  Debian packages
// no Prometheus parser for C++, so this one checks what a scraper relies on:
//   - every line ends with '\n'; comments are "# HELP", "# TYPE" or other "#" text;
//   - metric and label names match the format's grammar; label values use only the \\, \" and
//     \n escapes; no label name repeats in a sample, none starts with "__";
//   - values are floats (or NaN, +Inf, -Inf); an optional timestamp is an integer;
//   - TYPE (one of counter, gauge, histogram, summary, untyped) and HELP come at most once per
//     family and before its samples; a family's samples are contiguous; no series repeats;
//   - counters are >= 0; a histogram's series per label set have increasing `le` bounds,
//     non-decreasing cumulative counts, a "+Inf" bucket equal to _count, and a _sum.
//
// Thread-safety: stateless function.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace mnemo::testing {

struct PrometheusSample {
  std::string name;                           // e.g. "mnemo_request_duration_seconds_bucket"
  std::map<std::string, std::string> labels;  // unescaped values
  double value = 0;
};

struct PrometheusFamily {
  std::string name;
  std::string type = "untyped";
  std::string help;
  std::vector<PrometheusSample> samples;
};

struct PrometheusDocument {
  std::map<std::string, PrometheusFamily> families;
  // The value of the sample `name` with exactly `labels`; NaN when absent.
  double Value(const std::string& name,
               const std::map<std::string, std::string>& labels = {}) const;
};

// Parses `text`; on the first violation returns false with "line N: reason" in *error.
bool ParsePrometheusText(std::string_view text, PrometheusDocument* document, std::string* error);

}  // namespace mnemo::testing
