#include "mnemo/base/time.h"

#include <gtest/gtest.h>

namespace mnemo {
namespace {

TEST(TimestampTest, FormatsMicrosecondsUtc) {
  EXPECT_EQ(FormatTimestamp(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(FormatTimestamp(1'700'000'000'123'456), "2023-11-14T22:13:20.123456Z");
  EXPECT_EQ(FormatTimestamp(951'782'400'000'000), "2000-02-29T00:00:00.000000Z");
  EXPECT_EQ(FormatTimestamp(kMaxTimestamp), "9999-12-31T23:59:59.999999Z");
}

TEST(TimestampTest, ParsesWhatItFormats) {
  for (const Timestamp ts : {kMinTimestamp, Timestamp{1}, Timestamp{1'700'000'000'123'456},
                             Timestamp{951'782'400'000'000}, kMaxTimestamp, NowMicros()}) {
    const auto parsed = ParseTimestamp(FormatTimestamp(ts));
    ASSERT_TRUE(parsed.has_value()) << FormatTimestamp(ts);
    EXPECT_EQ(*parsed, ts);
  }
}

TEST(TimestampTest, AcceptsZonesFractionsAndSeparators) {
  EXPECT_EQ(ParseTimestamp("2023-11-14T22:13:20Z"), 1'700'000'000'000'000);
  EXPECT_EQ(ParseTimestamp("2023-11-14t22:13:20z"), 1'700'000'000'000'000);
  EXPECT_EQ(ParseTimestamp("2023-11-14 22:13:20Z"), 1'700'000'000'000'000);
  EXPECT_EQ(ParseTimestamp("2023-11-15T00:13:20+02:00"), 1'700'000'000'000'000);
  EXPECT_EQ(ParseTimestamp("2023-11-14T21:13:20-01:00"), 1'700'000'000'000'000);
  EXPECT_EQ(ParseTimestamp("2023-11-14T22:13:20+00:00"), 1'700'000'000'000'000);
  EXPECT_EQ(ParseTimestamp("2023-11-14T22:13:20.5Z"), 1'700'000'000'500'000);
  EXPECT_EQ(ParseTimestamp("2023-11-14T22:13:20.123456789Z"), 1'700'000'000'123'456);
  EXPECT_EQ(ParseTimestamp("2024-02-29T12:30:00Z"), ParseTimestamp("2024-02-29T12:30:00.000000Z"));
  EXPECT_TRUE(ParseTimestamp("2000-02-29T00:00:00Z").has_value());  // divisible by 400: leap
}

// One rule everywhere: days that do not exist and second 60 are refused.
TEST(TimestampTest, RejectsImpossibleDatesAndTimes) {
  for (const char* bad : {"2023-02-29T00:00:00Z", "2024-02-30T00:00:00Z", "2024-02-31T00:00:00Z",
                          "1900-02-29T00:00:00Z", "2023-04-31T00:00:00Z", "2023-06-31T00:00:00Z",
                          "2023-09-31T00:00:00Z", "2023-11-31T00:00:00Z", "2023-01-32T00:00:00Z",
                          "2023-00-10T00:00:00Z", "2023-13-01T00:00:00Z", "2023-01-00T00:00:00Z",
                          "2023-11-14T24:00:00Z", "2023-11-14T23:60:00Z", "2016-12-31T23:59:60Z",
                          "2023-11-14T22:13:60Z"}) {
    EXPECT_FALSE(ParseTimestamp(bad).has_value()) << bad;
  }
}

TEST(TimestampTest, RejectsMalformedText) {
  for (const char* bad : {"",
                          "yesterday",
                          "2023-11-14",
                          "2023-11-14T22:13:20",
                          "2023-11-14T22:13",
                          "2023-11-14X22:13:20Z",
                          "2023-11-14T22:13:20.Z",
                          "2023-11-14T22:13:20.1234567890Z",
                          "2023-11-14T22:13:20Zjunk",
                          "2023-11-14T22:13:20Z ",
                          " 2023-11-14T22:13:20Z",
                          "2023-1-14T22:13:20Z",
                          "2023-11-14T22:13:20+2:00",
                          "2023-11-14T22:13:20+02",
                          "2023-11-14T22:13:20+0200",
                          "2023-11-14T22:13:20+24:00",
                          "2023-11-14T22:13:20+02:60",
                          "+2023-11-14T22:13:20Z",
                          "yyyy-01-01T00:00:00Z",
                          "2023-11-14T22:13:2aZ"}) {
    EXPECT_FALSE(ParseTimestamp(bad).has_value()) << bad;
  }
}

TEST(TimestampTest, RejectsTimesOutsideTheStoredRange) {
  EXPECT_FALSE(ParseTimestamp("1969-12-31T23:59:59.999999Z").has_value());
  EXPECT_FALSE(ParseTimestamp("1970-01-01T00:30:00+01:00").has_value());
  EXPECT_FALSE(ParseTimestamp("9999-12-31T23:59:59-00:01").has_value());
  EXPECT_FALSE(ParseTimestamp("0000-01-01T00:00:00Z").has_value());
  EXPECT_EQ(ParseTimestamp("1970-01-01T01:00:00+01:00"), 0);
}

TEST(CivilDateTest, DaysInMonthFollowsTheGregorianRules) {
  EXPECT_EQ(DaysInMonth(2023, 2), 28u);
  EXPECT_EQ(DaysInMonth(2024, 2), 29u);
  EXPECT_EQ(DaysInMonth(1900, 2), 28u);
  EXPECT_EQ(DaysInMonth(2000, 2), 29u);
  EXPECT_EQ(DaysInMonth(2023, 4), 30u);
  EXPECT_EQ(DaysInMonth(2023, 12), 31u);
  for (int64_t days : {int64_t{-1}, int64_t{0}, int64_t{59}, int64_t{11016}, int64_t{2932896}}) {
    int64_t y = 0;
    unsigned m = 0, d = 0;
    CivilFromDays(days, &y, &m, &d);
    EXPECT_EQ(DaysFromCivil(y, m, d), days);
  }
}

TEST(MonthTest, NumbersNamesAndStarts) {
  const Timestamp ts = *ParseTimestamp("2026-11-23T22:58:00Z");
  EXPECT_EQ(MonthOf(ts), 2026u * 12 + 10);
  EXPECT_EQ(MonthName(MonthOf(ts)), "2026-11");
  EXPECT_EQ(MonthStart(MonthOf(ts)), *ParseTimestamp("2026-11-01T00:00:00Z"));
  EXPECT_EQ(MonthOf(MonthStart(MonthOf(ts)) - 1), MonthOf(ts) - 1);
}

}  // namespace
}  // namespace mnemo
