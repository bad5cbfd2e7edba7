#include <gtest/gtest.h>

#include <set>

#include "mnemo/records.h"
#include "mnemo/status.h"
#include "mnemo/types.h"

namespace mnemo {
namespace {

TEST(UuidTest, ParseAndFormatRoundTrip) {
  auto id = Uuid::Parse("123E4567-e89b-12d3-a456-426614174000");
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(id->ToString(), "123e4567-e89b-12d3-a456-426614174000");
  EXPECT_FALSE(id->IsNil());
  EXPECT_TRUE(Uuid().IsNil());
}

TEST(UuidTest, RejectsMalformedText) {
  for (const char* bad : {"", "123e4567e89b12d3a456426614174000", "123e4567-e89b-12d3-a456-42661417400",
                          "123e4567-e89b-12d3-a456-4266141740000", "123e4567-e89b-12d3-a456_426614174000",
                          "g23e4567-e89b-12d3-a456-426614174000", "123e4567-e89b-12d3-a4-56426614174000"}) {
    EXPECT_FALSE(Uuid::Parse(bad).has_value()) << bad;
  }
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

TEST(TimestampTest, FormatParseRoundTrip) {
  for (Timestamp ts : {Timestamp{0}, Timestamp{1'700'000'000'123'456}, Timestamp{-1}, NowMicros()}) {
    auto parsed = ParseTimestamp(FormatTimestamp(ts));
    ASSERT_TRUE(parsed.has_value()) << FormatTimestamp(ts);
    EXPECT_EQ(*parsed, ts);
  }
  EXPECT_EQ(FormatTimestamp(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(ParseTimestamp("2024-02-29T12:30:00Z"), ParseTimestamp("2024-02-29T12:30:00.000000Z"));
}

TEST(TimestampTest, RejectsMalformed) {
  for (const char* bad : {"", "2024-13-01T00:00:00Z", "2024-01-01", "2024-01-01T25:00:00Z",
                          "2024-01-01T00:00:00+02:00", "2024-01-01T00:00:00.Z", "yyyy-01-01T00:00:00Z"}) {
    EXPECT_FALSE(ParseTimestamp(bad).has_value()) << bad;
  }
}

TEST(StatusTest, CodesMessagesAndFields) {
  EXPECT_TRUE(Status().ok());
  EXPECT_EQ(Status().ToString(), "OK");
  Status s = Status::ValidationError("title", "must not be empty");
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(s.IsValidationError());
  EXPECT_EQ(s.field(), "title");
  EXPECT_EQ(s.ToString(), "VALIDATION_ERROR: must not be empty (field: title)");
  Status copy = s;
  EXPECT_EQ(copy.ToString(), s.ToString());
  EXPECT_EQ(StatusCodeName(StatusCode::kRateLimited), "RATE_LIMITED");
  EXPECT_TRUE(Status::FromCode(StatusCode::kOk, "ignored").ok());
}

TEST(RoleTest, NamesRoundTrip) {
  for (int i = 0; i < kRoleCount; ++i) {
    const auto role = static_cast<Role>(i);
    EXPECT_EQ(ParseRole(RoleName(role)), role);
  }
  EXPECT_FALSE(ParseRole("User").has_value());
  EXPECT_FALSE(ParseRole("").has_value());
  EXPECT_FALSE(ParseRole("function").has_value());
}

}  // namespace
}  // namespace mnemo
