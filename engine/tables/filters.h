// Row conditions shared by the list and count queries of every store: time ranges and
// metadata equality.  Each check that takes client input returns OK or a VALIDATION_ERROR
// naming the field.
//
// Thread-safety: MetadataMatcher is immutable after Parse (safe to share between threads).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "mnemo/records.h"
#include "mnemo/result.h"

namespace mnemo::tables {

// Top-level metadata keys that must equal given JSON values.
class MetadataMatcher {
 public:
  // Parses the conditions' JSON values.  VALIDATION_ERROR on `field` for a value that is not
  // JSON (or longer than 4 KiB).
  static Result<MetadataMatcher> Parse(const MetadataEquals& conditions,
                                       std::string_view field = "metadata");

  bool empty() const { return conditions_.empty(); }
  // True when `metadata_json` is an object holding every key with an equal value.
  bool Matches(std::string_view metadata_json) const;

 private:
  std::vector<std::pair<std::string, nlohmann::json>> conditions_;
};

// [from, until): VALIDATION_ERROR on `until_field` unless from < until when both are set.
Status ValidateTimeRange(std::string_view until_field, std::optional<Timestamp> from,
                         std::optional<Timestamp> until);
inline bool InTimeRange(Timestamp ts, std::optional<Timestamp> from,
                        std::optional<Timestamp> until) {
  return (!from || ts >= *from) && (!until || ts < *until);
}

// JSON text that means "nothing": null, or an empty array or object (white space allowed).
bool IsEmptyJson(std::string_view json);

}  // namespace mnemo::tables
