// Beast listener and per-connection sessions.
#include "http_server.h"

#include <spdlog/spdlog.h>

#include <array>
#include <cctype>
#include <memory>

#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/version.hpp>

namespace mnemo::rest {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

constexpr size_t kMaxDrainBytes = 256u << 20;
constexpr std::chrono::seconds kDrainTimeout{10};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, RestHandler& handler, size_t max_body_bytes)
      : stream_(std::move(socket)), handler_(handler), max_body_bytes_(max_body_bytes) {}

  void Start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->ReadHeader(); });
  }

 private:
  void ReadHeader() {
    parser_.emplace();
    parser_->header_limit(HttpServer::kMaxHeaderBytes);
    parser_->body_limit(max_body_bytes_);
    stream_.expires_after(HttpServer::kIdleTimeout);
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) return OnReadError(ec);
    const auto& header = parser_->get();
    if (const auto length = parser_->content_length(); length && *length > max_body_bytes_) {
      return OnReadError(http::error::body_limit);
    }
    if (beast::iequals(header[http::field::expect], "100-continue")) {
      auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_,
                                                                     header.version());
      return http::async_write(stream_, *cont,
                               [self = shared_from_this(), cont](beast::error_code wec, size_t) {
                                 if (wec) return self->Close();
                                 self->ReadBody();
                               });
    }
    ReadBody();
  }

  void ReadBody() {
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnReadError(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      const std::string rid(parser_->get()["X-Request-ID"]);
      return Write(handler_.Reject(
                       413, "PAYLOAD_TOO_LARGE",
                       "request body exceeds " + std::to_string(max_body_bytes_) + " bytes", rid),
                   /*keep_alive=*/false, /*drain=*/true);
    }
    if (ec == http::error::header_limit) {
      return Write(handler_.Reject(431, "HEADERS_TOO_LARGE", "request headers too large", ""),
                   false, true);
    }
    if (ec.category() == http::make_error_code(http::error::bad_target).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message) {
      return Write(
          handler_.Reject(400, "BAD_REQUEST", "malformed HTTP request: " + ec.message(), ""), false,
          false);
    }
    Close();  // EOF, reset, idle timeout
  }

  void OnRead(beast::error_code ec) {
    if (ec) return OnReadError(ec);
    http::request<http::string_body> req = parser_->release();
    HttpRequest request;
    request.method = std::string(req.method_string());
    request.target = std::string(req.target());
    for (const auto& field : req) {
      std::string name(field.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      request.headers.emplace_back(std::move(name), std::string(field.value()));
    }
    request.body = std::move(req.body());
    const bool keep_alive = req.keep_alive();
    version_ = req.version();
    stream_.expires_never();
    handler_.Handle(std::move(request), [self = shared_from_this(), keep_alive](HttpReply reply) {
      net::post(self->stream_.get_executor(),
                [self, keep_alive, reply = std::move(reply)]() mutable {
                  self->Write(std::move(reply), keep_alive, false);
                });
    });
  }

  void Write(HttpReply reply, bool keep_alive, bool drain) {
    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(reply.status), version_);
    res->set(http::field::server, "mnemo-rest");
    if (!reply.content_type.empty()) res->set(http::field::content_type, reply.content_type);
    for (auto& [name, value] : reply.headers) res->insert(name, value);
    res->body() = std::move(reply.body);
    res->keep_alive(keep_alive);
    res->prepare_payload();
    stream_.expires_after(HttpServer::kIdleTimeout);
    http::async_write(
        stream_, *res,
        [self = shared_from_this(), res, keep_alive, drain](beast::error_code ec, size_t) {
          if (ec) return self->Close();
          if (keep_alive) return self->ReadHeader();
          if (drain) return self->Drain();
          self->Close();
        });
  }

  // Half-closes and reads (and discards) what the client still sends, so that it can read our
  // error answer instead of getting a connection reset.  Bounded in bytes and time.
  void Drain() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(kDrainTimeout);
    DrainSome();
  }

  void DrainSome() {
    stream_.async_read_some(net::buffer(scratch_),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              self->drained_ += n;
                              if (ec || self->drained_ > kMaxDrainBytes) return self->Close();
                              self->DrainSome();
                            });
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }

  beast::tcp_stream stream_;
  RestHandler& handler_;
  const size_t max_body_bytes_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  unsigned version_ = 11;
  std::array<char, 64 * 1024> scratch_{};
  size_t drained_ = 0;
};

}  // namespace

HttpServer::HttpServer(net::io_context& ioc, RestHandler& handler, size_t max_body_bytes)
    : ioc_(ioc),
      handler_(handler),
      max_body_bytes_(max_body_bytes),
      acceptor_(net::make_strand(ioc)) {}

std::optional<std::string> HttpServer::Listen(const std::string& host, uint16_t port) {
  beast::error_code ec;
  const auto address = net::ip::make_address(host, ec);
  if (ec) return "bad listen address " + host + ": " + ec.message();
  const tcp::endpoint endpoint(address, port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return "cannot listen on " + host + ":" + std::to_string(port) + ": " + ec.message();
  Accept();
  return std::nullopt;
}

uint16_t HttpServer::port() const { return acceptor_.local_endpoint().port(); }

void HttpServer::Stop() {
  net::post(acceptor_.get_executor(), [this] {
    beast::error_code ignored;
    acceptor_.close(ignored);
  });
}

void HttpServer::Accept() {
  acceptor_.async_accept(net::make_strand(ioc_), [this](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
    if (!ec) {
      beast::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      std::make_shared<Session>(std::move(socket), handler_, max_body_bytes_)->Start();
    } else {
      spdlog::warn("accept failed: {}", ec.message());
    }
    Accept();
  });
}

}  // namespace mnemo::rest
