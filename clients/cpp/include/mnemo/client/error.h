// Error and Result<T>: how every Client call reports its outcome.  No exception crosses the
// client API; a failure is a value.
//
// An Error carries one of the SPEC §4 codes, a human message and, for validation errors, the
// offending input field; NOT_PRIMARY also carries where the cluster's primary is.  Codes other than
// UNAVAILABLE come from the server as it sent them; UNAVAILABLE is also produced by the client
// itself when it cannot connect, the connection breaks, or a request times out.
//
// Thread-safety: value types; distinct objects may be used from different threads.
#pragma once

#include <cassert>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "mnemo/base/error_codes.h"

namespace mnemo::client {

// The SPEC §4 status codes (mnemo/base/error_codes.h); the numbers are the wire's.
using Code = ::mnemo::StatusCode;

// The SPEC §4 spelling, e.g. "VALIDATION_ERROR"; "UNKNOWN" for a value outside the table.
constexpr std::string_view CodeName(Code code) { return StatusCodeName(code); }

struct Error {
  Error() = default;
  Error(Code code_in, std::string message_in, std::string field_in = {})
      : code(code_in), message(std::move(message_in)), field(std::move(field_in)) {}

  Code code = Code::kInternalError;
  std::string message;
  std::string field;  // the offending input field; empty when there is none
  // NOT_PRIMARY only: the cluster's primary ("host:port") and its epoch as the answering node
  // knew them; empty / 0 when it knew of none.  A write answered NOT_PRIMARY was not applied.
  std::string primary_address;
  uint64_t primary_epoch = 0;

  // "NOT_FOUND: conversation not found" (plus " [field]" when a field is named).
  std::string ToString() const;
};

// A value of type T, or an Error.  Constructed implicitly from either.
template <typename T>
class Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}      // NOLINT: implicit
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // REQUIRES: ok().
  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  // REQUIRES: !ok().
  const Error& error() const { return std::get<1>(state_); }
  // The error's code, or kOk.
  Code code() const { return ok() ? Code::kOk : error().code; }

 private:
  std::variant<T, Error> state_;
};

// The outcome of a call that returns nothing on success.
template <>
class Result<void> {
 public:
  Result() = default;                                               // success
  Result(Error error) : error_(std::move(error)), failed_(true) {}  // NOLINT: implicit

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  // REQUIRES: !ok().
  const Error& error() const { return error_; }
  Code code() const { return ok() ? Code::kOk : error_.code; }

 private:
  Error error_;
  bool failed_ = false;
};

}  // namespace mnemo::client
