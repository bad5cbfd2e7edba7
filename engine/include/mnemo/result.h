// Result<T>: a value or a non-OK Status.
//
// Thread-safety: a value type, like Status.
#pragma once

#include <cassert>
#include <optional>
#include <utility>

#include "mnemo/status.h"

namespace mnemo {

template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  // REQUIRES: !status.ok() (an OK Result must carry a value).
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    assert(!status_.ok());
    if (status_.ok()) status_ = Status::Internal("Result constructed from OK status without value");
  }

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }

  // REQUIRES: ok().
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

// Evaluates `rexpr` (a Result); on error returns its Status, else moves the value into `lhs`.
#define MNEMO_ASSIGN_OR_RETURN(lhs, rexpr) \
  MNEMO_ASSIGN_OR_RETURN_IMPL(MNEMO_CONCAT(_r, __LINE__), lhs, rexpr)
#define MNEMO_CONCAT_INNER(a, b) a##b
#define MNEMO_CONCAT(a, b) MNEMO_CONCAT_INNER(a, b)
#define MNEMO_ASSIGN_OR_RETURN_IMPL(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                                \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(tmp).value()

}  // namespace mnemo
