#include "storage/key_codec.h"

namespace mnemo::keys {
namespace {

constexpr uint64_t kSignBit = uint64_t{1} << 63;
constexpr char kEscape = '\x00';
constexpr char kEscapedZero = '\xff';
constexpr char kTerminator = '\x01';

void AppendBigEndian(std::string* out, uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8)
    out->push_back(static_cast<char>((value >> shift) & 0xff));
}

}  // namespace

KeyBuilder& KeyBuilder::Byte(uint8_t value) {
  key_.push_back(static_cast<char>(value));
  return *this;
}

KeyBuilder& KeyBuilder::U64(uint64_t value) {
  AppendBigEndian(&key_, value);
  return *this;
}

KeyBuilder& KeyBuilder::I64(int64_t value) {
  AppendBigEndian(&key_, static_cast<uint64_t>(value) ^ kSignBit);
  return *this;
}

KeyBuilder& KeyBuilder::I64Desc(int64_t value) {
  AppendBigEndian(&key_, ~(static_cast<uint64_t>(value) ^ kSignBit));
  return *this;
}

KeyBuilder& KeyBuilder::String(std::string_view value) {
  for (char c : value) {
    key_.push_back(c);
    if (c == kEscape) key_.push_back(kEscapedZero);
  }
  key_.push_back(kEscape);
  key_.push_back(kTerminator);
  return *this;
}

KeyBuilder& KeyBuilder::Id(const Uuid& value) {
  key_.append(value.bytes());
  return *this;
}

bool KeyReader::Byte(uint8_t* value) {
  if (rest_.empty()) return false;
  *value = static_cast<uint8_t>(rest_.front());
  rest_.remove_prefix(1);
  return true;
}

bool KeyReader::U64(uint64_t* value) {
  if (rest_.size() < 8) return false;
  uint64_t result = 0;
  for (int i = 0; i < 8; ++i) result = (result << 8) | static_cast<uint8_t>(rest_[i]);
  rest_.remove_prefix(8);
  *value = result;
  return true;
}

bool KeyReader::I64(int64_t* value) {
  uint64_t raw = 0;
  if (!U64(&raw)) return false;
  *value = static_cast<int64_t>(raw ^ kSignBit);
  return true;
}

bool KeyReader::I64Desc(int64_t* value) {
  uint64_t raw = 0;
  if (!U64(&raw)) return false;
  *value = static_cast<int64_t>(~raw ^ kSignBit);
  return true;
}

bool KeyReader::String(std::string* value) {
  value->clear();
  for (size_t i = 0; i < rest_.size(); ++i) {
    if (rest_[i] != kEscape) {
      value->push_back(rest_[i]);
      continue;
    }
    if (i + 1 >= rest_.size()) return false;
    if (rest_[i + 1] == kTerminator) {
      rest_.remove_prefix(i + 2);
      return true;
    }
    if (rest_[i + 1] != kEscapedZero) return false;
    value->push_back(kEscape);
    ++i;
  }
  return false;
}

bool KeyReader::Id(Uuid* value) {
  if (rest_.size() < Uuid::kSize) return false;
  *value = Uuid::FromBytes(rest_.substr(0, Uuid::kSize));
  rest_.remove_prefix(Uuid::kSize);
  return true;
}

std::string PrefixSuccessor(std::string_view prefix) {
  std::string result(prefix);
  while (!result.empty()) {
    const auto last = static_cast<uint8_t>(result.back());
    if (last != 0xff) {
      result.back() = static_cast<char>(last + 1);
      return result;
    }
    result.pop_back();
  }
  return result;
}

std::string ConversationKey(const Uuid& id) { return std::string(id.bytes()); }
std::string DocumentKey(const Uuid& id) { return std::string(id.bytes()); }

std::string MessageKey(const Uuid& conversation_id, uint64_t seq) {
  return KeyBuilder().Id(conversation_id).U64(seq).Release();
}

std::string MessagePrefix(const Uuid& conversation_id) {
  return std::string(conversation_id.bytes());
}

std::string MessageByIdKey(const Uuid& message_id) {
  return KeyBuilder().Byte(static_cast<uint8_t>(IndexTag::kMessageById)).Id(message_id).Release();
}

std::string UserScopePrefix(IndexTag tag, std::string_view user_id, Scope scope) {
  return KeyBuilder()
      .Byte(static_cast<uint8_t>(tag))
      .String(user_id)
      .Byte(static_cast<uint8_t>(scope))
      .Release();
}

std::string UserTimeKey(IndexTag tag, std::string_view user_id, Scope scope, Timestamp ts,
                        const Uuid& id) {
  std::string key = UserScopePrefix(tag, user_id, scope);
  KeyBuilder suffix;
  suffix.I64Desc(ts).Id(id);
  key += suffix.key();
  return key;
}

std::string UserCountsKey(IndexTag tag, std::string_view user_id) {
  return KeyBuilder().Byte(static_cast<uint8_t>(tag)).String(user_id).Release();
}

std::string ChunkKey(const Uuid& id) { return std::string(id.bytes()); }

std::string ChunkByDocumentPrefix(const Uuid& document_id) {
  return KeyBuilder()
      .Byte(static_cast<uint8_t>(IndexTag::kChunkByDocument))
      .Id(document_id)
      .Release();
}

std::string ChunkByDocumentKey(const Uuid& document_id, uint64_t chunk_index) {
  std::string key = ChunkByDocumentPrefix(document_id);
  key += KeyBuilder().U64(chunk_index).key();
  return key;
}

namespace {
std::string U32BigEndian(uint32_t value) {
  return KeyBuilder().U64(value).Release().substr(4);  // the low 4 bytes, big-endian
}
}  // namespace

std::string VectorPrefix(uint32_t month) { return U32BigEndian(month); }

std::string PayloadTagPrefix() {
  return std::string(1, static_cast<char>(IndexTag::kChunkPayload));
}

std::string PayloadPrefix(uint32_t month) { return PayloadTagPrefix() + U32BigEndian(month); }

namespace {

// Splits a [tag][month u32][label u64] key.
bool ParseMonthLabelKey(std::string_view key, IndexTag tag, uint32_t* month, uint64_t* label) {
  constexpr size_t kPayloadKeySize = 1 + 4 + 8;
  if (key.size() != kPayloadKeySize || key[0] != static_cast<char>(tag)) return false;
  uint32_t value = 0;
  for (size_t i = 1; i < 5; ++i) value = (value << 8) | static_cast<uint8_t>(key[i]);
  *month = value;
  return KeyReader(key.substr(5)).U64(label);
}

}  // namespace

bool ParsePayloadKey(std::string_view key, uint32_t* month, uint64_t* label) {
  return ParseMonthLabelKey(key, IndexTag::kChunkPayload, month, label);
}

std::string MessagePayloadTagPrefix() {
  return std::string(1, static_cast<char>(IndexTag::kMessagePayload));
}

std::string MessagePayloadKey(uint32_t month, uint64_t label) {
  return MessagePayloadTagPrefix() + U32BigEndian(month) + KeyBuilder().U64(label).Release();
}

bool ParseMessagePayloadKey(std::string_view key, uint32_t* month, uint64_t* label) {
  return ParseMonthLabelKey(key, IndexTag::kMessagePayload, month, label);
}

std::string MessageTextPayloadTagPrefix() {
  return std::string(1, static_cast<char>(IndexTag::kMessageTextPayload));
}

std::string MessageTextPayloadKey(uint32_t month, uint64_t label) {
  return MessageTextPayloadTagPrefix() + U32BigEndian(month) + KeyBuilder().U64(label).Release();
}

bool ParseMessageTextPayloadKey(std::string_view key, uint32_t* month, uint64_t* label) {
  return ParseMonthLabelKey(key, IndexTag::kMessageTextPayload, month, label);
}

std::string PayloadKey(uint32_t month, uint64_t label) {
  return PayloadPrefix(month) + KeyBuilder().U64(label).Release();
}

std::string VectorKey(uint32_t month, uint64_t label) {
  return VectorPrefix(month) + KeyBuilder().U64(label).Release();
}

bool ParseVectorKey(std::string_view key, uint32_t* month, uint64_t* label) {
  if (key.size() != 4 + 8) return false;
  uint32_t value = 0;
  for (size_t i = 0; i < 4; ++i) value = (value << 8) | static_cast<uint8_t>(key[i]);
  *month = value;
  return KeyReader(key.substr(4)).U64(label);
}

std::string DeletedPayloadPrefix(uint32_t month) {
  return std::string(1, static_cast<char>(IndexTag::kDeletedChunkPayload)) + U32BigEndian(month);
}

std::string DeletedPayloadKey(uint32_t month, uint64_t label) {
  return DeletedPayloadPrefix(month) + KeyBuilder().U64(label).Release();
}

std::string PurgeQueuePrefix() { return std::string(1, static_cast<char>(IndexTag::kPurgeQueue)); }

std::string PurgeKey(Timestamp deleted_at, PurgeKind kind, const Uuid& id) {
  return KeyBuilder()
      .Byte(static_cast<uint8_t>(IndexTag::kPurgeQueue))
      .I64(deleted_at)
      .Byte(static_cast<uint8_t>(kind))
      .Id(id)
      .Release();
}

bool ParsePurgeKey(std::string_view key, Timestamp* deleted_at, PurgeKind* kind, Uuid* id) {
  KeyReader reader(key);
  uint8_t tag = 0;
  uint8_t kind_byte = 0;
  if (!reader.Byte(&tag) || tag != static_cast<uint8_t>(IndexTag::kPurgeQueue) ||
      !reader.I64(deleted_at) || !reader.Byte(&kind_byte) || !reader.Id(id) || !reader.done()) {
    return false;
  }
  if (kind_byte < static_cast<uint8_t>(PurgeKind::kConversation) ||
      kind_byte > static_cast<uint8_t>(PurgeKind::kChunk)) {
    return false;
  }
  *kind = static_cast<PurgeKind>(kind_byte);
  return true;
}

std::string TextTermPrefix() { return std::string(1, static_cast<char>(IndexTag::kTextTerm)); }

std::string TextTermKey(std::string_view term) {
  std::string key = TextTermPrefix();
  key.append(term);  // the last component: no terminator needed
  return key;
}

std::string TextRowPrefix() { return std::string(1, static_cast<char>(IndexTag::kTextRow)); }

std::string TextRowKey(uint8_t kind, std::string_view user_id, uint32_t month, uint64_t label) {
  std::string key = KeyBuilder()
                        .Byte(static_cast<uint8_t>(IndexTag::kTextRow))
                        .Byte(kind)
                        .String(user_id)
                        .Release();
  key += U32BigEndian(month);
  key += KeyBuilder().U64(label).key();
  return key;
}

bool ParseTextRowKey(std::string_view key, uint8_t* kind, std::string* user_id, uint32_t* month,
                     uint64_t* label) {
  KeyReader reader(key);
  uint8_t tag = 0;
  if (!reader.Byte(&tag) || tag != static_cast<uint8_t>(IndexTag::kTextRow)) return false;
  if (!reader.Byte(kind) || !reader.String(user_id)) return false;
  // The month: 4 big-endian bytes.
  uint64_t month_high = 0;
  uint8_t byte = 0;
  for (int i = 0; i < 4; ++i) {
    if (!reader.Byte(&byte)) return false;
    month_high = (month_high << 8) | byte;
  }
  *month = static_cast<uint32_t>(month_high);
  return reader.U64(label) && reader.done();
}

std::string LogKey(uint64_t seq) { return KeyBuilder().U64(seq).Release(); }

bool ParseLogKey(std::string_view key, uint64_t* seq) {
  KeyReader reader(key);
  return reader.U64(seq) && reader.done();
}

}  // namespace mnemo::keys
