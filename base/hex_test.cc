#include "mnemo/base/hex.h"

#include <gtest/gtest.h>

#include <string>

namespace mnemo {
namespace {

TEST(HexTest, EncodesLowerCaseAndRoundTrips) {
  EXPECT_EQ(HexEncode(""), "");
  EXPECT_EQ(HexEncode(std::string("\x00\x7f\x80\xff", 4)), "007f80ff");
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  std::string back;
  ASSERT_TRUE(HexDecode(HexEncode(all), &back));
  EXPECT_EQ(back, all);
  ASSERT_TRUE(HexDecode("ABcd", &back));
  EXPECT_EQ(back, "\xab\xcd");
}

TEST(HexTest, RejectsOddLengthAndNonDigits) {
  std::string out;
  for (const char* bad : {"a", "abc", "zz", "0g", "g0", " 0", "0x", "-1"}) {
    EXPECT_FALSE(HexDecode(bad, &out)) << bad;
  }
  EXPECT_EQ(HexDigitValue('/'), -1);
  EXPECT_EQ(HexDigitValue(':'), -1);
  EXPECT_EQ(HexDigitValue('@'), -1);
  EXPECT_EQ(HexDigitValue('G'), -1);
  EXPECT_EQ(HexDigitValue('`'), -1);
  EXPECT_EQ(HexDigitValue('g'), -1);
  EXPECT_EQ(HexDigitValue('F'), 15);
}

TEST(HexTest, LowerHexAcceptsOnlyLowerCaseDigits) {
  EXPECT_TRUE(IsLowerHex(""));
  EXPECT_TRUE(IsLowerHex("0123456789abcdef"));
  EXPECT_FALSE(IsLowerHex("ABCDEF"));
  EXPECT_FALSE(IsLowerHex("abcg"));
}

}  // namespace
}  // namespace mnemo
