// A blocking Beast HTTP/1.1 client connection for the soak test: see http_connection.h.
#include "http_connection.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace mnemo::hardening {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

struct HttpConnection::State {
  asio::io_context io;
  beast::tcp_stream stream{io};
  beast::flat_buffer buffer;
  uint16_t port = 0;
  bool connected = false;
};

HttpConnection::HttpConnection(uint16_t port) : state_(std::make_unique<State>()) {
  state_->port = port;
}

HttpConnection::~HttpConnection() {
  beast::error_code ignored;
  state_->stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
}

HttpAnswer HttpConnection::Call(const std::string& method, const std::string& target,
                                const std::string& user, const std::string& body) {
  for (int attempt = 0; attempt < 2; ++attempt) {  // a kept-alive connection may have been closed
    beast::error_code ec;
    if (!state_->connected) {
      state_->stream.close();
      state_->stream.expires_after(std::chrono::seconds(10));
      state_->stream.connect(
          asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), state_->port), ec);
      if (ec) return {0, "connect: " + ec.message()};
      state_->connected = true;
      state_->buffer.clear();
    }
    http::request<http::string_body> request{http::string_to_verb(method), target, 11};
    request.set(http::field::host, "127.0.0.1");
    request.set("X-User-ID", user);
    request.keep_alive(true);
    if (!body.empty()) {
      request.set(http::field::content_type, "application/json");
      request.body() = body;
    }
    request.prepare_payload();
    state_->stream.expires_after(std::chrono::seconds(30));
    http::write(state_->stream, request, ec);
    http::response<http::string_body> response;
    if (!ec) http::read(state_->stream, state_->buffer, response, ec);
    if (ec) {
      state_->connected = false;
      if (attempt == 0 && (ec == http::error::end_of_stream ||
                           ec == asio::error::connection_reset || ec == asio::error::broken_pipe)) {
        continue;
      }
      return {0, method + " " + target + ": " + ec.message()};
    }
    if (!response.keep_alive()) state_->connected = false;
    return {static_cast<int>(response.result_int()), std::move(response.body())};
  }
  return {0, "unreachable"};
}

}  // namespace mnemo::hardening
