// StatusCode: the SPEC §4 status codes shared by the engine, mnemod, the C++ client and
// mnemo-rest, with their wire spellings and HTTP statuses.  The rows live in error_codes.def.
//
// Thread-safety: constants and pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace mnemo {

// FROZEN: the numeric values reach the wire protocol (error_codes.def).
enum class StatusCode : uint8_t {
#define MNEMO_ERROR_CODE(camel, wire, value, http) k##camel = value,
#include "mnemo/base/error_codes.def"
#undef MNEMO_ERROR_CODE
};

// Number of codes; the values are 0 .. kStatusCodeCount - 1.
inline constexpr size_t kStatusCodeCount = 0
#define MNEMO_ERROR_CODE(camel, wire, value, http) +1
#include "mnemo/base/error_codes.def"
#undef MNEMO_ERROR_CODE
    ;

// The SPEC §4 spelling, e.g. "VALIDATION_ERROR"; "UNKNOWN" for a value outside the table.
constexpr std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
#define MNEMO_ERROR_CODE(camel, wire, value, http) \
  case StatusCode::k##camel:                       \
    return #wire;
#include "mnemo/base/error_codes.def"
#undef MNEMO_ERROR_CODE
  }
  return "UNKNOWN";
}

// The HTTP status mnemo-rest answers for `code`; 500 for a value outside the table.
constexpr int HttpStatusOf(StatusCode code) {
  switch (code) {
#define MNEMO_ERROR_CODE(camel, wire, value, http) \
  case StatusCode::k##camel:                       \
    return http;
#include "mnemo/base/error_codes.def"
#undef MNEMO_ERROR_CODE
  }
  return 500;
}

// The code with wire value `value`; nullopt when the table has none (a newer peer's code).
constexpr std::optional<StatusCode> StatusCodeFromValue(uint8_t value) {
  if (value >= kStatusCodeCount) return std::nullopt;
  return static_cast<StatusCode>(value);
}

// The values are dense from 0, which StatusCodeFromValue relies on.
#define MNEMO_ERROR_CODE(camel, wire, value, http) \
  static_assert(value < kStatusCodeCount, #wire " breaks the dense numbering");
#include "mnemo/base/error_codes.def"
#undef MNEMO_ERROR_CODE

}  // namespace mnemo
