#include "server/metrics_http.h"

#include <spdlog/spdlog.h>

#include <boost/asio/dispatch.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace mnemo::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

constexpr auto kReadTimeout = std::chrono::seconds(5);
constexpr uint32_t kMaxHeaderBytes = 8 * 1024;

// One connection: read one request, answer it, close.
class MetricsSession : public std::enable_shared_from_this<MetricsSession> {
 public:
  MetricsSession(asio::ip::tcp::socket socket,
                 std::shared_ptr<const MetricsListener::Render> render,
                 std::shared_ptr<std::atomic<int>> active)
      : stream_(std::move(socket)), render_(std::move(render)), active_(std::move(active)) {
    parser_.header_limit(kMaxHeaderBytes);
    parser_.body_limit(0);
  }
  ~MetricsSession() { active_->fetch_sub(1); }

  void Start() {
    stream_.expires_after(kReadTimeout);
    http::async_read(
        stream_, buffer_, parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

 private:
  void OnRead(beast::error_code ec) {
    if (ec) return;  // timeout, oversized or malformed request, or the peer left: just close
    const auto& request = parser_.get();
    auto& response = response_;
    response.version(request.version());
    response.keep_alive(false);
    response.set(http::field::server, "mnemod");
    if (request.method() != http::verb::get && request.method() != http::verb::head) {
      response.result(http::status::method_not_allowed);
      response.set(http::field::allow, "GET, HEAD");
      response.set(http::field::content_type, "text/plain; charset=utf-8");
      response.body() = "only GET /metrics is served here\n";
    } else if (request.target() != "/metrics") {
      response.result(http::status::not_found);
      response.set(http::field::content_type, "text/plain; charset=utf-8");
      response.body() = "not found: this listener serves GET /metrics\n";
    } else {
      response.result(http::status::ok);
      response.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
      response.body() = (*render_)();
      if (request.method() == http::verb::head) {
        response.content_length(response.body().size());
        response.body().clear();
      }
    }
    if (request.method() != http::verb::head) response.prepare_payload();
    stream_.expires_after(kReadTimeout);
    http::async_write(stream_, response, [self = shared_from_this()](beast::error_code, size_t) {
      beast::error_code ignored;
      self->stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request_parser<http::empty_body> parser_;
  http::response<http::string_body> response_;
  std::shared_ptr<const MetricsListener::Render> render_;
  std::shared_ptr<std::atomic<int>> active_;
};

}  // namespace

MetricsListener::MetricsListener(asio::io_context& ioc, Render render)
    : ioc_(ioc),
      strand_(asio::make_strand(ioc)),
      acceptor_(strand_),
      retry_(strand_),
      render_(std::make_shared<const Render>(std::move(render))) {}

Status MetricsListener::Open(const ListenAddress& address) {
  boost::system::error_code ec;
  const auto ip = asio::ip::make_address(address.host, ec);
  if (ec) return Status::ValidationError("metrics_listen", "bad metrics address " + address.host);
  const asio::ip::tcp::endpoint endpoint(ip, address.port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return Status::Unavailable("cannot listen for metrics on " + address.ToString() + ": " +
                               ec.message());
  port_ = acceptor_.local_endpoint(ec).port();
  return Status::Ok();
}

void MetricsListener::Start() {
  asio::dispatch(strand_, [self = shared_from_this()] { self->DoAccept(); });
}

void MetricsListener::Stop() {
  asio::dispatch(strand_, [self = shared_from_this()] {
    self->stopped_ = true;
    boost::system::error_code ignored;
    self->acceptor_.close(ignored);
    self->retry_.cancel();
  });
}

void MetricsListener::DoAccept() {
  if (stopped_) return;
  acceptor_.async_accept(asio::make_strand(ioc_), [self = shared_from_this()](
                                                      boost::system::error_code ec,
                                                      asio::ip::tcp::socket socket) {
    if (self->stopped_) return;
    if (ec) {
      // E.g. out of file descriptors: try again shortly instead of spinning.
      spdlog::debug("metrics listener: accept failed: {}", ec.message());
      self->retry_.expires_after(std::chrono::milliseconds(100));
      self->retry_.async_wait([self](boost::system::error_code wait_ec) {
        if (!wait_ec) self->DoAccept();
      });
      return;
    }
    if (self->active_->fetch_add(1) >= kMaxConnections) {
      self->active_->fetch_sub(1);  // over the limit: the socket closes as it goes out of scope
    } else {
      std::make_shared<MetricsSession>(std::move(socket), self->render_, self->active_)->Start();
    }
    self->DoAccept();
  });
}

}  // namespace mnemo::server
