// The Engine facade's write calls and the replication log.  A logged call resolves what the
// engine would otherwise choose while staging (generated ids here, the clock in Impl::Write), so
// that the record the commit logs names the call completely, and ApplyLogged, making the same call
// with the record's arguments on another engine, stages the same rows.
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <optional>
#include <type_traits>
#include <variant>

#include "engine_impl.h"
#include "storage/key_codec.h"

namespace mnemo {
namespace {

using replication::Kind;

// Ids are generated here only when the call is logged: the record must then name every row the
// call creates.  Otherwise the stores generate missing ids while staging, as they always did,
// and the input is neither copied nor checked for a collision of a fresh id.

// `input`, or with `resolve` and no id, a copy in *storage with a generated id.
template <typename T>
const T& WithId(const T& input, bool resolve, std::optional<T>* storage) {
  if (!resolve || input.id) return input;
  storage->emplace(input);
  (*storage)->id = Uuid::Generate();
  return **storage;
}

template <typename T>
T WithId(const T& input) {
  std::optional<T> storage;
  return WithId(input, true, &storage);
}

// `chunks`, or with `resolve`, a copy in *storage when an id is missing.
const std::vector<NewChunk>& WithIds(const std::vector<NewChunk>& chunks, bool resolve,
                                     std::vector<NewChunk>* storage) {
  bool missing = false;
  for (const NewChunk& chunk : chunks) missing = missing || !chunk.id;
  if (!resolve || !missing) return chunks;
  storage->reserve(chunks.size());
  for (const NewChunk& chunk : chunks) storage->push_back(WithId(chunk));
  return *storage;
}

// `ops`, or with `resolve`, a copy in *storage with the create ops' ids generated (upserts name
// theirs already).
const std::vector<WriteOp>& WithIds(const std::vector<WriteOp>& ops, bool resolve,
                                    std::vector<WriteOp>* storage) {
  if (!resolve) return ops;
  storage->reserve(ops.size());
  for (const WriteOp& op : ops) {
    storage->push_back(std::visit(
        [](const auto& typed) -> WriteOp {
          using T = std::decay_t<decltype(typed)>;
          if constexpr (std::is_same_v<T, CreateConversationOp>) {
            return CreateConversationOp{WithId(typed.conversation)};
          } else if constexpr (std::is_same_v<T, AppendMessageOp>) {
            return AppendMessageOp{WithId(typed.message)};
          } else if constexpr (std::is_same_v<T, CreateDocumentOp>) {
            return CreateDocumentOp{WithId(typed.document)};
          } else if constexpr (std::is_same_v<T, AddChunkOp>) {
            return AddChunkOp{WithId(typed.chunk)};
          } else {
            return typed;
          }
        },
        op));
  }
  return *storage;
}

// The body of a record that names one row.
auto IdBody(const Uuid& id) {
  return [&id](std::string* out) { replication::PutId(out, id); };
}

}  // namespace

// ---- Impl: the write calls ----

Result<Conversation> Engine::Impl::CreateConversation(const Replay* replay,
                                                      std::string_view user_id,
                                                      const NewConversation& input) {
  std::optional<NewConversation> storage;
  const NewConversation& resolved = WithId(input, log_writes, &storage);
  return Write(
      replay, Kind::kCreateConversation, user_id,
      [&](std::string* out) { replication::PutConversation(out, resolved); },
      [&](storage::WriteTxn& txn) { return conversations.Create(txn, user_id, resolved); });
}

Result<Conversation> Engine::Impl::UpsertConversation(const Replay* replay,
                                                      std::string_view user_id,
                                                      const NewConversation& input) {
  return Write(
      replay, Kind::kUpsertConversation, user_id,
      [&](std::string* out) { replication::PutConversation(out, input); },
      [&](storage::WriteTxn& txn) { return conversations.Upsert(txn, user_id, input); });
}

Result<Conversation> Engine::Impl::UpdateConversation(const Replay* replay,
                                                      std::string_view user_id, const Uuid& id,
                                                      const ConversationUpdate& update) {
  return Write(
      replay, Kind::kUpdateConversation, user_id,
      [&](std::string* out) {
        replication::PutId(out, id);
        replication::PutConversationUpdate(out, update);
      },
      [&](storage::WriteTxn& txn) { return conversations.Update(txn, user_id, id, update); });
}

Result<Conversation> Engine::Impl::SoftDeleteConversation(const Replay* replay,
                                                          std::string_view user_id,
                                                          const Uuid& id) {
  return Write(replay, Kind::kSoftDeleteConversation, user_id, IdBody(id),
               [&](storage::WriteTxn& txn) { return conversations.SoftDelete(txn, user_id, id); });
}

Result<Conversation> Engine::Impl::UndeleteConversation(const Replay* replay,
                                                        std::string_view user_id, const Uuid& id) {
  return Write(replay, Kind::kUndeleteConversation, user_id, IdBody(id),
               [&](storage::WriteTxn& txn) { return conversations.Undelete(txn, user_id, id); });
}

Status Engine::Impl::HardDeleteConversation(const Replay* replay, std::string_view user_id,
                                            const Uuid& id) {
  return Write(replay, Kind::kHardDeleteConversation, user_id, IdBody(id),
               [&](storage::WriteTxn& txn) { return conversations.HardDelete(txn, user_id, id); });
}

Result<Message> Engine::Impl::AppendMessage(const Replay* replay, std::string_view user_id,
                                            const NewMessage& input) {
  std::optional<NewMessage> storage;
  const NewMessage& resolved = WithId(input, log_writes, &storage);
  return Write(
      replay, Kind::kAppendMessage, user_id,
      [&](std::string* out) { replication::PutMessage(out, resolved); },
      [&](storage::WriteTxn& txn) { return messages.Append(txn, user_id, resolved); });
}

Result<Message> Engine::Impl::UpsertMessage(const Replay* replay, std::string_view user_id,
                                            const NewMessage& input) {
  return Write(
      replay, Kind::kUpsertMessage, user_id,
      [&](std::string* out) { replication::PutMessage(out, input); },
      [&](storage::WriteTxn& txn) { return messages.Upsert(txn, user_id, input); });
}

Result<Message> Engine::Impl::UpdateMessage(const Replay* replay, std::string_view user_id,
                                            const Uuid& message_id, const MessageUpdate& update) {
  return Write(
      replay, Kind::kUpdateMessage, user_id,
      [&](std::string* out) {
        replication::PutId(out, message_id);
        replication::PutMessageUpdate(out, update);
      },
      [&](storage::WriteTxn& txn) { return messages.Update(txn, user_id, message_id, update); });
}

Result<Message> Engine::Impl::DeleteMessage(const Replay* replay, std::string_view user_id,
                                            const Uuid& message_id) {
  return Write(replay, Kind::kDeleteMessage, user_id, IdBody(message_id),
               [&](storage::WriteTxn& txn) { return messages.Delete(txn, user_id, message_id); });
}

Result<Message> Engine::Impl::SetToolResults(const Replay* replay, std::string_view user_id,
                                             const Uuid& message_id,
                                             std::string_view tool_results_json) {
  return Write(
      replay, Kind::kSetToolResults, user_id,
      [&](std::string* out) {
        replication::PutId(out, message_id);
        replication::PutString(out, tool_results_json);
      },
      [&](storage::WriteTxn& txn) {
        return messages.SetToolResults(txn, user_id, message_id, tool_results_json);
      });
}

Result<int64_t> Engine::Impl::DeleteAllMessages(const Replay* replay, std::string_view user_id,
                                                const Uuid& conversation_id) {
  return Write(
      replay, Kind::kDeleteAllMessages, user_id, IdBody(conversation_id),
      [&](storage::WriteTxn& txn) { return messages.DeleteAll(txn, user_id, conversation_id); });
}

Result<Document> Engine::Impl::CreateDocument(const Replay* replay, std::string_view user_id,
                                              const NewDocument& input) {
  std::optional<NewDocument> storage;
  const NewDocument& resolved = WithId(input, log_writes, &storage);
  return Write(
      replay, Kind::kCreateDocument, user_id,
      [&](std::string* out) { replication::PutDocument(out, resolved); },
      [&](storage::WriteTxn& txn) { return documents.Create(txn, user_id, resolved); });
}

Result<Document> Engine::Impl::UpdateDocument(const Replay* replay, std::string_view user_id,
                                              const Uuid& id, const DocumentUpdate& update) {
  return Write(
      replay, Kind::kUpdateDocument, user_id,
      [&](std::string* out) {
        replication::PutId(out, id);
        replication::PutDocumentUpdate(out, update);
      },
      [&](storage::WriteTxn& txn) -> Result<Document> {
        return documents.Update(txn, user_id, id, update);
      });
}

Result<Document> Engine::Impl::SoftDeleteDocument(const Replay* replay, std::string_view user_id,
                                                  const Uuid& id) {
  return Write(replay, Kind::kSoftDeleteDocument, user_id, IdBody(id),
               [&](storage::WriteTxn& txn) -> Result<Document> {
                 return documents.SoftDelete(txn, user_id, id);
               });
}

Result<Document> Engine::Impl::UndeleteDocument(const Replay* replay, std::string_view user_id,
                                                const Uuid& id) {
  return Write(replay, Kind::kUndeleteDocument, user_id, IdBody(id),
               [&](storage::WriteTxn& txn) -> Result<Document> {
                 return documents.Undelete(txn, user_id, id);
               });
}

Status Engine::Impl::HardDeleteDocument(const Replay* replay, std::string_view user_id,
                                        const Uuid& id) {
  return Write(replay, Kind::kHardDeleteDocument, user_id, IdBody(id),
               [&](storage::WriteTxn& txn) -> Status {
                 return documents.HardDelete(txn, user_id, id).status();
               });
}

Result<std::vector<Chunk>> Engine::Impl::AddChunks(const Replay* replay, std::string_view user_id,
                                                   const std::vector<NewChunk>& input) {
  std::vector<NewChunk> storage;
  const std::vector<NewChunk>& chunks = WithIds(input, log_writes, &storage);
  return Write(
      replay, Kind::kAddChunks, user_id,
      [&](std::string* out) { replication::PutChunks(out, chunks); },
      [&](storage::WriteTxn& txn) { return chunk_store.StageAdd(txn, user_id, chunks); });
}

Result<std::vector<Chunk>> Engine::Impl::ReplaceChunks(const Replay* replay,
                                                       std::string_view user_id,
                                                       const Uuid& document_id,
                                                       const std::vector<NewChunk>& input) {
  for (size_t i = 0; i < input.size(); ++i) {
    if (input[i].document_id != document_id) {
      return Status::ValidationError(
          "document_id",
          "chunk " + std::to_string(i) + ": names another document than " + document_id.ToString());
    }
  }
  std::vector<NewChunk> storage;
  const std::vector<NewChunk>& chunks = WithIds(input, log_writes, &storage);
  return Write(
      replay, Kind::kReplaceChunks, user_id,
      [&](std::string* out) {
        replication::PutId(out, document_id);
        replication::PutChunks(out, chunks);
      },
      [&](storage::WriteTxn& txn) -> Result<std::vector<Chunk>> {
        MNEMO_ASSIGN_OR_RETURN(const Document before,
                               documents.LoadForWrite(txn, user_id, document_id, false));
        MNEMO_RETURN_IF_ERROR(chunk_store.StageDeleteDocumentChunks(txn, user_id, document_id));
        Document emptied = before;
        emptied.total_chunks = 0;
        emptied.updated_at = tables::NextTimestamp(txn.now(), before.updated_at);
        MNEMO_RETURN_IF_ERROR(documents.Save(txn, &before, emptied));
        if (chunks.empty()) return std::vector<Chunk>();
        return chunk_store.StageAdd(txn, user_id, chunks);
      });
}

Result<Chunk> Engine::Impl::SoftDeleteChunk(const Replay* replay, std::string_view user_id,
                                            const Uuid& chunk_id) {
  return Write(
      replay, Kind::kSoftDeleteChunk, user_id, IdBody(chunk_id),
      [&](storage::WriteTxn& txn) { return chunk_store.StageSoftDelete(txn, user_id, chunk_id); });
}

Result<Chunk> Engine::Impl::RestoreChunk(const Replay* replay, std::string_view user_id,
                                         const Uuid& chunk_id) {
  return Write(replay, Kind::kRestoreChunk, user_id, IdBody(chunk_id), [&](storage::WriteTxn& txn) {
    return chunk_store.StageRestore(txn, user_id, chunk_id);
  });
}

Result<Chunk> Engine::Impl::DeleteChunk(const Replay* replay, std::string_view user_id,
                                        const Uuid& chunk_id) {
  return Write(replay, Kind::kDeleteChunk, user_id, IdBody(chunk_id), [&](storage::WriteTxn& txn) {
    return chunk_store.StageDelete(txn, user_id, chunk_id);
  });
}

Result<Uuid> Engine::Impl::ApplyOp(storage::WriteTxn& txn, std::string_view user_id,
                                   const WriteOp& op) {
  const auto id_of = [](const auto& result) -> Result<Uuid> {
    if (!result.ok()) return result.status();
    return result->id;
  };
  return std::visit(
      [&](const auto& typed) -> Result<Uuid> {
        using T = std::decay_t<decltype(typed)>;
        if constexpr (std::is_same_v<T, CreateConversationOp>) {
          return id_of(conversations.Create(txn, user_id, typed.conversation));
        } else if constexpr (std::is_same_v<T, UpsertConversationOp>) {
          return id_of(conversations.Upsert(txn, user_id, typed.conversation));
        } else if constexpr (std::is_same_v<T, AppendMessageOp>) {
          return id_of(messages.Append(txn, user_id, typed.message));
        } else if constexpr (std::is_same_v<T, UpsertMessageOp>) {
          return id_of(messages.Upsert(txn, user_id, typed.message));
        } else if constexpr (std::is_same_v<T, CreateDocumentOp>) {
          return id_of(documents.Create(txn, user_id, typed.document));
        } else {
          static_assert(std::is_same_v<T, AddChunkOp>, "unhandled WriteOp");
          auto added = chunk_store.StageAdd(txn, user_id, {typed.chunk});
          if (!added.ok()) return added.status();
          return added->front().id;
        }
      },
      op);
}

Result<BatchResult> Engine::Impl::ApplyBatch(const Replay* replay, std::string_view user_id,
                                             const std::vector<WriteOp>& input) {
  if (input.empty()) return Status::ValidationError("ops", "a batch needs at least one op");
  if (input.size() > kMaxBatchOps) {
    return Status::ValidationError(
        "ops", "a batch holds at most " + std::to_string(kMaxBatchOps) + " ops");
  }
  std::vector<WriteOp> storage;
  const std::vector<WriteOp>& ops = WithIds(input, log_writes, &storage);
  return Write(
      replay, Kind::kApplyBatch, user_id, [&](std::string* out) { replication::PutOps(out, ops); },
      [&](storage::WriteTxn& txn) -> Result<BatchResult> {
        BatchResult result;
        result.ids.reserve(ops.size());
        for (size_t i = 0; i < ops.size(); ++i) {
          if (std::holds_alternative<AddChunkOp>(ops[i])) {
            // A run of chunk ops is staged in one call: the document row is read and rewritten
            // once per run instead of once per chunk (it may hold a large content text).
            std::vector<const NewChunk*> chunks;
            size_t end = i;
            for (; end < ops.size() && std::holds_alternative<AddChunkOp>(ops[end]); ++end) {
              chunks.push_back(&std::get<AddChunkOp>(ops[end]).chunk);
            }
            MNEMO_ASSIGN_OR_RETURN(std::vector<Chunk> added,
                                   chunk_store.StageAdd(txn, user_id, chunks, "op", i));
            for (const Chunk& chunk : added) result.ids.push_back(chunk.id);
            i = end - 1;
            continue;
          }
          Result<Uuid> applied = ApplyOp(txn, user_id, ops[i]);
          if (!applied.ok()) {
            const Status& s = applied.status();
            return Status::FromCode(
                s.code(), "op " + std::to_string(i) + ": " + std::string(s.message()), s.field());
          }
          result.ids.push_back(applied.value());
        }
        return result;
      });
}

Status Engine::Impl::ApplyRecord(const Replay& replay, const replication::WriteRecord& record) {
  const Replay* r = &replay;
  const std::string_view user = record.header.user_id;
  const Uuid& id = record.id;
  switch (record.header.kind) {
    case Kind::kCreateConversation:
      return CreateConversation(r, user, record.conversation).status();
    case Kind::kUpsertConversation:
      return UpsertConversation(r, user, record.conversation).status();
    case Kind::kUpdateConversation:
      return UpdateConversation(r, user, id, record.conversation_update).status();
    case Kind::kSoftDeleteConversation: return SoftDeleteConversation(r, user, id).status();
    case Kind::kUndeleteConversation: return UndeleteConversation(r, user, id).status();
    case Kind::kHardDeleteConversation: return HardDeleteConversation(r, user, id);
    case Kind::kAppendMessage: return AppendMessage(r, user, record.message).status();
    case Kind::kUpsertMessage: return UpsertMessage(r, user, record.message).status();
    case Kind::kUpdateMessage: return UpdateMessage(r, user, id, record.message_update).status();
    case Kind::kDeleteMessage: return DeleteMessage(r, user, id).status();
    case Kind::kSetToolResults: return SetToolResults(r, user, id, record.tool_results).status();
    case Kind::kDeleteAllMessages: return DeleteAllMessages(r, user, id).status();
    case Kind::kCreateDocument: return CreateDocument(r, user, record.document).status();
    case Kind::kUpdateDocument: return UpdateDocument(r, user, id, record.document_update).status();
    case Kind::kSoftDeleteDocument: return SoftDeleteDocument(r, user, id).status();
    case Kind::kUndeleteDocument: return UndeleteDocument(r, user, id).status();
    case Kind::kHardDeleteDocument: return HardDeleteDocument(r, user, id);
    case Kind::kAddChunks: return AddChunks(r, user, record.chunks).status();
    case Kind::kReplaceChunks: return ReplaceChunks(r, user, id, record.chunks).status();
    case Kind::kSoftDeleteChunk: return SoftDeleteChunk(r, user, id).status();
    case Kind::kRestoreChunk: return RestoreChunk(r, user, id).status();
    case Kind::kDeleteChunk: return DeleteChunk(r, user, id).status();
    case Kind::kApplyBatch: return ApplyBatch(r, user, record.ops).status();
  }
  return Status::ValidationError("record", "unknown record kind");
}

// ---- the public write calls ----

Result<Conversation> Engine::CreateConversation(std::string_view user_id,
                                                const NewConversation& input) {
  return impl_->CreateConversation(nullptr, user_id, input);
}

Result<Conversation> Engine::UpsertConversation(std::string_view user_id,
                                                const NewConversation& input) {
  return impl_->UpsertConversation(nullptr, user_id, input);
}

Result<Conversation> Engine::UpdateConversation(std::string_view user_id, const Uuid& id,
                                                const ConversationUpdate& update) {
  return impl_->UpdateConversation(nullptr, user_id, id, update);
}

Result<Conversation> Engine::SoftDeleteConversation(std::string_view user_id, const Uuid& id) {
  return impl_->SoftDeleteConversation(nullptr, user_id, id);
}

Result<Conversation> Engine::UndeleteConversation(std::string_view user_id, const Uuid& id) {
  return impl_->UndeleteConversation(nullptr, user_id, id);
}

Status Engine::HardDeleteConversation(std::string_view user_id, const Uuid& id) {
  return impl_->HardDeleteConversation(nullptr, user_id, id);
}

Result<Message> Engine::AppendMessage(std::string_view user_id, const NewMessage& input) {
  return impl_->AppendMessage(nullptr, user_id, input);
}

Result<Message> Engine::UpsertMessage(std::string_view user_id, const NewMessage& input) {
  return impl_->UpsertMessage(nullptr, user_id, input);
}

Result<Message> Engine::UpdateMessage(std::string_view user_id, const Uuid& message_id,
                                      const MessageUpdate& update) {
  return impl_->UpdateMessage(nullptr, user_id, message_id, update);
}

Result<Message> Engine::DeleteMessage(std::string_view user_id, const Uuid& message_id) {
  return impl_->DeleteMessage(nullptr, user_id, message_id);
}

Result<Message> Engine::SetToolResults(std::string_view user_id, const Uuid& message_id,
                                       std::string_view tool_results_json) {
  return impl_->SetToolResults(nullptr, user_id, message_id, tool_results_json);
}

Result<int64_t> Engine::DeleteAllMessages(std::string_view user_id, const Uuid& conversation_id) {
  return impl_->DeleteAllMessages(nullptr, user_id, conversation_id);
}

Result<Document> Engine::CreateDocument(std::string_view user_id, const NewDocument& input) {
  return impl_->CreateDocument(nullptr, user_id, input);
}

Result<Document> Engine::UpdateDocument(std::string_view user_id, const Uuid& id,
                                        const DocumentUpdate& update) {
  return impl_->UpdateDocument(nullptr, user_id, id, update);
}

Result<Document> Engine::SoftDeleteDocument(std::string_view user_id, const Uuid& id) {
  return impl_->SoftDeleteDocument(nullptr, user_id, id);
}

Result<Document> Engine::UndeleteDocument(std::string_view user_id, const Uuid& id) {
  return impl_->UndeleteDocument(nullptr, user_id, id);
}

Status Engine::HardDeleteDocument(std::string_view user_id, const Uuid& id) {
  return impl_->HardDeleteDocument(nullptr, user_id, id);
}

Result<std::vector<Chunk>> Engine::AddChunks(std::string_view user_id,
                                             const std::vector<NewChunk>& chunks) {
  return impl_->AddChunks(nullptr, user_id, chunks);
}

Result<std::vector<Chunk>> Engine::ReplaceChunks(std::string_view user_id, const Uuid& document_id,
                                                 const std::vector<NewChunk>& chunks) {
  return impl_->ReplaceChunks(nullptr, user_id, document_id, chunks);
}

Result<Chunk> Engine::SoftDeleteChunk(std::string_view user_id, const Uuid& chunk_id) {
  return impl_->SoftDeleteChunk(nullptr, user_id, chunk_id);
}

Result<Chunk> Engine::RestoreChunk(std::string_view user_id, const Uuid& chunk_id) {
  return impl_->RestoreChunk(nullptr, user_id, chunk_id);
}

Result<Chunk> Engine::DeleteChunk(std::string_view user_id, const Uuid& chunk_id) {
  return impl_->DeleteChunk(nullptr, user_id, chunk_id);
}

Result<BatchResult> Engine::ApplyBatch(std::string_view user_id, const std::vector<WriteOp>& ops) {
  return impl_->ApplyBatch(nullptr, user_id, ops);
}

// ---- the replication log ----

Result<std::vector<LogRecord>> Engine::ReadLog(uint64_t from, size_t max_records) {
  if (!impl_->log_writes) return Status::Unavailable("the replication log is off");
  std::vector<LogRecord> records;
  if (max_records == 0) return records;
  storage::ScanRange range;
  range.start = keys::LogKey(from);
  Status parse = Status::Ok();
  MNEMO_RETURN_IF_ERROR(impl_->db->Scan(
      storage::Cf::kReplog, range, [&](std::string_view key, std::string_view value) {
        LogRecord record;
        if (!keys::ParseLogKey(key, &record.seq)) {
          parse = Status::Unavailable("data corruption: bad replication log key");
          return false;
        }
        record.record.assign(value);
        records.push_back(std::move(record));
        return records.size() < max_records;
      }));
  MNEMO_RETURN_IF_ERROR(parse);
  return records;
}

Status Engine::Impl::ReadLogEpoch() {
  const uint64_t last = db->last_log_seq();
  if (last == 0) return Status::Ok();
  std::string value;
  MNEMO_RETURN_IF_ERROR(db->Get(storage::Cf::kReplog, keys::LogKey(last), &value));
  MNEMO_ASSIGN_OR_RETURN(const replication::WriteRecord record, replication::DecodeRecord(value));
  std::lock_guard lock(epoch_mutex);
  epoch = record.header.epoch;
  return Status::Ok();
}

uint64_t Engine::LastLogSeq() { return impl_->db->last_log_seq(); }

Result<uint64_t> Engine::TrimLog(uint64_t below) {
  if (!impl_->log_writes) return Status::Unavailable("the replication log is off");
  below = std::min(below, impl_->db->last_log_seq());
  if (below <= 1) return uint64_t{1};
  rocksdb::WriteBatch batch;
  const rocksdb::Status staged = batch.DeleteRange(impl_->db->handle(storage::Cf::kReplog),
                                                   keys::LogKey(0), keys::LogKey(below));
  if (!staged.ok()) return Status::Internal("staging a log trim: " + staged.ToString());
  MNEMO_RETURN_IF_ERROR(impl_->db->Write(&batch));
  return below;
}

Status Engine::SetLogEpoch(uint64_t epoch) {
  std::lock_guard lock(impl_->epoch_mutex);
  if (epoch < impl_->epoch) {
    return Status::ValidationError(
        "epoch",
        "epoch " + std::to_string(epoch) + " is below this log's " + std::to_string(impl_->epoch));
  }
  impl_->epoch = epoch;
  return Status::Ok();
}

Status Engine::ApplyLogged(const LogRecord& logged) {
  if (!impl_->log_writes) return Status::Unavailable("the replication log is off");
  MNEMO_ASSIGN_OR_RETURN(const replication::WriteRecord record,
                         replication::DecodeRecord(logged.record));
  std::lock_guard apply(impl_->apply_mutex);
  {
    std::lock_guard lock(impl_->epoch_mutex);
    if (record.header.epoch < impl_->epoch) {
      return Status::ValidationError(
          "epoch", "record " + std::to_string(logged.seq) + " is of epoch " +
                       std::to_string(record.header.epoch) + ", below this log's " +
                       std::to_string(impl_->epoch));
    }
  }
  // Checked again, atomically with the write, when the record is logged (Db::WriteLogged); this
  // refuses a gap before the call runs.
  const uint64_t last = impl_->db->last_log_seq();
  if (logged.seq != last + 1) {
    return Status::ValidationError("seq", "record " + std::to_string(logged.seq) +
                                              " does not follow the log's last record " +
                                              std::to_string(last));
  }
  const Replay replay{record.header.now, logged.seq, logged.record};
  MNEMO_RETURN_IF_ERROR(impl_->ApplyRecord(replay, record));
  std::lock_guard lock(impl_->epoch_mutex);
  impl_->epoch = record.header.epoch;
  return Status::Ok();
}

}  // namespace mnemo
