#include <chrono>
#include <random>

#include "mnemo/types.h"

namespace mnemo {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Positions of the dashes in the canonical 8-4-4-4-12 form.
bool IsDashPosition(size_t i) { return i == 8 || i == 13 || i == 18 || i == 23; }

}  // namespace

Uuid Uuid::Generate() {
  thread_local std::mt19937_64 rng([] {
    std::random_device device;
    return (static_cast<uint64_t>(device()) << 32) ^ device();
  }());
  const uint64_t millis = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::system_clock::now().time_since_epoch()).count());
  const uint64_t random_a = rng();
  const uint64_t random_b = rng();
  std::array<uint8_t, kSize> bytes{};
  for (int i = 0; i < 6; ++i) bytes[i] = static_cast<uint8_t>(millis >> (8 * (5 - i)));
  for (int i = 6; i < 8; ++i) bytes[i] = static_cast<uint8_t>(random_a >> (8 * i));
  for (int i = 8; i < 16; ++i) bytes[i] = static_cast<uint8_t>(random_b >> (8 * (i - 8)));
  bytes[6] = static_cast<uint8_t>(0x70 | (bytes[6] & 0x0f));  // version 7
  bytes[8] = static_cast<uint8_t>(0x80 | (bytes[8] & 0x3f));  // RFC 4122 variant
  return Uuid(bytes);
}

std::optional<Uuid> Uuid::Parse(std::string_view text) {
  if (text.size() != 36) return std::nullopt;
  std::array<uint8_t, kSize> bytes{};
  size_t out = 0;
  for (size_t i = 0; i < text.size();) {
    if (IsDashPosition(i)) {
      if (text[i] != '-') return std::nullopt;
      ++i;
      continue;
    }
    const int hi = HexValue(text[i]);
    const int lo = HexValue(text[i + 1]);
    if (hi < 0 || lo < 0 || IsDashPosition(i + 1)) return std::nullopt;
    bytes[out++] = static_cast<uint8_t>(hi << 4 | lo);
    i += 2;
  }
  return Uuid(bytes);
}

Uuid Uuid::FromBytes(std::string_view raw) {
  std::array<uint8_t, kSize> bytes{};
  for (size_t i = 0; i < kSize && i < raw.size(); ++i) bytes[i] = static_cast<uint8_t>(raw[i]);
  return Uuid(bytes);
}

bool Uuid::IsNil() const {
  for (uint8_t b : bytes_) {
    if (b != 0) return false;
  }
  return true;
}

std::string Uuid::ToString() const {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (size_t i = 0; i < kSize; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[bytes_[i] >> 4]);
    out.push_back(kHex[bytes_[i] & 0x0f]);
  }
  return out;
}

size_t UuidHash::operator()(const Uuid& id) const {
  return std::hash<std::string_view>()(id.bytes());
}

}  // namespace mnemo
