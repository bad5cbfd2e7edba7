// Client-supplied ISO-8601 timestamps for the JSON API.  Output uses the engine's
// FormatTimestamp (mnemo/types.h: "2025-11-17T09:30:00.123456Z"); input is wider than the
// engine's ParseTimestamp, which accepts only UTC: web clients send zone offsets.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mnemo::rest {

// Parses "YYYY-MM-DDTHH:MM:SS" with optional ".f" (1..9 digits, truncated to microseconds) and a
// zone "Z", "+HH:MM" or "-HH:MM" (required).  Years 1970..9999.  nullopt for anything else,
// including impossible dates (2025-02-30).
std::optional<int64_t> ParseIsoUtc(std::string_view text);

}  // namespace mnemo::rest
