// Tests for the token-bucket rate limiter (rate_limiter.h), with an explicit clock.
#include "rate_limiter.h"

#include <gtest/gtest.h>

namespace mnemo::rest {
namespace {

using Clock = RateLimiter::Clock;
using std::chrono::milliseconds;

TEST(ParseRateLimit, AcceptsTheDocumentedForms) {
  EXPECT_EQ(ParseRateLimit("10/min")->requests, 10);
  EXPECT_EQ(ParseRateLimit("10/min")->period_seconds, 60);
  EXPECT_EQ(ParseRateLimit("5/s")->period_seconds, 1);
  EXPECT_EQ(ParseRateLimit("100/h")->period_seconds, 3600);
  EXPECT_EQ(ParseRateLimit("3/10s")->period_seconds, 10);
  EXPECT_EQ(ParseRateLimit("off")->requests, 0);
  EXPECT_EQ(ParseRateLimit("0")->requests, 0);
}

TEST(ParseRateLimit, RejectsGarbage) {
  for (const char* bad :
       {"", "10", "10/", "/min", "-1/min", "10/day", "10/0s", "x/min", "10/xs", "1.5/s"}) {
    EXPECT_FALSE(ParseRateLimit(bad).has_value()) << bad;
  }
}

TEST(RateLimiter, RefusesWhenTheBucketIsEmptyAndRefills) {
  RateLimiter limiter({RateLimit{3, 3}, RateLimit{0, 60}, RateLimit{100, 60}});
  const Clock::time_point t0{};
  for (int i = 0; i < 3; ++i)
    EXPECT_TRUE(limiter.Acquire("alice", 0, RateClass::kCreate, t0).allowed);
  const auto refused = limiter.Acquire("alice", 0, RateClass::kCreate, t0);
  EXPECT_FALSE(refused.allowed);
  EXPECT_NEAR(refused.retry_after_seconds, 1.0, 1e-9);
  // Other users and other classes have their own buckets; class kRead is unlimited.
  EXPECT_TRUE(limiter.Acquire("bob", 0, RateClass::kCreate, t0).allowed);
  for (int i = 0; i < 1000; ++i)
    EXPECT_TRUE(limiter.Acquire("alice", 1, RateClass::kRead, t0).allowed);
  // One token per second comes back.
  EXPECT_FALSE(limiter.Acquire("alice", 0, RateClass::kCreate, t0 + milliseconds(900)).allowed);
  EXPECT_TRUE(limiter.Acquire("alice", 0, RateClass::kCreate, t0 + milliseconds(1000)).allowed);
  EXPECT_FALSE(limiter.Acquire("alice", 0, RateClass::kCreate, t0 + milliseconds(1000)).allowed);
  // Never more than the bucket size after a long pause.
  const Clock::time_point later = t0 + std::chrono::hours(1);
  for (int i = 0; i < 3; ++i)
    EXPECT_TRUE(limiter.Acquire("alice", 0, RateClass::kCreate, later).allowed);
  EXPECT_FALSE(limiter.Acquire("alice", 0, RateClass::kCreate, later).allowed);
}

TEST(RateLimiter, ManyUsersAreSweptWithoutLosingState) {
  RateLimiter limiter({RateLimit{1, 60}, RateLimit{1, 60}, RateLimit{1, 60}});
  const Clock::time_point t0{};
  EXPECT_TRUE(limiter.Acquire("hot", 5, RateClass::kOther, t0).allowed);
  for (int i = 0; i < 10000; ++i)
    limiter.Acquire("u" + std::to_string(i), 5, RateClass::kOther, t0);
  EXPECT_FALSE(limiter.Acquire("hot", 5, RateClass::kOther, t0 + milliseconds(10)).allowed);
}

// Each route is limited on its own: filling one create route's bucket leaves another
// create route of the same user untouched.
TEST(RateLimiter, EachRouteHasItsOwnBucket) {
  RateLimiter limiter({RateLimit{2, 60}, RateLimit{2, 60}, RateLimit{2, 60}});
  const Clock::time_point t0{};
  const uint8_t create_conversation = 0;
  const uint8_t append_message = 9;
  for (int i = 0; i < 2; ++i)
    EXPECT_TRUE(limiter.Acquire("alice", create_conversation, RateClass::kCreate, t0).allowed);
  EXPECT_FALSE(limiter.Acquire("alice", create_conversation, RateClass::kCreate, t0).allowed);
  for (int i = 0; i < 2; ++i)
    EXPECT_TRUE(limiter.Acquire("alice", append_message, RateClass::kCreate, t0).allowed);
  EXPECT_FALSE(limiter.Acquire("alice", append_message, RateClass::kCreate, t0).allowed);
}

}  // namespace
}  // namespace mnemo::rest
