// Stored row formats of the conversation store.
//
// Every value starts with a format version byte (FROZEN values below); fields follow in a
// fixed order using common/coding.h:
//   conversation v1: user LP | title LP | summary OPT(LP) | model LP | system_prompt LP |
//                    metadata LP | is_deleted byte | deleted_at OPT(varsint) | created_at varsint |
//                    updated_at varsint | message_count varint | total_tokens varsint |
//                    last_message_at OPT(varsint) | last_seq varint
//   message v1:      id 16 bytes | role byte | content LP | parts OPT(LP) | tool_calls OPT(LP) |
//                    tool_results OPT(LP) | attachments OPT(LP) | tokens_used OPT(varsint) |
//                    metadata LP | created_at varsint          (conversation id is in the key)
//   message v2:      v1 fields | vector OPT(label varint | month varint)
//   message v3:      v2 fields | terms OPT(label varint | month varint)  (where the content's
//                    keyword-index terms are stored)
//                    A message is written in the oldest version that holds what it has (v1
//                    without a vector or terms, v2 with a vector only), so rows stay readable by
//                    earlier versions where they can.
//   document v1:     user LP | filename LP | file_type LP | content LP | total_chunks varint |
//                    metadata LP | is_deleted byte | deleted_at OPT(varsint) | created_at varsint |
//                    updated_at varsint
//   counts v1:       total varint | active varint | deleted varint
// LP = varint length + bytes; OPT(x) = byte 0 (absent) or byte 1 followed by x.
// Decoders return an INTERNAL_ERROR ("corrupt row") on truncated or malformed input.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "mnemo/records.h"
#include "mnemo/status.h"
#include "tables/message_vectors.h"

namespace mnemo::tables {

// A conversation plus the fields that never leave the engine.
struct ConversationRow {
  Conversation conversation;
  uint64_t last_seq = 0;  // sequence number of the newest message ever appended
};

struct Counts {
  int64_t total = 0;
  int64_t active = 0;
  int64_t deleted = 0;
};

std::string EncodeConversation(const ConversationRow& row);
Status DecodeConversation(std::string_view data, const Uuid& id, ConversationRow* row);

// Where a message's search entries are stored, when it has them.
struct MessageRefs {
  std::optional<VectorRef> vector;  // its embedding (message->has_embedding)
  std::optional<TextRef> text;      // its content's keyword-index terms
};

std::string EncodeMessage(const Message& message, const MessageRefs& refs = {});
Status DecodeMessage(std::string_view data, const Uuid& conversation_id, Message* message,
                     MessageRefs* refs = nullptr);

std::string EncodeDocument(const Document& document);
Status DecodeDocument(std::string_view data, const Uuid& id, Document* document);

std::string EncodeCounts(const Counts& counts);
Status DecodeCounts(std::string_view data, Counts* counts);

}  // namespace mnemo::tables

namespace mnemo::tables {
// The role of an encoded message without decoding the rest; nullopt when malformed.
std::optional<Role> PeekMessageRole(std::string_view data);
// The id of an encoded message; nullopt when malformed.
std::optional<Uuid> PeekMessageId(std::string_view data);
// False when the encoded message certainly has no vector and no terms (a v1 row); true when it
// may have either.
bool MessageMayHaveRefs(std::string_view data);
}  // namespace mnemo::tables
