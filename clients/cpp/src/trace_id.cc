#include "trace_id.h"

#include <string>
#include <utility>

#include "mnemo/client/client.h"

namespace mnemo::client {
namespace {

thread_local std::string current_trace_id;

}  // namespace

namespace internal {

std::string_view CurrentTraceId() { return current_trace_id; }

}  // namespace internal

ScopedTraceId::ScopedTraceId(std::string_view trace_id) : previous_(std::move(current_trace_id)) {
  current_trace_id.assign(trace_id.substr(0, kMaxTraceIdBytes));
}

ScopedTraceId::~ScopedTraceId() { current_trace_id = std::move(previous_); }

}  // namespace mnemo::client
