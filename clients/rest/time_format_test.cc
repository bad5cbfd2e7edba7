// Tests for ISO-8601 formatting and parsing (time_format.h).
#include "time_format.h"

#include <gtest/gtest.h>

#include "mnemo/types.h"

namespace mnemo::rest {
namespace {

TEST(TimeFormat, FormatsMicrosecondsUtc) {
  EXPECT_EQ(FormatTimestamp(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(FormatTimestamp(1'700'000'000'123'456), "2023-11-14T22:13:20.123456Z");
  EXPECT_EQ(FormatTimestamp(951'782'400'000'000), "2000-02-29T00:00:00.000000Z");
}

TEST(TimeFormat, ParsesWhatItFormatsAndZones) {
  for (const int64_t t : {int64_t{0}, int64_t{1'700'000'000'123'456}, int64_t{951'782'400'000'000}}) {
    EXPECT_EQ(ParseIsoUtc(FormatTimestamp(t)), t);
  }
  EXPECT_EQ(ParseIsoUtc("2023-11-14T22:13:20Z"), 1'700'000'000'000'000);
  EXPECT_EQ(ParseIsoUtc("2023-11-15T00:13:20+02:00"), 1'700'000'000'000'000);
  EXPECT_EQ(ParseIsoUtc("2023-11-14T22:13:20.5Z"), 1'700'000'000'500'000);
  EXPECT_EQ(ParseIsoUtc("2023-11-14T22:13:20.123456789Z"), 1'700'000'000'123'456);
}

TEST(TimeFormat, RejectsMalformedAndImpossibleDates) {
  for (const char* bad : {"", "2023-11-14", "2023-11-14T22:13:20", "2023-02-30T00:00:00Z",
                          "2023-13-01T00:00:00Z", "2023-11-14T24:00:00Z", "1969-12-31T23:59:59Z",
                          "2023-11-14T22:13:20.Z", "2023-11-14T22:13:20Zjunk", "2023-1-14T22:13:20Z",
                          "2023-11-14T22:13:20+2:00", "yesterday"}) {
    EXPECT_FALSE(ParseIsoUtc(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace mnemo::rest
