#include "mnemo/base/uuid.h"

#include <gtest/gtest.h>

#include <set>

namespace mnemo {
namespace {

TEST(UuidTest, ParseAndFormatRoundTrip) {
  auto id = Uuid::Parse("123E4567-e89b-12d3-a456-426614174000");
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(id->ToString(), "123e4567-e89b-12d3-a456-426614174000");
  EXPECT_FALSE(id->IsNil());
  EXPECT_TRUE(Uuid().IsNil());
  EXPECT_EQ(Uuid().ToString(), "00000000-0000-0000-0000-000000000000");
}

TEST(UuidTest, RejectsMalformedText) {
  for (const char* bad :
       {"", "123e4567e89b12d3a456426614174000", "123e4567-e89b-12d3-a456-42661417400",
        "123e4567-e89b-12d3-a456-4266141740000", "123e4567-e89b-12d3-a456_426614174000",
        "g23e4567-e89b-12d3-a456-426614174000", "123e4567-e89b-12d3-a4-56426614174000",
        "123e4567-e89b-12d3-a456-42661417400g", "{23e4567-e89b-12d3-a456-426614174000"}) {
    EXPECT_FALSE(Uuid::Parse(bad).has_value()) << bad;
  }
}

TEST(UuidTest, HalvesAreBigEndian) {
  const Uuid parsed = *Uuid::Parse("01020304-0506-0708-090a-0b0c0d0e0f10");
  EXPECT_EQ(parsed.hi(), 0x0102030405060708ULL);
  EXPECT_EQ(parsed.lo(), 0x090a0b0c0d0e0f10ULL);
  EXPECT_EQ(Uuid::FromHalves(parsed.hi(), parsed.lo()), parsed);
  EXPECT_EQ(Uuid::FromBytes(parsed.bytes()), parsed);
}

TEST(UuidTest, GeneratedIdsAreUniqueVersion7AndTimeOrdered) {
  std::set<Uuid> seen;
  Uuid previous = Uuid::Generate();
  for (int i = 0; i < 1000; ++i) {
    const Uuid id = Uuid::Generate();
    EXPECT_TRUE(seen.insert(id).second);
    const std::string text = id.ToString();
    EXPECT_EQ(text[14], '7');
    EXPECT_TRUE(text[19] == '8' || text[19] == '9' || text[19] == 'a' || text[19] == 'b');
    // The 48-bit millisecond prefix never goes backwards.
    EXPECT_LE(previous.bytes().substr(0, 6), id.bytes().substr(0, 6));
    previous = id;
  }
}

}  // namespace
}  // namespace mnemo
