#include "tables/filters.h"

namespace mnemo::tables {
namespace {

constexpr size_t kMaxConditionValueBytes = 4096;

}  // namespace

Result<MetadataMatcher> MetadataMatcher::Parse(const MetadataEquals& conditions,
                                               std::string_view field) {
  MetadataMatcher matcher;
  for (const auto& [key, json_value] : conditions) {
    auto value = nlohmann::json::parse(json_value, nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded() || json_value.size() > kMaxConditionValueBytes) {
      return Status::ValidationError(field,
                                     "value of \"" + key + "\" is not valid JSON (at most 4 KiB)");
    }
    matcher.conditions_.emplace_back(key, std::move(value));
  }
  return matcher;
}

bool MetadataMatcher::Matches(std::string_view metadata_json) const {
  if (conditions_.empty()) return true;
  const auto metadata = nlohmann::json::parse(metadata_json, nullptr, /*allow_exceptions=*/false);
  if (!metadata.is_object()) return false;
  for (const auto& [key, value] : conditions_) {
    auto it = metadata.find(key);
    if (it == metadata.end() || *it != value) return false;
  }
  return true;
}

Status ValidateTimeRange(std::string_view until_field, std::optional<Timestamp> from,
                         std::optional<Timestamp> until) {
  if (from && until && *from >= *until) {
    return Status::ValidationError(until_field, "must be later than the range's start");
  }
  return Status::Ok();
}

bool IsEmptyJson(std::string_view json) {
  const auto first = json.find_first_not_of(" \t\r\n");
  const auto last = json.find_last_not_of(" \t\r\n");
  if (first == std::string_view::npos) return true;
  json = json.substr(first, last - first + 1);
  if (json == "null") return true;
  if (json.size() < 2) return false;
  const std::string_view inner = json.substr(1, json.size() - 2);
  const bool blank_inner = inner.find_first_not_of(" \t\r\n") == std::string_view::npos;
  return blank_inner && ((json.front() == '[' && json.back() == ']') ||
                         (json.front() == '{' && json.back() == '}'));
}

}  // namespace mnemo::tables
