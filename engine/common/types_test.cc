#include <gtest/gtest.h>

#include "mnemo/records.h"
#include "mnemo/status.h"

namespace mnemo {
namespace {

TEST(StatusTest, CodesMessagesAndFields) {
  EXPECT_TRUE(Status().ok());
  EXPECT_EQ(Status().ToString(), "OK");
  Status s = Status::ValidationError("title", "must not be empty");
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(s.IsValidationError());
  EXPECT_EQ(s.field(), "title");
  EXPECT_EQ(s.ToString(), "VALIDATION_ERROR: must not be empty (field: title)");
  Status copy = s;  // NOLINT(performance-unnecessary-copy-initialization): the copy is under test
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
