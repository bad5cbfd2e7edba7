// MetricsListener: mnemod's optional HTTP listener for Prometheus (`--metrics-listen`, off
// unless configured, loopback unless an address says otherwise).  It answers
// `GET /metrics` with metrics_text.h's document, 404 for other paths, 405 for other methods,
// and closes each connection after one answer.  Requests carry no body; a request whose header
// exceeds 8 KiB, or that does not arrive within 5 s, is dropped; at most 16 connections are
// served at once (more are closed at once).
//
// It serves metrics only: no data, no keys.  The render function runs on the I/O thread.
//
// Lifetime: shared_from_this.  Thread-safety: Start/Stop from any thread.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "mnemo/status.h"
#include "server/config.h"

namespace mnemo::server {

class MetricsListener : public std::enable_shared_from_this<MetricsListener> {
 public:
  using Render = std::function<std::string()>;
  static constexpr int kMaxConnections = 16;

  // `render` is called once per GET /metrics; it must outlive the listener's sessions.
  MetricsListener(boost::asio::io_context& ioc, Render render);

  // Binds and listens.  UNAVAILABLE with the reason when the address cannot be used.
  Status Open(const ListenAddress& address);
  uint16_t port() const { return port_; }

  void Start();
  void Stop();

 private:
  void DoAccept();

  boost::asio::io_context& ioc_;
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_;
  std::shared_ptr<const Render> render_;  // shared with the sessions
  std::shared_ptr<std::atomic<int>> active_ = std::make_shared<std::atomic<int>>(0);
  uint16_t port_ = 0;
  bool stopped_ = false;
};

}  // namespace mnemo::server
