// Order-preserving encoding of composite keys, and every key layout mnemo stores.
//
// A key is a concatenation of components whose encoded bytes compare (memcmp, RocksDB's default
// comparator) in the same order as the values:
//   byte      1 raw byte
//   u64       8 bytes big-endian
//   i64       8 bytes big-endian of (value XOR 2^63), so negatives sort first
//   i64 desc  bitwise NOT of the i64 encoding: newest timestamps first
//   string    bytes with 0x00 escaped as 0x00 0xFF, terminated by 0x00 0x01; prefix-free, so a
//             shorter string sorts before its extensions and later components never interfere
//   uuid      16 raw bytes
//
// Layouts (FROZEN: they are on disk; add new index tags, never change existing ones):
//   cf conversations  [conversation uuid]                      -> conversation row
//   cf messages       [conversation uuid][seq u64]             -> message row
//   cf documents      [document uuid]                          -> document row
//   cf index          [0x01][message uuid]                     -> [conversation uuid][seq fixed64]
//                     [0x10][user][scope][created desc][uuid]  -> folded title
//                     [0x11][user][scope][updated desc][uuid]  -> (empty)
//                     [0x12][user]                             -> conversation counts
//                     [0x20][user][scope][created desc][uuid]  -> folded filename
//                     [0x21][user]                             -> document counts
//                     [0x30][document uuid][chunk_index u64]   -> chunk uuid
//                     [0x31][month u32][label u64]             -> chunk payload (owner, ids,
//                                                                 created_at, metadata)
//                     [0x32][month u32][label u64]             -> chunk payload of a
//                                                                 soft-deleted chunk
//                     [0x33][month u32][label u64]             -> message vector payload (owner,
//                                                                 message, conversation, role,
//                                                                 created_at)
//                     [0x34][month u32][label u64]             -> message terms payload (as
//                                                                 0x33's, for the label of a
//                                                                 message's content terms)
//                     [0x40][deleted_at i64][kind][uuid]       -> user id: the purge queue of
//                                                                 soft-deleted rows, oldest first
//                     [0x50][0x00][group u64]                  -> a group of new terms and
//                                                                 their ids (text index
//                                                                 dictionary, all users)
//                     [0x50][term bytes]                       -> term id varint (dictionary
//                                                                 entries of earlier builds)
//                     [0x51][kind][user][month u32][label u64] -> the terms of a group of up to
//                                                                 64 rows, under its first
//                                                                 row's label (or one row's, in
//                                                                 earlier builds); formats in
//                                                                 text/text_index.h
//   cf chunks         [chunk uuid]                             -> chunk row (text, label, ...)
//   cf vectors        [month u32][label u64]                   -> where the unit float32 vector
//                                                                 (of a chunk or a message: labels
//                                                                 are unique) lies in a segment
//                                                                 file (vector/vector_log.h), or
//                                                                 the vector itself (earlier
//                                                                 builds)
//   cf replog         [seq u64]                                -> a write record
//                                                                 (replication/write_record.h)
//   scope: 0x00 = active rows only, 0x01 = all rows.  An active row has an entry in both scopes,
//   a soft-deleted row only in "all", so either list is a plain prefix scan.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "mnemo/types.h"

namespace mnemo::keys {

class KeyBuilder {
 public:
  KeyBuilder& Byte(uint8_t value);
  KeyBuilder& U64(uint64_t value);
  KeyBuilder& I64(int64_t value);
  KeyBuilder& I64Desc(int64_t value);
  KeyBuilder& String(std::string_view value);
  KeyBuilder& Id(const Uuid& value);

  const std::string& key() const { return key_; }
  std::string Release() { return std::move(key_); }

 private:
  std::string key_;
};

// Reads components back in order; each returns false on malformed or truncated input.
class KeyReader {
 public:
  explicit KeyReader(std::string_view key) : rest_(key) {}
  bool Byte(uint8_t* value);
  bool U64(uint64_t* value);
  bool I64(int64_t* value);
  bool I64Desc(int64_t* value);
  bool String(std::string* value);
  bool Id(Uuid* value);
  bool done() const { return rest_.empty(); }

 private:
  std::string_view rest_;
};

// The smallest key greater than every key starting with `prefix` (for upper bounds).
// Empty when no such key exists (prefix of all 0xFF).
std::string PrefixSuccessor(std::string_view prefix);

enum class IndexTag : uint8_t {
  kMessageById = 0x01,
  kConversationByCreated = 0x10,
  kConversationByUpdated = 0x11,
  kUserConversationCounts = 0x12,
  kDocumentByCreated = 0x20,
  kUserDocumentCounts = 0x21,
  kChunkByDocument = 0x30,
  kChunkPayload = 0x31,
  kDeletedChunkPayload = 0x32,
  kMessagePayload = 0x33,
  kMessageTextPayload = 0x34,
  kPurgeQueue = 0x40,
  kTextTerm = 0x50,
  kTextRow = 0x51,
};

// The kind of row a purge-queue entry names.  FROZEN: stored in keys.
enum class PurgeKind : uint8_t { kConversation = 1, kDocument = 2, kChunk = 3 };

enum class Scope : uint8_t { kActive = 0x00, kAll = 0x01 };

std::string ConversationKey(const Uuid& id);
std::string MessageKey(const Uuid& conversation_id, uint64_t seq);
std::string MessagePrefix(const Uuid& conversation_id);
std::string DocumentKey(const Uuid& id);

std::string MessageByIdKey(const Uuid& message_id);
// [tag][user][scope]: the prefix of one user's time-ordered index.
std::string UserScopePrefix(IndexTag tag, std::string_view user_id, Scope scope);
std::string UserTimeKey(IndexTag tag, std::string_view user_id, Scope scope, Timestamp ts,
                        const Uuid& id);
std::string UserCountsKey(IndexTag tag, std::string_view user_id);

std::string ChunkKey(const Uuid& id);
std::string ChunkByDocumentKey(const Uuid& document_id, uint64_t chunk_index);
std::string ChunkByDocumentPrefix(const Uuid& document_id);
std::string VectorKey(uint32_t month, uint64_t label);
std::string PayloadKey(uint32_t month, uint64_t label);
std::string PayloadPrefix(uint32_t month);
// All payload keys of all months.
std::string PayloadTagPrefix();
// Splits a payload key; false when it is not one.
bool ParsePayloadKey(std::string_view key, uint32_t* month, uint64_t* label);
std::string VectorPrefix(uint32_t month);
// Splits a VectorKey; false when it is not one.
bool ParseVectorKey(std::string_view key, uint32_t* month, uint64_t* label);
// Payload keys of soft-deleted chunks (same layout as PayloadKey under their own tag).
std::string DeletedPayloadKey(uint32_t month, uint64_t label);
std::string DeletedPayloadPrefix(uint32_t month);
// Payload keys of message vectors (same layout as PayloadKey under their own tag).
std::string MessagePayloadKey(uint32_t month, uint64_t label);
std::string MessagePayloadTagPrefix();
bool ParseMessagePayloadKey(std::string_view key, uint32_t* month, uint64_t* label);
// Payload keys of messages' content terms (same layout as PayloadKey under their own tag).
std::string MessageTextPayloadKey(uint32_t month, uint64_t label);
std::string MessageTextPayloadTagPrefix();
bool ParseMessageTextPayloadKey(std::string_view key, uint32_t* month, uint64_t* label);

std::string PurgeKey(Timestamp deleted_at, PurgeKind kind, const Uuid& id);
std::string PurgeQueuePrefix();
// Splits a purge-queue key; false when it is not one.
bool ParsePurgeKey(std::string_view key, Timestamp* deleted_at, PurgeKind* kind, Uuid* id);

// Replication log keys.
std::string LogKey(uint64_t seq);
// False when `key` is not one.
bool ParseLogKey(std::string_view key, uint64_t* seq);

// Text index keys; `kind` is text::RowKind's byte.
std::string TextTermKey(std::string_view term);
std::string TextTermPrefix();
std::string TextRowKey(uint8_t kind, std::string_view user_id, uint32_t month, uint64_t label);
std::string TextRowPrefix();
// Splits a text row key; false when it is not one.
bool ParseTextRowKey(std::string_view key, uint8_t* kind, std::string* user_id, uint32_t* month,
                     uint64_t* label);

}  // namespace mnemo::keys
