#include "tables/index_pager.h"

#include "mnemo/base/hex.h"
#include "storage/key_codec.h"

namespace mnemo::tables {

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
                           const PageRequest& request, const ValueMatch& match) {
  storage::ScanRange range;
  range.prefix = request.prefix;
  range.reverse = request.reverse;
  MNEMO_ASSIGN_OR_RETURN(range.start, CursorStart(request));
  range.skip_start = !range.start.empty();
  IndexPage page;
  int64_t to_skip = request.skip;
  bool more = false;
  Status status = view.Scan(cf, range, [&](std::string_view key, std::string_view value) {
    if (match && !match(value)) return true;
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
  if (more && !page.entries.empty()) page.next_cursor = HexEncode(page.entries.back().first);
  return page;
}

Result<int64_t> CountMatches(const storage::ReadView& view, storage::Cf cf,
                             const std::string& prefix, const ValueMatch& match) {
  int64_t count = 0;
  storage::ScanRange range;
  range.prefix = prefix;
  Status status = view.Scan(cf, range, [&](std::string_view, std::string_view value) {
    if (!match || match(value)) ++count;
    return true;
  });
  MNEMO_RETURN_IF_ERROR(status);
  return count;
}

Uuid TrailingId(std::string_view key) { return Uuid::FromBytes(key.substr(key.size() - Uuid::kSize)); }

}  // namespace mnemo::tables
