// Listener: accepts TCP connections and starts a Session for each.  Every I/O thread runs an
// io_context of its own; each new connection is bound to the next one in turn (round robin), and
// that thread alone runs all of the session's handlers — no strand, no hand-off between I/O
// threads.  The acceptor itself lives on the first context.  Beyond `max_connections` live
// sessions, a new connection gets an UNAVAILABLE response and is closed.  Accept errors (e.g. out
// of file descriptors) back off briefly instead of spinning.
//
// Lifetime: shared_from_this, like the sessions.  Thread-safety: Start/Stop from any thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <vector>

#include "mnemo/status.h"
#include "server/config.h"
#include "server/session.h"

namespace mnemo::server {

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  // `services` and the contexts are borrowed and must outlive every session.  REQUIRES:
  // `contexts` is not empty; each is run by exactly one thread.
  Listener(std::vector<boost::asio::io_context*> contexts, const SessionServices& services,
           uint32_t max_connections);

  // Binds and listens (synchronously).  UNAVAILABLE with the reason when the address is taken.
  Status Open(const ListenAddress& address);
  uint16_t port() const;

  void Start();
  // Closes the acceptor; sessions already running are not touched.
  void Stop();

 private:
  void DoAccept();
  void OnAccept(boost::system::error_code ec, boost::asio::ip::tcp::socket socket);

  const std::vector<boost::asio::io_context*> contexts_;
  size_t next_context_ = 0;  // the context the next accepted connection is bound to
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_;
  const SessionServices& services_;
  const uint32_t max_connections_;
  uint16_t port_ = 0;
  bool stopped_ = false;
};

}  // namespace mnemo::server
