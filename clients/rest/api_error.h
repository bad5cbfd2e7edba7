// ApiError: an HTTP error answer of mnemo-rest, rendered as seed 001's body
// {"error": {"code", "message", "request_id", "details"}}.  The HTTP status of each SPEC §4
// code is mnemo_base's table (HttpStatusOf, mnemo/base/error_codes.h).
//
// Thread-safety: value types and pure functions.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "mnemo/client/error.h"

namespace mnemo::rest {

struct ApiError {
  int status = 500;
  std::string code = "INTERNAL_ERROR";  // SPEC §4 spelling, or NOT_FOUND/METHOD_NOT_ALLOWED/...
  std::string message;
  nlohmann::json details = nlohmann::json::object();
};

// The answer for a SPEC §4 code: its HTTP status and name from mnemo_base's table.
ApiError ErrorOf(StatusCode code, std::string message,
                 nlohmann::json details = nlohmann::json::object());

// 422 VALIDATION_ERROR naming the offending field (details.field), e.g. "title" or
// "chunks[2].embedding".
ApiError ValidationError(std::string_view field, std::string_view message);

// The answer for a client error: HttpStatusOf(code), the code's name, details.field when set.
ApiError FromClientError(const client::Error& error);

// The spelling of a SPEC code in the backend mnemo replaces: RECORD_NOT_FOUND for NOT_FOUND,
// INTERNAL_SERVER_ERROR for INTERNAL_ERROR, every other code unchanged.
std::string_view SeedCodeName(std::string_view code);

// The response body for `error`.
nlohmann::json ErrorBody(const ApiError& error, std::string_view request_id);

}  // namespace mnemo::rest
