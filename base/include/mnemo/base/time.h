// Timestamps: microseconds since the Unix epoch (UTC), their ISO-8601 text form, and month
// numbers (the engine's vector partitions).  One parser for every component: mnemod's key
// files, mnemo-rest's JSON bodies and the tools all accept and refuse the same texts.
//
// Thread-safety: pure functions (NowMicros reads the clock).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mnemo {

// Microseconds since the Unix epoch, UTC.  Set by the server (SPEC §2).
using Timestamp = int64_t;

// The range of timestamps mnemo stores and parses (years 1970..9999).
inline constexpr Timestamp kMinTimestamp = 0;
inline constexpr Timestamp kMaxTimestamp = 253402300799999999;  // 9999-12-31T23:59:59.999999Z

// Current wall-clock time in microseconds, UTC.
Timestamp NowMicros();

// ISO-8601 UTC with microseconds, e.g. "2026-11-23T22:58:00.123456Z".
std::string FormatTimestamp(Timestamp ts);

// Parses "YYYY-MM-DDTHH:MM:SS" ('T', 't' or ' ' between date and time), an optional fraction of
// 1..9 digits (truncated to microseconds) and a required zone: "Z", "z", "+HH:MM" or "-HH:MM".
// nullopt for anything else: impossible dates (Feb 30, Feb 29 of a common year), hour 24,
// second 60 (leap seconds are not represented), trailing text, or a result outside
// [kMinTimestamp, kMaxTimestamp].  Parses everything FormatTimestamp writes in that range.
std::optional<Timestamp> ParseTimestamp(std::string_view text);

// Days since 1970-01-01 of a proleptic Gregorian date, and back.  REQUIRES: 1 <= month <= 12,
// 1 <= day <= DaysInMonth(year, month).
int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day);
void CivilFromDays(int64_t days, int64_t* year, unsigned* month, unsigned* day);
// 28..31.  REQUIRES: 1 <= month <= 12.
unsigned DaysInMonth(int64_t year, unsigned month);

// Month partitions: a month is numbered year * 12 + (month - 1), e.g. 2026-11 -> 24322.
uint32_t MonthOf(Timestamp ts);
Timestamp MonthStart(uint32_t month);   // first microsecond of the month, UTC
std::string MonthName(uint32_t month);  // "YYYY-MM"

}  // namespace mnemo
