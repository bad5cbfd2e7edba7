#include "transport.h"

#include <poll.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include "codec.h"
#include "direct_connection.h"
#include "protocol/frame.h"
#include "protocol/verify.h"
#include "protocol/version.h"
#include "timeouts.h"

namespace mnemo::client::internal {

namespace asio = boost::asio;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// One request on its way.  The frame and id are immutable; the outcome is written once on the
// I/O thread under `mu` and read by the waiting caller.
struct PendingCall {
  PendingCall(uint64_t request_id, std::shared_ptr<const std::string> framed)
      : id(request_id), frame(std::move(framed)) {}

  const uint64_t id;
  const std::shared_ptr<const std::string> frame;  // length prefix + payload

  std::mutex mu;
  std::condition_variable cv;
  bool done = false;                    // GUARDED_BY(mu)
  std::optional<std::string> response;  // GUARDED_BY(mu): the verified payload on success
  Error error;                          // GUARDED_BY(mu): the failure otherwise
  bool connection_lost = false;         // GUARDED_BY(mu): sent, then the connection broke

  Connection* owner = nullptr;  // I/O thread only: the connection holding the call
  // I/O thread only: invoked instead of the caller wake-up (the handshake's internal call).
  std::function<void(const std::string* payload, const Error* error)> on_complete;
};

namespace {

void Complete(const std::shared_ptr<PendingCall>& call, std::string payload) {
  call->owner = nullptr;
  if (call->on_complete) {
    call->on_complete(&payload, nullptr);
    return;
  }
  std::lock_guard lock(call->mu);
  if (call->done) return;
  call->response = std::move(payload);
  call->done = true;
  call->cv.notify_all();
}

void Fail(const std::shared_ptr<PendingCall>& call, const Error& error, bool connection_lost) {
  call->owner = nullptr;
  if (call->on_complete) {
    call->on_complete(nullptr, &error);
    return;
  }
  std::lock_guard lock(call->mu);
  if (call->done) return;
  call->error = error;
  call->connection_lost = connection_lost;
  call->done = true;
  call->cv.notify_all();
}

Error Unavailable(std::string message) { return Error{Code::kUnavailable, std::move(message), ""}; }

Error PayloadTooLarge(size_t payload_bytes, uint32_t limit) {
  return Error{Code::kPayloadTooLarge,
               "request of " + std::to_string(payload_bytes) +
                   " bytes exceeds the server's limit of " + std::to_string(limit) + " bytes",
               ""};
}

std::shared_ptr<const std::string> Framed(std::string_view payload) {
  auto frame = std::make_shared<std::string>();
  frame->reserve(protocol::kFrameHeaderBytes + payload.size());
  protocol::AppendFrame(payload, frame.get());
  return frame;
}

#ifdef POLLRDHUP
constexpr short kPollPeerClosed = POLLRDHUP;  // Linux: the peer shut down its writing side
#else
constexpr short kPollPeerClosed = 0;
#endif

// How long calls skip the direct path after a direct connection could not be established.
constexpr std::chrono::milliseconds kDirectPauseAfterConnectFailure{1000};

constexpr size_t kReadChunkBytes = 64 * 1024;
constexpr size_t kKeepReadBufferBytes = 1 << 20;

}  // namespace

// One TCP connection of the pool.  Every member is touched only on the I/O thread.  Async
// handlers hold a shared_ptr to the connection and the `generation_` they were started in; a
// handler from an earlier generation (the socket was closed since) does nothing.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  enum class State : uint8_t { kIdle, kConnecting, kReady };

  explicit Connection(Transport& transport)
      : transport_(transport),
        socket_(transport.io_),
        resolver_(transport.io_),
        connect_timer_(transport.io_) {}

  State state() const { return state_; }
  size_t outstanding() const { return queued_.size() + in_flight_.size(); }
  const ServerInfo& info() const { return info_; }

  // Queues `call`; sends it when ready (starting a connect when idle).
  void Enqueue(const std::shared_ptr<PendingCall>& call) {
    call->owner = this;
    queued_.push_back(call);
    if (state_ == State::kIdle) {
      StartConnect();
    } else if (state_ == State::kReady) {
      Pump();
    }
  }

  // Drops `call` if this connection still holds it (its caller stopped waiting).
  void Remove(const std::shared_ptr<PendingCall>& call) {
    const auto queued = std::find(queued_.begin(), queued_.end(), call);
    if (queued != queued_.end()) queued_.erase(queued);
    const auto sent = in_flight_.find(call->id);
    if (sent != in_flight_.end() && sent->second == call) in_flight_.erase(sent);
    call->owner = nullptr;
    if (state_ == State::kReady) Pump();
  }

  // Establishes the connection unless it is already up or on its way.  `done` (optional) runs
  // once, when the handshake completed (nullptr) or failed (the error).
  void StartConnect(std::function<void(const Error*)> done = nullptr) {
    if (done) connect_waiters_.push_back(std::move(done));
    if (state_ != State::kIdle) {
      if (state_ == State::kReady) FinishConnectWaiters(nullptr);
      return;
    }
    state_ = State::kConnecting;
    const uint64_t generation = ++generation_;
    auto self = shared_from_this();
    connect_timer_.expires_after(transport_.options_.connect_timeout);
    connect_timer_.async_wait([self, generation](const boost::system::error_code& ec) {
      if (ec || generation != self->generation_ || self->state_ != State::kConnecting) return;
      self->Break(
          Unavailable("connecting to " + self->Address() + " timed out after " +
                      std::to_string(self->transport_.options_.connect_timeout.count()) + " ms"),
          /*sent_lost=*/true);
    });
    resolver_.async_resolve(
        transport_.options_.host, std::to_string(transport_.options_.port),
        [self, generation](const boost::system::error_code& ec,
                           const tcp::resolver::results_type& endpoints) {
          if (generation != self->generation_) return;
          if (ec) {
            self->Break(Unavailable("cannot resolve " + self->Address() + ": " + ec.message()),
                        true);
            return;
          }
          asio::async_connect(self->socket_, endpoints,
                              [self, generation](const boost::system::error_code& connect_ec,
                                                 const tcp::endpoint&) {
                                if (generation != self->generation_) return;
                                if (connect_ec) {
                                  self->Break(Unavailable("cannot connect to " + self->Address() +
                                                          ": " + connect_ec.message()),
                                              true);
                                  return;
                                }
                                self->OnConnected();
                              });
        });
  }

  // Closes the socket.  Sent requests fail with `error` (flagged connection_lost when
  // `sent_lost`); unsent ones go back to the transport when the connection had been ready, and
  // fail with `error` when it never came up (so a refused reconnect reports its cause).
  void Break(const Error& error, bool sent_lost) {
    if (state_ == State::kIdle) return;
    const bool was_ready = state_ == State::kReady;
    state_ = State::kIdle;
    ++generation_;
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    resolver_.cancel();
    connect_timer_.cancel();
    writing_ = false;
    write_queue_.clear();
    read_length_ = 0;

    auto in_flight = std::move(in_flight_);
    in_flight_.clear();
    auto queued = std::move(queued_);
    queued_.clear();
    for (auto& [id, call] : in_flight) Fail(call, error, sent_lost);
    FinishConnectWaiters(&error);
    for (auto& call : queued) {
      if (was_ready && !closing_) {
        call->owner = nullptr;
        transport_.Submit(call);
      } else {
        Fail(call, error, false);
      }
    }
  }

  // Closes for good (the transport is shutting down).
  void Close() {
    closing_ = true;
    Break(Unavailable("client closed"), true);
  }

 private:
  std::string Address() const {
    return transport_.options_.host + ":" + std::to_string(transport_.options_.port);
  }

  void OnConnected() {
    boost::system::error_code ignored;
    socket_.set_option(tcp::no_delay(true), ignored);
    // The handshake: a Hello request, answered before anything else is sent.
    const uint64_t hello_id = transport_.NextRequestId();
    auto hello = std::make_shared<PendingCall>(
        hello_id,
        Framed(EncodeHello(hello_id, protocol::kProtocolVersion, transport_.options_.api_key,
                           transport_.options_.client_name)));
    auto self = shared_from_this();
    hello->on_complete = [self](const std::string* payload, const Error* error) {
      self->OnHelloReply(payload, error);
    };
    in_flight_[hello_id] = hello;
    write_queue_.push_back(hello);
    StartWrite();
    StartRead();
  }

  void OnHelloReply(const std::string* payload, const Error* error) {
    if (state_ != State::kConnecting) return;
    if (error != nullptr) return;  // Break() is already failing everything
    const auto* response = flatbuffers::GetRoot<wire::Response>(payload->data());
    auto info = DecodeHelloReply(*response);
    if (!info.ok()) {
      Break(info.error(), true);
      return;
    }
    info_ = std::move(info).value();
    state_ = State::kReady;
    connect_timer_.cancel();
    FinishConnectWaiters(nullptr);
    Pump();
  }

  void FinishConnectWaiters(const Error* error) {
    auto waiters = std::move(connect_waiters_);
    connect_waiters_.clear();
    for (auto& waiter : waiters) waiter(error);
  }

  // Moves queued calls into flight while the server's in-flight limit allows, then writes.
  void Pump() {
    if (in_flight_.empty() && !queued_.empty() && PeerClosed()) {
      // Nothing of ours is on this connection and the server has closed it (idle timeout,
      // restart) without the reader having seen it yet: reconnect instead of sending into it.
      Break(Unavailable("server closed the connection"), true);
      return;
    }
    const size_t limit = info_.max_in_flight == 0 ? SIZE_MAX : info_.max_in_flight;
    while (!queued_.empty() && in_flight_.size() < limit) {
      auto call = std::move(queued_.front());
      queued_.pop_front();
      const size_t payload_bytes = call->frame->size() - protocol::kFrameHeaderBytes;
      if (info_.max_frame_bytes != 0 && payload_bytes > info_.max_frame_bytes) {
        Fail(call, PayloadTooLarge(payload_bytes, info_.max_frame_bytes), false);
        continue;
      }
      in_flight_[call->id] = call;
      write_queue_.push_back(std::move(call));
    }
    StartWrite();
  }

  // True when the server has closed its side and nothing is left to read.  One poll(2) with a
  // zero timeout; only asked for on an idle connection.
  bool PeerClosed() {
    pollfd poll_fd{socket_.native_handle(), POLLIN | kPollPeerClosed, 0};
    if (::poll(&poll_fd, 1, 0) <= 0) return false;
    if ((poll_fd.revents & (POLLERR | POLLHUP | POLLNVAL)) != 0) return true;
    if ((poll_fd.revents & kPollPeerClosed) == 0) return false;
    boost::system::error_code ec;
    return socket_.available(ec) == 0 || ec;  // unread responses: let the reader take them
  }

  // Writes everything queued in one gathered write; only one write is in progress at a time.
  void StartWrite() {
    if (writing_ || write_queue_.empty()) return;
    writing_ = true;
    auto batch =
        std::make_shared<std::vector<std::shared_ptr<PendingCall>>>(std::move(write_queue_));
    write_queue_.clear();
    std::vector<asio::const_buffer> buffers;
    buffers.reserve(batch->size());
    for (const auto& call : *batch) buffers.emplace_back(asio::buffer(*call->frame));
    auto self = shared_from_this();
    const uint64_t generation = generation_;
    asio::async_write(socket_, buffers,
                      [self, generation, batch](const boost::system::error_code& ec, size_t) {
                        if (generation != self->generation_) return;
                        self->writing_ = false;
                        if (ec) {
                          self->Break(Unavailable("connection to " + self->Address() +
                                                  " broke while writing: " + ec.message()),
                                      true);
                          return;
                        }
                        self->StartWrite();
                      });
  }

  void StartRead() {
    if (read_length_ == 0 && read_buffer_.size() > kKeepReadBufferBytes) {
      std::vector<char>().swap(read_buffer_);  // release the memory of a huge response
    }
    const size_t want = std::max(kReadChunkBytes, read_wanted_);
    if (read_buffer_.size() < read_length_ + want) read_buffer_.resize(read_length_ + want);
    auto self = shared_from_this();
    const uint64_t generation = generation_;
    socket_.async_read_some(
        asio::buffer(read_buffer_.data() + read_length_, read_buffer_.size() - read_length_),
        [self, generation](const boost::system::error_code& ec, size_t bytes) {
          if (generation != self->generation_) return;
          if (ec) {
            self->Break(Unavailable(ec == asio::error::eof ? "server closed the connection"
                                                           : "connection to " + self->Address() +
                                                                 " broke: " + ec.message()),
                        true);
            return;
          }
          self->read_length_ += bytes;
          if (self->ProcessFrames()) self->StartRead();
        });
  }

  // Handles every whole frame in the read buffer.  False when the connection was broken.
  bool ProcessFrames() {
    size_t offset = 0;
    bool alive = true;
    read_wanted_ = 0;
    const uint64_t generation = generation_;
    while (alive) {
      std::string_view payload;
      size_t consumed = 0;
      uint32_t announced = 0;
      const auto result = protocol::ParseFrame(
          std::string_view(read_buffer_.data() + offset, read_length_ - offset),
          transport_.options_.max_frame_bytes, &payload, &consumed, &announced);
      if (result == protocol::FrameResult::kNeedMore) {
        if (announced != 0) read_wanted_ = protocol::kFrameHeaderBytes + announced;
        break;
      }
      if (result != protocol::FrameResult::kFrame) {
        Break(Unavailable(result == protocol::FrameResult::kTooLarge
                              ? "response frame of " + std::to_string(announced) +
                                    " bytes exceeds max_frame_bytes"
                              : "empty response frame"),
              true);
        return false;
      }
      offset += consumed;
      OnFrame(std::string(payload));  // its own, aligned storage for the verifier
      alive = generation == generation_;
    }
    if (!alive) return false;
    if (offset > 0) {
      std::copy(read_buffer_.begin() + static_cast<std::ptrdiff_t>(offset),
                read_buffer_.begin() + static_cast<std::ptrdiff_t>(read_length_),
                read_buffer_.begin());
      read_length_ -= offset;
    }
    if (read_wanted_ > read_length_) read_wanted_ -= read_length_;
    return true;
  }

  void OnFrame(std::string payload) {
    std::string why;
    const wire::Response* response = protocol::VerifyResponse(payload, &why);
    if (response == nullptr) {
      Break(Unavailable("malformed response from server: " + why), true);
      return;
    }
    if (response->id() == 0) {
      // The server could not read one of our frames and is closing the connection.
      Break(response->error() != nullptr ? ErrorFromWire(*response->error())
                                         : Unavailable("server rejected a frame"),
            true);
      return;
    }
    const auto it = in_flight_.find(response->id());
    if (it == in_flight_.end()) return;  // its caller timed out and left
    auto call = std::move(it->second);
    in_flight_.erase(it);
    Complete(call, std::move(payload));
    if (state_ == State::kReady) Pump();
  }

  Transport& transport_;
  tcp::socket socket_;
  tcp::resolver resolver_;
  asio::steady_timer connect_timer_;
  State state_ = State::kIdle;
  uint64_t generation_ = 0;
  bool closing_ = false;
  ServerInfo info_;
  std::vector<std::function<void(const Error*)>> connect_waiters_;

  std::deque<std::shared_ptr<PendingCall>> queued_;                       // not sent yet
  std::unordered_map<uint64_t, std::shared_ptr<PendingCall>> in_flight_;  // sent, no answer yet
  std::vector<std::shared_ptr<PendingCall>> write_queue_;  // in flight, waiting for the writer
  bool writing_ = false;

  std::vector<char> read_buffer_;
  size_t read_length_ = 0;  // bytes of read_buffer_ holding data
  size_t read_wanted_ = 0;  // bytes still missing from a partly received frame (a read hint)
};

// ---- Transport --------------------------------------------------------------------------------

Transport::Transport(const ClientOptions& options)
    : options_(options), work_(asio::make_work_guard(io_)) {
  for (int i = 0; i < options_.pool_size; ++i) {
    connections_.push_back(std::make_shared<Connection>(*this));
    if (options_.direct_calls) direct_free_.emplace_back();  // established on first use
  }
  thread_ = std::thread([this] {
    // Handlers do not throw by design; should one (e.g. out of memory), keep serving: the calls
    // it concerned fail by their deadline instead of the process terminating.
    while (true) {
      try {
        io_.run();
        return;
      } catch (...) {
      }
    }
  });
}

Transport::~Transport() {
  asio::post(io_, [this] {
    for (auto& connection : connections_) connection->Close();
  });
  work_.reset();
  thread_.join();
}

Result<std::unique_ptr<Transport>> Transport::Open(const ClientOptions& options) {
  if (options.pool_size < 1) {
    return Error{Code::kValidationError, "pool_size must be at least 1", "pool_size"};
  }
  if (options.host.empty()) return Error{Code::kValidationError, "host is empty", "host"};
  if (options.max_frame_bytes < 64) {
    return Error{Code::kValidationError, "max_frame_bytes is too small", "max_frame_bytes"};
  }
  std::unique_ptr<Transport> transport(new Transport(options));
  std::vector<std::future<std::optional<Error>>> results;
  for (auto& connection : transport->connections_) {
    auto promise = std::make_shared<std::promise<std::optional<Error>>>();
    results.push_back(promise->get_future());
    asio::post(transport->io_, [connection, promise] {
      connection->StartConnect([promise](const Error* error) {
        promise->set_value(error ? std::optional<Error>(*error) : std::nullopt);
      });
    });
  }
  std::optional<Error> first_error;
  for (auto& result : results) {
    auto error = result.get();
    if (error && !first_error) first_error = std::move(error);
  }
  if (first_error) return *first_error;
  // Every connection is ready; their infos are set and no longer change until a reconnect.
  std::promise<ServerInfo> info;
  asio::post(transport->io_, [&] { info.set_value(transport->connections_.front()->info()); });
  transport->server_info_ = info.get_future().get();
  return transport;
}

void Transport::Submit(const std::shared_ptr<PendingCall>& call) {
  // Re-establish idle (broken) connections in the background, so the pool heals on the next call.
  Connection* best_ready = nullptr;
  Connection* best_connecting = nullptr;
  Connection* first_idle = nullptr;
  const size_t n = connections_.size();
  for (size_t k = 0; k < n; ++k) {
    Connection* connection = connections_[(next_connection_ + k) % n].get();
    switch (connection->state()) {
      case Connection::State::kReady:
        if (best_ready == nullptr || connection->outstanding() < best_ready->outstanding()) {
          best_ready = connection;
        }
        break;
      case Connection::State::kConnecting:
        if (best_connecting == nullptr ||
            connection->outstanding() < best_connecting->outstanding()) {
          best_connecting = connection;
        }
        break;
      case Connection::State::kIdle:
        if (first_idle == nullptr) first_idle = connection;
        break;
    }
  }
  next_connection_ = (next_connection_ + 1) % n;
  Connection* target = best_ready ? best_ready : best_connecting ? best_connecting : first_idle;
  target->Enqueue(call);
  // Heal the pool: start reconnecting the other broken connections too.
  for (auto& connection : connections_) {
    if (connection->state() == Connection::State::kIdle) connection->StartConnect();
  }
}

void Transport::Abandon(const std::shared_ptr<PendingCall>& call) {
  if (call->owner != nullptr) call->owner->Remove(call);
}

void Transport::SubmitAndWait(const std::shared_ptr<PendingCall>& call,
                              Clock::time_point deadline) {
  asio::post(io_, [this, call] { Submit(call); });
  std::unique_lock lock(call->mu);
  if (call->cv.wait_until(lock, deadline, [&] { return call->done; })) return;
  call->done = true;  // late completions are ignored from now on
  call->error = TimedOut(options_.request_timeout);
  lock.unlock();
  asio::post(io_, [this, call] { Abandon(call); });
}

Result<std::string> Transport::CallPipelined(uint64_t request_id,
                                             const std::shared_ptr<const std::string>& frame,
                                             Clock::time_point deadline, bool* connection_lost) {
  auto call = std::make_shared<PendingCall>(request_id, frame);
  SubmitAndWait(call, deadline);
  std::lock_guard lock(call->mu);
  *connection_lost = call->connection_lost;
  if (call->response) return std::move(*call->response);
  return call->error;
}

bool Transport::TakeDirect(std::unique_ptr<DirectConnection>* slot) {
  std::lock_guard lock(direct_mu_);
  if (direct_free_.empty() || Clock::now() < direct_paused_until_) return false;
  *slot = std::move(direct_free_.back());
  direct_free_.pop_back();
  return true;
}

void Transport::ReturnDirect(std::unique_ptr<DirectConnection> slot) {
  std::lock_guard lock(direct_mu_);
  direct_free_.push_back(std::move(slot));
}

void Transport::PauseDirect() {
  std::lock_guard lock(direct_mu_);
  direct_paused_until_ = Clock::now() + kDirectPauseAfterConnectFailure;
}

Result<std::string> Transport::CallDirect(std::unique_ptr<DirectConnection>& slot,
                                          uint64_t request_id, const std::string& frame,
                                          Clock::time_point deadline, bool* connection_lost,
                                          bool* connect_failed) {
  *connection_lost = false;
  *connect_failed = false;
  // Closed by the server while idle (idle timeout, restart): reconnect instead of sending into it.
  if (slot != nullptr && slot->PeerClosed()) slot.reset();
  if (slot == nullptr) {
    auto opened = DirectConnection::Open(
        options_, NextRequestId(), std::min(deadline, Clock::now() + options_.connect_timeout));
    if (!opened.ok()) {
      *connect_failed = true;
      return opened.error();
    }
    slot = std::move(opened).value();
  }
  const size_t payload_bytes = frame.size() - protocol::kFrameHeaderBytes;
  const uint32_t limit = slot->info().max_frame_bytes;
  if (limit != 0 && payload_bytes > limit) return PayloadTooLarge(payload_bytes, limit);
  auto response = slot->Exchange(frame, request_id, deadline, connection_lost);
  if (slot->broken()) slot.reset();
  return response;
}

Result<std::string> Transport::Call(uint64_t request_id, std::string_view payload, Retry retry,
                                    bool* not_sent) {
  if (not_sent != nullptr) *not_sent = false;
  const auto deadline = Clock::now() + options_.request_timeout;
  const auto frame = Framed(payload);
  for (int attempt = 0;; ++attempt) {
    bool connection_lost = false;
    std::unique_ptr<DirectConnection> slot;
    auto result = [&]() -> Result<std::string> {
      if (!TakeDirect(&slot)) return CallPipelined(request_id, frame, deadline, &connection_lost);
      bool connect_failed = false;
      auto direct =
          CallDirect(slot, request_id, *frame, deadline, &connection_lost, &connect_failed);
      ReturnDirect(std::move(slot));
      if (connect_failed && direct.code() == Code::kUnavailable) {
        // Unreachable, or refused for now (e.g. the server's connection limit): the pool may
        // still be up.  Pause the direct path rather than try again on every call.
        PauseDirect();
        return CallPipelined(request_id, frame, deadline, &connection_lost);
      }
      return direct;
    }();
    if (result.ok()) return result;
    const bool retry_now =
        connection_lost && retry == Retry::kIfBroken && attempt == 0 && Clock::now() < deadline;
    if (!retry_now) {
      // Requests that were written fail marked connection_lost, and a timed-out one may have been
      // written; any other UNAVAILABLE comes from a connection that never came up.
      if (not_sent != nullptr && attempt == 0 && !connection_lost &&
          result.error().code == Code::kUnavailable && !IsTimeout(result.error())) {
        *not_sent = true;
      }
      return result;
    }
  }
}

}  // namespace mnemo::client::internal
