// The calling thread's trace id (set by mnemo::client::ScopedTraceId, client.h), which the
// encoders attach to every request the thread encodes.
//
// Thread-safety: thread-local state; each thread sees only its own.
#pragma once

#include <string_view>

namespace mnemo::client::internal {

// Empty when no ScopedTraceId is alive on this thread.
std::string_view CurrentTraceId();

}  // namespace mnemo::client::internal
