// Uuid: a 128-bit id, exposed to clients in RFC 9562 text form.  Server-generated ids are UUIDv7
// (time-ordered), which keeps freshly written rows close together in the key space.
//
// Thread-safety: a value type; Generate() may be called from any thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mnemo {

class Uuid {
 public:
  static constexpr size_t kSize = 16;
  static constexpr size_t kTextSize = 36;  // 8-4-4-4-12 hex digits with dashes

  Uuid() = default;  // the nil UUID
  explicit Uuid(const std::array<uint8_t, kSize>& bytes) : bytes_(bytes) {}

  // A new random, time-ordered (version 7) UUID.
  static Uuid Generate();
  // Parses the 36-char canonical text form (case-insensitive).  nullopt on anything else.
  static std::optional<Uuid> Parse(std::string_view text);
  // Reads 16 raw bytes.  REQUIRES: bytes.size() == kSize.
  static Uuid FromBytes(std::string_view bytes);
  // The id whose big-endian halves are `hi` (bytes 0..7) and `lo` (bytes 8..15).
  static Uuid FromHalves(uint64_t hi, uint64_t lo);

  bool IsNil() const;
  std::string ToString() const;  // lower-case canonical text form
  std::string_view bytes() const { return {reinterpret_cast<const char*>(bytes_.data()), kSize}; }
  uint64_t hi() const;  // bytes 0..7, big-endian
  uint64_t lo() const;  // bytes 8..15, big-endian

  friend bool operator==(const Uuid&, const Uuid&) = default;
  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 flags the 0 it compares with here.
  friend auto operator<=>(const Uuid&, const Uuid&) = default;

 private:
  std::array<uint8_t, kSize> bytes_{};
};

struct UuidHash {
  size_t operator()(const Uuid& id) const;
};

}  // namespace mnemo
