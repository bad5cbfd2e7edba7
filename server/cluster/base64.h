// Base64 (RFC 4648 §4, the standard alphabet with '=' padding), the encoding etcd's JSON gateway
// uses for every key and value.  mnemo-rest's base64url is a different alphabet and unpadded.
//
// Thread-safety: free functions, thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mnemo::cluster {

// Encodes bytes as padded base64.
std::string Base64Encode(std::string_view bytes);
// Decodes padded base64.  nullopt on a character outside the alphabet, a length that is not a
// multiple of 4, misplaced padding, or non-zero trailing bits.
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace mnemo::cluster
