// ISO-8601 UTC timestamps for the JSON API: mnemo's microsecond timestamps out
// ("2025-11-17T09:30:00.123456Z") and client-supplied ones in.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mnemo::rest {

// Microseconds since the Unix epoch -> "YYYY-MM-DDTHH:MM:SS.ffffffZ".
std::string FormatIsoUtc(int64_t micros);
// Parses "YYYY-MM-DDTHH:MM:SS" with optional ".f" (1..9 digits, truncated to microseconds) and a
// zone "Z", "+HH:MM" or "-HH:MM" (required).  Years 1970..9999.  nullopt for anything else,
// including impossible dates (2025-02-30).
std::optional<int64_t> ParseIsoUtc(std::string_view text);

}  // namespace mnemo::rest
