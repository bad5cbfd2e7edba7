// Error answers and their body; statuses come from mnemo_base's code table.
#include "api_error.h"

namespace mnemo::rest {

ApiError ErrorOf(StatusCode code, std::string message, nlohmann::json details) {
  return ApiError{HttpStatusOf(code), std::string(StatusCodeName(code)), std::move(message),
                  std::move(details)};
}

ApiError ValidationError(std::string_view field, std::string_view message) {
  ApiError error{HttpStatusOf(StatusCode::kValidationError),
                 std::string(StatusCodeName(StatusCode::kValidationError)), std::string(message),
                 nlohmann::json::object()};
  error.details["field"] = std::string(field);
  return error;
}

ApiError FromClientError(const client::Error& error) {
  ApiError out{HttpStatusOf(error.code), std::string(StatusCodeName(error.code)), error.message,
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
