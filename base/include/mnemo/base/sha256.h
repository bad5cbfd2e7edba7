// SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104): mnemod stores API keys hashed, mnemo-rest
// verifies HS256 JWTs.  Our Debian package list has no OpenSSL, so this is a small
// self-contained implementation; it is not constant-time with respect to the message length,
// which is fine for hashing secrets of a fixed size.
//
// Thread-safety: Sha256 objects are not thread-safe; the free functions are.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace mnemo {

class Sha256 {
 public:
  static constexpr size_t kDigestBytes = 32;
  using Digest = std::array<uint8_t, kDigestBytes>;

  Sha256();
  // Feeds more message bytes.  REQUIRES: Finish() not called yet.
  void Update(std::string_view data);
  // Pads, processes the last block and returns the digest.  The object is spent afterwards.
  Digest Finish();

 private:
  void ProcessBlock(const uint8_t* block);

  std::array<uint32_t, 8> state_;
  std::array<uint8_t, 64> buffer_{};
  size_t buffered_ = 0;
  uint64_t total_bytes_ = 0;
};

// The digest of `data`.
Sha256::Digest Sha256Digest(std::string_view data);
// The digest of `data` as 64 lower-case hex characters.
std::string Sha256Hex(std::string_view data);

// The 32-byte MAC of `message` under `key` (raw bytes; keys longer than a block are hashed).
std::string HmacSha256(std::string_view key, std::string_view message);

// True when a == b.  The time taken depends only on the lengths, not on where they differ, so
// comparing a secret's digest reveals no matching prefix.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace mnemo
