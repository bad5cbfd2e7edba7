#include "tables/conversation_store.h"

#include <algorithm>
#include <map>

#include "common/utf8.h"
#include "storage/key_codec.h"
#include "tables/counts.h"
#include "tables/filters.h"
#include "tables/index_pager.h"
#include "tables/message_store.h"
#include "tables/purge_queue.h"
#include "tables/validation.h"

namespace mnemo::tables {
namespace {

using keys::IndexTag;
using keys::Scope;
using storage::Cf;

constexpr char kEmptyObject[] = "{}";

Status ValidateNew(const NewConversation& input) {
  MNEMO_RETURN_IF_ERROR(ValidateRequiredText("title", input.title, kMaxTitleChars));
  if (input.summary) MNEMO_RETURN_IF_ERROR(ValidateText("summary", *input.summary));
  if (input.model)
    MNEMO_RETURN_IF_ERROR(ValidateRequiredText("model", *input.model, kMaxModelChars));
  MNEMO_RETURN_IF_ERROR(ValidateText("system_prompt", input.system_prompt));
  if (input.metadata) MNEMO_RETURN_IF_ERROR(ValidateJsonObject("metadata", *input.metadata));
  if (input.id && input.id->IsNil())
    return Status::ValidationError("id", "must not be the nil UUID");
  return Status::Ok();
}

Status ValidateUpdate(const ConversationUpdate& update) {
  if (update.title)
    MNEMO_RETURN_IF_ERROR(ValidateRequiredText("title", *update.title, kMaxTitleChars));
  if (update.summary) MNEMO_RETURN_IF_ERROR(ValidateText("summary", *update.summary));
  if (update.model)
    MNEMO_RETURN_IF_ERROR(ValidateRequiredText("model", *update.model, kMaxModelChars));
  if (update.system_prompt)
    MNEMO_RETURN_IF_ERROR(ValidateText("system_prompt", *update.system_prompt));
  if (update.metadata) MNEMO_RETURN_IF_ERROR(ValidateJsonObject("metadata", *update.metadata));
  return Status::Ok();
}

void ApplyFields(const NewConversation& input, Conversation* c) {
  c->title = input.title;
  c->summary = input.summary;
  c->model = input.model.value_or(kDefaultModel);
  c->system_prompt = input.system_prompt;
  c->metadata = input.metadata.value_or(kEmptyObject);
}

}  // namespace

Timestamp NextTimestamp(Timestamp now, Timestamp previous) { return std::max(now, previous + 1); }

Result<ConversationRow> ConversationStore::LoadForWrite(const storage::WriteTxn& txn,
                                                        std::string_view user_id, const Uuid& id,
                                                        bool allow_deleted) const {
  std::string value;
  Status status = txn.Get(Cf::kConversations, keys::ConversationKey(id), &value);
  if (status.IsNotFound()) return Status::NotFound("conversation " + id.ToString() + " not found");
  MNEMO_RETURN_IF_ERROR(status);
  ConversationRow row;
  MNEMO_RETURN_IF_ERROR(DecodeConversation(value, id, &row));
  if (row.conversation.user_id != user_id || (row.conversation.is_deleted && !allow_deleted)) {
    return Status::NotFound("conversation " + id.ToString() + " not found");
  }
  return row;
}

namespace {

struct IndexEntry {
  std::string value;
  // A by-updated entry.  Its key embeds updated_at, which every change of the row moves forward
  // (NextTimestamp): it is written once and deleted once, so its delete may be a SingleDelete.
  bool written_once = false;
};

// The index entries (key -> entry) a conversation row owns.
std::map<std::string, IndexEntry> IndexEntries(const Conversation& c) {
  std::map<std::string, IndexEntry> entries;
  const std::string folded_title = utf8::FoldCase(c.title);
  for (Scope scope : {Scope::kActive, Scope::kAll}) {
    if (scope == Scope::kActive && c.is_deleted) continue;
    entries[keys::UserTimeKey(IndexTag::kConversationByCreated, c.user_id, scope, c.created_at,
                              c.id)] = {folded_title};
    entries[keys::UserTimeKey(IndexTag::kConversationByUpdated, c.user_id, scope, c.updated_at,
                              c.id)] = {"", true};
  }
  return entries;
}

}  // namespace

void ConversationStore::StageIndexes(storage::WriteTxn& txn, const Conversation* old_row,
                                     const Conversation* new_row) const {
  // Only entries that change are written: an append moves the by-updated entries but leaves
  // the by-created ones alone, and the moved entries' deletes are SingleDeletes, which vanish
  // with their Put at the next flush — so a chatty user's recent-conversations scan does not
  // wade through thousands of tombstones.
  const auto before = old_row ? IndexEntries(*old_row) : std::map<std::string, IndexEntry>();
  const auto after = new_row ? IndexEntries(*new_row) : std::map<std::string, IndexEntry>();
  const std::string_view user_id = new_row ? new_row->user_id : old_row->user_id;
  for (const auto& [key, entry] : before) {
    if (after.contains(key)) continue;
    if (entry.written_once) {
      txn.SingleDelete(Cf::kIndex, key);
      recency_.Stage(txn, user_id, key, /*added=*/false);
    } else {
      txn.Delete(Cf::kIndex, key);
    }
  }
  for (const auto& [key, entry] : after) {
    auto it = before.find(key);
    if (it == before.end() || it->second.value != entry.value) {
      txn.Put(Cf::kIndex, key, entry.value);
      if (entry.written_once) recency_.Stage(txn, user_id, key, /*added=*/true);
    }
  }
}

Status ConversationStore::Save(storage::WriteTxn& txn, const ConversationRow* old_row,
                               const ConversationRow& new_row) const {
  const Conversation& c = new_row.conversation;
  const std::string counts_key = keys::UserCountsKey(IndexTag::kUserConversationCounts, c.user_id);
  const bool counts_change = old_row == nullptr || old_row->conversation.is_deleted != c.is_deleted;
  if (counts_change) {
    MNEMO_ASSIGN_OR_RETURN(Counts counts, LoadCounts(txn, counts_key));
    if (old_row != nullptr) Tally(&counts, old_row->conversation, -1);
    Tally(&counts, c, +1);
    txn.Put(Cf::kIndex, counts_key, EncodeCounts(counts));
    if (old_row != nullptr && message_vectors_ != nullptr)
      message_vectors_->StageConversationState(txn, c.id, c.is_deleted);
  }
  StageIndexes(txn, old_row ? &old_row->conversation : nullptr, &c);
  StagePurgeEntry(txn, keys::PurgeKind::kConversation, old_row ? &old_row->conversation : nullptr,
                  &c);
  txn.Put(Cf::kConversations, keys::ConversationKey(c.id), EncodeConversation(new_row));
  // The committed row is the newest version: a list that names it next finds it in memory.
  txn.OnCommit([this, row = c] { rows_.Fill(row, rows_.epoch()); });
  return Status::Ok();
}

Result<Conversation> ConversationStore::Create(storage::WriteTxn& txn, std::string_view user_id,
                                               const NewConversation& input) const {
  MNEMO_RETURN_IF_ERROR(ValidateNew(input));
  const Uuid id = input.id.value_or(Uuid::Generate());
  if (input.id) {
    std::string existing;
    Status found = txn.Get(Cf::kConversations, keys::ConversationKey(id), &existing);
    if (found.ok()) {
      ConversationRow row;
      MNEMO_RETURN_IF_ERROR(DecodeConversation(existing, id, &row));
      if (row.conversation.user_id != user_id) {
        return Status::DuplicateRecord("conversation id " + id.ToString() + " is already in use");
      }
      return row.conversation;
    }
    if (!found.IsNotFound()) return found;
  }
  ConversationRow row;
  Conversation& c = row.conversation;
  c.id = id;
  c.user_id = std::string(user_id);
  ApplyFields(input, &c);
  c.created_at = c.updated_at = txn.now();
  MNEMO_RETURN_IF_ERROR(Save(txn, nullptr, row));
  return c;
}

Result<Conversation> ConversationStore::Upsert(storage::WriteTxn& txn, std::string_view user_id,
                                               const NewConversation& input) const {
  if (!input.id) return Status::ValidationError("id", "is required for an upsert");
  MNEMO_RETURN_IF_ERROR(ValidateNew(input));
  std::string existing;
  Status found = txn.Get(Cf::kConversations, keys::ConversationKey(*input.id), &existing);
  if (found.IsNotFound()) return Create(txn, user_id, input);
  MNEMO_RETURN_IF_ERROR(found);
  ConversationRow old_row;
  MNEMO_RETURN_IF_ERROR(DecodeConversation(existing, *input.id, &old_row));
  if (old_row.conversation.user_id != user_id) {
    return Status::DuplicateRecord("conversation id " + input.id->ToString() +
                                   " is already in use");
  }
  ConversationRow row = old_row;
  ApplyFields(input, &row.conversation);
  row.conversation.updated_at = NextTimestamp(txn.now(), old_row.conversation.updated_at);
  MNEMO_RETURN_IF_ERROR(Save(txn, &old_row, row));
  return row.conversation;
}

Result<Conversation> ConversationStore::Update(storage::WriteTxn& txn, std::string_view user_id,
                                               const Uuid& id,
                                               const ConversationUpdate& update) const {
  MNEMO_RETURN_IF_ERROR(ValidateUpdate(update));
  MNEMO_ASSIGN_OR_RETURN(ConversationRow old_row, LoadForWrite(txn, user_id, id, false));
  ConversationRow row = old_row;
  Conversation& c = row.conversation;
  if (update.title) c.title = *update.title;
  if (update.summary) c.summary = *update.summary;
  if (update.model) c.model = *update.model;
  if (update.system_prompt) c.system_prompt = *update.system_prompt;
  if (update.metadata) c.metadata = *update.metadata;
  c.updated_at = NextTimestamp(txn.now(), old_row.conversation.updated_at);
  MNEMO_RETURN_IF_ERROR(Save(txn, &old_row, row));
  return c;
}

Result<Conversation> ConversationStore::SoftDelete(storage::WriteTxn& txn, std::string_view user_id,
                                                   const Uuid& id) const {
  MNEMO_ASSIGN_OR_RETURN(ConversationRow old_row, LoadForWrite(txn, user_id, id, true));
  if (old_row.conversation.is_deleted) return old_row.conversation;
  ConversationRow row = old_row;
  row.conversation.is_deleted = true;
  row.conversation.updated_at = NextTimestamp(txn.now(), old_row.conversation.updated_at);
  row.conversation.deleted_at = row.conversation.updated_at;
  MNEMO_RETURN_IF_ERROR(Save(txn, &old_row, row));
  return row.conversation;
}

Result<Conversation> ConversationStore::Undelete(storage::WriteTxn& txn, std::string_view user_id,
                                                 const Uuid& id) const {
  MNEMO_ASSIGN_OR_RETURN(ConversationRow old_row, LoadForWrite(txn, user_id, id, true));
  if (!old_row.conversation.is_deleted) return old_row.conversation;
  ConversationRow row = old_row;
  row.conversation.is_deleted = false;
  row.conversation.deleted_at.reset();
  row.conversation.updated_at = NextTimestamp(txn.now(), old_row.conversation.updated_at);
  MNEMO_RETURN_IF_ERROR(Save(txn, &old_row, row));
  return row.conversation;
}

Status ConversationStore::HardDelete(storage::WriteTxn& txn, std::string_view user_id,
                                     const Uuid& id) const {
  MNEMO_ASSIGN_OR_RETURN(ConversationRow row, LoadForWrite(txn, user_id, id, true));
  MNEMO_RETURN_IF_ERROR(StageDeleteAllMessages(txn, user_id, id, message_vectors_).status());
  if (message_vectors_ != nullptr) message_vectors_->StageConversationErased(txn, id);
  const std::string counts_key = keys::UserCountsKey(IndexTag::kUserConversationCounts, user_id);
  MNEMO_ASSIGN_OR_RETURN(Counts counts, LoadCounts(txn, counts_key));
  Tally(&counts, row.conversation, -1);
  StageIndexes(txn, &row.conversation, nullptr);
  StagePurgeEntry<Conversation>(txn, keys::PurgeKind::kConversation, &row.conversation, nullptr);
  txn.Put(Cf::kIndex, counts_key, EncodeCounts(counts));
  txn.Delete(Cf::kConversations, keys::ConversationKey(id));
  txn.OnCommit([this, id] { rows_.Forget(id); });
  return Status::Ok();
}

Result<Conversation> ConversationStore::Get(std::string_view user_id, const Uuid& id,
                                            bool include_deleted) const {
  MNEMO_RETURN_IF_ERROR(ValidateUserId(user_id));
  std::string value;
  Status status = db_.Get(Cf::kConversations, keys::ConversationKey(id), &value);
  if (status.IsNotFound()) return Status::NotFound("conversation " + id.ToString() + " not found");
  MNEMO_RETURN_IF_ERROR(status);
  ConversationRow row;
  MNEMO_RETURN_IF_ERROR(DecodeConversation(value, id, &row));
  if (row.conversation.user_id != user_id || (row.conversation.is_deleted && !include_deleted)) {
    return Status::NotFound("conversation " + id.ToString() + " not found");
  }
  return std::move(row.conversation);
}

namespace {

// The rows of `page`'s entries, in order, read from `view`.  With `cache`, the entries are
// by-updated ones (key: `prefix_size` bytes of prefix, then [updated desc][uuid]), which name the
// row version in `view`: rows cached at that version are taken from `cache`, and the others are
// read and cached (`epoch` was read from the cache before `view` was taken).
Result<std::vector<Conversation>> LoadRows(const storage::ReadView& view, const IndexPage& page,
                                           RowVersionCache* cache, size_t prefix_size,
                                           uint64_t epoch) {
  std::vector<Conversation> items(page.entries.size());
  std::vector<size_t> missing;
  std::vector<std::string> row_keys;
  for (size_t i = 0; i < page.entries.size(); ++i) {
    const std::string& key = page.entries[i].first;
    const Uuid id = TrailingId(key);
    if (cache != nullptr) {
      keys::KeyReader reader(std::string_view(key).substr(prefix_size));
      Timestamp updated_at = 0;
      if (!reader.I64Desc(&updated_at)) return Status::Internal("corrupt conversation index key");
      if (cache->Find(id, updated_at, &items[i])) continue;
    }
    items[i].id = id;
    missing.push_back(i);
    row_keys.push_back(keys::ConversationKey(id));
  }
  if (missing.empty()) return items;
  std::vector<std::optional<std::string>> row_values;
  MNEMO_RETURN_IF_ERROR(view.MultiGet(Cf::kConversations, row_keys, &row_values));
  for (size_t m = 0; m < missing.size(); ++m) {
    Conversation& item = items[missing[m]];
    if (!row_values[m])
      return Status::Internal("index entry without conversation row " + item.id.ToString());
    ConversationRow row;
    MNEMO_RETURN_IF_ERROR(DecodeConversation(*row_values[m], item.id, &row));
    if (cache != nullptr) cache->Fill(row.conversation, epoch);
    item = std::move(row.conversation);
  }
  return items;
}

// The rows of `page`'s by-updated entries (key: `prefix_size` bytes of prefix, then
// [updated desc][uuid]) when `cache` holds each at the version its entry names; nullopt when one
// is missing.
Result<std::optional<std::vector<Conversation>>> CachedRows(const IndexPage& page,
                                                            const RowVersionCache& cache,
                                                            size_t prefix_size) {
  std::vector<Conversation> items(page.entries.size());
  for (size_t i = 0; i < page.entries.size(); ++i) {
    const std::string& key = page.entries[i].first;
    keys::KeyReader reader(std::string_view(key).substr(prefix_size));
    Timestamp updated_at = 0;
    if (!reader.I64Desc(&updated_at)) return Status::Internal("corrupt conversation index key");
    if (!cache.Find(TrailingId(key), updated_at, &items[i]))
      return std::optional<std::vector<Conversation>>();
  }
  return std::optional<std::vector<Conversation>>(std::move(items));
}

// How one list or count walks an index: the prefix and time bounds of the order's index, and
// the conditions checked per entry.  Conditions on the order's own timestamp and (by created) on
// the title are read from the index entry; the rest load the row.
class ConversationScan {
 public:
  static Result<ConversationScan> Plan(std::string_view user_id, ConversationOrder order,
                                       bool include_deleted, const ConversationFilter& filter) {
    MNEMO_RETURN_IF_ERROR(
        ValidateTimeRange("created_until", filter.created_from, filter.created_until));
    MNEMO_RETURN_IF_ERROR(
        ValidateTimeRange("updated_until", filter.updated_from, filter.updated_until));
    if (filter.model)
      MNEMO_RETURN_IF_ERROR(ValidateRequiredText("model", *filter.model, kMaxModelChars));
    if (filter.title_contains)
      MNEMO_RETURN_IF_ERROR(ValidateText("title_contains", *filter.title_contains));
    ConversationScan scan;
    MNEMO_ASSIGN_OR_RETURN(scan.metadata_, MetadataMatcher::Parse(filter.metadata_equals));
    scan.filter_ = filter;
    scan.by_updated_ = order == ConversationOrder::kUpdatedDesc;
    const IndexTag tag =
        scan.by_updated_ ? IndexTag::kConversationByUpdated : IndexTag::kConversationByCreated;
    scan.request_.prefix =
        keys::UserScopePrefix(tag, user_id, include_deleted ? Scope::kAll : Scope::kActive);
    if (scan.by_updated_) {
      SetTimeBounds(filter.updated_from, filter.updated_until, &scan.request_);
    } else {
      SetTimeBounds(filter.created_from, filter.created_until, &scan.request_);
    }
    if (filter.title_contains) scan.needle_ = utf8::FoldCase(*filter.title_contains);
    return scan;
  }

  // True when the user's counts record answers the count (no condition at all).
  bool Unfiltered() const {
    const ConversationFilter& f = filter_;
    return !f.created_from && !f.created_until && !f.updated_from && !f.updated_until && !f.model &&
           !f.title_contains && metadata_.empty();
  }
  PageRequest& request() { return request_; }
  bool by_updated() const { return by_updated_; }

  // The per-entry condition; empty when Unfiltered().  Borrows this scan and `view`.
  EntryMatch Match(const storage::ReadView& view) const {
    if (Unfiltered()) return {};
    return [this, &view](std::string_view key, std::string_view value) -> Result<bool> {
      return Matches(view, key, value);
    };
  }

 private:
  Result<bool> Matches(const storage::ReadView& view, std::string_view key,
                       std::string_view value) const {
    const ConversationFilter& f = filter_;
    keys::KeyReader reader(key.substr(request_.prefix.size()));
    Timestamp keyed_at = 0;
    if (!reader.I64Desc(&keyed_at)) return Status::Internal("corrupt conversation index key");
    if (by_updated_ ? !InTimeRange(keyed_at, f.updated_from, f.updated_until)
                    : !InTimeRange(keyed_at, f.created_from, f.created_until)) {
      return false;
    }
    if (!by_updated_ && f.title_contains && !utf8::ContainsFolded(value, needle_)) return false;
    const bool needs_row =
        f.model || !metadata_.empty() || (by_updated_ && f.title_contains) ||
        (by_updated_ ? (f.created_from || f.created_until) : (f.updated_from || f.updated_until));
    if (!needs_row) return true;
    const Uuid id = TrailingId(key);
    std::string encoded;
    MNEMO_RETURN_IF_ERROR(view.Get(Cf::kConversations, keys::ConversationKey(id), &encoded));
    ConversationRow row;
    MNEMO_RETURN_IF_ERROR(DecodeConversation(encoded, id, &row));
    const Conversation& c = row.conversation;
    if (!InTimeRange(c.created_at, f.created_from, f.created_until)) return false;
    if (!InTimeRange(c.updated_at, f.updated_from, f.updated_until)) return false;
    if (f.model && c.model != *f.model) return false;
    if (by_updated_ && f.title_contains && !utf8::ContainsFolded(utf8::FoldCase(c.title), needle_))
      return false;
    return metadata_.Matches(c.metadata);
  }

  ConversationFilter filter_;
  MetadataMatcher metadata_;
  bool by_updated_ = false;
  std::string needle_;
  PageRequest request_;
};

}  // namespace

Result<ConversationPage> ConversationStore::List(std::string_view user_id,
                                                 const ConversationListOptions& options) const {
  MNEMO_RETURN_IF_ERROR(ValidateUserId(user_id));
  MNEMO_RETURN_IF_ERROR(ValidatePaging(options.skip, options.limit, kMaxConversationPageSize));
  MNEMO_ASSIGN_OR_RETURN(
      ConversationScan scan,
      ConversationScan::Plan(user_id, options.order, options.include_deleted, options.filter));
  PageRequest& request = scan.request();
  request.cursor = options.cursor;
  request.skip = options.skip;
  request.limit = options.limit;
  // The recent list (by updated, no condition) reads the in-memory mirror of the by-updated
  // index when it can; otherwise (busy or uncached user, created order, a filter) it scans.
  const bool recent_list = scan.Unfiltered() && options.order == ConversationOrder::kUpdatedDesc;
  std::string start;
  if (recent_list) {
    MNEMO_ASSIGN_OR_RETURN(start, CursorStart(request));
  }
  const Scope scope = options.include_deleted ? Scope::kAll : Scope::kActive;
  const uint64_t epoch = rows_.epoch();  // before the snapshot the rows are read from
  std::optional<RecencyIndex::CachedPage> cached;
  ConversationPage result;
  if (recent_list) {
    // From memory alone when it can: the mirror's page names the versions of its rows, and when
    // the row cache holds them all no snapshot is needed.
    std::optional<RecencyIndex::CachedPage> quick =
        recency_.Page(user_id, scope, request, start, /*with_view=*/false);
    if (quick) {
      MNEMO_ASSIGN_OR_RETURN(std::optional<std::vector<Conversation>> items,
                             CachedRows(quick->page, rows_, request.prefix.size()));
      if (items) {
        result.items = std::move(*items);
        result.next_cursor = std::move(quick->page.next_cursor);
        result.total = quick->total;
        return result;
      }
      if (auto full = recency_.Page(user_id, scope, request, start))
        cached.emplace(std::move(*full));
    }
  }
  // The mirror counts the scope's entries as it builds the page.
  const bool counted = cached.has_value();
  EntryMatch match;
  if (!cached) {
    cached.emplace();
    cached->view.emplace(db_.Snapshot());
    match = scan.Match(*cached->view);
    MNEMO_ASSIGN_OR_RETURN(cached->page, ScanPage(*cached->view, Cf::kIndex, request, match));
  }
  const storage::ReadView& view = *cached->view;
  IndexPage& page = cached->page;
  MNEMO_ASSIGN_OR_RETURN(result.items, LoadRows(view, page, scan.by_updated() ? &rows_ : nullptr,
                                                request.prefix.size(), epoch));
  result.next_cursor = std::move(page.next_cursor);
  if (counted) {
    result.total = cached->total;
  } else if (scan.Unfiltered()) {
    MNEMO_ASSIGN_OR_RETURN(
        Counts counts,
        ReadCounts(view, keys::UserCountsKey(IndexTag::kUserConversationCounts, user_id)));
    result.total = options.include_deleted ? counts.total : counts.active;
  } else {
    MNEMO_ASSIGN_OR_RETURN(result.total, CountMatches(view, Cf::kIndex, request, match));
  }
  return result;
}

Result<ConversationPage> ConversationStore::SearchByTitle(
    std::string_view user_id, std::string_view query,
    const ConversationListOptions& options) const {
  ConversationListOptions with_title = options;
  with_title.filter.title_contains = std::string(query);
  MNEMO_RETURN_IF_ERROR(ValidateText("query", query));
  return List(user_id, with_title);
}

Result<int64_t> ConversationStore::Count(std::string_view user_id, bool include_deleted,
                                         const ConversationFilter& filter, int64_t stop_at) const {
  MNEMO_RETURN_IF_ERROR(ValidateUserId(user_id));
  MNEMO_ASSIGN_OR_RETURN(
      ConversationScan scan,
      ConversationScan::Plan(user_id, ConversationOrder::kCreatedDesc, include_deleted, filter));
  storage::ReadView view = db_.Snapshot();
  if (scan.Unfiltered()) {
    MNEMO_ASSIGN_OR_RETURN(
        Counts counts,
        ReadCounts(view, keys::UserCountsKey(IndexTag::kUserConversationCounts, user_id)));
    return std::min(include_deleted ? counts.total : counts.active, stop_at);
  }
  return CountMatches(view, Cf::kIndex, scan.request(), scan.Match(view), stop_at);
}

Result<UserStats> ConversationStore::Stats(std::string_view user_id) const {
  MNEMO_RETURN_IF_ERROR(ValidateUserId(user_id));
  storage::ReadView view = db_.Snapshot();
  UserStats stats;
  MNEMO_ASSIGN_OR_RETURN(
      Counts counts,
      ReadCounts(view, keys::UserCountsKey(IndexTag::kUserConversationCounts, user_id)));
  stats.total = counts.total;
  stats.active = counts.active;
  stats.deleted = counts.deleted;
  // The newest entry of the active scope: soft-deleted conversations are not activity.
  storage::ScanRange newest;
  newest.prefix = keys::UserScopePrefix(IndexTag::kConversationByUpdated, user_id, Scope::kActive);
  MNEMO_RETURN_IF_ERROR(view.Scan(Cf::kIndex, newest, [&](std::string_view key, std::string_view) {
    keys::KeyReader reader(key.substr(newest.prefix.size()));
    Timestamp updated_at = 0;
    if (reader.I64Desc(&updated_at)) stats.last_activity = updated_at;
    return false;
  }));
  return stats;
}

}  // namespace mnemo::tables
