#include "mnemo/base/crc32c.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mnemo {
namespace {

TEST(Crc32cTest, KnownVectors) {
  // The CRC-32C check value, and the test vectors of RFC 3720 (iSCSI), section B.4.
  const std::string check = "123456789";
  EXPECT_EQ(Crc32c(check.data(), check.size()), 0xE3069283u);
  std::vector<uint8_t> bytes(32, 0);
  EXPECT_EQ(Crc32c(bytes.data(), bytes.size()), 0x8A9136AAu);
  std::fill(bytes.begin(), bytes.end(), 0xFF);
  EXPECT_EQ(Crc32c(bytes.data(), bytes.size()), 0x62A8AB43u);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i);
  EXPECT_EQ(Crc32c(bytes.data(), bytes.size()), 0x46DD794Eu);
  EXPECT_EQ(Crc32c(nullptr, 0), 0u);
}

TEST(Crc32cTest, ExtendEqualsWhole) {
  std::vector<uint8_t> data(1000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 31 + 7);
  const uint32_t whole = Crc32c(data.data(), data.size());
  for (size_t split : {0, 1, 7, 8, 9, 500, 999, 1000}) {
    const uint32_t first = Crc32c(data.data(), split);
    EXPECT_EQ(Crc32cExtend(first, data.data() + split, data.size() - split), whole) << split;
  }
}

TEST(Crc32cTest, DetectsSingleBitFlips) {
  std::vector<uint8_t> data(256, 0x5A);
  const uint32_t original = Crc32c(data.data(), data.size());
  for (size_t bit = 0; bit < data.size() * 8; bit += 13) {
    data[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    EXPECT_NE(Crc32c(data.data(), data.size()), original);
    data[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
  }
}

TEST(Crc32cTest, HardwareAndPortableAgree) {
  // Unaligned starts and every tail length of the eight-byte loop.
  std::vector<uint8_t> data(4099);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 131 + (i >> 7));
  const std::string check = "123456789";
  EXPECT_EQ(Crc32cExtendPortable(0, check.data(), check.size()), 0xE3069283u);
  for (size_t start : {0, 1, 3, 8}) {
    for (size_t n : {0, 1, 7, 8, 9, 15, 16, 17, 1000, 4091}) {
      EXPECT_EQ(Crc32cExtend(0x1234u, data.data() + start, n),
                Crc32cExtendPortable(0x1234u, data.data() + start, n))
          << start << " " << n;
    }
  }
}

}  // namespace
}  // namespace mnemo
