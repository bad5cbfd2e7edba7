// HMAC-SHA256 (RFC 2104) on mnemo::Sha256, for verifying HS256 JWTs; and a comparison whose time
// does not depend on where two strings differ.
//
// Thread-safety: free functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace mnemo::rest {

// The 32-byte MAC of `message` under `key` (raw bytes).
std::string HmacSha256(std::string_view key, std::string_view message);
// True when a == b; the time taken depends only on the lengths.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace mnemo::rest
