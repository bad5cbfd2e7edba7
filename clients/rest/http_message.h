// HttpRequest / HttpReply: the sidecar's own view of one HTTP exchange, so the request pipeline
// (rest_handler.h) does not depend on Boost.Beast and can be driven in-process by tests.
//
// Thread-safety: value types.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mnemo::rest {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // origin-form: path plus optional "?query"
  HeaderList headers;  // names in lower case
  std::string body;

  // The first header named `lower_name`, or "" when absent.
  std::string_view Header(std::string_view lower_name) const {
    for (const auto& [name, value] : headers) {
      if (name == lower_name) return value;
    }
    return {};
  }
};

struct HttpReply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;    // empty for 204
  HeaderList headers;  // extra headers (X-Request-ID, CORS, Retry-After, ...)
};

}  // namespace mnemo::rest
