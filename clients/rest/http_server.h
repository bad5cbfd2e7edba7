// HttpServer: the Boost.Beast HTTP/1.1 front of mnemo-rest.  Accepts connections on one
// io_context (run by several I/O threads), reads requests with a header and body size limit,
// answers "Expect: 100-continue", hands each complete request to RestHandler and writes its
// reply back on the connection's strand.  Keep-alive is honoured; idle connections close after
// kIdleTimeout.  A body over the limit gets 413 and the connection is closed after draining what
// the client still sends (bounded), so the client sees the answer instead of a reset.
//
// Thread-safety: Listen/Stop from one thread; sessions are serialized on their own strands.
// REQUIRES: the handler outlives the io_context's run.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "rest_handler.h"

namespace mnemo::rest {

class HttpServer {
 public:
  static constexpr std::chrono::seconds kIdleTimeout{60};
  static constexpr size_t kMaxHeaderBytes = 64 * 1024;

  HttpServer(boost::asio::io_context& ioc, RestHandler& handler, size_t max_body_bytes);

  // Binds host:port (port 0 = ephemeral) and starts accepting.  An error text on failure.
  std::optional<std::string> Listen(const std::string& host, uint16_t port);
  // The bound port.  REQUIRES: Listen succeeded.
  uint16_t port() const;
  // Stops accepting new connections (open ones finish their current exchange).
  void Stop();

 private:
  void Accept();

  boost::asio::io_context& ioc_;
  RestHandler& handler_;
  const size_t max_body_bytes_;
  boost::asio::ip::tcp::acceptor acceptor_;
};

}  // namespace mnemo::rest
