// SHA-256 (FIPS 180-4), used to store API keys hashed (mnemod) and for HMAC-SHA256 (mnemo-rest JWTs).  Our Debian package list has no OpenSSL,
// so this is a small self-contained implementation; it is not constant-time with respect to the
// message length, which is fine for hashing secrets of a fixed size.
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

}  // namespace mnemo
