// Base64url (RFC 4648 §5) without padding, as JWTs use it (RFC 7515 §2).
//
// Thread-safety: free functions, thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mnemo::rest {

// Encodes bytes as unpadded base64url.
std::string Base64UrlEncode(std::string_view bytes);
// Decodes unpadded (or correctly padded) base64url.  nullopt on any other character, on an
// impossible length (4n+1), or on non-zero trailing bits.
std::optional<std::string> Base64UrlDecode(std::string_view text);

}  // namespace mnemo::rest
