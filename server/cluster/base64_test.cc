#include "cluster/base64.h"

#include <gtest/gtest.h>

#include <string>

namespace mnemo::cluster {
namespace {

TEST(Base64Test, Rfc4648Vectors) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foob"), "Zm9vYg==");
  EXPECT_EQ(Base64Encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Decode("Zm9vYmE="), "fooba");
  EXPECT_EQ(Base64Decode("Zg=="), "f");
  EXPECT_EQ(Base64Decode(""), "");
}

TEST(Base64Test, EveryByteRoundTrips) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
  for (size_t length = 0; length <= bytes.size(); length += 37) {
    const std::string part = bytes.substr(bytes.size() - length);
    EXPECT_EQ(Base64Decode(Base64Encode(part)), part) << length;
  }
  EXPECT_EQ(Base64Encode("\xfb\xff"), "+/8=");  // the standard alphabet, not base64url
}

TEST(Base64Test, RejectsWhatIsNotCanonicalBase64) {
  EXPECT_FALSE(Base64Decode("Zg"));        // unpadded
  EXPECT_FALSE(Base64Decode("Zm9v-_"));    // base64url characters
  EXPECT_FALSE(Base64Decode("Zg==Zm9v"));  // padding before the end
  EXPECT_FALSE(Base64Decode("Z==="));      // three padding characters
  EXPECT_FALSE(Base64Decode("===="));
  EXPECT_FALSE(Base64Decode("Zh=="));  // non-zero trailing bits
  EXPECT_FALSE(Base64Decode("Zm9="));  // "fo" would be Zm8=
  EXPECT_FALSE(Base64Decode("Zm 9"));
}

}  // namespace
}  // namespace mnemo::cluster
