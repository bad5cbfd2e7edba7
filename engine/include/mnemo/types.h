// Basic value types shared by every engine component: ids and timestamps.
//
// Thread-safety: value types.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mnemo {

// Microseconds since the Unix epoch, UTC.  Set by the server (SPEC §2).
using Timestamp = int64_t;

// Current wall-clock time in microseconds, UTC.
Timestamp NowMicros();

// ISO-8601 UTC with microseconds, e.g. "2026-11-23T22:58:00.123456Z".
std::string FormatTimestamp(Timestamp ts);
// Parses what FormatTimestamp writes (the fraction and the trailing Z optional).
std::optional<Timestamp> ParseTimestamp(std::string_view text);

// Month partitions: a month is numbered year * 12 + (month - 1), e.g. 2026-11 -> 24322.
uint32_t MonthOf(Timestamp ts);
Timestamp MonthStart(uint32_t month);  // first microsecond of the month, UTC
std::string MonthName(uint32_t month);  // "YYYY-MM"
// Earliest and latest created_at accepted (years 1970..9999).
inline constexpr Timestamp kMinTimestamp = 0;
inline constexpr Timestamp kMaxTimestamp = 253402300799999999;  // 9999-12-31T23:59:59.999999Z

// A 128-bit id, exposed to clients in RFC 4122 text form.  Server-generated ids are UUIDv7
// (time-ordered), which keeps freshly written rows close together in the key space.
class Uuid {
 public:
  static constexpr size_t kSize = 16;

  Uuid() = default;  // the nil UUID
  explicit Uuid(const std::array<uint8_t, kSize>& bytes) : bytes_(bytes) {}

  // A new random, time-ordered (version 7) UUID.  Thread-safe.
  static Uuid Generate();
  // Parses the 36-char canonical text form (case-insensitive).  nullopt on anything else.
  static std::optional<Uuid> Parse(std::string_view text);
  // Reads 16 raw bytes.  REQUIRES: bytes.size() == kSize.
  static Uuid FromBytes(std::string_view bytes);

  bool IsNil() const;
  std::string ToString() const;  // lower-case canonical text form
  std::string_view bytes() const {
    return {reinterpret_cast<const char*>(bytes_.data()), kSize};
  }

  friend bool operator==(const Uuid&, const Uuid&) = default;
  friend auto operator<=>(const Uuid&, const Uuid&) = default;

 private:
  std::array<uint8_t, kSize> bytes_{};
};

struct UuidHash {
  size_t operator()(const Uuid& id) const;
};

}  // namespace mnemo
