#include "mnemo/base/uuid.h"

#include <chrono>
#include <functional>
#include <random>

#include "mnemo/base/hex.h"

namespace mnemo {
namespace {

// Positions of the dashes in the canonical 8-4-4-4-12 form.
bool IsDashPosition(size_t i) { return i == 8 || i == 13 || i == 18 || i == 23; }

uint64_t ReadBigEndian(const uint8_t* bytes) {
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = value << 8 | bytes[i];
  return value;
}

void WriteBigEndian(uint64_t value, uint8_t* bytes) {
  for (int i = 7; i >= 0; --i, value >>= 8) bytes[i] = static_cast<uint8_t>(value);
}

}  // namespace

Uuid Uuid::Generate() {
  thread_local std::mt19937_64 rng([] {
    std::random_device device;
    return (static_cast<uint64_t>(device()) << 32) ^ device();
  }());
  const uint64_t millis =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count());
  const uint64_t random_a = rng();
  const uint64_t random_b = rng();
  // RFC 9562 §5.7: 48-bit unix_ts_ms | version 7 | 12 random bits | variant 0b10 | 62 random bits.
  std::array<uint8_t, kSize> bytes{};
  for (int i = 0; i < 6; ++i) bytes[i] = static_cast<uint8_t>(millis >> (8 * (5 - i)));
  for (int i = 6; i < 8; ++i) bytes[i] = static_cast<uint8_t>(random_a >> (8 * i));
  for (int i = 8; i < 16; ++i) bytes[i] = static_cast<uint8_t>(random_b >> (8 * (i - 8)));
  bytes[6] = static_cast<uint8_t>(0x70 | (bytes[6] & 0x0f));
  bytes[8] = static_cast<uint8_t>(0x80 | (bytes[8] & 0x3f));
  return Uuid(bytes);
}

std::optional<Uuid> Uuid::Parse(std::string_view text) {
  if (text.size() != kTextSize) return std::nullopt;
  std::array<uint8_t, kSize> bytes{};
  size_t out = 0;
  for (size_t i = 0; i < text.size();) {
    if (IsDashPosition(i)) {
      if (text[i] != '-') return std::nullopt;
      ++i;
      continue;
    }
    const int hi = HexDigitValue(text[i]);
    const int lo = HexDigitValue(text[i + 1]);
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

Uuid Uuid::FromHalves(uint64_t hi, uint64_t lo) {
  std::array<uint8_t, kSize> bytes{};
  WriteBigEndian(hi, bytes.data());
  WriteBigEndian(lo, bytes.data() + 8);
  return Uuid(bytes);
}

uint64_t Uuid::hi() const { return ReadBigEndian(bytes_.data()); }
uint64_t Uuid::lo() const { return ReadBigEndian(bytes_.data() + 8); }

bool Uuid::IsNil() const {
  for (uint8_t b : bytes_) {
    if (b != 0) return false;
  }
  return true;
}

std::string Uuid::ToString() const {
  std::string out;
  out.reserve(kTextSize);
  for (size_t i = 0; i < kSize; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kLowerHexDigits[bytes_[i] >> 4]);
    out.push_back(kLowerHexDigits[bytes_[i] & 0x0f]);
  }
  return out;
}

size_t UuidHash::operator()(const Uuid& id) const {
  return std::hash<std::string_view>()(id.bytes());
}

}  // namespace mnemo
