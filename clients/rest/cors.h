// CORS for mnemo-rest: an allow-list of origins ("*" = any), the headers added to answers for
// allowed origins, and preflight (OPTIONS) answers.  Seed 001: credentials allowed, all methods
// and headers, X-Request-ID and X-Process-Time exposed.
//
// Thread-safety: immutable after construction; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "http_message.h"

namespace mnemo::rest {

class CorsPolicy {
 public:
  explicit CorsPolicy(std::vector<std::string> allowed_origins);

  bool Allows(std::string_view origin) const;
  // Adds Access-Control-Allow-Origin & co. for an allowed, non-empty origin.
  void AddHeaders(std::string_view origin, HeaderList* headers) const;
  // The 204 answer to a preflight request.  REQUIRES: Allows(request's Origin).
  HttpReply Preflight(const HttpRequest& request) const;

 private:
  std::vector<std::string> allowed_;
  bool any_ = false;
};

}  // namespace mnemo::rest
