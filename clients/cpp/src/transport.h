// Transport: the client's connection pool.  Owns one I/O thread running a Boost.Asio io_context
// and `pool_size` connections driven by it.  Each connection does the Hello handshake, then
// pipelines requests: the reader matches every response to its caller by request id.
//
// A call picks the ready connection with the fewest requests outstanding (queued or in flight)
// and waits on its own condition variable until the response arrives or its deadline passes.
// A connection sends at most the server's max_in_flight requests at once; the rest wait in its
// queue.  When a connection breaks, the requests it had sent fail with UNAVAILABLE (marked
// `connection_lost`, so reads can be retried) and those it had not sent yet are handed to
// another connection.  A broken connection is re-established by the next call.
//
// Thread-safety: Call() and NextRequestId() may be called from any thread.  Everything in a
// Connection is touched only on the I/O thread.  REQUIRES: no call is in progress when the
// Transport is destroyed.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "mnemo/client/error.h"
#include "mnemo/client/options.h"
#include "mnemo/client/types.h"

namespace mnemo::client::internal {

class Connection;
struct PendingCall;

class Transport {
 public:
  // What a call may do when its connection breaks after the request was sent.
  enum class Retry : uint8_t {
    kNever,     // writes: the request may have been applied; fail with UNAVAILABLE
    kIfBroken,  // reads: resend once on another (or a re-established) connection
  };

  // Starts the I/O thread and establishes every connection of the pool (handshake included).
  // Errors: VALIDATION_ERROR for bad options; otherwise the first connection's failure.
  static Result<std::unique_ptr<Transport>> Open(const ClientOptions& options);
  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // A request id unique within this Transport, never 0.
  uint64_t NextRequestId() { return next_id_.fetch_add(1, std::memory_order_relaxed); }

  // Sends `payload` (one Request buffer carrying `request_id`) and waits for the response with
  // that id.  Returns the response payload in its own std::string (8-byte aligned storage),
  // already verified with protocol::VerifyResponse.  Errors: UNAVAILABLE (cannot connect,
  // connection broke, timed out), PAYLOAD_TOO_LARGE (larger than the server accepts), or the
  // handshake's error when a reconnect is refused.
  Result<std::string> Call(uint64_t request_id, std::string payload, Retry retry);

  // The handshake reply of the first connection.  Stable after Open.
  const ServerInfo& server_info() const { return server_info_; }

 private:
  friend class Connection;
  explicit Transport(const ClientOptions& options);

  // I/O thread: hands `call` to a connection.
  void Submit(const std::shared_ptr<PendingCall>& call);
  // I/O thread: forgets a call whose caller stopped waiting.
  void Abandon(const std::shared_ptr<PendingCall>& call);
  // Posts `call` to the I/O thread and waits until it completes or `deadline`.
  void SubmitAndWait(const std::shared_ptr<PendingCall>& call,
                     std::chrono::steady_clock::time_point deadline);

  const ClientOptions options_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::vector<std::shared_ptr<Connection>> connections_;  // fixed after construction
  size_t next_connection_ = 0;                            // I/O thread only: round robin
  std::atomic<uint64_t> next_id_{1};
  ServerInfo server_info_;
  std::thread thread_;
};

}  // namespace mnemo::client::internal
