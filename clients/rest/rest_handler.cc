// The request pipeline: identity, limits, dispatch to workers, headers, metrics, logging.
#include "rest_handler.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <variant>

#include <boost/asio/post.hpp>

#include "executor.h"
#include "jwt.h"
#include "mnemo/base/limits.h"
#include "openapi.h"
#include "query_string.h"
#include "request_mapper.h"
#include "routes.h"

namespace mnemo::rest {
namespace {

namespace mc = mnemo::client;
using SteadyClock = std::chrono::steady_clock;

constexpr std::string_view kHealthUser = "_mnemo_rest_health";

// A client-supplied X-Request-ID is echoed when it is short printable ASCII without spaces;
// otherwise a new UUID is used.
std::string RequestIdFrom(std::string_view header) {
  bool ok = !header.empty() && header.size() <= kMaxTraceIdBytes;
  for (const char c : header) ok = ok && c > 0x20 && c < 0x7f;
  return ok ? std::string(header) : mc::Uuid::Generate().ToString();
}

double SecondsSince(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

HttpReply JsonReply(int status, const nlohmann::json& body) {
  HttpReply reply;
  reply.status = status;
  reply.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return reply;
}

}  // namespace

struct RestHandler::Context {
  HttpRequest request;
  Done done;
  std::string request_id;
  SteadyClock::time_point start;
  std::string route_label = "unmatched";
  const RouteInfo* route = nullptr;
  std::string user;
  double upstream_seconds = -1;  // < 0: no upstream call
  bool admitted = false;         // counted in pending_
};

RestHandler::RestHandler(const RestOptions& options, Upstream& upstream, Metrics& metrics,
                         boost::asio::thread_pool& workers, boost::asio::thread_pool& probes)
    : options_(options),
      upstream_(upstream),
      metrics_(metrics),
      workers_(workers),
      probes_(probes),
      cors_(options.cors_origins),
      limiter_(options.rate_limits) {}

HttpReply RestHandler::ErrorReply(const Context& ctx, const ApiError& error) const {
  // Only answers about a matched route speak of records: an unknown path stays NOT_FOUND.
  if (options_.seed_error_codes && ctx.route != nullptr) {
    ApiError seed = error;
    seed.code = std::string(SeedCodeName(error.code));
    return ErrorReplyAs(ctx, seed);
  }
  return ErrorReplyAs(ctx, error);
}

HttpReply RestHandler::ErrorReplyAs(const Context& ctx, const ApiError& error) const {
  HttpReply reply = JsonReply(error.status, ErrorBody(error, ctx.request_id));
  if (error.status == 405 && error.details.contains("allow")) {
    std::string allow;
    for (const auto& m : error.details["allow"])
      allow += (allow.empty() ? "" : ", ") + m.get<std::string>();
    reply.headers.emplace_back("Allow", allow);
  }
  return reply;
}

HttpReply RestHandler::Reject(int status, std::string code, std::string message,
                              std::string_view request_id_header) {
  const std::string request_id = RequestIdFrom(request_id_header);
  HttpReply reply = JsonReply(
      status,
      ErrorBody(ApiError{status, std::move(code), std::move(message), nlohmann::json::object()},
                request_id));
  reply.headers.emplace_back("X-Request-ID", request_id);
  metrics_.RecordRequest("unmatched", "-", status, 0);
  return reply;
}

void RestHandler::Handle(HttpRequest request, Done done) {
  auto ctx = std::make_shared<Context>();
  ctx->start = SteadyClock::now();
  ctx->request_id = RequestIdFrom(request.Header("x-request-id"));
  ctx->request = std::move(request);
  ctx->done = std::move(done);
  const HttpRequest& req = ctx->request;

  if (req.method == "OPTIONS" && !req.Header("access-control-request-method").empty()) {
    if (!cors_.Allows(req.Header("origin"))) {
      return Finish(*ctx, ErrorReply(*ctx, ApiError{403,
                                                    "CORS_ORIGIN_NOT_ALLOWED",
                                                    "origin not allowed by the CORS policy",
                                                    {}}));
    }
    ctx->route_label = "preflight";
    return Finish(*ctx, cors_.Preflight(req));
  }

  const auto [path, query] = SplitTarget(req.target);
  const RouteLookup lookup = FindRoute(req.method, path);
  if (lookup.route == nullptr) {
    // Let the mapper build the 404/405 answer (same text everywhere).
    auto mapped = MapRequest(req.method, req.target, "", "", MapContext{});
    return Finish(*ctx, ErrorReply(*ctx, std::get<ApiError>(mapped)));
  }
  ctx->route = lookup.route;
  ctx->route_label = std::string(lookup.route->pattern);

  switch (lookup.route->id) {
    case RouteId::kReady:
      return Finish(
          *ctx,
          JsonReply(200, {{"ready", true}, {"version", "1.0.0"}, {"request_id", ctx->request_id}}));
    case RouteId::kMetrics: {
      HttpReply reply;
      reply.content_type = "text/plain; version=0.0.4";
      reply.body = metrics_.RenderPrometheus();
      return Finish(*ctx, std::move(reply));
    }
    case RouteId::kOpenApi: {
      static const std::string document = OpenApiDocument().dump();
      HttpReply reply;
      reply.body = document;
      return Finish(*ctx, std::move(reply));
    }
    case RouteId::kHealth: boost::asio::post(probes_, [this, ctx] { RunHealth(ctx); }); return;
    default: break;
  }

  // ---- identity ----
  const std::string_view authorization = req.Header("authorization");
  if (!authorization.empty()) {
    constexpr std::string_view kBearer = "Bearer ";
    if (authorization.size() <= kBearer.size() ||
        !std::equal(kBearer.begin(), kBearer.end(), authorization.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      return Finish(*ctx, ErrorReply(*ctx, ErrorOf(StatusCode::kAuthenticationError,
                                                   "Authorization must be \"Bearer <token>\"")));
    }
    if (options_.jwt_secret.empty()) {
      return Finish(
          *ctx,
          ErrorReply(*ctx, ErrorOf(StatusCode::kAuthenticationError,
                                   "bearer tokens are not accepted: no JWT secret configured")));
    }
    auto verified =
        VerifyJwtHs256(authorization.substr(kBearer.size()), options_.jwt_secret, NowSeconds());
    if (auto* rejection = std::get_if<JwtRejection>(&verified)) {
      return Finish(*ctx,
                    ErrorReply(*ctx, ErrorOf(StatusCode::kAuthenticationError, rejection->reason)));
    }
    ctx->user = std::move(std::get<JwtClaims>(verified).subject);
  } else if (options_.dev_user_header && !req.Header("x-user-id").empty()) {
    const std::string_view user = req.Header("x-user-id");
    if (user.size() > kMaxUserIdBytes) {
      return Finish(*ctx, ErrorReply(*ctx, ErrorOf(StatusCode::kAuthenticationError,
                                                   "X-User-ID is too long")));
    }
    ctx->user = std::string(user);
  } else {
    return Finish(
        *ctx, ErrorReply(*ctx, ErrorOf(StatusCode::kAuthenticationError,
                                       options_.dev_user_header
                                           ? "missing Authorization: Bearer <token> (or X-User-ID)"
                                           : "missing Authorization: Bearer <token>")));
  }

  // ---- rate limit ----
  const auto decision = limiter_.Acquire(ctx->user, static_cast<uint8_t>(lookup.route->id),
                                         lookup.route->rate_class, SteadyClock::now());
  if (!decision.allowed) {
    HttpReply reply =
        ErrorReply(*ctx, ErrorOf(StatusCode::kRateLimited, "rate limit exceeded; retry later",
                                 {{"retry_after_seconds", decision.retry_after_seconds}}));
    reply.headers.emplace_back(
        "Retry-After", std::to_string(static_cast<int64_t>(decision.retry_after_seconds) + 1));
    return Finish(*ctx, std::move(reply));
  }

  // ---- admission ----
  if (pending_.fetch_add(1) >= options_.max_pending) {
    pending_.fetch_sub(1);
    return Finish(
        *ctx, ErrorReply(*ctx, ErrorOf(StatusCode::kUnavailable, "too many requests in flight")));
  }
  ctx->admitted = true;
  boost::asio::post(workers_, [this, ctx] { RunApi(ctx); });
}

void RestHandler::RunApi(const std::shared_ptr<Context>& ctx) {
  const HttpRequest& req = ctx->request;
  auto mapped = MapRequest(req.method, req.target, req.Header("content-type"), req.body,
                           MapContext{upstream_.dimension()});
  if (auto* error = std::get_if<ApiError>(&mapped)) return Finish(*ctx, ErrorReply(*ctx, *error));
  const MappedCall& call = std::get<MappedCall>(mapped);

  const auto upstream_start = SteadyClock::now();
  const mc::ScopedTraceId trace(ctx->request_id);  // mnemod logs it beside its request id
  auto client = upstream_.Get();
  ExecOutcome outcome;
  if (!client.ok()) {
    outcome.error = FromClientError(client.error());
  } else {
    outcome = Execute(**client, ctx->user, call.call);
  }
  ctx->upstream_seconds = SecondsSince(upstream_start);
  metrics_.RecordUpstream(ctx->route_label, outcome.error ? outcome.error->code : "ok",
                          ctx->upstream_seconds);
  if (outcome.error) return Finish(*ctx, ErrorReply(*ctx, *outcome.error));
  HttpReply reply;
  reply.status = outcome.status;
  if (outcome.body) {
    reply.body = outcome.body->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    reply.content_type.clear();
  }
  Finish(*ctx, std::move(reply));
}

void RestHandler::RunHealth(const std::shared_ptr<Context>& ctx) {
  const auto upstream_start = SteadyClock::now();
  auto client = upstream_.Get();
  mc::Result<mc::UserStats> probe = client.ok() ? (*client)->GetUserStats(kHealthUser)
                                                : mc::Result<mc::UserStats>(client.error());
  ctx->upstream_seconds = SecondsSince(upstream_start);
  metrics_.RecordUpstream(ctx->route_label,
                          probe.ok() ? "ok" : std::string(mc::CodeName(probe.error().code)),
                          ctx->upstream_seconds);
  if (!probe.ok()) {
    return Finish(*ctx, JsonReply(503, {{"status", "unhealthy"},
                                        {"error", probe.error().ToString()},
                                        {"request_id", ctx->request_id}}));
  }
  Finish(*ctx, JsonReply(200, {{"status", "healthy"},
                               {"service", "mnemo-rest"},
                               {"version", "1.0.0"},
                               {"upstream", options_.upstream_host + ":" +
                                                std::to_string(options_.upstream_port)},
                               {"request_id", ctx->request_id}}));
}

void RestHandler::Finish(Context& ctx, HttpReply reply) {
  if (ctx.admitted) {
    pending_.fetch_sub(1);
    ctx.admitted = false;
  }
  const double seconds = SecondsSince(ctx.start);
  char process_time[32];
  std::snprintf(process_time, sizeof(process_time), "%.6f", seconds);
  reply.headers.emplace_back("X-Request-ID", ctx.request_id);
  reply.headers.emplace_back("X-Process-Time", process_time);
  cors_.AddHeaders(ctx.request.Header("origin"), &reply.headers);
  metrics_.RecordRequest(ctx.route_label, ctx.request.method, reply.status, seconds);
  const auto level = reply.status >= 500 ? spdlog::level::warn : spdlog::level::info;
  if (spdlog::should_log(level)) {
    const auto [path, query] = SplitTarget(ctx.request.target);
    spdlog::log(level, "[{}] {} {} -> {} ({:.3f} ms, upstream {:.3f} ms) user={}", ctx.request_id,
                ctx.request.method, path, reply.status, seconds * 1e3,
                ctx.upstream_seconds < 0 ? 0.0 : ctx.upstream_seconds * 1e3,
                ctx.user.empty() ? "-" : ctx.user);
  }
  Done done = std::move(ctx.done);
  done(std::move(reply));
}

}  // namespace mnemo::rest
