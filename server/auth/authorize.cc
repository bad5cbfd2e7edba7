#include "server/auth/authorize.h"

namespace mnemo::server {

Result<Principal> Authenticate(KeyStore& keys, std::string_view api_key,
                               bool listening_on_loopback) {
  if (!api_key.empty()) return keys.Verify(api_key);
  auto has_keys = keys.HasKeys();
  if (!has_keys.ok()) return has_keys.status();
  if (*has_keys) {
    return Status::FromCode(StatusCode::kAuthenticationError, "an api key is required", "api_key");
  }
  if (!listening_on_loopback) {
    return Status::FromCode(StatusCode::kAuthenticationError,
                            "no api keys exist; unauthenticated connections are only accepted on a "
                            "loopback address (create a key with `mnemo keys create`)",
                            "api_key");
  }
  return Principal{KeyKind::kService, "", ""};
}

Result<std::string> ResolveUser(const Principal& principal, std::string_view requested_user_id) {
  if (principal.is_service()) {
    if (requested_user_id.empty()) {
      return Status::ValidationError("user_id",
                                     "a service principal must name the user_id it acts for");
    }
    return std::string(requested_user_id);
  }
  if (requested_user_id.empty() || requested_user_id == principal.user_id) return principal.user_id;
  return Status::FromCode(StatusCode::kAuthorizationError,
                          "this api key may only act for its own user", "user_id");
}

Status RequireService(const Principal& principal, std::string_view operation) {
  if (principal.is_service()) return Status::Ok();
  return Status::FromCode(StatusCode::kAuthorizationError,
                          std::string(operation) + " needs a service api key");
}

}  // namespace mnemo::server
