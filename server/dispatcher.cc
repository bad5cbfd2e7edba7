#include "server/dispatcher.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <exception>

#include "server/auth/authorize.h"
#include "server/dispatch_internal.h"
#include "server/op_table.h"
#include "server/wire_in.h"

namespace mnemo::server {
namespace {

// How log lines name a request: "42", or "42 [trace req-7f3a]" when the caller sent a trace id
// (printable ASCII kept, the rest shown as '?', so a trace id cannot forge log lines).
std::string RequestLabel(const wire::Request& request) {
  std::string label = std::to_string(request.id());
  const std::string trace = StringOf(request.trace_id());
  if (trace.empty()) return label;
  label += " [trace ";
  for (const char c : std::string_view(trace).substr(0, kMaxTraceIdBytes))
    label += c >= 0x20 && c < 0x7f ? c : '?';
  label += ']';
  return label;
}

}  // namespace

Dispatcher::Dispatcher(Engine& engine, ServerStats& stats, DispatcherOptions options)
    : engine_(engine), stats_(stats), options_(std::move(options)), snapshots_(options_.data_dir) {}

std::string Dispatcher::Handle(const Principal& principal, const wire::Request& request) {
  const auto started = std::chrono::steady_clock::now();
  bool failed = false;
  std::string response;
  try {
    response = Run(principal, request, &failed);
  } catch (const std::exception& e) {  // engine and builders do not throw; stay up if they do
    spdlog::error("request {}: {} threw: {}", RequestLabel(request), OpName(request.body_type()),
                  e.what());
    failed = true;
    response = ErrorResponse(request.id(), Status::Internal("internal error"));
  }
  const auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - started);
  stats_.RecordRequest(request.body_type(), elapsed, failed);
  return response;
}

std::string Dispatcher::Run(const Principal& principal, const wire::Request& request,
                            bool* failed) {
  const uint64_t id = request.id();
  const wire::RequestBody type = request.body_type();
  const std::string_view op = OpName(type);
  const auto fail = [&](const Status& status) {
    *failed = true;
    const bool server_side =
        status.code() == StatusCode::kInternalError || status.code() == StatusCode::kUnavailable;
    if (server_side) {
      spdlog::warn("request {} {} ({}): {}", RequestLabel(request), op, principal.Describe(),
                   status.ToString());
    } else {
      spdlog::info("request {} {} ({}): {}", RequestLabel(request), op, principal.Describe(),
                   status.ToString());
    }
    return ErrorResponse(id, status);
  };

  const OpGroup group = GroupOf(type);
  if (group == OpGroup::kUnknown) {
    return fail(Status::ValidationError(
        "body", "unknown request type " + std::to_string(static_cast<int>(type))));
  }
  if (group == OpGroup::kHello)
    return fail(Status::ValidationError("body", "hello was already done on this connection"));
  if (request.body() == nullptr)
    return fail(Status::ValidationError("body", "the request body is missing"));

  std::string user_id;
  if (group == OpGroup::kAdmin) {
    Status allowed = RequireService(principal, op);
    if (!allowed.ok()) return fail(allowed);
  } else {
    auto resolved = ResolveUser(principal, StringOf(request.user_id()));
    if (!resolved.ok()) return fail(resolved.status());
    user_id = std::move(resolved).value();
  }
  // The one place writes meet the cluster: a follower or a fenced primary applies none.
  if (cluster_ != nullptr && IsWrite(type)) {
    if (std::optional<NotPrimary> refused = cluster_->CheckWrite()) {
      *failed = true;
      spdlog::info("request {} {} ({}): NOT_PRIMARY: {}", RequestLabel(request), op,
                   principal.Describe(), refused->message);
      return NotPrimaryResponse(id, refused->message, refused->primary_address,
                                refused->primary_epoch);
    }
  }
  if (spdlog::should_log(spdlog::level::debug)) {
    spdlog::debug("request {} {} ({}){}{}", RequestLabel(request), op, principal.Describe(),
                  user_id.empty() ? "" : " user ", user_id);
  }

  Builder fbb(1024);
  dispatch::Call call{engine_, fbb, request, user_id};
  Result<dispatch::Reply> reply = Status::Internal("unhandled request group");
  switch (group) {
    case OpGroup::kConversations: reply = dispatch::Conversations(call); break;
    case OpGroup::kMessages: reply = dispatch::Messages(call); break;
    case OpGroup::kDocuments: reply = dispatch::Documents(call); break;
    case OpGroup::kSearch: reply = dispatch::Search(call); break;
    case OpGroup::kBatch: reply = dispatch::Batch(call); break;
    case OpGroup::kAdmin:
      reply = dispatch::Admin(
          call, dispatch::AdminContext{stats_, options_.data_dir, cluster_, snapshots_, acks_});
      break;
    case OpGroup::kUnknown:
    case OpGroup::kHello: break;
  }
  if (!reply.ok()) return fail(reply.status());
  if (cluster_ != nullptr && IsWrite(type)) {
    // The log's last sequence now covers this write (and maybe later ones: waiting for those
    // too is safe).  A write that logged nothing waits for what is already logged, which may
    // hold the original of a retried write.
    const uint64_t seq = engine_.LastLogSeq();
    acks_.Committed(seq);
    if (ack_policy_ == AckPolicy::kSemiSync && !acks_.WaitForAck(seq, ack_timeout_)) {
      stats_.RecordReplicaAckTimeout();
      return fail(Status::Unavailable(
          "the write was applied on the primary (log sequence " + std::to_string(seq) +
          ") but no replica acknowledged it within " + std::to_string(ack_timeout_.count()) +
          " ms; treat it like a timeout: it is not yet on a replica"));
    }
  }
  std::string payload = FinishResponse(fbb, id, reply->type, reply->body);
  if (options_.max_frame_bytes != 0 && payload.size() > options_.max_frame_bytes) {
    return fail(Status::FromCode(StatusCode::kPayloadTooLarge,
                                 "the reply would be " + std::to_string(payload.size()) +
                                     " bytes, more than the frame limit of " +
                                     std::to_string(options_.max_frame_bytes) +
                                     "; ask for fewer rows"));
  }
  return payload;
}

namespace dispatch {

Reply DoneReply(Builder& fbb) { return MakeReply(wire::ResponseBody::Done, wire::CreateDone(fbb)); }

}  // namespace dispatch
}  // namespace mnemo::server
