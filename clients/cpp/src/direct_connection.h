// DirectConnection: one blocking TCP connection of the transport's direct call path.  The
// calling thread writes its request with send() and sleeps in recv() until its response arrives
// (send/receive timeouts of request_timeout bound both), so a round trip costs 2 thread wake-ups
// and 2-3 system calls (the pipelined path, through the I/O thread, costs 4 wake-ups).
// One request at a time: the only bytes the server sends on it are the answer to the request
// just written.
//
// Failures leave the connection `broken()`; its owner then discards it (a late or partial reply
// would desynchronize the next call).
//
// Thread-safety: not thread-safe; one caller uses a connection at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mnemo/client/error.h"
#include "mnemo/client/options.h"
#include "mnemo/client/types.h"

namespace mnemo::client::internal {

class DirectConnection {
 public:
  using Clock = std::chrono::steady_clock;

  // Resolves options.host, connects, sets TCP_NODELAY and does the Hello handshake (request id
  // `hello_id`), all before `deadline` (name resolution itself is not bounded by it).
  // Errors: UNAVAILABLE (cannot resolve or connect, broken, timed out), or the handshake's error
  // (e.g. AUTHENTICATION_ERROR for a refused key).  `options` must outlive the connection.
  static Result<std::unique_ptr<DirectConnection>> Open(const ClientOptions& options,
                                                        uint64_t hello_id,
                                                        Clock::time_point deadline);
  ~DirectConnection();  // closes the socket
  DirectConnection(const DirectConnection&) = delete;
  DirectConnection& operator=(const DirectConnection&) = delete;

  // The handshake reply (limits announced by the server).
  const ServerInfo& info() const { return info_; }

  // True when the connection can no longer be used: a call on it failed, or it holds bytes
  // nobody asked for.
  bool broken() const { return broken_; }

  // True when the server has closed the idle connection (idle timeout, restart) or sent
  // something unasked.  One poll(2) with a zero timeout, skipped (false) for a connection whose
  // last call ended less than a millisecond ago.  Also true when broken().
  bool PeerClosed();

  // Writes `frame` (length prefix + one Request payload carrying `request_id`) and reads the
  // response, before `deadline`.  Returns the response payload in its own std::string,
  // verified with protocol::VerifyResponse.  Errors:
  //   UNAVAILABLE "request timed out after <request_timeout> ms": nothing arrived in time;
  //   UNAVAILABLE with *connection_lost set: the connection broke after (part of) the request
  //     was written, or the reply was malformed, too large, or for another request id;
  //   the error carried by a response with id 0 (the server rejected the frame), with
  //     *connection_lost set.
  // The connection is broken() after any error.  REQUIRES: !broken().
  Result<std::string> Exchange(std::string_view frame, uint64_t request_id,
                               Clock::time_point deadline, bool* connection_lost);

 private:
  DirectConnection(const ClientOptions& options, int fd);

  // After the handshake: blocking mode with send and receive timeouts of request_timeout.
  std::optional<Error> EnterBlockingMode();
  // Fails the connection: marks it broken and returns `error` (for `return Fail(...)`).
  Error Fail(Error error);
  Error Unavailable(std::string message);
  std::string Address() const;

  // Writes all of `bytes`.  Sets *timed_out when the deadline passed first.
  std::optional<Error> SendAll(std::string_view bytes, Clock::time_point deadline, bool* timed_out);
  // Reads one whole frame and returns its payload (verified, id checked against
  // `expected_id`).  `timeout_message` is the error's text when the deadline passes first.
  Result<std::string> ReadResponse(uint64_t expected_id, Clock::time_point deadline,
                                   const std::string& timeout_message, bool* timed_out);

  const ClientOptions& options_;
  const int fd_;
  ServerInfo info_;
  bool broken_ = false;
  bool blocking_ = false;         // after the handshake (EnterBlockingMode)
  Clock::time_point last_used_;   // when the last call on this connection ended
  std::vector<char> buffer_;  // received bytes not consumed yet: [0, buffered_)
  size_t buffered_ = 0;
};

}  // namespace mnemo::client::internal
