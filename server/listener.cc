#include "server/listener.h"

#include <spdlog/spdlog.h>

#include <boost/asio/dispatch.hpp>

namespace mnemo::server {

namespace asio = boost::asio;

Listener::Listener(std::vector<asio::io_context*> contexts, const SessionServices& services,
                   uint32_t max_connections)
    : contexts_(std::move(contexts)),
      acceptor_(*contexts_.front()),
      retry_(*contexts_.front()),
      services_(services),
      max_connections_(max_connections) {}

Status Listener::Open(const ListenAddress& address) {
  boost::system::error_code ec;
  const auto ip = asio::ip::make_address(address.host, ec);
  if (ec) return Status::ValidationError("listen", "bad listen address " + address.host + ": " + ec.message());
  const asio::ip::tcp::endpoint endpoint(ip, address.port);
  const auto fail = [&](const char* what) {
    return Status::Unavailable(std::string(what) + " " + address.ToString() + ": " + ec.message());
  };
  acceptor_.open(endpoint.protocol(), ec);
  if (ec) return fail("cannot open a socket for");
  acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (ec) return fail("cannot set SO_REUSEADDR on");
  acceptor_.bind(endpoint, ec);
  if (ec) return fail("cannot bind");
  acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("cannot listen on");
  port_ = acceptor_.local_endpoint(ec).port();
  return Status::Ok();
}

uint16_t Listener::port() const { return port_; }

void Listener::Start() {
  asio::dispatch(acceptor_.get_executor(), [self = shared_from_this()] { self->DoAccept(); });
}

void Listener::Stop() {
  asio::dispatch(acceptor_.get_executor(), [self = shared_from_this()] {
    self->stopped_ = true;
    boost::system::error_code ignored;
    self->acceptor_.close(ignored);
    self->retry_.cancel();
  });
}

void Listener::DoAccept() {
  if (stopped_) return;
  asio::io_context& owner = *contexts_[next_context_];
  next_context_ = (next_context_ + 1) % contexts_.size();
  acceptor_.async_accept(owner,
                         [self = shared_from_this()](boost::system::error_code ec, asio::ip::tcp::socket socket) {
                           self->OnAccept(ec, std::move(socket));
                         });
}

void Listener::OnAccept(boost::system::error_code ec, asio::ip::tcp::socket socket) {
  if (stopped_) return;
  if (ec) {
    spdlog::warn("accept failed: {}; retrying shortly", ec.message());
    retry_.expires_after(std::chrono::milliseconds(100));
    retry_.async_wait([self = shared_from_this()](boost::system::error_code wait_ec) {
      if (!wait_ec) self->DoAccept();
    });
    return;
  }
  Status reject;
  if (services_.registry.size() >= max_connections_) {
    reject = Status::Unavailable("too many connections (limit " + std::to_string(max_connections_) + ")");
  }
  std::make_shared<Session>(std::move(socket), services_)->Start(std::move(reject));
  DoAccept();
}

}  // namespace mnemo::server
