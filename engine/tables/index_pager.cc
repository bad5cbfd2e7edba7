#include "tables/index_pager.h"

#include "mnemo/base/hex.h"
#include "storage/key_codec.h"

namespace mnemo::tables {
namespace {

// The scan range of a request: its prefix, walked from its cursor or its first bound.
Result<storage::ScanRange> RangeOf(const PageRequest& request, bool use_cursor) {
  storage::ScanRange range;
  range.prefix = request.prefix;
  range.reverse = request.reverse;
  if (use_cursor && !request.cursor.empty()) {
    MNEMO_ASSIGN_OR_RETURN(range.start, CursorStart(request));
    range.skip_start = true;
  } else if (!request.reverse && !request.first.empty()) {
    range.start = request.first;
  }
  return range;
}

// True when `match` (if any) admits the entry; false when it does not or fails (*failed set).
bool Admits(const EntryMatch& match, std::string_view key, std::string_view value, Status* failed) {
  if (!match) return true;
  Result<bool> matched = match(key, value);
  if (!matched.ok()) {
    *failed = matched.status();
    return false;
  }
  return *matched;
}

bool PastEnd(const PageRequest& request, std::string_view key) {
  return !request.reverse && !request.end.empty() && key >= request.end;
}

}  // namespace

Result<std::string> CursorStart(const PageRequest& request) {
  std::string start;
  if (request.cursor.empty()) return start;
  if (!HexDecode(request.cursor, &start) || !start.starts_with(request.prefix) ||
      start.size() <= request.prefix.size()) {
    return Status::ValidationError("cursor", "is malformed or belongs to another listing");
  }
  return start;
}

Result<IndexPage> ScanPage(const storage::ReadView& view, storage::Cf cf,
                           const PageRequest& request, const EntryMatch& match) {
  MNEMO_ASSIGN_OR_RETURN(const storage::ScanRange range, RangeOf(request, /*use_cursor=*/true));
  IndexPage page;
  int64_t to_skip = request.skip;
  bool more = false;
  Status failed;
  Status status = view.Scan(cf, range, [&](std::string_view key, std::string_view value) {
    if (PastEnd(request, key)) return false;
    if (!Admits(match, key, value, &failed)) return failed.ok();
    if (to_skip > 0) {
      --to_skip;
      return true;
    }
    if (static_cast<int64_t>(page.entries.size()) == request.limit) {
      more = true;
      return false;
    }
    page.entries.emplace_back(std::string(key), std::string(value));
    return true;
  });
  MNEMO_RETURN_IF_ERROR(status);
  MNEMO_RETURN_IF_ERROR(failed);
  if (more && !page.entries.empty()) page.next_cursor = HexEncode(page.entries.back().first);
  return page;
}

Result<int64_t> CountMatches(const storage::ReadView& view, storage::Cf cf,
                             const PageRequest& request, const EntryMatch& match, int64_t stop_at) {
  MNEMO_ASSIGN_OR_RETURN(const storage::ScanRange range, RangeOf(request, /*use_cursor=*/false));
  int64_t count = 0;
  Status failed;
  Status status = view.Scan(cf, range, [&](std::string_view key, std::string_view value) {
    if (PastEnd(request, key) || count >= stop_at) return false;
    if (!Admits(match, key, value, &failed)) return failed.ok();
    ++count;
    return count < stop_at;
  });
  MNEMO_RETURN_IF_ERROR(status);
  MNEMO_RETURN_IF_ERROR(failed);
  return count;
}

void SetTimeBounds(std::optional<Timestamp> from, std::optional<Timestamp> until,
                   PageRequest* request) {
  // Newest first: the latest admitted time (until - 1) has the smallest key, and every key of a
  // time >= from sorts before the first key of time from - 1.
  if (until && *until > kMinTimestamp && *until <= kMaxTimestamp) {
    request->first = request->prefix + keys::KeyBuilder().I64Desc(*until - 1).Release();
  }
  if (from && *from > kMinTimestamp && *from <= kMaxTimestamp) {
    request->end = request->prefix + keys::KeyBuilder().I64Desc(*from - 1).Release();
  }
}

Uuid TrailingId(std::string_view key) {
  return Uuid::FromBytes(key.substr(key.size() - Uuid::kSize));
}

}  // namespace mnemo::tables
