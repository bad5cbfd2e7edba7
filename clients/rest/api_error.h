// ApiError: an HTTP error answer of mnemo-rest, rendered as seed 001's body
// {"error": {"code", "message", "request_id", "details"}}; and the one table that maps the
// client library's codes (SPEC §4) onto HTTP statuses.
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

// 422 VALIDATION_ERROR naming the offending field (details.field), e.g. "title" or
// "chunks[2].embedding".
ApiError ValidationError(std::string_view field, std::string_view message);

// VALIDATION_ERROR→422 (details.field), NOT_FOUND→404, DUPLICATE_RECORD/CONFLICT→409,
// AUTHENTICATION_ERROR→401, AUTHORIZATION_ERROR→403, RATE_LIMITED→429, PAYLOAD_TOO_LARGE→413,
// UNAVAILABLE→503, anything else→500.
int HttpStatusFor(client::Code code);
ApiError FromClientError(const client::Error& error);

// The seeds' backend's spelling of a SPEC code: RECORD_NOT_FOUND for NOT_FOUND,
// INTERNAL_SERVER_ERROR for INTERNAL_ERROR, every other code unchanged.
std::string_view SeedCodeName(std::string_view code);

// The response body for `error`.
nlohmann::json ErrorBody(const ApiError& error, std::string_view request_id);

}  // namespace mnemo::rest
