#include "server/auth/principal.h"

namespace mnemo::server {

std::string_view KeyKindName(KeyKind kind) {
  return kind == KeyKind::kService ? "service" : "user";
}

bool ParseKeyKind(std::string_view name, KeyKind* kind) {
  if (name == "service") {
    *kind = KeyKind::kService;
    return true;
  }
  if (name == "user") {
    *kind = KeyKind::kUser;
    return true;
  }
  return false;
}

std::string Principal::Describe() const {
  if (key_id.empty()) return "service (protected mode)";
  std::string out = std::string(KeyKindName(kind)) + " key " + key_id;
  if (!is_service()) out += " (" + user_id + ")";
  return out;
}

}  // namespace mnemo::server
