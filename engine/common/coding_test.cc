#include "common/coding.h"

#include <gtest/gtest.h>

#include <limits>
#include <random>

namespace mnemo::coding {
namespace {

TEST(CodingTest, FixedRoundTrip) {
  std::string buf;
  PutFixed32(&buf, 0xdeadbeef);
  PutFixed64(&buf, 0x0123456789abcdefULL);
  EXPECT_EQ(buf.size(), 12u);
  EXPECT_EQ(static_cast<uint8_t>(buf[0]), 0xef);  // little-endian
  std::string_view in(buf);
  uint32_t a = 0;
  uint64_t b = 0;
  ASSERT_TRUE(GetFixed32(&in, &a));
  ASSERT_TRUE(GetFixed64(&in, &b));
  EXPECT_EQ(a, 0xdeadbeefu);
  EXPECT_EQ(b, 0x0123456789abcdefULL);
  EXPECT_TRUE(in.empty());
  EXPECT_FALSE(GetFixed32(&in, &a));
}

TEST(CodingTest, VarintRoundTripRandomAndEdges) {
  std::mt19937_64 rng(7);
  std::vector<uint64_t> values = {
      0, 1, 127, 128, 16383, 16384, std::numeric_limits<uint64_t>::max()};
  for (int i = 0; i < 1000; ++i) values.push_back(rng() >> (rng() % 64));
  std::string buf;
  for (uint64_t v : values) PutVarint64(&buf, v);
  std::string_view in(buf);
  for (uint64_t v : values) {
    uint64_t got = 0;
    ASSERT_TRUE(GetVarint64(&in, &got));
    EXPECT_EQ(got, v);
  }
  EXPECT_TRUE(in.empty());
}

TEST(CodingTest, SignedVarintRoundTrip) {
  for (int64_t v : {int64_t{0}, int64_t{-1}, int64_t{1}, int64_t{-64}, int64_t{64},
                    std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()}) {
    std::string buf;
    PutVarsint64(&buf, v);
    std::string_view in(buf);
    int64_t got = 0;
    ASSERT_TRUE(GetVarsint64(&in, &got));
    EXPECT_EQ(got, v);
  }
}

TEST(CodingTest, MalformedInputIsRejected) {
  std::string_view truncated("\x80\x80", 2);  // continuation bits with no end
  uint64_t v = 0;
  EXPECT_FALSE(GetVarint64(&truncated, &v));
  std::string overlong(11, '\xff');  // more than 64 bits
  std::string_view in(overlong);
  EXPECT_FALSE(GetVarint64(&in, &v));

  std::string buf;
  PutVarint64(&buf, 100);  // claims 100 bytes, has 3
  buf += "abc";
  std::string_view lp(buf);
  std::string_view out;
  EXPECT_FALSE(GetLengthPrefixed(&lp, &out));
}

TEST(CodingTest, LengthPrefixedRoundTripWithZeros) {
  std::string buf;
  const std::string value("a\0b", 3);
  PutLengthPrefixed(&buf, value);
  PutLengthPrefixed(&buf, "");
  std::string_view in(buf);
  std::string_view a, b;
  ASSERT_TRUE(GetLengthPrefixed(&in, &a));
  ASSERT_TRUE(GetLengthPrefixed(&in, &b));
  EXPECT_EQ(a, value);
  EXPECT_EQ(b, "");
}

}  // namespace
}  // namespace mnemo::coding
