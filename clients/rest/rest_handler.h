// RestHandler: the request pipeline of mnemo-rest, independent of the socket code.
//
//   request id (X-Request-ID echoed, or a new UUID) -> CORS preflight -> route lookup (404/405)
//   -> sidecar routes (/health, /ready, /metrics, /api/openapi.json) -> identity (Bearer JWT
//   HS256, or X-User-ID with --dev-user-header; 401) -> per-user rate limit (429) -> admission
//   (503 when max_pending requests are queued) -> on a worker thread: MapRequest (404/405/415/422)
//   and Execute against mnemod (errors mapped by api_error.h) -> X-Request-ID, X-Process-Time,
//   CORS headers, metrics and one log line.
//
// The user id sent to mnemod is always the authenticated one; no header or body field can
// change it.  mnemod's protocol carries no request id, so the request id appears in the
// sidecar's log line (with the route, user, status and upstream time), not in mnemod's.
//
// Thread-safety: Handle() is thread-safe.  REQUIRES: the borrowed Upstream, Metrics and thread
// pools outlive the handler and every request in flight.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/thread_pool.hpp>

#include "api_error.h"
#include "cors.h"
#include "http_message.h"
#include "metrics.h"
#include "rate_limiter.h"
#include "rest_options.h"
#include "upstream.h"

namespace mnemo::rest {

class RestHandler {
 public:
  using Done = std::function<void(HttpReply)>;

  // `workers` run API requests; `probes` runs /health checks so that they never queue behind
  // API load.
  RestHandler(const RestOptions& options, Upstream& upstream, Metrics& metrics,
              boost::asio::thread_pool& workers, boost::asio::thread_pool& probes);

  // Answers `request`; calls done(reply) exactly once, on this thread or a worker thread.
  void Handle(HttpRequest request, Done done);

  // The reply for a request the HTTP layer rejects before it is complete (e.g. 413 for a body
  // over the limit, 400 for a malformed request).  Carries a request id and the error body.
  HttpReply Reject(int status, std::string code, std::string message,
                   std::string_view request_id_header);

 private:
  struct Context;
  void RunApi(const std::shared_ptr<Context>& ctx);
  void RunHealth(const std::shared_ptr<Context>& ctx);
  HttpReply ErrorReply(const Context& ctx, const ApiError& error) const;
  HttpReply ErrorReplyAs(const Context& ctx, const ApiError& error) const;
  void Finish(Context& ctx, HttpReply reply);

  const RestOptions options_;
  Upstream& upstream_;
  Metrics& metrics_;
  boost::asio::thread_pool& workers_;
  boost::asio::thread_pool& probes_;
  CorsPolicy cors_;
  RateLimiter limiter_;
  std::atomic<size_t> pending_{0};
};

}  // namespace mnemo::rest
