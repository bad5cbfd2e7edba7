#include "vector/chunk_rows.h"

#include <cstring>

#include "common/coding.h"
#include "mnemo/records.h"

namespace mnemo::vector {
namespace {

// FROZEN format version bytes.
constexpr uint8_t kPayloadV1 = 1;
constexpr uint8_t kMessagePayloadV1 = 1;

Status Corrupt(std::string_view what) {
  return Status::Internal("corrupt " + std::string(what) + " row");
}

}  // namespace

std::string EncodePayload(const ChunkPayload& p) {
  std::string out(1, static_cast<char>(kPayloadV1));
  coding::PutLengthPrefixed(&out, p.user_id);
  out.append(p.chunk_id.bytes());
  out.append(p.document_id.bytes());
  coding::PutVarint64(&out, static_cast<uint64_t>(p.chunk_index));
  coding::PutVarsint64(&out, p.created_at);
  coding::PutLengthPrefixed(&out, p.metadata);
  return out;
}

Status DecodePayload(std::string_view data, ChunkPayload* p) {
  uint8_t version = 0;
  std::string_view user, metadata;
  uint64_t chunk_index = 0;
  if (!coding::GetByte(&data, &version) || version != kPayloadV1 ||
      !coding::GetLengthPrefixed(&data, &user) || data.size() < 2 * Uuid::kSize) {
    return Corrupt("chunk payload");
  }
  p->chunk_id = Uuid::FromBytes(data.substr(0, Uuid::kSize));
  p->document_id = Uuid::FromBytes(data.substr(Uuid::kSize, Uuid::kSize));
  data.remove_prefix(2 * Uuid::kSize);
  if (!coding::GetVarint64(&data, &chunk_index) || !coding::GetVarsint64(&data, &p->created_at) ||
      !coding::GetLengthPrefixed(&data, &metadata) || !data.empty()) {
    return Corrupt("chunk payload");
  }
  p->user_id.assign(user);
  p->chunk_index = static_cast<int64_t>(chunk_index);
  p->metadata.assign(metadata);
  return Status::Ok();
}

std::string EncodeMessagePayload(const MessagePayload& p) {
  std::string out(1, static_cast<char>(kMessagePayloadV1));
  coding::PutLengthPrefixed(&out, p.user_id);
  out.append(p.message_id.bytes());
  out.append(p.conversation_id.bytes());
  out.push_back(static_cast<char>(p.role));
  coding::PutVarsint64(&out, p.created_at);
  return out;
}

Status DecodeMessagePayload(std::string_view data, MessagePayload* p) {
  uint8_t version = 0;
  std::string_view user;
  if (!coding::GetByte(&data, &version) || version != kMessagePayloadV1 ||
      !coding::GetLengthPrefixed(&data, &user) || data.size() < 2 * Uuid::kSize + 1) {
    return Corrupt("message payload");
  }
  p->message_id = Uuid::FromBytes(data.substr(0, Uuid::kSize));
  p->conversation_id = Uuid::FromBytes(data.substr(Uuid::kSize, Uuid::kSize));
  p->role = static_cast<uint8_t>(data[2 * Uuid::kSize]);
  data.remove_prefix(2 * Uuid::kSize + 1);
  if (!coding::GetVarsint64(&data, &p->created_at) || !data.empty() || p->role >= kRoleCount)
    return Corrupt("message payload");
  p->user_id.assign(user);
  return Status::Ok();
}

std::string EncodeVector(const float* values, size_t dim) {
  static_assert(sizeof(float) == 4, "float32 expected");
  // x86-64 and ARM64 are little-endian: the bytes are the floats as they sit in memory.
  return std::string(reinterpret_cast<const char*>(values), dim * sizeof(float));
}

Status DecodeVector(std::string_view data, size_t dim, std::vector<float>* values) {
  if (data.size() != dim * sizeof(float)) return Corrupt("vector");
  values->resize(dim);
  std::memcpy(values->data(), data.data(), data.size());
  return Status::Ok();
}

}  // namespace mnemo::vector
