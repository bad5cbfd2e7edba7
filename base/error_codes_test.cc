#include "mnemo/base/error_codes.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace mnemo {
namespace {

TEST(StatusCodeTest, NamesFollowTheSpec) {
  EXPECT_EQ(StatusCodeName(StatusCode::kOk), "OK");
  EXPECT_EQ(StatusCodeName(StatusCode::kValidationError), "VALIDATION_ERROR");
  EXPECT_EQ(StatusCodeName(StatusCode::kNotFound), "NOT_FOUND");
  EXPECT_EQ(StatusCodeName(StatusCode::kDuplicateRecord), "DUPLICATE_RECORD");
  EXPECT_EQ(StatusCodeName(StatusCode::kConflict), "CONFLICT");
  EXPECT_EQ(StatusCodeName(StatusCode::kTransactionError), "TRANSACTION_ERROR");
  EXPECT_EQ(StatusCodeName(StatusCode::kAuthenticationError), "AUTHENTICATION_ERROR");
  EXPECT_EQ(StatusCodeName(StatusCode::kAuthorizationError), "AUTHORIZATION_ERROR");
  EXPECT_EQ(StatusCodeName(StatusCode::kRateLimited), "RATE_LIMITED");
  EXPECT_EQ(StatusCodeName(StatusCode::kPayloadTooLarge), "PAYLOAD_TOO_LARGE");
  EXPECT_EQ(StatusCodeName(StatusCode::kUnavailable), "UNAVAILABLE");
  EXPECT_EQ(StatusCodeName(StatusCode::kInternalError), "INTERNAL_ERROR");
  EXPECT_EQ(StatusCodeName(StatusCode::kNotPrimary), "NOT_PRIMARY");
  EXPECT_EQ(static_cast<int>(StatusCode::kNotPrimary), 12);
  EXPECT_EQ(StatusCodeName(static_cast<StatusCode>(200)), "UNKNOWN");
  EXPECT_EQ(kStatusCodeCount, 13u);
}

TEST(StatusCodeTest, HttpStatusesOfTheRestSidecar) {
  EXPECT_EQ(HttpStatusOf(StatusCode::kOk), 200);
  EXPECT_EQ(HttpStatusOf(StatusCode::kValidationError), 422);
  EXPECT_EQ(HttpStatusOf(StatusCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusOf(StatusCode::kDuplicateRecord), 409);
  EXPECT_EQ(HttpStatusOf(StatusCode::kConflict), 409);
  EXPECT_EQ(HttpStatusOf(StatusCode::kTransactionError), 500);
  EXPECT_EQ(HttpStatusOf(StatusCode::kAuthenticationError), 401);
  EXPECT_EQ(HttpStatusOf(StatusCode::kAuthorizationError), 403);
  EXPECT_EQ(HttpStatusOf(StatusCode::kRateLimited), 429);
  EXPECT_EQ(HttpStatusOf(StatusCode::kPayloadTooLarge), 413);
  EXPECT_EQ(HttpStatusOf(StatusCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatusOf(StatusCode::kInternalError), 500);
  EXPECT_EQ(HttpStatusOf(StatusCode::kNotPrimary), 503);
  EXPECT_EQ(HttpStatusOf(static_cast<StatusCode>(200)), 500);
}

TEST(StatusCodeTest, EveryValueMapsBackAndNamesAreDistinct) {
  std::set<std::string> names;
  for (size_t value = 0; value < kStatusCodeCount; ++value) {
    const auto code = StatusCodeFromValue(static_cast<uint8_t>(value));
    ASSERT_TRUE(code.has_value()) << value;
    EXPECT_EQ(static_cast<size_t>(*code), value);
    EXPECT_NE(StatusCodeName(*code), "UNKNOWN");
    EXPECT_TRUE(names.insert(std::string(StatusCodeName(*code))).second) << value;
  }
  EXPECT_FALSE(StatusCodeFromValue(static_cast<uint8_t>(kStatusCodeCount)).has_value());
  EXPECT_FALSE(StatusCodeFromValue(255).has_value());
}

}  // namespace
}  // namespace mnemo
