#include "tables/index_pager.h"

#include "mnemo/base/hex.h"
#include "storage/key_codec.h"

namespace mnemo::tables {

Result<IndexPage> ScanPage(const storage::ReadView& view, storage::Cf cf,
                           const PageRequest& request, const ValueMatch& match) {
  storage::ScanRange range;
  range.prefix = request.prefix;
  range.reverse = request.reverse;
  if (!request.cursor.empty()) {
    if (!HexDecode(request.cursor, &range.start) || !range.start.starts_with(request.prefix) ||
        range.start.size() <= request.prefix.size()) {
      return Status::ValidationError("cursor", "is malformed or belongs to another listing");
    }
    range.skip_start = true;
  }
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
