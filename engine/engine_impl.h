// Engine::Impl: the engine's components, and the write path every write call takes
// (engine_writes.cc), whether a client makes it or a replica applies it from a log record.
// Private to the engine's own sources.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "maintenance/message_text_backfill.h"
#include "maintenance/retention.h"
#include "mnemo/engine.h"
#include "mnemo/file_system.h"
#include "replication/write_record.h"
#include "storage/db.h"
#include "storage/lock_table.h"
#include "storage/write_txn.h"
#include "tables/chunk_store.h"
#include "tables/conversation_store.h"
#include "tables/document_store.h"
#include "tables/message_store.h"
#include "tables/validation.h"
#include "text/text_index.h"
#include "vector/vector_store.h"

namespace mnemo {

namespace engine_internal {

inline const Status& StatusOf(const Status& status) { return status; }
template <typename T>
const Status& StatusOf(const Result<T>& result) {
  return result.status();
}

}  // namespace engine_internal

// A log record being applied (Engine::ApplyLogged): the primary's clock reading, and the
// record to write into this engine's log under the primary's sequence.
struct Replay {
  Timestamp now = 0;
  uint64_t seq = 0;
  std::string_view record;
};

struct Engine::Impl {
  Impl(std::unique_ptr<storage::Db> opened, std::shared_ptr<FileSystem> fs)
      : file_system(std::move(fs)),
        db(std::move(opened)),
        conversations(*db),
        messages(*db, conversations),
        documents(*db),
        chunk_store(*db, documents) {
    documents.set_chunks(&chunk_store);
  }

  FileSystem& fs() const { return file_system ? *file_system : PosixFileSystem(); }

  // Runs `fn(txn)` under the user's write lock and commits what it staged when it succeeds.
  // The transaction's clock reading is the replayed record's, else the clock's, read once.
  // With the log on, the commit also writes the call's record: the header and what
  // `encode(&record)` appends (replication/write_record.h), or the replayed record as it is.
  template <typename Encode, typename Fn>
  auto Write(const Replay* replay, replication::Kind kind, std::string_view user_id,
             Encode&& encode, Fn&& fn) -> decltype(fn(std::declval<storage::WriteTxn&>())) {
    MNEMO_RETURN_IF_ERROR(tables::ValidateUserId(user_id));
    auto guard = locks.LockUser(user_id);
    storage::WriteTxn txn(*db, replay != nullptr ? replay->now : NowMicros());
    auto result = fn(txn);
    if (!engine_internal::StatusOf(result).ok()) return result;
    if (replay != nullptr) {
      txn.Log(std::string(replay->record), replay->seq);
    } else if (log_writes) {
      std::string record;
      replication::PutHeader(&record, {kind, log_epoch(), txn.now(), std::string(user_id)});
      encode(&record);
      txn.Log(std::move(record));
    }
    MNEMO_RETURN_IF_ERROR(txn.Commit());
    return result;
  }

  uint64_t log_epoch() {
    std::lock_guard lock(epoch_mutex);
    return epoch;
  }

  // ---- the write calls; `replay` is null for a client's call ----
  Result<Conversation> CreateConversation(const Replay* replay, std::string_view user_id,
                                          const NewConversation& input);
  Result<Conversation> UpsertConversation(const Replay* replay, std::string_view user_id,
                                          const NewConversation& input);
  Result<Conversation> UpdateConversation(const Replay* replay, std::string_view user_id,
                                          const Uuid& id, const ConversationUpdate& update);
  Result<Conversation> SoftDeleteConversation(const Replay* replay, std::string_view user_id,
                                              const Uuid& id);
  Result<Conversation> UndeleteConversation(const Replay* replay, std::string_view user_id,
                                            const Uuid& id);
  Status HardDeleteConversation(const Replay* replay, std::string_view user_id, const Uuid& id);
  Result<Message> AppendMessage(const Replay* replay, std::string_view user_id,
                                const NewMessage& input);
  Result<Message> UpsertMessage(const Replay* replay, std::string_view user_id,
                                const NewMessage& input);
  Result<Message> UpdateMessage(const Replay* replay, std::string_view user_id,
                                const Uuid& message_id, const MessageUpdate& update);
  Result<Message> DeleteMessage(const Replay* replay, std::string_view user_id,
                                const Uuid& message_id);
  Result<Message> SetToolResults(const Replay* replay, std::string_view user_id,
                                 const Uuid& message_id, std::string_view tool_results_json);
  Result<int64_t> DeleteAllMessages(const Replay* replay, std::string_view user_id,
                                    const Uuid& conversation_id);
  Result<Document> CreateDocument(const Replay* replay, std::string_view user_id,
                                  const NewDocument& input);
  Result<Document> UpdateDocument(const Replay* replay, std::string_view user_id, const Uuid& id,
                                  const DocumentUpdate& update);
  Result<Document> SoftDeleteDocument(const Replay* replay, std::string_view user_id,
                                      const Uuid& id);
  Result<Document> UndeleteDocument(const Replay* replay, std::string_view user_id, const Uuid& id);
  Status HardDeleteDocument(const Replay* replay, std::string_view user_id, const Uuid& id);
  Result<std::vector<Chunk>> AddChunks(const Replay* replay, std::string_view user_id,
                                       const std::vector<NewChunk>& input);
  Result<std::vector<Chunk>> ReplaceChunks(const Replay* replay, std::string_view user_id,
                                           const Uuid& document_id,
                                           const std::vector<NewChunk>& input);
  Result<Chunk> SoftDeleteChunk(const Replay* replay, std::string_view user_id,
                                const Uuid& chunk_id);
  Result<Chunk> RestoreChunk(const Replay* replay, std::string_view user_id, const Uuid& chunk_id);
  Result<Chunk> DeleteChunk(const Replay* replay, std::string_view user_id, const Uuid& chunk_id);
  Result<BatchResult> ApplyBatch(const Replay* replay, std::string_view user_id,
                                 const std::vector<WriteOp>& input);
  // Sets `epoch` to the log's last record's.
  Status ReadLogEpoch();
  // Makes the call `record` names, as ApplyLogged documents.
  Status ApplyRecord(const Replay& replay, const replication::WriteRecord& record);

  // Applies one batch op; returns the id of the row it created or changed.
  Result<Uuid> ApplyOp(storage::WriteTxn& txn, std::string_view user_id, const WriteOp& op);

  std::shared_ptr<FileSystem> file_system;  // null: PosixFileSystem(); outlives `vectors`
  std::unique_ptr<storage::Db> db;
  storage::LockTable locks;
  tables::ConversationStore conversations;
  tables::MessageStore messages;
  tables::DocumentStore documents;
  tables::ChunkStore chunk_store;                // its vector side is set by Open()
  std::unique_ptr<text::TextIndex> text;         // set by Open(); before vectors, which borrow it
  std::unique_ptr<vector::VectorStore> vectors;  // set by Open()
  std::unique_ptr<maintenance::Retention> retention;  // set by Open()
  RetentionPolicy policy;
  TokenEstimate token_estimate;
  std::unique_ptr<maintenance::RetentionRunner> retention_runner;  // when the policy is enabled
  // Set when keyword search is on; the runner while its background pass runs.
  std::unique_ptr<maintenance::MessageTextBackfill> backfill;
  std::unique_ptr<maintenance::MessageTextBackfillRunner> backfill_runner;
  bool log_writes = false;  // EngineOptions::replication_log
  // The epoch of records written from now on; never below one written or applied before.
  std::mutex epoch_mutex;
  uint64_t epoch = 0;  // GUARDED_BY(epoch_mutex)
  // Serializes ApplyLogged: the epoch check and the apply it admits.
  std::mutex apply_mutex;
  bool closed = false;
};

}  // namespace mnemo
