#include "mnemo/status.h"

namespace mnemo {

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "OK";
    case StatusCode::kValidationError: return "VALIDATION_ERROR";
    case StatusCode::kNotFound: return "NOT_FOUND";
    case StatusCode::kDuplicateRecord: return "DUPLICATE_RECORD";
    case StatusCode::kConflict: return "CONFLICT";
    case StatusCode::kTransactionError: return "TRANSACTION_ERROR";
    case StatusCode::kAuthenticationError: return "AUTHENTICATION_ERROR";
    case StatusCode::kAuthorizationError: return "AUTHORIZATION_ERROR";
    case StatusCode::kRateLimited: return "RATE_LIMITED";
    case StatusCode::kPayloadTooLarge: return "PAYLOAD_TOO_LARGE";
    case StatusCode::kUnavailable: return "UNAVAILABLE";
    case StatusCode::kInternalError: return "INTERNAL_ERROR";
  }
  return "UNKNOWN";
}

Status::Status(StatusCode code, std::string_view message, std::string_view field)
    : state_(std::make_unique<State>(State{code, std::string(message), std::string(field)})) {}

Status::Status(const Status& other)
    : state_(other.state_ ? std::make_unique<State>(*other.state_) : nullptr) {}

Status& Status::operator=(const Status& other) {
  if (this != &other) state_ = other.state_ ? std::make_unique<State>(*other.state_) : nullptr;
  return *this;
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out(StatusCodeName(state_->code));
  out += ": ";
  out += state_->message;
  if (!state_->field.empty()) {
    out += " (field: ";
    out += state_->field;
    out += ")";
  }
  return out;
}

}  // namespace mnemo
