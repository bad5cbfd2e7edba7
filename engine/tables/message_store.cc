#include "tables/message_store.h"

#include <algorithm>
#include <unordered_map>

#include "common/coding.h"
#include "common/utf8.h"
#include "storage/key_codec.h"
#include "tables/filters.h"
#include "tables/index_pager.h"
#include "tables/validation.h"

namespace mnemo::tables {
namespace {

using storage::Cf;

constexpr char kEmptyObject[] = "{}";

Status ValidateRole(std::string_view role) {
  if (!ParseRole(role))
    return Status::ValidationError("role", "must be one of user, assistant, system, tool");
  return Status::Ok();
}

Status ValidateTokens(int64_t tokens) {
  if (tokens < 0) return Status::ValidationError("tokens_used", "must be >= 0");
  if (tokens > kMaxTokensUsed) {
    return Status::ValidationError("tokens_used", "must be <= " + std::to_string(kMaxTokensUsed));
  }
  return Status::Ok();
}

// The rules every stored message meets: content unless parts.
Status ValidateContent(const Message& m) {
  if (m.content.empty() && !m.parts)
    return Status::ValidationError("content", "is required unless parts is given");
  return Status::Ok();
}

Status ValidateNew(const NewMessage& input) {
  MNEMO_RETURN_IF_ERROR(ValidateRole(input.role));
  if (input.id && input.id->IsNil())
    return Status::ValidationError("id", "must not be the nil UUID");
  MNEMO_RETURN_IF_ERROR(ValidateText("content", input.content));
  if (input.parts) MNEMO_RETURN_IF_ERROR(ValidateJsonArray("parts", *input.parts));
  if (input.content.empty() && !input.parts) {
    return Status::ValidationError("content", "is required unless parts is given");
  }
  if (input.tool_calls) MNEMO_RETURN_IF_ERROR(ValidateJsonValue("tool_calls", *input.tool_calls));
  if (input.tool_results)
    MNEMO_RETURN_IF_ERROR(ValidateJsonValue("tool_results", *input.tool_results));
  if (input.attachments)
    MNEMO_RETURN_IF_ERROR(ValidateJsonValue("attachments", *input.attachments));
  if (input.tokens_used) MNEMO_RETURN_IF_ERROR(ValidateTokens(*input.tokens_used));
  if (input.metadata) MNEMO_RETURN_IF_ERROR(ValidateJsonObject("metadata", *input.metadata));
  return Status::Ok();
}

bool IsJsonNull(std::string_view json) {
  const auto first = json.find_first_not_of(" \t\r\n");
  const auto last = json.find_last_not_of(" \t\r\n");
  return first != std::string_view::npos && json.substr(first, last - first + 1) == "null";
}

// A JSON field as stored: JSON null is absent; anything else (an empty array too) as given.
std::optional<std::string> StoredJson(const std::optional<std::string>& json) {
  if (!json || IsJsonNull(*json)) return std::nullopt;
  return json;
}

void ApplyFields(const NewMessage& input, Message* m) {
  m->role = *ParseRole(input.role);
  m->content = input.content;
  m->parts = StoredJson(input.parts);
  m->tool_calls = StoredJson(input.tool_calls);
  m->tool_results = StoredJson(input.tool_results);
  m->attachments = StoredJson(input.attachments);
  m->tokens_used = input.tokens_used;
  m->metadata = input.metadata.value_or(kEmptyObject);
}

Status ValidateUpdate(const MessageUpdate& update) {
  if (update.role) MNEMO_RETURN_IF_ERROR(ValidateRole(*update.role));
  if (update.content) MNEMO_RETURN_IF_ERROR(ValidateText("content", *update.content));
  if (update.parts && !IsJsonNull(*update.parts))
    MNEMO_RETURN_IF_ERROR(ValidateJsonArray("parts", *update.parts));
  if (update.tool_calls) MNEMO_RETURN_IF_ERROR(ValidateJsonValue("tool_calls", *update.tool_calls));
  if (update.tool_results)
    MNEMO_RETURN_IF_ERROR(ValidateJsonValue("tool_results", *update.tool_results));
  if (update.attachments)
    MNEMO_RETURN_IF_ERROR(ValidateJsonValue("attachments", *update.attachments));
  if (update.tokens_used) MNEMO_RETURN_IF_ERROR(ValidateTokens(*update.tokens_used));
  if (update.tokens_used && update.clear_tokens_used) {
    return Status::ValidationError("tokens_used", "cannot be set and cleared in one update");
  }
  if (update.metadata) MNEMO_RETURN_IF_ERROR(ValidateJsonObject("metadata", *update.metadata));
  if (!update.role && !update.content && !update.parts && !update.tool_calls &&
      !update.tool_results && !update.attachments && !update.tokens_used &&
      !update.clear_tokens_used && !update.metadata) {
    return Status::ValidationError("update", "names no field to change");
  }
  return Status::Ok();
}

void ApplyUpdate(const MessageUpdate& update, Message* m) {
  if (update.role) m->role = *ParseRole(*update.role);
  if (update.content) m->content = *update.content;
  if (update.parts) m->parts = StoredJson(update.parts);
  if (update.tool_calls) m->tool_calls = StoredJson(update.tool_calls);
  if (update.tool_results) m->tool_results = StoredJson(update.tool_results);
  if (update.attachments) m->attachments = StoredJson(update.attachments);
  if (update.tokens_used) m->tokens_used = update.tokens_used;
  if (update.clear_tokens_used) m->tokens_used.reset();
  if (update.metadata) m->metadata = *update.metadata;
}

bool HasToolCalls(const Message& m) { return m.tool_calls && !IsEmptyJson(*m.tool_calls); }

// The message-id index value: conversation id (16 bytes) | seq fixed64.
std::string EncodeLocation(const Uuid& conversation_id, uint64_t seq) {
  std::string value(conversation_id.bytes());
  coding::PutFixed64(&value, seq);
  return value;
}

bool DecodeLocation(std::string_view value, Uuid* conversation_id, uint64_t* seq) {
  if (value.size() != Uuid::kSize + 8) return false;
  *conversation_id = Uuid::FromBytes(value.substr(0, Uuid::kSize));
  value.remove_prefix(Uuid::kSize);
  return coding::GetFixed64(&value, seq);
}

// Visits the conversation's messages in `range`, decoded; `visit` returns false to stop.
Status ScanMessages(const storage::ReadView& view, const Uuid& conversation_id,
                    const storage::ScanRange& range, const std::function<bool(Message&&)>& visit) {
  Status decoded;
  MNEMO_RETURN_IF_ERROR(
      view.Scan(Cf::kMessages, range, [&](std::string_view, std::string_view value) {
        Message m;
        decoded = DecodeMessage(value, conversation_id, &m);
        return decoded.ok() && visit(std::move(m));
      }));
  return decoded;
}

}  // namespace

Result<MessageStore::Located> MessageStore::LocateForWrite(const storage::WriteTxn& txn,
                                                           std::string_view user_id,
                                                           const Uuid& message_id) const {
  const Status not_found = Status::NotFound("message " + message_id.ToString() + " not found");
  std::string location;
  Status status = txn.Get(Cf::kIndex, keys::MessageByIdKey(message_id), &location);
  if (status.IsNotFound()) return not_found;
  MNEMO_RETURN_IF_ERROR(status);
  Located located;
  Uuid conversation_id;
  if (!DecodeLocation(location, &conversation_id, &located.seq)) {
    return Status::Internal("corrupt message index entry for " + message_id.ToString());
  }
  auto conversation = conversations_.LoadForWrite(txn, user_id, conversation_id, false);
  if (conversation.status().IsNotFound()) return not_found;
  MNEMO_RETURN_IF_ERROR(conversation.status());
  located.conversation = std::move(conversation).value();
  std::string row;
  MNEMO_RETURN_IF_ERROR(
      txn.Get(Cf::kMessages, keys::MessageKey(conversation_id, located.seq), &row));
  MNEMO_RETURN_IF_ERROR(DecodeMessage(row, conversation_id, &located.message, &located.refs));
  if ((located.refs.vector || located.refs.text) && !vectors_) {
    return Status::Internal("message " + message_id.ToString() +
                            " has search entries but no vector layer is attached");
  }
  return located;
}

Result<std::optional<VectorRef>> MessageStore::StageEmbedding(storage::WriteTxn& txn,
                                                              std::string_view user_id,
                                                              const NewMessage& input,
                                                              Message* m) const {
  m->has_embedding = false;
  if (input.embedding.empty()) return std::optional<VectorRef>();
  if (!vectors_) return Status::Unavailable("message embeddings are not available");
  MNEMO_ASSIGN_OR_RETURN(VectorRef ref, vectors_->StagePut(txn, user_id, *m, input.embedding));
  m->has_embedding = true;
  return std::optional<VectorRef>(ref);
}

Result<std::optional<TextRef>> MessageStore::StageText(storage::WriteTxn& txn,
                                                       std::string_view user_id,
                                                       const Message& m) const {
  if (!vectors_ || utf8::IsBlank(m.content)) return std::optional<TextRef>();
  return vectors_->StageTextPut(txn, user_id, m);
}

Result<std::optional<TextRef>> MessageStore::RestageText(storage::WriteTxn& txn,
                                                         std::string_view user_id,
                                                         const Message& before,
                                                         const Message& after,
                                                         const std::optional<TextRef>& ref) const {
  // Hits are filtered on the role, so a new role re-stages the terms as a new content does.
  if (before.content == after.content && before.role == after.role) return ref;
  if (ref) MNEMO_RETURN_IF_ERROR(vectors_->StageTextRemove(txn, user_id, *ref));
  return StageText(txn, user_id, after);
}

Result<Message> MessageStore::Append(storage::WriteTxn& txn, std::string_view user_id,
                                     const NewMessage& input) const {
  MNEMO_RETURN_IF_ERROR(ValidateNew(input));
  if (input.id) {
    std::string location;
    Status found = txn.Get(Cf::kIndex, keys::MessageByIdKey(*input.id), &location);
    if (found.ok()) {
      auto existing = LocateForWrite(txn, user_id, *input.id);
      if (existing.ok() && existing->message.conversation_id == input.conversation_id) {
        return existing->message;
      }
      return Status::DuplicateRecord("message id " + input.id->ToString() + " is already in use");
    }
    if (!found.IsNotFound()) return found;
  }
  MNEMO_ASSIGN_OR_RETURN(ConversationRow old_row,
                         conversations_.LoadForWrite(txn, user_id, input.conversation_id, false));
  ConversationRow row = old_row;
  Conversation& c = row.conversation;

  Message m;
  m.id = input.id.value_or(Uuid::Generate());
  m.conversation_id = input.conversation_id;
  ApplyFields(input, &m);
  m.created_at = std::max(txn.now(), c.last_message_at.value_or(0));
  const uint64_t seq = ++row.last_seq;

  c.message_count += 1;
  c.total_tokens += m.tokens_used.value_or(0);
  c.last_message_at = m.created_at;
  c.updated_at = std::max(m.created_at, NextTimestamp(txn.now(), c.updated_at));
  MessageRefs refs;
  MNEMO_ASSIGN_OR_RETURN(refs.vector, StageEmbedding(txn, user_id, input, &m));
  MNEMO_ASSIGN_OR_RETURN(refs.text, StageText(txn, user_id, m));

  txn.Put(Cf::kMessages, keys::MessageKey(m.conversation_id, seq), EncodeMessage(m, refs));
  txn.Put(Cf::kIndex, keys::MessageByIdKey(m.id), EncodeLocation(m.conversation_id, seq));
  MNEMO_RETURN_IF_ERROR(conversations_.Save(txn, &old_row, row));
  return m;
}

Result<Message> MessageStore::Upsert(storage::WriteTxn& txn, std::string_view user_id,
                                     const NewMessage& input) const {
  if (!input.id) return Status::ValidationError("id", "is required for an upsert");
  MNEMO_RETURN_IF_ERROR(ValidateNew(input));
  std::string location;
  Status found = txn.Get(Cf::kIndex, keys::MessageByIdKey(*input.id), &location);
  if (found.IsNotFound()) return Append(txn, user_id, input);
  MNEMO_RETURN_IF_ERROR(found);
  auto located = LocateForWrite(txn, user_id, *input.id);
  if (!located.ok()) {
    if (located.status().IsNotFound()) {
      return Status::DuplicateRecord("message id " + input.id->ToString() + " is already in use");
    }
    return located.status();
  }
  if (located->message.conversation_id != input.conversation_id) {
    return Status::Conflict("message " + input.id->ToString() + " belongs to another conversation");
  }
  Message m = located->message;
  const int64_t old_tokens = m.tokens_used.value_or(0);
  ApplyFields(input, &m);
  ConversationRow row = located->conversation;
  row.conversation.total_tokens += m.tokens_used.value_or(0) - old_tokens;
  row.conversation.updated_at = NextTimestamp(txn.now(), row.conversation.updated_at);
  const std::optional<VectorRef>& old_vector = located->refs.vector;
  if (old_vector) MNEMO_RETURN_IF_ERROR(vectors_->StageRemove(txn, user_id, *old_vector));
  MessageRefs refs;
  MNEMO_ASSIGN_OR_RETURN(refs.vector, StageEmbedding(txn, user_id, input, &m));
  MNEMO_ASSIGN_OR_RETURN(refs.text,
                         RestageText(txn, user_id, located->message, m, located->refs.text));
  txn.Put(Cf::kMessages, keys::MessageKey(m.conversation_id, located->seq), EncodeMessage(m, refs));
  MNEMO_RETURN_IF_ERROR(conversations_.Save(txn, &located->conversation, row));
  return m;
}

Result<Message> MessageStore::SetToolResults(storage::WriteTxn& txn, std::string_view user_id,
                                             const Uuid& message_id,
                                             std::string_view tool_results) const {
  MNEMO_RETURN_IF_ERROR(ValidateJsonValue("tool_results", tool_results));
  MNEMO_ASSIGN_OR_RETURN(Located located, LocateForWrite(txn, user_id, message_id));
  Message m = located.message;
  m.tool_results = StoredJson(std::string(tool_results));
  ConversationRow row = located.conversation;
  row.conversation.updated_at = NextTimestamp(txn.now(), row.conversation.updated_at);
  txn.Put(Cf::kMessages, keys::MessageKey(m.conversation_id, located.seq),
          EncodeMessage(m, located.refs));
  MNEMO_RETURN_IF_ERROR(conversations_.Save(txn, &located.conversation, row));
  return m;
}

Result<Message> MessageStore::Update(storage::WriteTxn& txn, std::string_view user_id,
                                     const Uuid& message_id, const MessageUpdate& update) const {
  MNEMO_RETURN_IF_ERROR(ValidateUpdate(update));
  MNEMO_ASSIGN_OR_RETURN(Located located, LocateForWrite(txn, user_id, message_id));
  Message m = located.message;
  ApplyUpdate(update, &m);
  MNEMO_RETURN_IF_ERROR(ValidateContent(m));
  ConversationRow row = located.conversation;
  row.conversation.total_tokens +=
      m.tokens_used.value_or(0) - located.message.tokens_used.value_or(0);
  row.conversation.updated_at = NextTimestamp(txn.now(), row.conversation.updated_at);
  MessageRefs refs = located.refs;
  if (refs.vector && m.role != located.message.role) {
    // Search filters on the role, so the vector's search state follows it.
    MNEMO_ASSIGN_OR_RETURN(refs.vector, vectors_->StageMove(txn, user_id, m, *refs.vector));
  }
  MNEMO_ASSIGN_OR_RETURN(refs.text,
                         RestageText(txn, user_id, located.message, m, located.refs.text));
  txn.Put(Cf::kMessages, keys::MessageKey(m.conversation_id, located.seq), EncodeMessage(m, refs));
  MNEMO_RETURN_IF_ERROR(conversations_.Save(txn, &located.conversation, row));
  return m;
}

Result<Message> MessageStore::Delete(storage::WriteTxn& txn, std::string_view user_id,
                                     const Uuid& message_id) const {
  MNEMO_ASSIGN_OR_RETURN(Located located, LocateForWrite(txn, user_id, message_id));
  const Message& m = located.message;
  ConversationRow row = located.conversation;
  Conversation& c = row.conversation;
  c.message_count -= 1;
  c.total_tokens -= m.tokens_used.value_or(0);
  // last_message_at follows the newest message that remains.
  storage::ScanRange newest;
  newest.prefix = keys::MessagePrefix(m.conversation_id);
  newest.reverse = true;
  c.last_message_at.reset();
  Status decoded;
  MNEMO_RETURN_IF_ERROR(
      txn.db().Scan(Cf::kMessages, newest, [&](std::string_view key, std::string_view value) {
        if (key == keys::MessageKey(m.conversation_id, located.seq)) return true;
        Message remaining;
        decoded = DecodeMessage(value, m.conversation_id, &remaining);
        if (decoded.ok()) c.last_message_at = remaining.created_at;
        return false;
      }));
  MNEMO_RETURN_IF_ERROR(decoded);
  c.updated_at = NextTimestamp(txn.now(), c.updated_at);
  txn.Delete(Cf::kMessages, keys::MessageKey(m.conversation_id, located.seq));
  txn.Delete(Cf::kIndex, keys::MessageByIdKey(m.id));
  if (located.refs.vector)
    MNEMO_RETURN_IF_ERROR(vectors_->StageRemove(txn, user_id, *located.refs.vector));
  if (located.refs.text)
    MNEMO_RETURN_IF_ERROR(vectors_->StageTextRemove(txn, user_id, *located.refs.text));
  MNEMO_RETURN_IF_ERROR(conversations_.Save(txn, &located.conversation, row));
  return m;
}

Result<int64_t> MessageStore::DeleteAll(storage::WriteTxn& txn, std::string_view user_id,
                                        const Uuid& conversation_id) const {
  MNEMO_ASSIGN_OR_RETURN(ConversationRow old_row,
                         conversations_.LoadForWrite(txn, user_id, conversation_id, false));
  MNEMO_ASSIGN_OR_RETURN(int64_t deleted,
                         StageDeleteAllMessages(txn, user_id, conversation_id, vectors_));
  ConversationRow row = old_row;
  row.conversation.message_count = 0;
  row.conversation.total_tokens = 0;
  row.conversation.last_message_at.reset();
  row.conversation.updated_at = NextTimestamp(txn.now(), row.conversation.updated_at);
  MNEMO_RETURN_IF_ERROR(conversations_.Save(txn, &old_row, row));
  return deleted;
}

Result<int64_t> StageDeleteAllMessages(storage::WriteTxn& txn, std::string_view user_id,
                                       const Uuid& conversation_id, MessageVectors* vectors) {
  storage::ScanRange range;
  range.prefix = keys::MessagePrefix(conversation_id);
  int64_t count = 0;
  Status corrupt;
  std::vector<std::string> message_keys;
  std::vector<Uuid> message_ids;
  std::vector<VectorRef> vector_refs;
  std::vector<TextRef> text_refs;
  MNEMO_RETURN_IF_ERROR(
      txn.db().Scan(Cf::kMessages, range, [&](std::string_view key, std::string_view value) {
        const std::optional<Uuid> id = PeekMessageId(value);
        if (!id) {
          corrupt =
              Status::Internal("corrupt message row in conversation " + conversation_id.ToString());
          return false;
        }
        // Only a row that may hold search entries is decoded whole, to find where they are.
        if (MessageMayHaveRefs(value)) {
          Message m;
          MessageRefs refs;
          corrupt = DecodeMessage(value, conversation_id, &m, &refs);
          if (!corrupt.ok()) return false;
          if (refs.vector) vector_refs.push_back(*refs.vector);
          if (refs.text) text_refs.push_back(*refs.text);
        }
        message_keys.emplace_back(key);
        message_ids.push_back(*id);
        ++count;
        return true;
      }));
  MNEMO_RETURN_IF_ERROR(corrupt);
  if ((!vector_refs.empty() || !text_refs.empty()) && !vectors) {
    return Status::Internal("conversation " + conversation_id.ToString() +
                            " has message search entries but no vector layer is attached");
  }
  for (size_t i = 0; i < message_keys.size(); ++i) {
    txn.Delete(Cf::kMessages, message_keys[i]);
    txn.Delete(Cf::kIndex, keys::MessageByIdKey(message_ids[i]));
  }
  for (const VectorRef& ref : vector_refs)
    MNEMO_RETURN_IF_ERROR(vectors->StageRemove(txn, user_id, ref));
  for (const TextRef& ref : text_refs)
    MNEMO_RETURN_IF_ERROR(vectors->StageTextRemove(txn, user_id, ref));
  return count;
}

Status MessageStore::StageMissingTerms(storage::WriteTxn& txn, std::string_view user_id,
                                       const Uuid& conversation_id, bool conversation_deleted,
                                       std::string_view after, size_t max_rows,
                                       std::string* last_key, int64_t* indexed) const {
  last_key->clear();
  *indexed = 0;
  storage::ScanRange range;
  range.prefix = keys::MessagePrefix(conversation_id);
  range.start = std::string(after);
  range.skip_start = !after.empty();
  size_t read = 0;
  Status failed;
  MNEMO_RETURN_IF_ERROR(
      txn.db().Scan(Cf::kMessages, range, [&](std::string_view key, std::string_view value) {
        last_key->assign(key);
        Message m;
        MessageRefs refs;
        failed = DecodeMessage(value, conversation_id, &m, &refs);
        if (!failed.ok()) return false;
        if (!refs.text && !utf8::IsBlank(m.content) && vectors_) {
          auto staged = vectors_->StageTextPut(txn, user_id, m, conversation_deleted);
          if (!staged.ok()) {
            failed = staged.status();
            return false;
          }
          refs.text = *staged;
          if (refs.text) {
            txn.Put(Cf::kMessages, key, EncodeMessage(m, refs));
            ++*indexed;
          }
        }
        return ++read < max_rows;
      }));
  return failed;
}

// ---- reads ----------------------------------------------------------------------------------

Result<Conversation> MessageStore::VisibleConversation(const storage::ReadView& view,
                                                       std::string_view user_id,
                                                       const Uuid& id) const {
  MNEMO_ASSIGN_OR_RETURN(ConversationRow row, VisibleConversationRow(view, user_id, id));
  return std::move(row.conversation);
}

Result<ConversationRow> MessageStore::VisibleConversationRow(const storage::ReadView& view,
                                                             std::string_view user_id,
                                                             const Uuid& id) const {
  MNEMO_RETURN_IF_ERROR(ValidateUserId(user_id));
  std::string value;
  Status status = view.Get(Cf::kConversations, keys::ConversationKey(id), &value);
  if (status.IsNotFound()) return Status::NotFound("conversation " + id.ToString() + " not found");
  MNEMO_RETURN_IF_ERROR(status);
  ConversationRow row;
  MNEMO_RETURN_IF_ERROR(DecodeConversation(value, id, &row));
  if (row.conversation.user_id != user_id || row.conversation.is_deleted) {
    return Status::NotFound("conversation " + id.ToString() + " not found");
  }
  return row;
}

Status MessageStore::ReadTail(const storage::ReadView& view, const Uuid& conversation_id,
                              uint64_t last_seq, int64_t count,
                              std::vector<Message>* oldest_first) const {
  oldest_first->clear();
  if (count <= 0 || last_seq == 0) return Status::Ok();
  const auto wanted = static_cast<uint64_t>(count);
  const uint64_t first_seq = last_seq >= wanted ? last_seq - wanted + 1 : 1;
  // A page's worth up front; longer reads (context assembly) grow as usual.
  oldest_first->reserve(static_cast<size_t>(
      std::min<uint64_t>({wanted, last_seq, static_cast<uint64_t>(kMaxMessagePageSize)})));
  storage::ScanRange range;
  range.prefix = keys::MessagePrefix(conversation_id);
  range.start = keys::MessageKey(conversation_id, first_seq);
  MNEMO_RETURN_IF_ERROR(ScanMessages(view, conversation_id, range, [&](Message&& m) {
    oldest_first->push_back(std::move(m));
    return static_cast<int64_t>(oldest_first->size()) < count;
  }));
  if (static_cast<int64_t>(oldest_first->size()) >= count || first_seq == 1) return Status::Ok();
  // Deleted messages left gaps in the range: the rest comes from before it, newest first.
  std::vector<Message> older;
  const int64_t missing = count - static_cast<int64_t>(oldest_first->size());
  range.reverse = true;
  range.skip_start = true;
  MNEMO_RETURN_IF_ERROR(ScanMessages(view, conversation_id, range, [&](Message&& m) {
    older.push_back(std::move(m));
    return static_cast<int64_t>(older.size()) < missing;
  }));
  oldest_first->insert(oldest_first->begin(), std::make_move_iterator(older.rbegin()),
                       std::make_move_iterator(older.rend()));
  return Status::Ok();
}

Result<Message> MessageStore::Get(std::string_view user_id, const Uuid& message_id) const {
  storage::ReadView view = db_.Snapshot();
  const Status not_found = Status::NotFound("message " + message_id.ToString() + " not found");
  std::string location;
  Status status = view.Get(Cf::kIndex, keys::MessageByIdKey(message_id), &location);
  if (status.IsNotFound()) return not_found;
  MNEMO_RETURN_IF_ERROR(status);
  Uuid conversation_id;
  uint64_t seq = 0;
  if (!DecodeLocation(location, &conversation_id, &seq)) {
    return Status::Internal("corrupt message index entry for " + message_id.ToString());
  }
  auto conversation = VisibleConversation(view, user_id, conversation_id);
  if (conversation.status().IsNotFound()) return not_found;
  MNEMO_RETURN_IF_ERROR(conversation.status());
  std::string row;
  MNEMO_RETURN_IF_ERROR(view.Get(Cf::kMessages, keys::MessageKey(conversation_id, seq), &row));
  Message message;
  MNEMO_RETURN_IF_ERROR(DecodeMessage(row, conversation_id, &message));
  return message;
}

Status MessageStore::GetMany(std::string_view user_id, const std::vector<Uuid>& message_ids,
                             std::vector<std::optional<Message>>* messages) const {
  MNEMO_RETURN_IF_ERROR(ValidateUserId(user_id));
  messages->assign(message_ids.size(), std::nullopt);
  if (message_ids.empty()) return Status::Ok();
  const storage::ReadView view = db_.Snapshot();
  std::vector<std::string> index_keys;
  index_keys.reserve(message_ids.size());
  for (const Uuid& id : message_ids) index_keys.push_back(keys::MessageByIdKey(id));
  std::vector<std::optional<std::string>> locations;
  MNEMO_RETURN_IF_ERROR(view.MultiGet(Cf::kIndex, index_keys, &locations));
  // Each conversation's visibility is read once.
  std::unordered_map<Uuid, bool, UuidHash> visible;
  std::vector<size_t> found;
  std::vector<Uuid> conversation_of;
  std::vector<std::string> row_keys;
  for (size_t i = 0; i < message_ids.size(); ++i) {
    if (!locations[i]) continue;
    Uuid conversation_id;
    uint64_t seq = 0;
    if (!DecodeLocation(*locations[i], &conversation_id, &seq)) {
      return Status::Internal("corrupt message index entry for " + message_ids[i].ToString());
    }
    auto [it, inserted] = visible.try_emplace(conversation_id, false);
    if (inserted) {
      auto conversation = VisibleConversationRow(view, user_id, conversation_id);
      if (!conversation.ok() && !conversation.status().IsNotFound()) return conversation.status();
      it->second = conversation.ok();
    }
    if (!it->second) continue;
    found.push_back(i);
    conversation_of.push_back(conversation_id);
    row_keys.push_back(keys::MessageKey(conversation_id, seq));
  }
  std::vector<std::optional<std::string>> rows;
  MNEMO_RETURN_IF_ERROR(view.MultiGet(Cf::kMessages, row_keys, &rows));
  for (size_t j = 0; j < found.size(); ++j) {
    if (!rows[j]) continue;
    Message message;
    MNEMO_RETURN_IF_ERROR(DecodeMessage(*rows[j], conversation_of[j], &message));
    (*messages)[found[j]] = std::move(message);
  }
  return Status::Ok();
}

namespace {

// The per-message conditions of a query; empty when the query has none.
Result<EntryMatch> MessageMatch(const MessageQuery& query, const Uuid& conversation_id) {
  MNEMO_RETURN_IF_ERROR(
      ValidateTimeRange("created_until", query.created_from, query.created_until));
  MNEMO_ASSIGN_OR_RETURN(MetadataMatcher metadata, MetadataMatcher::Parse(query.metadata_equals));
  const bool needs_row =
      query.only_with_tool_calls || query.created_from || query.created_until || !metadata.empty();
  if (!query.role && !needs_row) return EntryMatch();
  return EntryMatch([role = query.role, tool_calls = query.only_with_tool_calls,
                     from = query.created_from, until = query.created_until,
                     metadata = std::move(metadata), needs_row,
                     conversation_id](std::string_view, std::string_view value) -> Result<bool> {
    if (role && PeekMessageRole(value) != role) return false;
    if (!needs_row) return true;
    Message m;
    MNEMO_RETURN_IF_ERROR(DecodeMessage(value, conversation_id, &m));
    return (!tool_calls || HasToolCalls(m)) && InTimeRange(m.created_at, from, until) &&
           metadata.Matches(m.metadata);
  });
}

}  // namespace

Result<MessagePage> MessageStore::List(std::string_view user_id, const Uuid& conversation_id,
                                       const MessageQuery& query) const {
  MNEMO_RETURN_IF_ERROR(ValidatePaging(query.skip, query.limit, kMaxMessagePageSize));
  MNEMO_ASSIGN_OR_RETURN(const EntryMatch match, MessageMatch(query, conversation_id));
  storage::ReadView view = db_.Snapshot();
  MNEMO_ASSIGN_OR_RETURN(Conversation conversation,
                         VisibleConversation(view, user_id, conversation_id));

  PageRequest request;
  request.prefix = keys::MessagePrefix(conversation_id);
  request.cursor = query.cursor;
  request.skip = query.skip;
  request.limit = query.limit;
  request.reverse = query.order == SortOrder::kDescending;
  MNEMO_ASSIGN_OR_RETURN(IndexPage page, ScanPage(view, Cf::kMessages, request, match));

  MessagePage result;
  result.items.reserve(page.entries.size());
  for (const auto& [key, value] : page.entries) {
    Message m;
    MNEMO_RETURN_IF_ERROR(DecodeMessage(value, conversation_id, &m));
    result.items.push_back(std::move(m));
  }
  result.next_cursor = std::move(page.next_cursor);
  if (match) {
    MNEMO_ASSIGN_OR_RETURN(result.total, CountMatches(view, Cf::kMessages, request, match));
  } else {
    result.total = conversation.message_count;
  }
  return result;
}

Result<int64_t> MessageStore::Count(std::string_view user_id, const Uuid& conversation_id,
                                    const MessageQuery& query, int64_t stop_at) const {
  MNEMO_ASSIGN_OR_RETURN(const EntryMatch match, MessageMatch(query, conversation_id));
  storage::ReadView view = db_.Snapshot();
  MNEMO_ASSIGN_OR_RETURN(Conversation conversation,
                         VisibleConversation(view, user_id, conversation_id));
  if (!match) return std::min(conversation.message_count, stop_at);
  PageRequest request;
  request.prefix = keys::MessagePrefix(conversation_id);
  return CountMatches(view, Cf::kMessages, request, match, stop_at);
}

Result<std::vector<Message>> MessageStore::Last(std::string_view user_id,
                                                const Uuid& conversation_id, int64_t count) const {
  if (count < 1 || count > kMaxMessagePageSize) {
    return Status::ValidationError("limit", "must be in 1.." + std::to_string(kMaxMessagePageSize));
  }
  storage::ReadView view = db_.Snapshot();
  MNEMO_ASSIGN_OR_RETURN(const ConversationRow row,
                         VisibleConversationRow(view, user_id, conversation_id));
  std::vector<Message> messages;
  MNEMO_RETURN_IF_ERROR(ReadTail(view, conversation_id, row.last_seq, count, &messages));
  return messages;
}

Result<std::optional<Message>> MessageStore::LastByRole(std::string_view user_id,
                                                        const Uuid& conversation_id,
                                                        Role role) const {
  storage::ReadView view = db_.Snapshot();
  MNEMO_RETURN_IF_ERROR(VisibleConversation(view, user_id, conversation_id).status());
  storage::ScanRange range;
  range.prefix = keys::MessagePrefix(conversation_id);
  range.reverse = true;
  std::optional<Message> found;
  Status decoded;
  MNEMO_RETURN_IF_ERROR(
      view.Scan(Cf::kMessages, range, [&](std::string_view, std::string_view value) {
        if (PeekMessageRole(value) != role) return true;
        found.emplace();
        decoded = DecodeMessage(value, conversation_id, &*found);
        return false;
      }));
  MNEMO_RETURN_IF_ERROR(decoded);
  return found;
}

Result<Conversation> MessageStore::ReadRecent(std::string_view user_id, const Uuid& conversation_id,
                                              int64_t max_messages,
                                              std::vector<Message>* messages) const {
  storage::ReadView view = db_.Snapshot();
  MNEMO_ASSIGN_OR_RETURN(ConversationRow row,
                         VisibleConversationRow(view, user_id, conversation_id));
  MNEMO_RETURN_IF_ERROR(ReadTail(view, conversation_id, row.last_seq,
                                 std::min(max_messages, row.conversation.message_count), messages));
  return std::move(row.conversation);
}

Result<TokenStats> MessageStore::TokenUsage(std::string_view user_id,
                                            const Uuid& conversation_id) const {
  storage::ReadView view = db_.Snapshot();
  MNEMO_RETURN_IF_ERROR(VisibleConversation(view, user_id, conversation_id).status());
  storage::ScanRange range;
  range.prefix = keys::MessagePrefix(conversation_id);
  TokenStats stats;
  MNEMO_RETURN_IF_ERROR(ScanMessages(view, conversation_id, range, [&](Message&& m) {
    RoleTokenStats& role = stats.per_role[static_cast<size_t>(m.role)];
    ++stats.message_count;
    ++role.message_count;
    if (m.tokens_used) {
      ++stats.messages_with_tokens;
      stats.total_tokens += *m.tokens_used;
      role.total_tokens += *m.tokens_used;
    }
    return true;
  }));
  if (stats.messages_with_tokens > 0) {
    stats.average_tokens =
        static_cast<double>(stats.total_tokens) / static_cast<double>(stats.messages_with_tokens);
  }
  return stats;
}

}  // namespace mnemo::tables
