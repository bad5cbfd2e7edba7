#include "cluster/gateway_transport.h"

#include <algorithm>
#include <optional>
#include <utility>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace mnemo::cluster {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Clock = std::chrono::steady_clock;

// A range over a large prefix is the biggest answer the coordination layer asks for.
constexpr uint64_t kMaxReplyBytes = 64ull * 1024 * 1024;

struct ParsedEndpoint {
  std::string host;
  std::string port;
};

// "http://host:port", "host:port" or "[v6]:port", with an optional trailing '/'.
Result<ParsedEndpoint> ParseEndpoint(std::string_view text) {
  const std::string original(text);
  auto invalid = [&original](std::string_view why) {
    return Status::ValidationError("endpoints",
                                   "etcd endpoint '" + original + "': " + std::string(why));
  };
  if (text.starts_with("https://")) return invalid("TLS is not supported; use http://");
  if (text.starts_with("http://")) text.remove_prefix(7);
  if (text.find("://") != std::string_view::npos) return invalid("only http:// is supported");
  if (text.ends_with('/')) text.remove_suffix(1);
  ParsedEndpoint endpoint;
  std::string_view port;
  if (text.starts_with('[')) {
    const size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return invalid("expected [address]:port");
    }
    endpoint.host = std::string(text.substr(1, close - 1));
    port = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return invalid("expected host:port");
    endpoint.host = std::string(text.substr(0, colon));
    port = text.substr(colon + 1);
    if (endpoint.host.find(':') != std::string::npos) {
      return invalid("write an IPv6 address as [address]:port");
    }
  }
  if (endpoint.host.empty()) return invalid("the host is empty");
  const bool digits =
      !port.empty() && port.size() <= 5 &&
      std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!digits || std::stoi(std::string(port)) == 0 || std::stoi(std::string(port)) > 65535) {
    return invalid("the port must be 1..65535");
  }
  endpoint.port = std::string(port);
  return endpoint;
}

std::string Describe(const beast::error_code& ec) {
  return ec == beast::error::timeout ? std::string("timed out") : ec.message();
}

// One request to one member.  `error` is empty on success; `sent` says whether the whole request
// was handed to the connection before it failed (then the member may have applied it).
struct Attempt {
  GatewayReply reply;
  std::string error;
  bool sent = false;
};

Attempt PostOnce(const std::string& host, const std::string& port, const std::string& host_header,
                 std::string_view path, const std::string& body, Clock::time_point deadline,
                 std::chrono::milliseconds connect_timeout) {
  Attempt attempt;
  asio::io_context io;
  beast::error_code ec;
  asio::ip::tcp::resolver resolver(io);
  const auto addresses = resolver.resolve(host, port, asio::ip::resolver_base::numeric_service, ec);
  if (ec) {
    attempt.error = "resolve: " + ec.message();
    return attempt;
  }
  beast::tcp_stream stream(io);
  stream.expires_at(std::min(deadline, Clock::now() + connect_timeout));
  stream.async_connect(addresses, [&ec](beast::error_code error, const auto&) { ec = error; });
  io.run();
  if (ec) {
    attempt.error = "connect: " + Describe(ec);
    return attempt;
  }

  http::request<http::string_body> request{http::verb::post, std::string(path), 11};
  request.set(http::field::host, host_header);
  request.set(http::field::content_type, "application/json");
  request.keep_alive(false);
  request.body() = body;
  request.prepare_payload();
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxReplyBytes);
  beast::flat_buffer buffer;
  stream.expires_at(deadline);
  http::async_write(stream, request, [&](beast::error_code error, size_t) {
    ec = error;
    if (error) return;
    attempt.sent = true;
    http::async_read(stream, buffer, parser,
                     [&ec](beast::error_code read_error, size_t) { ec = read_error; });
  });
  io.restart();
  io.run();
  if (ec) {
    attempt.error = (attempt.sent ? "reading the reply: " : "sending: ") + Describe(ec);
    return attempt;
  }
  auto response = parser.release();
  attempt.reply.status = static_cast<int>(response.result_int());
  attempt.reply.body = std::move(response.body());
  beast::error_code ignored;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  return attempt;
}

}  // namespace

Result<GatewayTransport> GatewayTransport::Create(GatewayOptions options) {
  if (options.endpoints.empty()) {
    return Status::ValidationError("endpoints", "no etcd endpoint given");
  }
  if (options.call_timeout.count() <= 0 || options.connect_timeout.count() <= 0) {
    return Status::ValidationError("call_timeout", "etcd timeouts must be positive");
  }
  std::vector<Endpoint> endpoints;
  for (const auto& text : options.endpoints) {
    MNEMO_ASSIGN_OR_RETURN(ParsedEndpoint parsed, ParseEndpoint(text));
    const bool v6 = parsed.host.find(':') != std::string::npos;
    std::string name = (v6 ? "[" + parsed.host + "]" : parsed.host) + ":" + parsed.port;
    endpoints.push_back({std::move(name), std::move(parsed.host), std::move(parsed.port)});
  }
  return GatewayTransport(std::move(endpoints), options.call_timeout, options.connect_timeout);
}

GatewayTransport::GatewayTransport(std::vector<Endpoint> endpoints,
                                   std::chrono::milliseconds call_timeout,
                                   std::chrono::milliseconds connect_timeout)
    : endpoints_(std::move(endpoints)),
      call_timeout_(call_timeout),
      connect_timeout_(connect_timeout) {}

GatewayTransport::GatewayTransport(GatewayTransport&& other) noexcept
    : endpoints_(std::move(other.endpoints_)),
      call_timeout_(other.call_timeout_),
      connect_timeout_(other.connect_timeout_),
      preferred_(other.preferred_.load()) {}

Result<GatewayReply> GatewayTransport::Post(std::string_view path, const std::string& body) const {
  const auto deadline = Clock::now() + call_timeout_;
  const size_t count = endpoints_.size();
  const size_t first = preferred_.load(std::memory_order_relaxed) % count;
  std::string failures;
  for (size_t step = 0; step < count && Clock::now() < deadline; ++step) {
    const size_t index = (first + step) % count;
    const Endpoint& endpoint = endpoints_[index];
    Attempt attempt = PostOnce(endpoint.host, endpoint.port, endpoint.name, path, body, deadline,
                               connect_timeout_);
    if (attempt.error.empty()) {
      preferred_.store(index, std::memory_order_relaxed);
      attempt.reply.endpoint = index;
      return std::move(attempt.reply);
    }
    if (!failures.empty()) failures += "; ";
    failures += endpoint.name + " " + attempt.error;
    if (attempt.sent) {
      preferred_.store((index + 1) % count, std::memory_order_relaxed);
      return Status::Unavailable("etcd " + std::string(path) +
                                 ": the request was sent but no reply came (" + failures + ")");
    }
  }
  const bool late = Clock::now() >= deadline;
  return Status::Unavailable("etcd " + std::string(path) + ": " +
                             (late ? "no reply within the call deadline of " +
                                         std::to_string(call_timeout_.count()) + " ms"
                                   : std::string("no member could be reached")) +
                             (failures.empty() ? "" : " (" + failures + ")"));
}

void GatewayTransport::AvoidEndpoint(size_t endpoint) const {
  preferred_.store((endpoint + 1) % endpoints_.size(), std::memory_order_relaxed);
}

}  // namespace mnemo::cluster
