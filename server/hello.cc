#include "server/hello.h"

#include <spdlog/spdlog.h>

#include "protocol/version.h"
#include "server/auth/authorize.h"
#include "server/wire_in.h"
#include "server/wire_out.h"

namespace mnemo::server {

HelloOutcome HandleHello(const wire::Request& request, KeyStore& keys,
                         const HelloSettings& settings) {
  HelloOutcome outcome;
  const wire::Hello* hello = request.body_as_Hello();
  if (hello == nullptr) {
    outcome.response =
        ErrorResponse(request.id(), Status::ValidationError("body", "the hello body is missing"));
    return outcome;
  }
  if (hello->protocol_version() != protocol::kProtocolVersion) {
    outcome.response = ErrorResponse(
        request.id(),
        Status::ValidationError("protocol_version",
                                "unsupported protocol version " +
                                    std::to_string(hello->protocol_version()) + "; server speaks " +
                                    std::to_string(protocol::kProtocolVersion)));
    return outcome;
  }
  auto principal = Authenticate(keys, StringOf(hello->api_key()), settings.listening_on_loopback);
  if (!principal.ok()) {
    spdlog::info("hello from client \"{}\" refused: {}", StringOf(hello->client_name()),
                 principal.status().ToString());
    outcome.response = ErrorResponse(request.id(), principal.status());
    return outcome;
  }
  spdlog::debug("hello from client \"{}\" as {}", StringOf(hello->client_name()),
                principal->Describe());

  flatbuffers::FlatBufferBuilder fbb(256);
  const auto reply = wire::CreateHelloReply(
      fbb, protocol::kProtocolVersion, fbb.CreateString(MNEMO_SERVER_VERSION),
      settings.max_frame_bytes, settings.max_in_flight, settings.dimension,
      fbb.CreateString(principal->WireName()));
  outcome.response =
      FinishResponse(fbb, request.id(), wire::ResponseBody::HelloReply, reply.Union());
  outcome.principal = std::move(principal).value();
  return outcome;
}

std::string HelloRequiredResponse(uint64_t request_id) {
  return ErrorResponse(request_id,
                       Status::FromCode(StatusCode::kAuthenticationError,
                                        "the first request on a connection must be a Hello"));
}

}  // namespace mnemo::server
