// Stored formats of the vector layer: chunks' search payloads, message payloads and vectors
// (see storage/key_codec.h for the keys; the chunk row itself is tables/chunk_row.h).
//
//   payload v1     (cf index, by month+label): version | user LP | chunk id 16 | document id 16 |
//                                              chunk_index varint | created_at varsint |
//                                              metadata LP
//   vector         (cf vectors, by month+label): dim little-endian float32 values, unit norm
//   message payload v1 (cf index, by month+label, tag 0x33): version | user LP |
//                                              message id 16 | conversation id 16 | role byte |
//                                              created_at varsint
//
// The payload is what search needs in memory for every row (owner, ids, time, metadata); it is
// small so that opening a data directory rebuilds the in-memory tables with one short scan.
// A soft-deleted chunk keeps its row (with deleted_at), its vector and its payload, but the
// payload moves to the deleted-payload key (key_codec.h, tag 0x32), out of that scan.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mnemo/status.h"
#include "mnemo/types.h"

namespace mnemo::vector {

struct ChunkPayload {
  std::string user_id;
  Uuid chunk_id;
  Uuid document_id;
  int64_t chunk_index = 0;
  Timestamp created_at = 0;
  std::string metadata;  // JSON object
};

// What search needs in memory of a message's vector row (the message row itself is the
// message store's).
struct MessagePayload {
  std::string user_id;
  Uuid message_id;
  Uuid conversation_id;
  uint8_t role = 0;  // Role
  Timestamp created_at = 0;
};

std::string EncodePayload(const ChunkPayload& payload);
Status DecodePayload(std::string_view data, ChunkPayload* payload);
std::string EncodeMessagePayload(const MessagePayload& payload);
Status DecodeMessagePayload(std::string_view data, MessagePayload* payload);
std::string EncodeVector(const float* values, size_t dim);
// INTERNAL_ERROR when the byte count is not dim * 4.
Status DecodeVector(std::string_view data, size_t dim, std::vector<float>* values);

}  // namespace mnemo::vector
