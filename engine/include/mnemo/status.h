// Status: the outcome of an engine operation.
//
// A Status is either OK or carries a code from SPEC §4 (StatusCode, mnemo/base/error_codes.h), a human-readable message and, for
// validation errors, the name of the offending field.  An OK status allocates nothing (the state
// pointer is null), so the success path is free.  "Not found" is a normal outcome, not an
// exception: callers test `status.IsNotFound()`.
//
// Thread-safety: a Status is a value; distinct objects may be used from different threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "mnemo/base/error_codes.h"

namespace mnemo {

class Status {
 public:
  Status() noexcept = default;  // OK
  Status(const Status& other);
  Status& operator=(const Status& other);
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;

  static Status Ok() { return Status(); }
  // `field` names the offending input field (e.g. "title"); it may be empty.
  static Status ValidationError(std::string_view field, std::string_view message) {
    return Status(StatusCode::kValidationError, message, field);
  }
  static Status NotFound(std::string_view message) { return Status(StatusCode::kNotFound, message); }
  static Status DuplicateRecord(std::string_view message) {
    return Status(StatusCode::kDuplicateRecord, message);
  }
  static Status Conflict(std::string_view message) { return Status(StatusCode::kConflict, message); }
  static Status TransactionError(std::string_view message) {
    return Status(StatusCode::kTransactionError, message);
  }
  static Status Unavailable(std::string_view message) {
    return Status(StatusCode::kUnavailable, message);
  }
  static Status Internal(std::string_view message) {
    return Status(StatusCode::kInternalError, message);
  }
  static Status FromCode(StatusCode code, std::string_view message, std::string_view field = {}) {
    return code == StatusCode::kOk ? Status() : Status(code, message, field);
  }

  bool ok() const { return state_ == nullptr; }
  StatusCode code() const { return state_ ? state_->code : StatusCode::kOk; }
  bool IsNotFound() const { return code() == StatusCode::kNotFound; }
  bool IsValidationError() const { return code() == StatusCode::kValidationError; }

  // Empty for OK.  The views stay valid while this Status is alive and unmodified.
  std::string_view message() const { return state_ ? std::string_view(state_->message) : ""; }
  std::string_view field() const { return state_ ? std::string_view(state_->field) : ""; }

  // Documents that a failure is deliberately ignored at this call site.
  void IgnoreError() const {}

  // "OK", or "CODE: message" with " (field: f)" when a field is set.
  std::string ToString() const;

 private:
  struct State {
    StatusCode code;
    std::string message;
    std::string field;
  };
  Status(StatusCode code, std::string_view message, std::string_view field = {});

  std::unique_ptr<State> state_;
};

// Returns early from the enclosing function when `expr` yields a non-OK Status.
#define MNEMO_RETURN_IF_ERROR(expr)           \
  do {                                        \
    ::mnemo::Status _mnemo_status = (expr);   \
    if (!_mnemo_status.ok()) return _mnemo_status; \
  } while (0)

}  // namespace mnemo
