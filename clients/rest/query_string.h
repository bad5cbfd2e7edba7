// URL targets: splitting "/path?query" and decoding application/x-www-form-urlencoded queries.
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mnemo::rest {

using QueryParams = std::vector<std::pair<std::string, std::string>>;

// "/a/b?x=1" -> {"/a/b", "x=1"}; the query is empty when there is no '?'.
std::pair<std::string_view, std::string_view> SplitTarget(std::string_view target);
// Decodes "%XX" escapes (and '+' as space when plus_is_space).  nullopt for a bad escape.
std::optional<std::string> PercentDecode(std::string_view text, bool plus_is_space);
// Parses "a=1&b=two" into pairs, in order; "a" alone gives ("a", "").  nullopt for a bad escape.
std::optional<QueryParams> ParseQuery(std::string_view query);

}  // namespace mnemo::rest
