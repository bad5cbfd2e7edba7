// ConversationStore: conversation rows, their per-user indexes and counts (SPEC §2).
//
// Index maintenance lives in one place, Save(): given a row's old and new state it stages the
// row, every index entry and the user's counts in the caller's WriteTxn, so they always commit
// together.  Write methods stage into a WriteTxn and REQUIRE the caller to hold the user's
// LockTable stripe until the transaction ends (commits or is destroyed).  Read methods use a
// snapshot.  The by-updated index is mirrored in memory (RecencyIndex) for the recent list, and
// the rows it lists are cached by version (RowVersionCache).
//
// Thread-safety: thread-safe.
#pragma once

#include <optional>
#include <string_view>

#include "mnemo/records.h"
#include "mnemo/result.h"
#include "storage/db.h"
#include "storage/write_txn.h"
#include "tables/message_vectors.h"
#include "tables/recency_index.h"
#include "tables/row_codec.h"
#include "tables/row_version_cache.h"

namespace mnemo::tables {

class ConversationStore {
 public:
  // Rows cached for by-updated lists, at most (RowVersionCache).
  static constexpr size_t kDefaultRowCacheBytes = size_t{32} << 20;

  // `db` must outlive the store.  `recency` bounds the in-memory recent-list mirror,
  // `row_cache_bytes` the rows kept in memory for by-updated lists (0: none).
  explicit ConversationStore(storage::Db& db, RecencyIndex::Limits recency = {},
                             size_t row_cache_bytes = kDefaultRowCacheBytes)
      : db_(db), recency_(db, recency), rows_(row_cache_bytes) {}
  // Where message vectors are removed and conversation states published (hard and soft
  // deletes); must outlive the store.  Null: no vector layer.
  void set_message_vectors(MessageVectors* vectors) { message_vectors_ = vectors; }

  // ---- writes (stage into txn) ----
  // Creates a conversation.  With a client-supplied id that this user already owns, returns the
  // existing row unchanged (idempotent retry); an id owned by another user is DUPLICATE_RECORD.
  Result<Conversation> Create(storage::WriteTxn& txn, std::string_view user_id,
                              const NewConversation& input) const;
  // Creates the conversation with input.id (required) or replaces its title, summary, model,
  // system_prompt and metadata.  Counters and deletion state are kept.
  Result<Conversation> Upsert(storage::WriteTxn& txn, std::string_view user_id,
                              const NewConversation& input) const;
  Result<Conversation> Update(storage::WriteTxn& txn, std::string_view user_id, const Uuid& id,
                              const ConversationUpdate& update) const;
  // Soft delete; deleting a deleted conversation is a no-op.
  Result<Conversation> SoftDelete(storage::WriteTxn& txn, std::string_view user_id,
                                  const Uuid& id) const;
  // Restores a soft-deleted conversation; restoring an active one is a no-op.
  Result<Conversation> Undelete(storage::WriteTxn& txn, std::string_view user_id,
                                const Uuid& id) const;
  // Removes the conversation, its messages and their index entries.
  Status HardDelete(storage::WriteTxn& txn, std::string_view user_id, const Uuid& id) const;

  // Loads a row of `user_id` through the transaction (sees staged writes).  NOT_FOUND for a
  // missing row, another user's row, or (unless allow_deleted) a soft-deleted one.
  Result<ConversationRow> LoadForWrite(const storage::WriteTxn& txn, std::string_view user_id,
                                       const Uuid& id, bool allow_deleted) const;
  // Stages `new_row` with its index entries and count changes.  `old_row` is the committed or
  // staged state it replaces, or null for a new row.
  Status Save(storage::WriteTxn& txn, const ConversationRow* old_row,
              const ConversationRow& new_row) const;

  // ---- reads ----
  Result<Conversation> Get(std::string_view user_id, const Uuid& id, bool include_deleted) const;
  // A page of the user's conversations matching options.filter, newest first by the order's
  // timestamp; total counts every match.
  Result<ConversationPage> List(std::string_view user_id,
                                const ConversationListOptions& options) const;
  // List() with filter.title_contains = query.
  Result<ConversationPage> SearchByTitle(std::string_view user_id, std::string_view query,
                                         const ConversationListOptions& options) const;
  // The number of the user's conversations matching `filter`, counting at most `stop_at`.
  Result<int64_t> Count(std::string_view user_id, bool include_deleted,
                        const ConversationFilter& filter, int64_t stop_at) const;
  Result<UserStats> Stats(std::string_view user_id) const;

  RecencyIndex& TEST_recency() const { return recency_; }
  RowVersionCache& TEST_rows() const { return rows_; }

 private:
  // Stages the index changes from `old_row` to `new_row` (either may be null).
  void StageIndexes(storage::WriteTxn& txn, const Conversation* old_row,
                    const Conversation* new_row) const;

  storage::Db& db_;
  // Changed by the writes staged in StageIndexes (which are const: staging does not change the
  // store until the transaction commits); internally synchronized.
  mutable RecencyIndex recency_;
  // Filled by committed writes and by by-updated lists, which name the row versions they need;
  // a hard delete forgets its row.  Internally synchronized.
  mutable RowVersionCache rows_;
  MessageVectors* message_vectors_ = nullptr;
};

// A timestamp for a change to a row last changed at `previous`: `now` (the transaction's,
// WriteTxn::now()), but strictly later than `previous` so updated_at always moves forward even
// if the clock steps back.
Timestamp NextTimestamp(Timestamp now, Timestamp previous);

}  // namespace mnemo::tables
