// Skip/limit and cursor pagination over one prefix of an index (shared by every list query).
//
// A cursor is the hex form of the last index key a page returned; the next page resumes right
// after it, so pages stay stable while rows are inserted before the cursor.  A cursor that is
// malformed or belongs to another listing (another user, order or scope) is a VALIDATION_ERROR
// on field "cursor".
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mnemo/result.h"
#include "mnemo/types.h"
#include "storage/db.h"

namespace mnemo::tables {

struct PageRequest {
  std::string prefix;
  std::string cursor;
  int64_t skip = 0;
  int64_t limit = 20;
  bool reverse = false;  // walk the prefix from its last key backwards
};

struct IndexPage {
  std::vector<std::pair<std::string, std::string>> entries;  // (key, value), in index order
  std::string next_cursor;  // empty when no further matching entry exists
};

// Matches an index entry by its value; an empty function matches everything.
using ValueMatch = std::function<bool(std::string_view value)>;

// The index key a request's cursor resumes after; empty without a cursor.  VALIDATION_ERROR
// (field "cursor") for a malformed cursor or one of another listing.
Result<std::string> CursorStart(const PageRequest& request);

Result<IndexPage> ScanPage(const storage::ReadView& view, storage::Cf cf,
                           const PageRequest& request, const ValueMatch& match = {});

// Number of entries under `prefix` whose value matches.
Result<int64_t> CountMatches(const storage::ReadView& view, storage::Cf cf,
                             const std::string& prefix, const ValueMatch& match);

// The trailing id of a [..][uuid] index key.  REQUIRES: key.size() >= 16.
Uuid TrailingId(std::string_view key);

}  // namespace mnemo::tables
