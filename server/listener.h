// Listener: accepts TCP connections and starts a Session for each, on a strand of its own.
// Beyond `max_connections` live sessions, a new connection gets an UNAVAILABLE response and is
// closed.  Accept errors (e.g. out of file descriptors) back off briefly instead of spinning.
//
// Lifetime: shared_from_this, like the sessions.  Thread-safety: Start/Stop from any thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <memory>

#include "mnemo/status.h"
#include "server/config.h"
#include "server/session.h"

namespace mnemo::server {

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  // `services` is borrowed and must outlive every session.
  Listener(boost::asio::io_context& ioc, const SessionServices& services, uint32_t max_connections);

  // Binds and listens (synchronously).  UNAVAILABLE with the reason when the address is taken.
  Status Open(const ListenAddress& address);
  uint16_t port() const;

  void Start();
  // Closes the acceptor; sessions already running are not touched.
  void Stop();

 private:
  void DoAccept();
  void OnAccept(boost::system::error_code ec, boost::asio::ip::tcp::socket socket);

  boost::asio::io_context& ioc_;
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_;
  const SessionServices& services_;
  const uint32_t max_connections_;
  uint16_t port_ = 0;
  bool stopped_ = false;
};

}  // namespace mnemo::server
