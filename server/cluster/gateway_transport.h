// GatewayTransport: JSON POSTs to etcd's gRPC-gateway (HTTP/1.1 on each member's client URL),
// synchronous, with one deadline per call and fail-over between members.
//
// Every call opens its own TCP connection (the coordination traffic is a few calls per second,
// and a connection of one's own makes the transport thread-safe without a pool).  A call tries
// the members in order, starting with the one that answered last:
//   - a member that cannot be connected to (refused, or no connection within connect_timeout)
//     is skipped: the request never left, so sending it elsewhere is safe;
//   - once a request is on the wire, a failure (reset, deadline) ends the call: the member may
//     have applied it, so it is not repeated elsewhere; the next call starts at the next member.
// Host names go through the system resolver, which the deadline does not bound; use IP literals
// or names the hosts file resolves.
//
// Thread-safety: thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mnemo/result.h"

namespace mnemo::cluster {

struct GatewayOptions {
  // Client URLs of the etcd members: "http://host:port" or "host:port" (IPv6 as "[addr]:port").
  // TLS is not supported.  REQUIRES: at least one.
  std::vector<std::string> endpoints;
  // Deadline of one call, across every member it tries.
  std::chrono::milliseconds call_timeout{2000};
  // Longest wait for one member's TCP connection before the next member is tried (never past the
  // call's deadline).
  std::chrono::milliseconds connect_timeout{500};
};

// One member's answer.  `status` is the HTTP status; etcd answers errors with a JSON body too.
struct GatewayReply {
  int status = 0;
  std::string body;
  size_t endpoint = 0;  // index into GatewayOptions::endpoints
};

class GatewayTransport {
 public:
  // VALIDATION_ERROR (field "endpoints") when an endpoint does not parse, uses https, or there is
  // none; the timeouts must be positive.
  static Result<GatewayTransport> Create(GatewayOptions options);

  GatewayTransport(GatewayTransport&& other) noexcept;
  GatewayTransport& operator=(GatewayTransport&&) = delete;

  // POSTs `body` (JSON) to `path` (e.g. "/v3/kv/range") and returns the first member's answer,
  // whatever its HTTP status.  UNAVAILABLE when no member could be connected to, when the
  // deadline passed, or when the connection failed after the request was sent; the message names
  // each member tried and what went wrong.
  Result<GatewayReply> Post(std::string_view path, const std::string& body) const;

  // Makes the next call start at the member after `endpoint` (the caller learned that `endpoint`
  // cannot serve, e.g. it has no raft leader).
  void AvoidEndpoint(size_t endpoint) const;

  const std::string& endpoint_name(size_t endpoint) const { return endpoints_[endpoint].name; }
  std::chrono::milliseconds call_timeout() const { return call_timeout_; }

 private:
  struct Endpoint {
    std::string name;  // "host:port", as messages and the Host header show it
    std::string host;  // without IPv6 brackets
    std::string port;
  };
  GatewayTransport(std::vector<Endpoint> endpoints, std::chrono::milliseconds call_timeout,
                   std::chrono::milliseconds connect_timeout);

  std::vector<Endpoint> endpoints_;
  std::chrono::milliseconds call_timeout_;
  std::chrono::milliseconds connect_timeout_;
  mutable std::atomic<size_t> preferred_{0};  // where the next call starts
};

}  // namespace mnemo::cluster
