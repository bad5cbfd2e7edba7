// MessageStore: the messages of conversations (SPEC §2).
//
// Messages live under their conversation's key prefix, ordered by a per-conversation sequence
// number, so paging a conversation is one range scan in either direction; a message-id index
// maps ids to (conversation, seq).  Every append updates the conversation's counters
// (message_count, total_tokens, last_message_at, updated_at) in the same WriteTxn.
//
// Write methods REQUIRE the caller to hold the user's LockTable stripe until commit.
// Thread-safety: thread-safe (stateless beyond its references).
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "mnemo/records.h"
#include "mnemo/result.h"
#include "storage/db.h"
#include "storage/write_txn.h"
#include "tables/conversation_store.h"
#include "tables/message_vectors.h"
#include "tables/row_codec.h"

namespace mnemo::tables {

class MessageStore {
 public:
  // Both references must outlive the store.
  MessageStore(storage::Db& db, const ConversationStore& conversations)
      : db_(db), conversations_(conversations) {}
  // Where message embeddings go; must outlive the store.  Until it is set, a message with an
  // embedding is refused (UNAVAILABLE).
  void set_vectors(MessageVectors* vectors) { vectors_ = vectors; }

  // ---- writes (stage into txn) ----
  // Appends to an existing, non-deleted conversation of the user.  A client-supplied id that
  // already names a message of that conversation returns it unchanged (idempotent retry); an id
  // used elsewhere is DUPLICATE_RECORD.
  Result<Message> Append(storage::WriteTxn& txn, std::string_view user_id,
                         const NewMessage& input) const;
  // Appends input.id (required) or replaces its role, content, parts, tool data, tokens,
  // metadata and embedding; the conversation's total_tokens follows the change.
  Result<Message> Upsert(storage::WriteTxn& txn, std::string_view user_id,
                         const NewMessage& input) const;
  Result<Message> SetToolResults(storage::WriteTxn& txn, std::string_view user_id,
                                 const Uuid& message_id, std::string_view tool_results) const;
  // Changes the fields set in `update`; the conversation's total_tokens and updated_at follow.
  // The embedding is kept (an upsert replaces it).
  Result<Message> Update(storage::WriteTxn& txn, std::string_view user_id, const Uuid& message_id,
                         const MessageUpdate& update) const;
  // Deletes one message; the conversation's message_count, total_tokens, last_message_at (the
  // newest remaining message's time) and updated_at follow.  Returns the deleted message.
  Result<Message> Delete(storage::WriteTxn& txn, std::string_view user_id,
                         const Uuid& message_id) const;
  // Deletes every message of the conversation and resets its counters; returns how many.
  Result<int64_t> DeleteAll(storage::WriteTxn& txn, std::string_view user_id,
                            const Uuid& conversation_id) const;

  // Backfill of terms: stages the terms of the conversation's messages that have none (stored
  // before their content was indexed), at most `max_rows` rows read, starting after the message
  // key `after` (empty: from the first).  *last_key gets the key of the last row read, or empty
  // when the conversation has no row after `after`; *indexed counts the rows given terms.
  // REQUIRES: the conversation's user's write lock; the conversation exists (deleted: its state).
  Status StageMissingTerms(storage::WriteTxn& txn, std::string_view user_id,
                           const Uuid& conversation_id, bool conversation_deleted,
                           std::string_view after, size_t max_rows, std::string* last_key,
                           int64_t* indexed) const;

  // ---- reads ----
  Result<Message> Get(std::string_view user_id, const Uuid& message_id) const;
  // Get() of each id from one snapshot; (*messages)[i] is empty where Get would be NOT_FOUND.
  Status GetMany(std::string_view user_id, const std::vector<Uuid>& message_ids,
                 std::vector<std::optional<Message>>* messages) const;
  Result<MessagePage> List(std::string_view user_id, const Uuid& conversation_id,
                           const MessageQuery& query) const;
  // The number of the conversation's messages matching the query's filters (paging ignored),
  // counting at most `stop_at`.
  Result<int64_t> Count(std::string_view user_id, const Uuid& conversation_id,
                        const MessageQuery& query, int64_t stop_at) const;
  // The last `count` (1..200) messages, returned oldest first.
  Result<std::vector<Message>> Last(std::string_view user_id, const Uuid& conversation_id,
                                    int64_t count) const;
  // The newest message with `role`, or nullopt when there is none.
  Result<std::optional<Message>> LastByRole(std::string_view user_id, const Uuid& conversation_id,
                                            Role role) const;
  Result<TokenStats> TokenUsage(std::string_view user_id, const Uuid& conversation_id) const;
  // The conversation and its last `max_messages` messages (oldest first, in *messages), read
  // from one snapshot.
  Result<Conversation> ReadRecent(std::string_view user_id, const Uuid& conversation_id,
                                  int64_t max_messages, std::vector<Message>* messages) const;

 private:
  struct Located {
    ConversationRow conversation;
    Message message;
    MessageRefs refs;
    uint64_t seq = 0;
  };
  // Stages input's embedding for `m` when it has one; sets m->has_embedding.
  Result<std::optional<VectorRef>> StageEmbedding(storage::WriteTxn& txn, std::string_view user_id,
                                                  const NewMessage& input, Message* m) const;
  // Stages the terms of `m`'s content when it has any; returns where they are stored.
  Result<std::optional<TextRef>> StageText(storage::WriteTxn& txn, std::string_view user_id,
                                           const Message& m) const;
  // The terms' ref of `after`, a new version of `before` whose terms are at `ref`: re-staged when
  // its content or role changed, else `ref`.
  Result<std::optional<TextRef>> RestageText(storage::WriteTxn& txn, std::string_view user_id,
                                             const Message& before, const Message& after,
                                             const std::optional<TextRef>& ref) const;
  Result<Located> LocateForWrite(const storage::WriteTxn& txn, std::string_view user_id,
                                 const Uuid& message_id) const;
  Result<Conversation> VisibleConversation(const storage::ReadView& view, std::string_view user_id,
                                           const Uuid& id) const;
  Result<ConversationRow> VisibleConversationRow(const storage::ReadView& view,
                                                 std::string_view user_id, const Uuid& id) const;
  // The conversation's last `count` messages, oldest first.  Reads forward from the sequence
  // number they hold when none was deleted (a reverse scan costs a skip-list search per step in
  // RocksDB's memtable), and backward only for what deletions left missing.
  Status ReadTail(const storage::ReadView& view, const Uuid& conversation_id, uint64_t last_seq,
                  int64_t count, std::vector<Message>* oldest_first) const;

  storage::Db& db_;
  const ConversationStore& conversations_;
  MessageVectors* vectors_ = nullptr;
};

// Stages the deletion of every committed message of a conversation, their id-index entries,
// their vectors and their terms (through `vectors`, which may be null when no vector layer is
// attached). Returns the number of messages.
Result<int64_t> StageDeleteAllMessages(storage::WriteTxn& txn, std::string_view user_id,
                                       const Uuid& conversation_id, MessageVectors* vectors);

}  // namespace mnemo::tables
