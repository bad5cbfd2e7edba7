#include "tables/validation.h"

#include <gtest/gtest.h>

namespace mnemo::tables {
namespace {

TEST(ValidationTest, JsonKinds) {
  EXPECT_TRUE(ValidateJsonObject("m", "{}").ok());
  EXPECT_TRUE(ValidateJsonObject("m", R"({"a":[1,{"b":null}]})").ok());
  EXPECT_EQ(ValidateJsonObject("m", "[]").field(), "m");
  EXPECT_TRUE(ValidateJsonArray("p", "[]").ok());
  EXPECT_FALSE(ValidateJsonArray("p", "{}").ok());
  EXPECT_TRUE(ValidateJsonValue("v", "42").ok());
  EXPECT_TRUE(ValidateJsonValue("v", "\"s\"").ok());
  EXPECT_FALSE(ValidateJsonValue("v", "").ok());
  EXPECT_FALSE(ValidateJsonValue("v", "{} {}").ok());
  EXPECT_FALSE(ValidateJsonValue("v", "{'a': 1}").ok());
}

TEST(ValidationTest, JsonDepthLimitCountsOnlyStructure) {
  const std::string at_limit = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
  EXPECT_TRUE(ValidateJsonValue("v", at_limit).ok());
  const std::string too_deep = "[" + at_limit + "]";
  EXPECT_FALSE(ValidateJsonValue("v", too_deep).ok());
  // Brackets inside strings (with escaped quotes) do not count.
  const std::string in_string = "{\"s\": \"\\\"" + std::string(500, '[') + "\"}";
  EXPECT_TRUE(ValidateJsonObject("v", in_string).ok());
  // A huge unbalanced input fails fast instead of recursing.
  EXPECT_FALSE(ValidateJsonValue("v", std::string(100000, '[')).ok());
}

TEST(ValidationTest, Paging) {
  EXPECT_TRUE(ValidatePaging(0, 1, 100).ok());
  EXPECT_TRUE(ValidatePaging(5000, 100, 100).ok());
  EXPECT_EQ(ValidatePaging(-1, 10, 100).field(), "skip");
  EXPECT_EQ(ValidatePaging(0, 0, 100).field(), "limit");
  EXPECT_EQ(ValidatePaging(0, 101, 100).field(), "limit");
}

}  // namespace
}  // namespace mnemo::tables
