// The connection handshake: the first request of a connection must be a Hello carrying the
// protocol version and (unless in protected mode) an api key.
//
// Thread-safety: stateless (KeyStore is thread-safe).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "mnemo/wire/mnemo_generated.h"
#include "server/auth/key_store.h"
#include "server/auth/principal.h"

namespace mnemo::server {

// What HelloReply reports, and whether protected mode may apply.
struct HelloSettings {
  uint32_t max_frame_bytes = 0;
  uint32_t max_in_flight = 0;
  uint32_t dimension = 0;
  bool listening_on_loopback = false;
};

struct HelloOutcome {
  std::string response;                // the finished Response payload (unframed)
  std::optional<Principal> principal;  // set on success; nullopt: send the response and close
};

// Answers a Hello request (REQUIRES: request.body_type() == Hello).  Wrong protocol version:
// VALIDATION_ERROR; bad or missing credentials: AUTHENTICATION_ERROR; both end the connection.
HelloOutcome HandleHello(const wire::Request& request, KeyStore& keys,
                         const HelloSettings& settings);

// The reply to a first request that is not a Hello (AUTHENTICATION_ERROR; the connection closes).
std::string HelloRequiredResponse(uint64_t request_id);

}  // namespace mnemo::server
