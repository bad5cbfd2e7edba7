// Origin allow-list and CORS headers.
#include "cors.h"

#include <algorithm>

namespace mnemo::rest {

CorsPolicy::CorsPolicy(std::vector<std::string> allowed_origins)
    : allowed_(std::move(allowed_origins)) {
  any_ = std::find(allowed_.begin(), allowed_.end(), "*") != allowed_.end();
}

bool CorsPolicy::Allows(std::string_view origin) const {
  if (origin.empty()) return false;
  return any_ || std::find(allowed_.begin(), allowed_.end(), origin) != allowed_.end();
}

void CorsPolicy::AddHeaders(std::string_view origin, HeaderList* headers) const {
  if (!Allows(origin)) return;
  headers->emplace_back("Access-Control-Allow-Origin", std::string(origin));
  headers->emplace_back("Access-Control-Allow-Credentials", "true");
  headers->emplace_back("Access-Control-Expose-Headers", "X-Request-ID, X-Process-Time");
  headers->emplace_back("Vary", "Origin");
}

HttpReply CorsPolicy::Preflight(const HttpRequest& request) const {
  const std::string_view origin = request.Header("origin");
  HttpReply reply;
  reply.status = 204;
  reply.content_type.clear();
  AddHeaders(origin, &reply.headers);
  reply.headers.emplace_back("Access-Control-Allow-Methods", "GET, POST, PATCH, DELETE, OPTIONS");
  const std::string_view asked = request.Header("access-control-request-headers");
  reply.headers.emplace_back(
      "Access-Control-Allow-Headers",
      asked.empty() ? std::string("Authorization, Content-Type, X-Request-ID, X-User-ID")
                    : std::string(asked));
  reply.headers.emplace_back("Access-Control-Max-Age", "600");
  return reply;
}

}  // namespace mnemo::rest
