// Fuzz target: the REST sidecar's pure HTTP -> request mapping (clients/rest/request_mapper.h).
//
// Input: a method byte, a content-type byte, the request target up to the first '\n', then the
// body.  Properties: MapRequest never crashes and answers either a route (whose method is the
// request's) or a 4xx error naming a code; a 422 names the offending field; ErrorBody renders
// every error as JSON.
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "api_error.h"
#include "fuzz_support.h"
#include "request_mapper.h"

namespace mnemo::fuzz {
namespace {

constexpr std::string_view kMethods[] = {"GET", "POST", "PATCH", "DELETE", "PUT", "get", ""};
constexpr std::string_view kContentTypes[] = {"application/json", "application/json; charset=utf-8",
                                              "", "text/plain", "APPLICATION/JSON"};
constexpr uint32_t kDimensions[] = {0, 4, 16};

void Run(FuzzInput& input) {
  const std::string_view method = kMethods[input.Byte() % std::size(kMethods)];
  const uint8_t selector = input.Byte();
  const std::string_view content_type = kContentTypes[selector % std::size(kContentTypes)];
  const rest::MapContext context{kDimensions[(selector / 8) % std::size(kDimensions)]};
  const std::string_view rest = input.Rest();
  const size_t newline = rest.find('\n');
  const std::string_view target = rest.substr(0, newline);
  const std::string_view body =
      newline == std::string_view::npos ? std::string_view() : rest.substr(newline + 1);

  const auto mapped = rest::MapRequest(method, target, content_type, body, context);
  if (const auto* call = std::get_if<rest::MappedCall>(&mapped)) {
    FUZZ_CHECK(call->route != nullptr);
    FUZZ_CHECK(call->route->method == method);
    return;
  }
  const auto& error = std::get<rest::ApiError>(mapped);
  FUZZ_CHECK(error.status >= 400 && error.status < 500);
  FUZZ_CHECK(!error.code.empty());
  if (error.status == 422) FUZZ_CHECK(error.details.contains("field"));
  (void)rest::ErrorBody(error, "fuzz")
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace
}  // namespace mnemo::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mnemo::fuzz::FuzzInput input(data, size);
  mnemo::fuzz::Run(input);
  return 0;
}
