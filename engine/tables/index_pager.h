// Skip/limit and cursor pagination over one prefix of an index (shared by every list query).
//
// A cursor is the hex form of the last index key a page returned; the next page resumes right
// after it, so pages stay stable while rows are inserted before the cursor.  A cursor that is
// malformed or belongs to another listing (another user, order or scope) is a VALIDATION_ERROR
// on field "cursor".
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
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
  // Optional bounds inside the prefix for forward walks (e.g. a time range of a time-ordered
  // index): keys >= first and < end; empty = unbounded.  A cursor overrides `first`.
  std::string first;
  std::string end;
};

struct IndexPage {
  std::vector<std::pair<std::string, std::string>> entries;  // (key, value), in index order
  std::string next_cursor;  // empty when no further matching entry exists
};

// Decides whether an index entry (or row) is listed.  An error ends the scan and is returned by
// the caller (e.g. a row that cannot be read).  An empty function matches everything.
using EntryMatch = std::function<Result<bool>(std::string_view key, std::string_view value)>;

// The index key a request's cursor resumes after; empty without a cursor.  VALIDATION_ERROR
// (field "cursor") for a malformed cursor or one of another listing.
Result<std::string> CursorStart(const PageRequest& request);

Result<IndexPage> ScanPage(const storage::ReadView& view, storage::Cf cf,
                           const PageRequest& request, const EntryMatch& match = {});

// Number of matching entries in the request's prefix and bounds (skip, limit and cursor are
// ignored); stops counting at `stop_at` (e.g. 1 to test existence).
Result<int64_t> CountMatches(const storage::ReadView& view, storage::Cf cf,
                             const PageRequest& request, const EntryMatch& match,
                             int64_t stop_at = std::numeric_limits<int64_t>::max());

// Bounds of [from, until) over a newest-first time index ([prefix][time desc][...]): sets
// request->first and request->end.  Unset ends leave that side unbounded.
void SetTimeBounds(std::optional<Timestamp> from, std::optional<Timestamp> until,
                   PageRequest* request);

// The trailing id of a [..][uuid] index key.  REQUIRES: key.size() >= 16.
Uuid TrailingId(std::string_view key);

}  // namespace mnemo::tables
