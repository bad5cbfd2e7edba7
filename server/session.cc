#include "server/session.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "protocol/frame.h"
#include "protocol/verify.h"
#include "server/op_table.h"
#include "server/wire_out.h"

namespace mnemo::server {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

constexpr size_t kReadChunk = 16 << 10;    // bytes per read while no large frame is pending
constexpr size_t kMaxReadChunk = 1 << 20;  // bytes per read into a large frame
constexpr size_t kMaxWriteBatch = 64;      // replies gathered into one write
constexpr size_t kShrinkAbove = 1 << 20;   // give back input buffers larger than this when idle

std::string PeerOf(const asio::ip::tcp::socket& socket) {
  boost::system::error_code ec;
  const auto endpoint = socket.remote_endpoint(ec);
  if (ec) return "?";
  return endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
}

}  // namespace

Session::Session(asio::ip::tcp::socket socket, const SessionServices& services)
    : socket_(std::move(socket)),
      timer_(socket_.get_executor()),
      services_(services),
      peer_(PeerOf(socket_)) {}

Session::~Session() {
  // Normally Close() ran; a session whose last handler was dropped unrun (the io_context stopped)
  // still leaves the registry and the connection count.
  if (!closed_ && registry_id_ != 0) {
    services_.registry.Remove(registry_id_);
    services_.stats.ConnectionClosed();
  }
}

void Session::Start(Status reject) {
  asio::dispatch(socket_.get_executor(), [self = shared_from_this(), reject = std::move(reject)] {
    self->registry_id_ = self->services_.registry.Add(self);
    if (self->registry_id_ == 0) {  // the server is shutting down
      self->closed_ = true;
      boost::system::error_code ignored;
      self->socket_.close(ignored);
      return;
    }
    self->services_.stats.ConnectionOpened();
    boost::system::error_code ignored;
    self->socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
    // Replies are first written with a write that must not block (Flush); asynchronous
    // operations work the same on a non-blocking socket.
    self->socket_.non_blocking(true, ignored);
    spdlog::debug("connection from {}", self->peer_);
    self->Touch();
    self->ArmTimer(self->deadline_);
    if (!reject.ok()) {
      spdlog::warn("refusing connection from {}: {}", self->peer_, reject.ToString());
      self->SendFatal(reject);
      return;
    }
    self->MaybeRead();
  });
}

void Session::BeginShutdown() {
  asio::dispatch(socket_.get_executor(), [self = shared_from_this()] { self->FinishAndClose(); });
}

void Session::ForceClose() {
  asio::dispatch(socket_.get_executor(),
                 [self = shared_from_this()] { self->Close("server shutdown"); });
}

// ---- reading ------------------------------------------------------------------------------

bool Session::WantRead() const {
  if (closed_ || peer_closed_ || reading_) return false;
  if (closing_) return true;  // read and discard until the close completes
  return in_flight_ < services_.limits.max_in_flight &&
         out_bytes_ <= services_.limits.max_queued_bytes;
}

void Session::MaybeRead() {
  if (!WantRead()) return;
  if (closing_) {
    inbuf_len_ = 0;
    inbuf_pos_ = 0;
  } else if (inbuf_pos_ > 0) {
    std::memmove(inbuf_.data(), inbuf_.data() + inbuf_pos_, inbuf_len_ - inbuf_pos_);
    inbuf_len_ -= inbuf_pos_;
    inbuf_pos_ = 0;
  }
  if (inbuf_len_ == 0 && inbuf_.size() > kShrinkAbove) {
    inbuf_.clear();
    inbuf_.shrink_to_fit();
  }
  // Read the rest of a large frame in big steps, anything else in small ones.
  size_t want = kReadChunk;
  uint32_t announced = 0;
  std::string_view payload;
  size_t consumed = 0;
  if (!closing_ &&
      protocol::ParseFrame(std::string_view(inbuf_.data(), inbuf_len_),
                           services_.limits.max_frame_bytes, &payload, &consumed,
                           &announced) == protocol::FrameResult::kNeedMore &&
      announced > 0) {
    const size_t missing = protocol::kFrameHeaderBytes + announced - inbuf_len_;
    want = std::clamp(missing, kReadChunk, kMaxReadChunk);
    // Room for the whole frame at once: growing by each read's size would move the bytes
    // already read at every reallocation (7 MB of copies for a 6 MB batch).
    if (inbuf_.size() < inbuf_len_ + missing) inbuf_.resize(inbuf_len_ + missing);
  }
  if (inbuf_.size() < inbuf_len_ + want) inbuf_.resize(inbuf_len_ + want);
  reading_ = true;
  socket_.async_read_some(asio::buffer(inbuf_.data() + inbuf_len_, want),
                          [self = shared_from_this()](boost::system::error_code ec, size_t bytes) {
                            self->OnRead(ec, bytes);
                          });
}

void Session::OnRead(boost::system::error_code ec, size_t bytes) {
  reading_ = false;
  if (!ec) inbuf_len_ += bytes;
  if (closed_) return;
  if (ec == asio::error::eof) {
    peer_closed_ = true;
    if (draining_) return Close("closed");
    spdlog::debug("{} closed its side of the connection", peer_);
    ProcessFrames();  // answer complete requests still buffered, then close
    return MaybeFinish();
  }
  if (ec) {
    if (ec != asio::error::operation_aborted)
      spdlog::debug("read from {} failed: {}", peer_, ec.message());
    return Close("read error");
  }
  Touch();
  if (closing_) return MaybeRead();  // discard
  ProcessFrames();
}

void Session::ProcessFrames() {
  if (reading_ || closed_) return;  // a pending read owns the tail of inbuf_
  for (;;) {
    // The replies to the requests answered here go out together, in one write.
    batching_ = true;
    Status fatal;
    bool complete_frames_left = false;
    while (!closing_ && !closed_) {
      if (in_flight_ >= services_.limits.max_in_flight ||
          out_bytes_ > services_.limits.max_queued_bytes) {
        complete_frames_left = true;  // maybe: looked at again once the replies drain
        break;
      }
      std::string_view payload;
      size_t consumed = 0;
      uint32_t announced = 0;
      const auto result = protocol::ParseFrame(
          std::string_view(inbuf_.data() + inbuf_pos_, inbuf_len_ - inbuf_pos_),
          services_.limits.max_frame_bytes, &payload, &consumed, &announced);
      if (result == protocol::FrameResult::kNeedMore) break;
      if (result == protocol::FrameResult::kTooLarge) {
        fatal = Status::FromCode(StatusCode::kPayloadTooLarge,
                                 "frame of " + std::to_string(announced) +
                                     " bytes exceeds the limit of " +
                                     std::to_string(services_.limits.max_frame_bytes) + " bytes");
        break;
      }
      if (result == protocol::FrameResult::kEmpty) {
        fatal = Status::ValidationError("frame", "zero-length frame");
        break;
      }
      std::string copy(payload);  // its own allocation: 8-byte aligned for the verifier
      inbuf_pos_ += consumed;
      HandleFrame(std::move(copy));
    }
    batching_ = false;
    if (!fatal.ok()) return SendFatal(fatal);
    Flush();
    if (closed_) return;
    // Stopped by the queued-bytes limit and the write took everything at once: no write
    // completion will come to resume, so go on here.
    if (complete_frames_left && !closing_ && !writing_ &&
        in_flight_ < services_.limits.max_in_flight &&
        out_bytes_ <= services_.limits.max_queued_bytes) {
      continue;
    }
    break;
  }
  if (peer_closed_) return MaybeFinish();
  MaybeRead();
}

void Session::HandleFrame(std::string payload) {
  std::string error;
  const wire::Request* request = protocol::VerifyRequest(payload, &error);
  if (request == nullptr) {
    spdlog::info("malformed request from {}: {}", peer_, error);
    return Send(ErrorResponse(0, Status::ValidationError("", "malformed request: " + error)));
  }
  const uint64_t id = request->id();
  const wire::RequestBody type = request->body_type();
  if (!principal_) {
    if (type != wire::RequestBody::Hello) {
      spdlog::info("{} sent request {} ({}) before a hello", peer_, id, OpName(type));
      Send(HelloRequiredResponse(id));
      return FinishAndClose();
    }
    const auto started = Clock::now();
    keys_generation_ = services_.keys.generation();  // read first: a later change forces a re-check
    HelloOutcome outcome = HandleHello(*request, services_.keys, services_.hello);
    services_.stats.RecordRequest(
        type, std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started),
        !outcome.principal);
    Send(outcome.response);
    if (!outcome.principal) return FinishAndClose();
    spdlog::debug("{} authenticated as {}", peer_, outcome.principal->Describe());
    principal_ = std::move(outcome.principal);
    return;
  }
  if (const uint64_t generation = services_.keys.generation(); generation != keys_generation_) {
    // Keys changed since this connection authenticated: a revoked key stops working at once.
    keys_generation_ = generation;
    if (Status still = services_.keys.CheckStillValid(*principal_); !still.ok()) {
      spdlog::info("request {} from {}: {} no longer authorized: {}", id, peer_,
                   principal_->Describe(), still.ToString());
      services_.stats.RecordRequest(type, std::chrono::microseconds(0), true);
      Send(ErrorResponse(id, still));
      return FinishAndClose();
    }
  }
  const OpGroup group = GroupOf(type);
  if (group == OpGroup::kUnknown || group == OpGroup::kHello) {
    const Status status =
        group == OpGroup::kHello
            ? Status::ValidationError("body", "hello was already done on this connection")
            : Status::ValidationError(
                  "body", "unknown request type " + std::to_string(static_cast<int>(type)));
    spdlog::info("request {} from {}: {}", id, peer_, status.ToString());
    services_.stats.RecordRequest(type, std::chrono::microseconds(0), true);
    return Send(ErrorResponse(id, status));
  }
  if (RunsOnIoThread(*request)) return Send(services_.dispatcher.Handle(*principal_, *request));
  if (MayRunInline(*request) && services_.workers.queued() == 0 &&
      (services_.limits.inline_writes || !IsWrite(type))) {
    if (InlineSlots::Lease lease(services_.inline_slots); lease) {
      return Send(services_.dispatcher.Handle(*principal_, *request));
    }
  }
  Submit(std::move(payload), *principal_, id, static_cast<uint8_t>(type));
}

void Session::Submit(std::string payload, const Principal& principal, uint64_t request_id,
                     uint8_t body_type) {
  ++in_flight_;
  auto shared_payload = std::make_shared<const std::string>(std::move(payload));
  WorkerPool& pool =
      services_.follow_workers != nullptr &&
              static_cast<wire::RequestBody>(body_type) == wire::RequestBody::FollowRequest
          ? *services_.follow_workers
          : services_.workers;
  const bool queued = pool.TrySubmit([self = shared_from_this(), shared_payload, principal] {
    // Verified on the I/O thread; the bytes are unchanged since.
    const auto* request = flatbuffers::GetRoot<wire::Request>(shared_payload->data());
    std::string response = self->services_.dispatcher.Handle(principal, *request);
    asio::post(self->socket_.get_executor(), [self, response = std::move(response)]() mutable {
      self->OnReply(std::move(response));
    });
  });
  if (queued) return;
  --in_flight_;
  spdlog::warn("server busy: request {} from {} refused (worker queue full)", request_id, peer_);
  services_.stats.RecordRequest(static_cast<wire::RequestBody>(body_type),
                                std::chrono::microseconds(0), true);
  Send(ErrorResponse(request_id, Status::Unavailable("server busy")));
}

void Session::OnReply(std::string response) {
  --in_flight_;
  if (closed_) return;
  Send(response);
  if (closing_) return MaybeFinish();
  ProcessFrames();
}

// ---- writing ------------------------------------------------------------------------------

void Session::Send(const std::string& payload) {
  if (closed_ || draining_) return;
  std::string frame;
  frame.reserve(protocol::kFrameHeaderBytes + payload.size());
  protocol::AppendFrame(payload, &frame);
  out_bytes_ += frame.size();
  outq_.push_back(std::move(frame));
  if (!batching_) Flush();
}

void Session::SendFatal(const Status& status) {
  spdlog::info("closing connection from {}: {}", peer_, status.ToString());
  Send(ErrorResponse(0, status));
  FinishAndClose();
}

void Session::Flush() {
  // While an asynchronous write is in flight it owns the order: OnWrite sends the rest.
  if (writing_ || closed_) return;
  bool wrote = false;
  while (!outq_.empty()) {
    gather_.clear();
    for (auto it = outq_.begin(); it != outq_.end() && gather_.size() < kMaxWriteBatch; ++it)
      gather_.push_back(asio::buffer(*it));
    gather_.front() += outq_front_written_;
    boost::system::error_code ec;
    size_t written = socket_.write_some(gather_, ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) break;
    if (ec) {
      spdlog::debug("write to {} failed: {}", peer_, ec.message());
      return Close("write error");
    }
    wrote = wrote || written > 0;
    while (written > 0) {
      const size_t left = outq_.front().size() - outq_front_written_;
      if (written < left) {
        outq_front_written_ += written;
        break;
      }
      written -= left;
      out_bytes_ -= outq_.front().size();
      outq_.pop_front();
      outq_front_written_ = 0;
    }
    if (!outq_.empty() && outq_front_written_ > 0) break;  // the socket buffer is full
  }
  if (wrote) Touch();
  if (!outq_.empty()) return DoWrite();
  if (closing_) MaybeFinish();
}

void Session::DoWrite() {
  writing_ = true;
  writing_batch_.clear();
  while (!outq_.empty() && writing_batch_.size() < kMaxWriteBatch) {
    writing_batch_.push_back(std::move(outq_.front()));
    outq_.pop_front();
  }
  std::vector<asio::const_buffer> buffers;
  buffers.reserve(writing_batch_.size());
  for (const auto& frame : writing_batch_) buffers.push_back(asio::buffer(frame));
  buffers.front() += outq_front_written_;  // what a non-blocking write already sent
  outq_front_written_ = 0;
  asio::async_write(socket_, buffers,
                    [self = shared_from_this()](boost::system::error_code ec, size_t bytes) {
                      self->OnWrite(ec, bytes);
                    });
}

void Session::OnWrite(boost::system::error_code ec, size_t /*bytes*/) {
  for (const auto& frame : writing_batch_) out_bytes_ -= frame.size();
  writing_batch_.clear();
  writing_ = false;
  if (closed_) return;
  if (ec) {
    if (ec != asio::error::operation_aborted)
      spdlog::debug("write to {} failed: {}", peer_, ec.message());
    return Close("write error");
  }
  Touch();
  if (!outq_.empty()) return DoWrite();
  if (closing_) return MaybeFinish();
  ProcessFrames();  // queued bytes went down: reading may resume (or, after EOF, finishing)
}

// ---- closing ------------------------------------------------------------------------------

void Session::FinishAndClose() {
  if (closed_) return;
  closing_ = true;
  MaybeFinish();
  MaybeRead();  // keep draining input meanwhile
}

void Session::MaybeFinish() {
  if (closed_ || draining_) return;
  if (in_flight_ > 0 || writing_ || !outq_.empty()) return;
  if (peer_closed_) {
    // The client sent EOF: answer what is complete, then close.
    if (!closing_) {
      std::string_view payload;
      size_t consumed = 0;
      const std::string_view rest(inbuf_.data() + inbuf_pos_, inbuf_len_ - inbuf_pos_);
      if (protocol::ParseFrame(rest, services_.limits.max_frame_bytes, &payload, &consumed) ==
          protocol::FrameResult::kFrame) {
        return;  // ProcessFrames will run again as replies drain
      }
    }
    return Close("client closed");
  }
  if (!closing_) return;
  // Everything is written: half-close, then wait briefly for the client's EOF so that unread
  // input does not turn our close into a reset that could destroy the replies in flight.
  boost::system::error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  draining_ = true;
  ArmTimer(Clock::now() + services_.limits.linger);
  MaybeRead();
}

void Session::Close(const char* why) {
  if (closed_) return;
  closed_ = true;
  boost::system::error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  timer_.cancel();
  services_.registry.Remove(registry_id_);
  services_.stats.ConnectionClosed();
  spdlog::debug("connection from {} closed ({})", peer_, why);
}

// ---- timeouts -----------------------------------------------------------------------------

void Session::Touch() { deadline_ = Clock::now() + services_.limits.idle_timeout; }

void Session::ArmTimer(Clock::time_point deadline) {
  const uint64_t generation = ++timer_generation_;
  timer_.expires_at(deadline);
  timer_.async_wait([self = shared_from_this(), generation](boost::system::error_code) {
    self->OnTimer(generation);
  });
}

void Session::OnTimer(uint64_t generation) {
  if (closed_ || generation != timer_generation_) return;
  const auto now = Clock::now();
  if (draining_) {
    if (now >= timer_.expiry()) return Close("linger elapsed");
    return ArmTimer(timer_.expiry());
  }
  if (now < deadline_) return ArmTimer(deadline_);
  // Idle (nothing in flight and no request arriving) or not reading its replies.
  if (writing_ || in_flight_ == 0) {
    spdlog::info(
        "closing connection from {}: {}", peer_,
        writing_ ? "client did not read its replies within the idle timeout" : "idle timeout");
    return Close("timeout");
  }
  // Waiting for the engine, not for the client.
  Touch();
  ArmTimer(deadline_);
}

}  // namespace mnemo::server
