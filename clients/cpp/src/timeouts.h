// The error of a call whose deadline passed, in one place: both call paths produce it, and the
// Python client's native core recognizes it (to raise RequestTimeoutError).
//
// Thread-safety: stateless.
#pragma once

#include <chrono>
#include <string>

#include "mnemo/client/error.h"

namespace mnemo::client::internal {

inline constexpr char kTimedOutPrefix[] = "request timed out after ";

// UNAVAILABLE "request timed out after <timeout> ms".
inline Error TimedOut(std::chrono::milliseconds timeout) {
  return Error{Code::kUnavailable, kTimedOutPrefix + std::to_string(timeout.count()) + " ms", ""};
}

inline bool IsTimeout(const Error& error) {
  return error.code == Code::kUnavailable && error.message.starts_with(kTimedOutPrefix);
}

}  // namespace mnemo::client::internal
