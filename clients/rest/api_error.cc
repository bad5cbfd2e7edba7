// Error codes to HTTP statuses, and the error body.
#include "api_error.h"

namespace mnemo::rest {

ApiError ValidationError(std::string_view field, std::string_view message) {
  ApiError error{422, "VALIDATION_ERROR", std::string(message), nlohmann::json::object()};
  error.details["field"] = std::string(field);
  return error;
}

int HttpStatusFor(client::Code code) {
  using client::Code;
  switch (code) {
    case Code::kOk: return 200;
    case Code::kValidationError: return 422;
    case Code::kNotFound: return 404;
    case Code::kDuplicateRecord:
    case Code::kConflict: return 409;
    case Code::kAuthenticationError: return 401;
    case Code::kAuthorizationError: return 403;
    case Code::kRateLimited: return 429;
    case Code::kPayloadTooLarge: return 413;
    case Code::kUnavailable: return 503;
    case Code::kTransactionError:
    case Code::kInternalError: return 500;
  }
  return 500;
}

ApiError FromClientError(const client::Error& error) {
  ApiError out{HttpStatusFor(error.code), std::string(client::CodeName(error.code)), error.message,
               nlohmann::json::object()};
  if (!error.field.empty()) out.details["field"] = error.field;
  return out;
}

std::string_view SeedCodeName(std::string_view code) {
  if (code == "NOT_FOUND") return "RECORD_NOT_FOUND";
  if (code == "INTERNAL_ERROR") return "INTERNAL_SERVER_ERROR";
  return code;
}

nlohmann::json ErrorBody(const ApiError& error, std::string_view request_id) {
  return {{"error",
           {{"code", error.code},
            {"message", error.message},
            {"request_id", std::string(request_id)},
            {"details", error.details.is_null() ? nlohmann::json::object() : error.details}}}};
}

}  // namespace mnemo::rest
