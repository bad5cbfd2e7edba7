// HS256 JSON Web Tokens (RFC 7519): verification of the bearer tokens web apps send, and signing
// (for `mnemo-rest --issue-token` and tests).
//
// Accepted tokens: three base64url segments; header {"alg":"HS256"} (any "typ"); payload with a
// non-empty string "sub" (at most 255 bytes: mnemo's user_id rule) and a numeric "exp" in the
// future; an "nbf", when present, must not be in the future.  Anything else is refused, in
// particular "alg":"none" and every other algorithm.
//
// Thread-safety: free functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace mnemo::rest {

struct JwtClaims {
  std::string subject;     // "sub": the user_id requests act for
  int64_t expires_at = 0;  // "exp": seconds since the epoch
};

// Why a token was refused, in words fit for the 401 body (never echoes the secret).
struct JwtRejection {
  std::string reason;
};

// Verifies `token` against `secret` at time `now_seconds` (seconds since the epoch).
std::variant<JwtClaims, JwtRejection> VerifyJwtHs256(std::string_view token,
                                                     std::string_view secret, int64_t now_seconds);

// Signs a token {"alg":"HS256","typ":"JWT"} . payload_json.  REQUIRES: payload_json is JSON.
std::string SignJwtHs256(std::string_view payload_json, std::string_view secret);

}  // namespace mnemo::rest
