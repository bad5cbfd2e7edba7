#include "tables/row_codec.h"

#include "common/coding.h"

namespace mnemo::tables {
namespace {

// FROZEN format version bytes.
constexpr uint8_t kConversationV1 = 1;
constexpr uint8_t kMessageV1 = 1;
constexpr uint8_t kMessageV2 = 2;
constexpr uint8_t kMessageV3 = 3;
constexpr uint8_t kDocumentV1 = 1;
constexpr uint8_t kCountsV1 = 1;

bool IsMessageVersion(char byte) {
  const auto version = static_cast<uint8_t>(byte);
  return version >= kMessageV1 && version <= kMessageV3;
}

void PutOptionalString(std::string* dst, const std::optional<std::string>& value) {
  dst->push_back(value ? 1 : 0);
  if (value) coding::PutLengthPrefixed(dst, *value);
}

void PutOptionalInt(std::string* dst, const std::optional<int64_t>& value) {
  dst->push_back(value ? 1 : 0);
  if (value) coding::PutVarsint64(dst, *value);
}

// Reads fields in order; any failure latches and is reported once by status().
class RowReader {
 public:
  RowReader(std::string_view data, std::string_view what) : input_(data), what_(what) {}

  void Version(uint8_t expected) { Version(expected, expected); }
  // Reads a version in [oldest, newest]; returns it (0 on failure).
  uint8_t Version(uint8_t oldest, uint8_t newest) {
    uint8_t version = 0;
    if (!coding::GetByte(&input_, &version)) {
      ok_ = false;
      return 0;
    }
    if (version < oldest || version > newest) {
      ok_ = false;
      detail_ = "unknown row version " + std::to_string(version);
      return 0;
    }
    return version;
  }
  // True (and the OPT marker consumed) when an optional field is present.
  bool Present() {
    bool present = false;
    Bool(&present);
    return ok_ && present;
  }
  void String(std::string* out) {
    std::string_view view;
    if (ok_ && coding::GetLengthPrefixed(&input_, &view)) {
      out->assign(view);
    } else {
      ok_ = false;
    }
  }
  void OptionalString(std::optional<std::string>* out) {
    if (Present()) {
      out->emplace();
      String(&**out);
    } else {
      out->reset();
    }
  }
  void Int(int64_t* out) { ok_ = ok_ && coding::GetVarsint64(&input_, out); }
  void Uint(uint64_t* out) { ok_ = ok_ && coding::GetVarint64(&input_, out); }
  void Count(int64_t* out) {
    uint64_t value = 0;
    Uint(&value);
    *out = static_cast<int64_t>(value);
  }
  void OptionalInt(std::optional<int64_t>* out) {
    if (Present()) {
      int64_t value = 0;
      Int(&value);
      *out = value;
    } else {
      out->reset();
    }
  }
  void Bool(bool* out) {
    uint8_t byte = 0;
    ok_ = ok_ && coding::GetByte(&input_, &byte) && byte <= 1;
    *out = byte == 1;
  }
  void Byte(uint8_t* out) { ok_ = ok_ && coding::GetByte(&input_, out); }
  void Raw(size_t size, std::string_view* out) {
    if (ok_ && input_.size() >= size) {
      *out = input_.substr(0, size);
      input_.remove_prefix(size);
    } else {
      ok_ = false;
    }
  }

  Status status() const {
    if (ok_ && input_.empty()) return Status::Ok();
    std::string message = "corrupt " + std::string(what_) + " row";
    if (!detail_.empty()) message += ": " + detail_;
    if (ok_) message += ": trailing bytes";
    return Status::Internal(message);
  }

 private:
  std::string_view input_;
  std::string_view what_;
  std::string detail_;
  bool ok_ = true;
};

}  // namespace

std::string EncodeConversation(const ConversationRow& row) {
  const Conversation& c = row.conversation;
  std::string out;
  out.push_back(static_cast<char>(kConversationV1));
  coding::PutLengthPrefixed(&out, c.user_id);
  coding::PutLengthPrefixed(&out, c.title);
  PutOptionalString(&out, c.summary);
  coding::PutLengthPrefixed(&out, c.model);
  coding::PutLengthPrefixed(&out, c.system_prompt);
  coding::PutLengthPrefixed(&out, c.metadata);
  out.push_back(c.is_deleted ? 1 : 0);
  PutOptionalInt(&out, c.deleted_at);
  coding::PutVarsint64(&out, c.created_at);
  coding::PutVarsint64(&out, c.updated_at);
  coding::PutVarint64(&out, static_cast<uint64_t>(c.message_count));
  coding::PutVarsint64(&out, c.total_tokens);
  PutOptionalInt(&out, c.last_message_at);
  coding::PutVarint64(&out, row.last_seq);
  return out;
}

Status DecodeConversation(std::string_view data, const Uuid& id, ConversationRow* row) {
  Conversation& c = row->conversation;
  c.id = id;
  RowReader reader(data, "conversation");
  reader.Version(kConversationV1);
  reader.String(&c.user_id);
  reader.String(&c.title);
  reader.OptionalString(&c.summary);
  reader.String(&c.model);
  reader.String(&c.system_prompt);
  reader.String(&c.metadata);
  reader.Bool(&c.is_deleted);
  reader.OptionalInt(&c.deleted_at);
  reader.Int(&c.created_at);
  reader.Int(&c.updated_at);
  reader.Count(&c.message_count);
  reader.Int(&c.total_tokens);
  reader.OptionalInt(&c.last_message_at);
  reader.Uint(&row->last_seq);
  return reader.status();
}

namespace {

void PutOptionalRef(std::string* dst, const std::optional<VectorRef>& ref) {
  dst->push_back(ref ? 1 : 0);
  if (!ref) return;
  coding::PutVarint64(dst, ref->label);
  coding::PutVarint64(dst, ref->month);
}

// Reads an OPT(label varint | month varint); `what` names it in the error.
Status ReadOptionalRef(RowReader* reader, std::string_view what, std::optional<VectorRef>* ref) {
  ref->reset();
  if (!reader->Present()) return Status::Ok();
  uint64_t label = 0, month = 0;
  reader->Uint(&label);
  reader->Uint(&month);
  if (month > UINT32_MAX)
    return Status::Internal("corrupt message row: bad " + std::string(what) + " month");
  *ref = VectorRef{label, static_cast<uint32_t>(month)};
  return Status::Ok();
}

}  // namespace

std::string EncodeMessage(const Message& m, const MessageRefs& refs) {
  std::string out;
  const uint8_t version = refs.text ? kMessageV3 : refs.vector ? kMessageV2 : kMessageV1;
  out.push_back(static_cast<char>(version));
  out.append(m.id.bytes());
  out.push_back(static_cast<char>(m.role));
  coding::PutLengthPrefixed(&out, m.content);
  PutOptionalString(&out, m.parts);
  PutOptionalString(&out, m.tool_calls);
  PutOptionalString(&out, m.tool_results);
  PutOptionalString(&out, m.attachments);
  PutOptionalInt(&out, m.tokens_used);
  coding::PutLengthPrefixed(&out, m.metadata);
  coding::PutVarsint64(&out, m.created_at);
  if (version >= kMessageV2) PutOptionalRef(&out, refs.vector);
  if (version >= kMessageV3) PutOptionalRef(&out, refs.text);
  return out;
}

Status DecodeMessage(std::string_view data, const Uuid& conversation_id, Message* m,
                     MessageRefs* refs) {
  m->conversation_id = conversation_id;
  RowReader reader(data, "message");
  const uint8_t version = reader.Version(kMessageV1, kMessageV3);
  std::string_view id;
  reader.Raw(Uuid::kSize, &id);
  if (id.size() == Uuid::kSize) m->id = Uuid::FromBytes(id);
  uint8_t role = 0;
  reader.Byte(&role);
  m->role = static_cast<Role>(role);
  reader.String(&m->content);
  reader.OptionalString(&m->parts);
  reader.OptionalString(&m->tool_calls);
  reader.OptionalString(&m->tool_results);
  reader.OptionalString(&m->attachments);
  reader.OptionalInt(&m->tokens_used);
  reader.String(&m->metadata);
  reader.Int(&m->created_at);
  MessageRefs read;
  if (version >= kMessageV2)
    MNEMO_RETURN_IF_ERROR(ReadOptionalRef(&reader, "vector", &read.vector));
  if (version >= kMessageV3) MNEMO_RETURN_IF_ERROR(ReadOptionalRef(&reader, "terms", &read.text));
  m->has_embedding = read.vector.has_value();
  if (refs) *refs = read;
  Status status = reader.status();
  if (status.ok() && role >= kRoleCount) return Status::Internal("corrupt message row: bad role");
  return status;
}

std::string EncodeDocument(const Document& d) {
  std::string out;
  out.push_back(static_cast<char>(kDocumentV1));
  coding::PutLengthPrefixed(&out, d.user_id);
  coding::PutLengthPrefixed(&out, d.filename);
  coding::PutLengthPrefixed(&out, d.file_type);
  coding::PutLengthPrefixed(&out, d.content);
  coding::PutVarint64(&out, static_cast<uint64_t>(d.total_chunks));
  coding::PutLengthPrefixed(&out, d.metadata);
  out.push_back(d.is_deleted ? 1 : 0);
  PutOptionalInt(&out, d.deleted_at);
  coding::PutVarsint64(&out, d.created_at);
  coding::PutVarsint64(&out, d.updated_at);
  return out;
}

Status DecodeDocument(std::string_view data, const Uuid& id, Document* d) {
  d->id = id;
  RowReader reader(data, "document");
  reader.Version(kDocumentV1);
  reader.String(&d->user_id);
  reader.String(&d->filename);
  reader.String(&d->file_type);
  reader.String(&d->content);
  reader.Count(&d->total_chunks);
  reader.String(&d->metadata);
  reader.Bool(&d->is_deleted);
  reader.OptionalInt(&d->deleted_at);
  reader.Int(&d->created_at);
  reader.Int(&d->updated_at);
  return reader.status();
}

std::string EncodeCounts(const Counts& counts) {
  std::string out;
  out.push_back(static_cast<char>(kCountsV1));
  coding::PutVarint64(&out, static_cast<uint64_t>(counts.total));
  coding::PutVarint64(&out, static_cast<uint64_t>(counts.active));
  coding::PutVarint64(&out, static_cast<uint64_t>(counts.deleted));
  return out;
}

Status DecodeCounts(std::string_view data, Counts* counts) {
  RowReader reader(data, "counts");
  reader.Version(kCountsV1);
  reader.Count(&counts->total);
  reader.Count(&counts->active);
  reader.Count(&counts->deleted);
  return reader.status();
}

}  // namespace mnemo::tables

namespace mnemo::tables {

// A v1 message starts with: version byte | id (16 bytes) | role byte.
std::optional<Uuid> PeekMessageId(std::string_view data) {
  if (data.size() < 1 + Uuid::kSize || !IsMessageVersion(data[0])) return std::nullopt;
  return Uuid::FromBytes(data.substr(1, Uuid::kSize));
}

bool MessageMayHaveRefs(std::string_view data) {
  return !data.empty() && static_cast<uint8_t>(data[0]) >= kMessageV2 &&
         static_cast<uint8_t>(data[0]) <= kMessageV3;
}

std::optional<Role> PeekMessageRole(std::string_view data) {
  if (data.size() < 2 + Uuid::kSize || !IsMessageVersion(data[0])) return std::nullopt;
  const auto role = static_cast<uint8_t>(data[1 + Uuid::kSize]);
  if (role >= kRoleCount) return std::nullopt;
  return static_cast<Role>(role);
}

}  // namespace mnemo::tables
