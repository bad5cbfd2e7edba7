// Transport: the client's connection pool.  A call takes one of two paths.
//
// The direct path (options.direct_calls, the default): up to `pool_size` blocking connections
// (DirectConnection, established lazily on first use, same handshake), kept in a free list.  A
// call takes a free one, writes its request with send() on the calling thread and reads its own
// response with recv() until its deadline: no hand-off to the I/O thread, so a round trip
// costs 2 thread wake-ups instead of 4 (like libpq).  A connection the server closed while it sat
// idle is re-established transparently before sending.  After a timeout or any
// broken/desynchronized reply that connection is closed (a late reply would desync it) and the next
// call opens a new one.  When a direct connection cannot be established (UNAVAILABLE: unreachable,
// or the server's connection limit) the call goes the pipelined way and the direct path pauses for
// a second; a refused handshake (e.g. a bad key) fails the call with its error.
//
// The pipelined path, used when direct calls are off or every direct connection is busy (so
// many concurrent callers still pipeline): one I/O thread running a Boost.Asio io_context and
// `pool_size` connections driven by it, established in Open.  Each does the Hello handshake,
// then pipelines requests: the reader matches every response to its caller by request id.
// A call picks the ready connection with the fewest requests outstanding (queued or in flight)
// and waits on its own condition variable until the response arrives or its deadline passes.
// A connection sends at most the server's max_in_flight requests at once; the rest wait in its
// queue.  When a connection breaks, the requests it had sent fail with UNAVAILABLE (marked
// `connection_lost`, so reads can be retried) and those it had not sent yet are handed to
// another connection.  A broken connection is re-established by the next call.
//
// Both paths fail alike: PAYLOAD_TOO_LARGE without sending when the request exceeds the
// server's max_frame_bytes; UNAVAILABLE "request timed out after N ms" at the deadline;
// UNAVAILABLE marked connection_lost when the connection broke after sending (Retry::kIfBroken
// resends once); the error carried by a response with id 0 (the server rejected the frame);
// UNAVAILABLE for a response frame larger than options.max_frame_bytes or a malformed one; the
// handshake's error when a reconnect is refused.
//
// Thread-safety: Call() and NextRequestId() may be called from any thread.  A direct
// connection is used by one caller at a time (it is out of the free list meanwhile).
// Everything in a Connection is touched only on the I/O thread.  REQUIRES: no call is in
// progress when the Transport is destroyed.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "mnemo/client/error.h"
#include "mnemo/client/options.h"
#include "mnemo/client/types.h"

namespace mnemo::client::internal {

class Connection;
class DirectConnection;
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
  // handshake's error when a reconnect is refused.  *not_sent (when given) is set on an
  // UNAVAILABLE failure that proves the request never left the client (no connection could be
  // established); it stays false when the request may have reached the server (sent before the
  // connection broke, or timed out).
  Result<std::string> Call(uint64_t request_id, std::string_view payload, Retry retry,
                           bool* not_sent = nullptr);

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
  // One attempt of Call() on the pipelined path.
  Result<std::string> CallPipelined(uint64_t request_id,
                                    const std::shared_ptr<const std::string>& frame,
                                    std::chrono::steady_clock::time_point deadline,
                                    bool* connection_lost);

  // The direct path.  A slot of the free list holds an established connection or nullptr (to
  // be established on its next use).  TakeDirect: false when every slot is in use or the path
  // is paused (PauseDirect: for a while after a direct connection could not be established).
  bool TakeDirect(std::unique_ptr<DirectConnection>* slot);
  void ReturnDirect(std::unique_ptr<DirectConnection> slot);
  void PauseDirect();
  // One attempt of Call() on the connection in `slot` (re-established first when the server
  // closed it, or when empty); leaves nullptr in `slot` when the connection is no longer usable.
  // *connect_failed: establishing the connection failed (nothing was sent).
  Result<std::string> CallDirect(std::unique_ptr<DirectConnection>& slot, uint64_t request_id,
                                 const std::string& frame,
                                 std::chrono::steady_clock::time_point deadline,
                                 bool* connection_lost, bool* connect_failed);

  const ClientOptions options_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::vector<std::shared_ptr<Connection>> connections_;  // fixed after construction
  size_t next_connection_ = 0;                            // I/O thread only: round robin
  std::atomic<uint64_t> next_id_{1};
  ServerInfo server_info_;
  std::thread thread_;

  std::mutex direct_mu_;
  // GUARDED_BY(direct_mu_): the free direct slots (pool_size when idle; empty without
  // options_.direct_calls).  Last in, first out, so established connections are reused first.
  std::vector<std::unique_ptr<DirectConnection>> direct_free_;
  std::chrono::steady_clock::time_point direct_paused_until_;  // GUARDED_BY(direct_mu_)
};

}  // namespace mnemo::client::internal
