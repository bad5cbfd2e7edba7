// WriteRecord: one committed engine write call with every value the primary chose resolved in it
// (generated ids, the transaction's clock reading, the epoch), as stored in the `replog` column
// family and applied on a replica by calling the same engine method with the same arguments.
//
// Layout (FROZEN: records are stored and shipped; extend by new kinds or a new version only):
//
//   record   := version:u8 (=1) | kind:u8 | epoch:varint64 | now:varsint64 | user_id:lp | body
//   body     := by kind (Kind below names each):
//     conversation create/upsert        NewConversation
//     conversation update               id | ConversationUpdate
//     message append/upsert             NewMessage
//     message update                    id | MessageUpdate
//     message set-tool-results          id | tool_results:lp
//     document create                   NewDocument
//     document update                   id | DocumentUpdate
//     chunks add                        count:varint64 | NewChunk*
//     chunks replace                    document id | count:varint64 | NewChunk*
//     batch                             count:varint64 | (op:u8 | op's input)*  (op: BatchOp)
//     every other kind                  id (the row the call names)
//   NewConversation := opt-id | title:lp | opt-str summary | opt-str model | system_prompt:lp |
//                      opt-str metadata
//   NewMessage      := opt-id | conversation id | role:lp | content:lp | opt-str parts |
//                      opt-str tool_calls | opt-str tool_results | opt-str attachments |
//                      opt-i64 tokens_used | opt-str metadata | floats embedding
//   NewDocument     := opt-id | filename:lp | file_type:lp | content:lp | opt-str metadata
//   NewChunk        := opt-id | document id | chunk_index:varsint64 | chunk_text:lp |
//                      floats embedding | opt-str metadata | opt-i64 created_at
//   ConversationUpdate := opt-str title | opt-str summary | opt-str model |
//                         opt-str system_prompt | opt-str metadata
//   MessageUpdate   := opt-str role | opt-str content | opt-str parts | opt-str tool_calls |
//                      opt-str tool_results | opt-str attachments | opt-i64 tokens_used |
//                      clear_tokens_used:u8 | opt-str metadata
//   DocumentUpdate  := opt-str filename | opt-str file_type | opt-str content | opt-str metadata
//   id := 16 bytes;  opt-X := 0:u8 | 1:u8 X;  opt-i64 := varsint64 when present;
//   floats := count:varint64 | count x float32 (little-endian IEEE 754);  lp := length-prefixed.
//
// Embeddings travel inline: the record is written in the same RocksDB batch as the write it
// describes, so it is durable with it and needs no pin on the vector log's segments.
//
// Thread-safety: stateless functions on value types.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mnemo/batch.h"
#include "mnemo/records.h"
#include "mnemo/result.h"

namespace mnemo::replication {

inline constexpr uint8_t kRecordVersion = 1;

// FROZEN: stored in every record.
enum class Kind : uint8_t {
  kCreateConversation = 1,
  kUpsertConversation = 2,
  kUpdateConversation = 3,
  kSoftDeleteConversation = 4,
  kUndeleteConversation = 5,
  kHardDeleteConversation = 6,
  kAppendMessage = 7,
  kUpsertMessage = 8,
  kUpdateMessage = 9,
  kDeleteMessage = 10,
  kSetToolResults = 11,
  kDeleteAllMessages = 12,
  kCreateDocument = 13,
  kUpdateDocument = 14,
  kSoftDeleteDocument = 15,
  kUndeleteDocument = 16,
  kHardDeleteDocument = 17,
  kAddChunks = 18,
  kReplaceChunks = 19,
  kSoftDeleteChunk = 20,
  kRestoreChunk = 21,
  kDeleteChunk = 22,
  kApplyBatch = 23,
};
inline constexpr uint8_t kMaxKind = 23;

// FROZEN: the op tag of a batch record, the index of the op's WriteOp alternative.
enum class BatchOp : uint8_t {
  kCreateConversation = 0,
  kUpsertConversation = 1,
  kAppendMessage = 2,
  kUpsertMessage = 3,
  kCreateDocument = 4,
  kAddChunk = 5,
};

// The fields every record starts with.
struct RecordHeader {
  Kind kind = Kind::kCreateConversation;
  uint64_t epoch = 0;
  Timestamp now = 0;
  std::string user_id;
};

// A decoded record: the header and the arguments of its kind (the others stay empty).
struct WriteRecord {
  RecordHeader header;
  Uuid id;  // the row the call names (update, delete, set-tool-results, chunks replace)
  NewConversation conversation;
  ConversationUpdate conversation_update;
  NewMessage message;
  MessageUpdate message_update;
  std::string tool_results;
  NewDocument document;
  DocumentUpdate document_update;
  std::vector<NewChunk> chunks;
  std::vector<WriteOp> ops;
};

// Appends the header; the caller appends the kind's body with the Put* functions below.
void PutHeader(std::string* dst, const RecordHeader& header);
void PutId(std::string* dst, const Uuid& id);
void PutString(std::string* dst, std::string_view value);
void PutConversation(std::string* dst, const NewConversation& input);
void PutConversationUpdate(std::string* dst, const ConversationUpdate& update);
void PutMessage(std::string* dst, const NewMessage& input);
void PutMessageUpdate(std::string* dst, const MessageUpdate& update);
void PutDocument(std::string* dst, const NewDocument& input);
void PutDocumentUpdate(std::string* dst, const DocumentUpdate& update);
void PutChunks(std::string* dst, const std::vector<NewChunk>& chunks);
void PutOps(std::string* dst, const std::vector<WriteOp>& ops);

// Decodes a whole record.  VALIDATION_ERROR (field "record") for an unknown version or kind,
// truncated or malformed input, or bytes left over; the message says which.
Result<WriteRecord> DecodeRecord(std::string_view record);

}  // namespace mnemo::replication
