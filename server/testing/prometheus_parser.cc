#include "server/testing/prometheus_parser.h"

#include <cmath>
#include <cstdlib>
#include <limits>
#include <regex>
#include <set>

namespace mnemo::testing {
namespace {

bool IsMetricName(std::string_view name) {
  static const std::regex pattern("[a-zA-Z_:][a-zA-Z0-9_:]*");
  return std::regex_match(name.begin(), name.end(), pattern);
}

bool IsLabelName(std::string_view name) {
  static const std::regex pattern("[a-zA-Z_][a-zA-Z0-9_]*");
  return std::regex_match(name.begin(), name.end(), pattern) && !name.starts_with("__");
}

bool ParseValue(std::string_view token, double* value) {
  if (token == "NaN") {
    *value = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  if (token == "+Inf" || token == "-Inf") {
    *value = token[0] == '+' ? INFINITY : -INFINITY;
    return true;
  }
  static const std::regex number(R"([-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?)");
  if (!std::regex_match(token.begin(), token.end(), number)) return false;
  *value = std::strtod(std::string(token).c_str(), nullptr);
  return true;
}

bool IsInteger(std::string_view token) {
  static const std::regex integer(R"(-?\d+)");
  return std::regex_match(token.begin(), token.end(), integer);
}

// Reads `{name="value",...}` at the front of *rest.
bool ParseLabels(std::string_view* rest, std::map<std::string, std::string>* labels,
                 std::string* why) {
  std::string_view in = *rest;
  in.remove_prefix(1);  // '{'
  while (true) {
    if (!in.empty() && in.front() == '}') {
      in.remove_prefix(1);
      break;
    }
    const size_t eq = in.find('=');
    if (eq == std::string_view::npos) {
      *why = "label without '='";
      return false;
    }
    const std::string name(in.substr(0, eq));
    if (!IsLabelName(name)) {
      *why = "bad label name \"" + name + "\"";
      return false;
    }
    in.remove_prefix(eq + 1);
    if (in.empty() || in.front() != '"') {
      *why = "label value of " + name + " is not quoted";
      return false;
    }
    in.remove_prefix(1);
    std::string value;
    bool closed = false;
    while (!in.empty()) {
      const char c = in.front();
      in.remove_prefix(1);
      if (c == '"') {
        closed = true;
        break;
      }
      if (c == '\n') {
        *why = "raw newline in a label value";
        return false;
      }
      if (c != '\\') {
        value += c;
        continue;
      }
      if (in.empty()) break;
      const char escaped = in.front();
      in.remove_prefix(1);
      if (escaped == '\\' || escaped == '"') {
        value += escaped;
      } else if (escaped == 'n') {
        value += '\n';
      } else {
        *why = std::string("bad escape \\") + escaped + " in label " + name;
        return false;
      }
    }
    if (!closed) {
      *why = "unterminated label value of " + name;
      return false;
    }
    if (!labels->emplace(name, std::move(value)).second) {
      *why = "label " + name + " repeats";
      return false;
    }
    if (!in.empty() && in.front() == ',') {
      in.remove_prefix(1);
    } else if (in.empty() || in.front() != '}') {
      *why = "labels not separated by ','";
      return false;
    }
  }
  *rest = in;
  return true;
}

// The family a sample belongs to: a histogram or summary owns its suffixed series.
std::string FamilyOf(const std::string& sample,
                     const std::map<std::string, PrometheusFamily>& families) {
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    const std::string_view s(suffix);
    if (sample.size() > s.size() && sample.ends_with(s)) {
      const std::string base = sample.substr(0, sample.size() - s.size());
      auto it = families.find(base);
      if (it != families.end() &&
          (it->second.type == "histogram" || (it->second.type == "summary" && s != "_bucket"))) {
        return base;
      }
    }
  }
  return sample;
}

bool CheckHistogram(const PrometheusFamily& family, std::string* why) {
  struct Series {
    std::vector<std::pair<double, double>> buckets;  // (le, cumulative count), in order
    bool has_sum = false;
    bool has_count = false;
    double count = 0;
  };
  std::map<std::map<std::string, std::string>, Series> series;
  for (const auto& sample : family.samples) {
    auto labels = sample.labels;
    if (sample.name == family.name + "_bucket") {
      auto le = labels.find("le");
      double bound = 0;
      if (le == labels.end() || !ParseValue(le->second, &bound) || std::isnan(bound)) {
        *why = family.name + ": bucket without a numeric le";
        return false;
      }
      labels.erase(le);
      series[labels].buckets.emplace_back(bound, sample.value);
    } else if (sample.name == family.name + "_sum") {
      series[labels].has_sum = true;
    } else if (sample.name == family.name + "_count") {
      series[labels].has_count = true;
      series[labels].count = sample.value;
    } else {
      *why = family.name + ": histogram sample " + sample.name + " is not _bucket, _sum or _count";
      return false;
    }
  }
  for (const auto& [labels, s] : series) {
    if (s.buckets.empty() || !s.has_sum || !s.has_count) {
      *why = family.name + ": a series lacks buckets, _sum or _count";
      return false;
    }
    for (size_t i = 1; i < s.buckets.size(); ++i) {
      if (!(s.buckets[i].first > s.buckets[i - 1].first)) {
        *why = family.name + ": le bounds do not increase";
        return false;
      }
      if (s.buckets[i].second < s.buckets[i - 1].second) {
        *why = family.name + ": bucket counts are not cumulative";
        return false;
      }
    }
    if (!std::isinf(s.buckets.back().first) || s.buckets.back().second != s.count) {
      *why = family.name + ": the +Inf bucket is missing or differs from _count";
      return false;
    }
  }
  return true;
}

}  // namespace

double PrometheusDocument::Value(const std::string& name,
                                 const std::map<std::string, std::string>& labels) const {
  for (const auto& [family_name, family] : families) {
    for (const auto& sample : family.samples) {
      if (sample.name == name && sample.labels == labels) return sample.value;
    }
  }
  return std::numeric_limits<double>::quiet_NaN();
}

bool ParsePrometheusText(std::string_view text, PrometheusDocument* document, std::string* error) {
  document->families.clear();
  std::set<std::string> finished;  // families whose samples ended (another family followed)
  std::set<std::string> typed;     // families with a TYPE line
  std::set<std::pair<std::string, std::map<std::string, std::string>>> seen_series;
  std::string current;  // family of the previous sample
  size_t line_number = 0;
  const auto fail = [&](const std::string& why) {
    *error = "line " + std::to_string(line_number) + ": " + why;
    return false;
  };
  if (!text.empty() && text.back() != '\n') return fail("the document does not end with a newline");
  while (!text.empty()) {
    ++line_number;
    const size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end + 1);
    if (line.empty()) continue;
    if (line.front() == '#') {
      const bool help = line.starts_with("# HELP ");
      const bool type = line.starts_with("# TYPE ");
      if (!help && !type) continue;  // a comment
      std::string_view rest = line.substr(7);
      const size_t space = rest.find(' ');
      if (space == std::string_view::npos) return fail("HELP/TYPE without text");
      const std::string name(rest.substr(0, space));
      const std::string_view body = rest.substr(space + 1);
      if (!IsMetricName(name)) return fail("bad metric name \"" + name + "\"");
      PrometheusFamily& family = document->families[name];
      family.name = name;
      if (!family.samples.empty() || finished.contains(name))
        return fail(name + ": HELP/TYPE after its samples");
      if (help) {
        if (!family.help.empty()) return fail(name + ": HELP repeats");
        family.help = std::string(body);
        if (family.help.empty()) return fail(name + ": empty HELP");
      } else {
        static const std::set<std::string> kTypes = {"counter", "gauge", "histogram", "summary",
                                                     "untyped"};
        if (!kTypes.contains(std::string(body)))
          return fail(name + ": unknown type \"" + std::string(body) + "\"");
        if (!typed.insert(name).second) return fail(name + ": TYPE repeats");
        family.type = std::string(body);
      }
      continue;
    }
    // A sample.
    size_t name_end = 0;
    while (name_end < line.size() && line[name_end] != '{' && line[name_end] != ' ') ++name_end;
    PrometheusSample sample;
    sample.name = std::string(line.substr(0, name_end));
    if (!IsMetricName(sample.name)) return fail("bad metric name \"" + sample.name + "\"");
    std::string_view rest = line.substr(name_end);
    if (!rest.empty() && rest.front() == '{') {
      std::string why;
      if (!ParseLabels(&rest, &sample.labels, &why)) return fail(why);
    }
    if (rest.empty() || rest.front() != ' ') return fail("no space before the value");
    rest.remove_prefix(1);
    const size_t value_end = rest.find(' ');
    if (!ParseValue(rest.substr(0, value_end), &sample.value))
      return fail("bad value in \"" + std::string(line) + "\"");
    if (value_end != std::string_view::npos && !IsInteger(rest.substr(value_end + 1))) {
      return fail("bad timestamp in \"" + std::string(line) + "\"");
    }
    const std::string family_name = FamilyOf(sample.name, document->families);
    if (family_name != current) {
      if (!current.empty()) finished.insert(current);
      if (finished.contains(family_name)) return fail(family_name + ": samples are not contiguous");
      current = family_name;
    }
    if (!seen_series.emplace(sample.name, sample.labels).second)
      return fail("series repeats: " + std::string(line));
    PrometheusFamily& family = document->families[family_name];
    family.name = family_name;
    if (family.type == "counter" && (sample.name != family_name || !(sample.value >= 0))) {
      return fail(family_name + ": counter sample must be named like its family and be >= 0");
    }
    if (family.type == "gauge" && sample.name != family_name)
      return fail(family_name + ": gauge sample name differs");
    family.samples.push_back(std::move(sample));
  }
  for (const auto& [name, family] : document->families) {
    std::string why;
    if (family.type == "histogram" && !CheckHistogram(family, &why)) return fail(why);
  }
  return true;
}

}  // namespace mnemo::testing
