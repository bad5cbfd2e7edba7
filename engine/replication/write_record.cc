#include "replication/write_record.h"

#include <bit>
#include <cstring>
#include <type_traits>
#include <variant>

#include "common/coding.h"

namespace mnemo::replication {
namespace {

using coding::PutLengthPrefixed;
using coding::PutVarint64;
using coding::PutVarsint64;

void PutOptString(std::string* dst, const std::optional<std::string>& value) {
  dst->push_back(value ? 1 : 0);
  if (value) PutLengthPrefixed(dst, *value);
}

void PutOptInt(std::string* dst, const std::optional<int64_t>& value) {
  dst->push_back(value ? 1 : 0);
  if (value) PutVarsint64(dst, *value);
}

void PutOptId(std::string* dst, const std::optional<Uuid>& id) {
  dst->push_back(id ? 1 : 0);
  if (id) PutId(dst, *id);
}

void PutFloats(std::string* dst, const std::vector<float>& values) {
  static_assert(std::endian::native == std::endian::little, "floats are stored little-endian");
  PutVarint64(dst, values.size());
  dst->append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
}

void PutChunk(std::string* dst, const NewChunk& chunk) {
  PutOptId(dst, chunk.id);
  PutId(dst, chunk.document_id);
  PutVarsint64(dst, chunk.chunk_index);
  PutLengthPrefixed(dst, chunk.chunk_text);
  PutFloats(dst, chunk.embedding);
  PutOptString(dst, chunk.metadata);
  PutOptInt(dst, chunk.created_at);
}

// Reads a record front to back; the first failure sticks and names what was being read.
class Reader {
 public:
  explicit Reader(std::string_view input) : input_(input) {}

  bool ok() const { return error_.empty(); }
  Status status() const { return ok() ? Status::Ok() : Status::ValidationError("record", error_); }
  bool empty() const { return input_.empty(); }
  void Fail(std::string message) {
    if (ok()) error_ = std::move(message);
  }

  uint8_t Byte(const char* what) {
    uint8_t value = 0;
    if (ok() && !coding::GetByte(&input_, &value)) Fail(Truncated(what));
    return value;
  }
  uint64_t Varint(const char* what) {
    uint64_t value = 0;
    if (ok() && !coding::GetVarint64(&input_, &value)) Fail(Truncated(what));
    return value;
  }
  int64_t Varsint(const char* what) {
    int64_t value = 0;
    if (ok() && !coding::GetVarsint64(&input_, &value)) Fail(Truncated(what));
    return value;
  }
  std::string String(const char* what) {
    std::string_view value;
    if (ok() && !coding::GetLengthPrefixed(&input_, &value)) Fail(Truncated(what));
    return std::string(value);
  }
  Uuid Id(const char* what) {
    if (!ok()) return Uuid();
    if (input_.size() < Uuid::kSize) {
      Fail(Truncated(what));
      return Uuid();
    }
    Uuid id = Uuid::FromBytes(input_.substr(0, Uuid::kSize));
    input_.remove_prefix(Uuid::kSize);
    return id;
  }
  bool Present(const char* what) {
    const uint8_t flag = Byte(what);
    if (flag > 1) Fail(std::string("bad presence byte of ") + what);
    return ok() && flag == 1;
  }
  std::optional<std::string> OptString(const char* what) {
    if (!Present(what)) return std::nullopt;
    return String(what);
  }
  std::optional<int64_t> OptInt(const char* what) {
    if (!Present(what)) return std::nullopt;
    return Varsint(what);
  }
  std::optional<Uuid> OptId(const char* what) {
    if (!Present(what)) return std::nullopt;
    return Id(what);
  }
  // A count of items each at least `min_bytes` long: larger than the input left is malformed
  // (and would otherwise reserve memory a corrupt record names).
  size_t Count(const char* what, size_t min_bytes) {
    const uint64_t count = Varint(what);
    if (ok() && count > input_.size() / min_bytes) Fail(std::string("bad count of ") + what);
    return ok() ? static_cast<size_t>(count) : 0;
  }
  std::vector<float> Floats(const char* what) {
    const size_t count = Count(what, sizeof(float));
    std::vector<float> values(count);
    if (count > 0) {
      std::memcpy(values.data(), input_.data(), count * sizeof(float));
      input_.remove_prefix(count * sizeof(float));
    }
    return values;
  }

 private:
  static std::string Truncated(const char* what) {
    return std::string("truncated or malformed ") + what;
  }
  std::string_view input_;
  std::string error_;
};

NewConversation ReadConversation(Reader& in) {
  NewConversation c;
  c.id = in.OptId("conversation.id");
  c.title = in.String("conversation.title");
  c.summary = in.OptString("conversation.summary");
  c.model = in.OptString("conversation.model");
  c.system_prompt = in.String("conversation.system_prompt");
  c.metadata = in.OptString("conversation.metadata");
  return c;
}

NewMessage ReadMessage(Reader& in) {
  NewMessage m;
  m.id = in.OptId("message.id");
  m.conversation_id = in.Id("message.conversation_id");
  m.role = in.String("message.role");
  m.content = in.String("message.content");
  m.parts = in.OptString("message.parts");
  m.tool_calls = in.OptString("message.tool_calls");
  m.tool_results = in.OptString("message.tool_results");
  m.attachments = in.OptString("message.attachments");
  m.tokens_used = in.OptInt("message.tokens_used");
  m.metadata = in.OptString("message.metadata");
  m.embedding = in.Floats("message.embedding");
  return m;
}

NewDocument ReadDocument(Reader& in) {
  NewDocument d;
  d.id = in.OptId("document.id");
  d.filename = in.String("document.filename");
  d.file_type = in.String("document.file_type");
  d.content = in.String("document.content");
  d.metadata = in.OptString("document.metadata");
  return d;
}

NewChunk ReadChunk(Reader& in) {
  NewChunk c;
  c.id = in.OptId("chunk.id");
  c.document_id = in.Id("chunk.document_id");
  c.chunk_index = in.Varsint("chunk.chunk_index");
  c.chunk_text = in.String("chunk.chunk_text");
  c.embedding = in.Floats("chunk.embedding");
  c.metadata = in.OptString("chunk.metadata");
  c.created_at = in.OptInt("chunk.created_at");
  return c;
}

std::vector<NewChunk> ReadChunks(Reader& in) {
  // A chunk is at least an absent id, a document id and five one-byte fields.
  constexpr size_t kMinChunkBytes = 1 + Uuid::kSize + 5;
  const size_t count = in.Count("chunks", kMinChunkBytes);
  std::vector<NewChunk> chunks;
  chunks.reserve(count);
  for (size_t i = 0; i < count && in.ok(); ++i) chunks.push_back(ReadChunk(in));
  return chunks;
}

std::vector<WriteOp> ReadOps(Reader& in) {
  constexpr size_t kMinOpBytes = 2;
  const size_t count = in.Count("ops", kMinOpBytes);
  std::vector<WriteOp> ops;
  ops.reserve(count);
  for (size_t i = 0; i < count && in.ok(); ++i) {
    const uint8_t tag = in.Byte("op");
    switch (static_cast<BatchOp>(tag)) {
      case BatchOp::kCreateConversation:
        ops.emplace_back(CreateConversationOp{ReadConversation(in)});
        break;
      case BatchOp::kUpsertConversation:
        ops.emplace_back(UpsertConversationOp{ReadConversation(in)});
        break;
      case BatchOp::kAppendMessage: ops.emplace_back(AppendMessageOp{ReadMessage(in)}); break;
      case BatchOp::kUpsertMessage: ops.emplace_back(UpsertMessageOp{ReadMessage(in)}); break;
      case BatchOp::kCreateDocument: ops.emplace_back(CreateDocumentOp{ReadDocument(in)}); break;
      case BatchOp::kAddChunk: ops.emplace_back(AddChunkOp{ReadChunk(in)}); break;
      default: in.Fail("unknown batch op " + std::to_string(tag));
    }
  }
  return ops;
}

}  // namespace

void PutHeader(std::string* dst, const RecordHeader& header) {
  dst->push_back(static_cast<char>(kRecordVersion));
  dst->push_back(static_cast<char>(header.kind));
  PutVarint64(dst, header.epoch);
  PutVarsint64(dst, header.now);
  PutLengthPrefixed(dst, header.user_id);
}

void PutId(std::string* dst, const Uuid& id) { dst->append(id.bytes()); }
void PutString(std::string* dst, std::string_view value) { PutLengthPrefixed(dst, value); }

void PutConversation(std::string* dst, const NewConversation& input) {
  PutOptId(dst, input.id);
  PutLengthPrefixed(dst, input.title);
  PutOptString(dst, input.summary);
  PutOptString(dst, input.model);
  PutLengthPrefixed(dst, input.system_prompt);
  PutOptString(dst, input.metadata);
}

void PutConversationUpdate(std::string* dst, const ConversationUpdate& update) {
  PutOptString(dst, update.title);
  PutOptString(dst, update.summary);
  PutOptString(dst, update.model);
  PutOptString(dst, update.system_prompt);
  PutOptString(dst, update.metadata);
}

void PutMessage(std::string* dst, const NewMessage& input) {
  PutOptId(dst, input.id);
  PutId(dst, input.conversation_id);
  PutLengthPrefixed(dst, input.role);
  PutLengthPrefixed(dst, input.content);
  PutOptString(dst, input.parts);
  PutOptString(dst, input.tool_calls);
  PutOptString(dst, input.tool_results);
  PutOptString(dst, input.attachments);
  PutOptInt(dst, input.tokens_used);
  PutOptString(dst, input.metadata);
  PutFloats(dst, input.embedding);
}

void PutMessageUpdate(std::string* dst, const MessageUpdate& update) {
  PutOptString(dst, update.role);
  PutOptString(dst, update.content);
  PutOptString(dst, update.parts);
  PutOptString(dst, update.tool_calls);
  PutOptString(dst, update.tool_results);
  PutOptString(dst, update.attachments);
  PutOptInt(dst, update.tokens_used);
  dst->push_back(update.clear_tokens_used ? 1 : 0);
  PutOptString(dst, update.metadata);
}

void PutDocument(std::string* dst, const NewDocument& input) {
  PutOptId(dst, input.id);
  PutLengthPrefixed(dst, input.filename);
  PutLengthPrefixed(dst, input.file_type);
  PutLengthPrefixed(dst, input.content);
  PutOptString(dst, input.metadata);
}

void PutDocumentUpdate(std::string* dst, const DocumentUpdate& update) {
  PutOptString(dst, update.filename);
  PutOptString(dst, update.file_type);
  PutOptString(dst, update.content);
  PutOptString(dst, update.metadata);
}

void PutChunks(std::string* dst, const std::vector<NewChunk>& chunks) {
  PutVarint64(dst, chunks.size());
  for (const NewChunk& chunk : chunks) PutChunk(dst, chunk);
}

void PutOps(std::string* dst, const std::vector<WriteOp>& ops) {
  PutVarint64(dst, ops.size());
  for (const WriteOp& op : ops) {
    static_assert(std::variant_size_v<WriteOp> == 6, "a new WriteOp needs a BatchOp tag");
    dst->push_back(static_cast<char>(op.index()));
    std::visit(
        [&](const auto& typed) {
          using T = std::decay_t<decltype(typed)>;
          if constexpr (std::is_same_v<T, CreateConversationOp> ||
                        std::is_same_v<T, UpsertConversationOp>) {
            PutConversation(dst, typed.conversation);
          } else if constexpr (std::is_same_v<T, AppendMessageOp> ||
                               std::is_same_v<T, UpsertMessageOp>) {
            PutMessage(dst, typed.message);
          } else if constexpr (std::is_same_v<T, CreateDocumentOp>) {
            PutDocument(dst, typed.document);
          } else {
            static_assert(std::is_same_v<T, AddChunkOp>, "unhandled WriteOp");
            PutChunk(dst, typed.chunk);
          }
        },
        op);
  }
}

Result<WriteRecord> DecodeRecord(std::string_view bytes) {
  Reader in(bytes);
  WriteRecord record;
  const uint8_t version = in.Byte("version");
  if (in.ok() && version != kRecordVersion) {
    in.Fail("unknown record version " + std::to_string(version));
  }
  const uint8_t kind = in.Byte("kind");
  if (in.ok() && (kind == 0 || kind > kMaxKind)) {
    in.Fail("unknown record kind " + std::to_string(kind));
  }
  RecordHeader& header = record.header;
  header.kind = static_cast<Kind>(kind);
  header.epoch = in.Varint("epoch");
  header.now = in.Varsint("now");
  header.user_id = in.String("user_id");
  MNEMO_RETURN_IF_ERROR(in.status());
  switch (header.kind) {
    case Kind::kCreateConversation:
    case Kind::kUpsertConversation: record.conversation = ReadConversation(in); break;
    case Kind::kUpdateConversation:
      record.id = in.Id("id");
      record.conversation_update.title = in.OptString("update.title");
      record.conversation_update.summary = in.OptString("update.summary");
      record.conversation_update.model = in.OptString("update.model");
      record.conversation_update.system_prompt = in.OptString("update.system_prompt");
      record.conversation_update.metadata = in.OptString("update.metadata");
      break;
    case Kind::kAppendMessage:
    case Kind::kUpsertMessage: record.message = ReadMessage(in); break;
    case Kind::kUpdateMessage: {
      record.id = in.Id("id");
      MessageUpdate& u = record.message_update;
      u.role = in.OptString("update.role");
      u.content = in.OptString("update.content");
      u.parts = in.OptString("update.parts");
      u.tool_calls = in.OptString("update.tool_calls");
      u.tool_results = in.OptString("update.tool_results");
      u.attachments = in.OptString("update.attachments");
      u.tokens_used = in.OptInt("update.tokens_used");
      u.clear_tokens_used = in.Present("update.clear_tokens_used");
      u.metadata = in.OptString("update.metadata");
      break;
    }
    case Kind::kSetToolResults:
      record.id = in.Id("id");
      record.tool_results = in.String("tool_results");
      break;
    case Kind::kCreateDocument: record.document = ReadDocument(in); break;
    case Kind::kUpdateDocument:
      record.id = in.Id("id");
      record.document_update.filename = in.OptString("update.filename");
      record.document_update.file_type = in.OptString("update.file_type");
      record.document_update.content = in.OptString("update.content");
      record.document_update.metadata = in.OptString("update.metadata");
      break;
    case Kind::kAddChunks: record.chunks = ReadChunks(in); break;
    case Kind::kReplaceChunks:
      record.id = in.Id("id");
      record.chunks = ReadChunks(in);
      break;
    case Kind::kApplyBatch: record.ops = ReadOps(in); break;
    case Kind::kSoftDeleteConversation:
    case Kind::kUndeleteConversation:
    case Kind::kHardDeleteConversation:
    case Kind::kDeleteMessage:
    case Kind::kDeleteAllMessages:
    case Kind::kSoftDeleteDocument:
    case Kind::kUndeleteDocument:
    case Kind::kHardDeleteDocument:
    case Kind::kSoftDeleteChunk:
    case Kind::kRestoreChunk:
    case Kind::kDeleteChunk: record.id = in.Id("id"); break;
  }
  if (in.ok() && !in.empty()) in.Fail("bytes left over after the record");
  MNEMO_RETURN_IF_ERROR(in.status());
  return record;
}

}  // namespace mnemo::replication
