// UTF-8 helpers for validation and case-insensitive substring search.
//
// Case folding is Unicode *simple* lower-casing for the scripts chat titles and filenames use
// most: ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic.  Other code points (CJK, emoji,
// ...) have no case and pass through unchanged, so matching never splits a multi-byte character.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace mnemo::utf8 {

// True when `text` is well-formed UTF-8 (no overlongs, surrogates or code points > U+10FFFF).
bool IsValid(std::string_view text);
// Number of code points.  REQUIRES: IsValid(text).
size_t CountCodePoints(std::string_view text);
// True when `text` is empty or consists only of (Unicode) white space.  REQUIRES: IsValid(text).
bool IsBlank(std::string_view text);
// Lower-cased copy for case-insensitive comparison.  REQUIRES: IsValid(text).
std::string FoldCase(std::string_view text);
// True when `needle` occurs in `haystack` ignoring case.  REQUIRES: both valid.
bool ContainsFolded(std::string_view folded_haystack, std::string_view folded_needle);

}  // namespace mnemo::utf8
