#include "mnemo/status.h"

namespace mnemo {

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
