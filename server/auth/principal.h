// Principal: who a connection acts as after its Hello (SPEC §4 "Auth").
//
// Thread-safety: a value type.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace mnemo::server {

// FROZEN: the names below are written to the key file.
enum class KeyKind : uint8_t {
  kService = 0,  // may act for any user_id named in a request
  kUser = 1,     // pinned to one user_id
};

std::string_view KeyKindName(KeyKind kind);  // "service" | "user"
bool ParseKeyKind(std::string_view name, KeyKind* kind);

struct Principal {
  KeyKind kind = KeyKind::kService;
  std::string user_id;  // the pinned user of a user key; empty for service keys
  std::string key_id;   // empty for the protected-mode principal (no key)

  bool is_service() const { return kind == KeyKind::kService; }
  // What HelloReply.principal carries: "service", or the pinned user id.
  std::string WireName() const { return is_service() ? "service" : user_id; }
  // For logs: "service key k1", "user key k2 (alice)", "service (protected mode)".
  std::string Describe() const;
};

}  // namespace mnemo::server
