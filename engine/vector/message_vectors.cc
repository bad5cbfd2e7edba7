// VectorStore's message search entries: the tables::MessageVectors side the message and
// conversation stores write through (vectors and content terms), their open-time load, and the
// two legs of message search.
//
// A message vector is stored like a chunk's (cf vectors, by month and label) with a small payload
// under its own index tag, so opening a data directory rebuilds each user's message tenant with
// one scan.  A message's content terms are keyword-index rows (text/text_index.h) under a label
// of their own, with the same payload under another tag (MessageTexts).  The message row keeps
// both labels and months; its store stages every change here in the same transaction.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <unordered_map>

#include "kernels/distance.h"
#include "storage/key_codec.h"
#include "tables/row_codec.h"
#include "tables/validation.h"
#include "vector/chunk_rows.h"
#include "vector/vector_store.h"

namespace mnemo::vector {
namespace {

using storage::Cf;

MessagePayload PayloadOf(std::string_view user_id, const Message& message) {
  MessagePayload payload;
  payload.user_id = std::string(user_id);
  payload.message_id = message.id;
  payload.conversation_id = message.conversation_id;
  payload.role = static_cast<uint8_t>(message.role);
  payload.created_at = message.created_at;
  return payload;
}

// The search state of a message's vector or terms: its role stands where a chunk's index does,
// its conversation where a chunk's document does.
RowState MessageRowState(const MessagePayload& payload, uint32_t user_ref,
                         std::shared_ptr<DocumentState> conversation) {
  RowState state;
  state.user_ref = user_ref;
  state.created_at = payload.created_at;
  state.chunk_index = payload.role;
  state.chunk_id = payload.message_id;
  state.document = std::move(conversation);
  return state;
}

}  // namespace

Result<tables::VectorRef> VectorStore::StagePut(storage::WriteTxn& txn, std::string_view user_id,
                                                const Message& message,
                                                const std::vector<float>& embedding) {
  if (embedding.size() != dim_) {
    return Status::ValidationError("embedding", "has " + std::to_string(embedding.size()) +
                                                    " values; this data directory stores " +
                                                    std::to_string(dim_) +
                                                    "-dimensional embeddings");
  }
  std::vector<float> unit(embedding);
  if (!kernels::Normalize(unit.data(), unit.size())) {
    return Status::ValidationError("embedding", "must be finite and have a non-zero norm");
  }
  const tables::VectorRef ref{next_label_.fetch_add(1), MonthOf(message.created_at)};
  MessagePayload payload = PayloadOf(user_id, message);
  txn.Put(Cf::kIndex, keys::MessagePayloadKey(ref.month, ref.label), EncodeMessagePayload(payload));
  const VectorLog::NewVector stored{ref.month, ref.label, unit.data()};
  std::vector<const float*> addresses;
  MNEMO_RETURN_IF_ERROR(log_->StagePut(txn, std::span(&stored, 1), &addresses));
  if (addresses[0] != nullptr) std::vector<float>().swap(unit);  // read in place: freed
  txn.OnCommit([this, ref, payload = std::move(payload), unit = std::move(unit),
                in_place = addresses[0]]() mutable {
    std::shared_ptr<Tenant> tenant = TenantFor(payload.user_id, OwnerKind::kMessage);
    // Messages are only appended to live conversations, so a new state starts live.
    RowState state =
        MessageRowState(payload, tenant->user_ref(),
                        conversations_.FindOrAdd(payload.conversation_id, /*deleted=*/false));
    std::vector<Tenant::FreshRow> rows;
    rows.push_back(Tenant::FreshRow{ref.label, std::move(state), std::move(unit), in_place});
    tenant->InsertBatch(std::move(rows));
    NotifyIndexer(tenant);
  });
  return ref;
}

Result<tables::VectorRef> VectorStore::StageMove(storage::WriteTxn& txn, std::string_view user_id,
                                                 const Message& message,
                                                 const tables::VectorRef& ref) {
  std::vector<float> unit;
  MNEMO_RETURN_IF_ERROR(log_->Get(txn, ref.month, ref.label, &unit));
  MNEMO_RETURN_IF_ERROR(StageRemove(txn, user_id, ref));
  // Stored vectors are unit already: StagePut's normalisation leaves them as they are.
  return StagePut(txn, user_id, message, unit);
}

Status VectorStore::StageRemove(storage::WriteTxn& txn, std::string_view user_id,
                                const tables::VectorRef& ref) {
  txn.Delete(Cf::kIndex, keys::MessagePayloadKey(ref.month, ref.label));
  MNEMO_RETURN_IF_ERROR(log_->StageDelete(txn, ref.month, ref.label));
  txn.OnCommit([this, user = std::string(user_id), label = ref.label] {
    uint32_t user_ref = 0;
    if (!users_.Find(user, &user_ref)) return;
    if (auto tenant = FindTenant(user_ref, OwnerKind::kMessage)) tenant->Remove(label);
  });
  return Status::Ok();
}

void VectorStore::StageConversationState(storage::WriteTxn& txn, const Uuid& conversation_id,
                                         bool deleted) {
  txn.OnCommit(
      [this, conversation_id, deleted] { conversations_.SetDeleted(conversation_id, deleted); });
}

void VectorStore::StageConversationErased(storage::WriteTxn& txn, const Uuid& conversation_id) {
  txn.OnCommit([this, conversation_id] { conversations_.Erase(conversation_id); });
}

void VectorStore::MessageVectorCounts(int64_t* rows, int64_t* pending) const {
  *rows = 0;
  *pending = 0;
  for (const auto& tenant : EveryTenant()) {
    if (tenant->kind() != OwnerKind::kMessage) continue;
    *rows += static_cast<int64_t>(tenant->rows());
    *pending += static_cast<int64_t>(tenant->pending());
  }
}

Result<std::shared_ptr<DocumentState>> VectorStore::LoadedConversationState(
    const Uuid& conversation_id) {
  if (auto known = conversations_.Find(conversation_id)) return known;
  // The deleted flag comes from the conversation's row.
  std::string value;
  MNEMO_RETURN_IF_ERROR(
      db_.Get(Cf::kConversations, keys::ConversationKey(conversation_id), &value));
  tables::ConversationRow row;
  MNEMO_RETURN_IF_ERROR(tables::DecodeConversation(value, conversation_id, &row));
  return conversations_.FindOrAdd(conversation_id, row.conversation.is_deleted);
}

Status VectorStore::ScanMessagePayloads(
    std::string_view prefix, bool (*parse)(std::string_view, uint32_t*, uint64_t*),
    std::string_view holds, uint64_t* max_label,
    const std::function<void(LoadedRow&& loaded, const std::string& user_id)>& add) {
  Status failed;
  storage::ScanRange range;
  range.prefix = std::string(prefix);
  MNEMO_RETURN_IF_ERROR(
      db_.Scan(Cf::kIndex, range, [&](std::string_view key, std::string_view value) {
        LoadedRow loaded{};
        if (!parse(key, &loaded.month, &loaded.label)) {
          failed =
              Status::Internal("corrupt payload key of a message that has " + std::string(holds));
          return false;
        }
        MessagePayload payload;
        failed = DecodeMessagePayload(value, &payload);
        if (!failed.ok()) return false;
        auto state = LoadedConversationState(payload.conversation_id);
        if (!state.ok()) {
          failed = state.status().IsNotFound()
                       ? Status::Internal("message " + payload.message_id.ToString() + " has " +
                                          std::string(holds) + " but no conversation")
                       : state.status();
          return false;
        }
        loaded.row =
            MessageRowState(payload, users_.Intern(payload.user_id), std::move(state).value());
        *max_label = std::max(*max_label, loaded.label);
        add(std::move(loaded), payload.user_id);
        return true;
      }));
  return failed;
}

Status VectorStore::LoadMessageRows(RowsByUser* rows_by_user, uint64_t* max_label) {
  return ScanMessagePayloads(keys::MessagePayloadTagPrefix(), keys::ParseMessagePayloadKey,
                             "a vector", max_label,
                             [&](LoadedRow&& loaded, const std::string& user_id) {
                               (*rows_by_user)[user_id].push_back(std::move(loaded));
                             });
}

Status VectorStore::BuildMessagePredicate(const MessageSearchFilters& filters, uint32_t user_ref,
                                          std::vector<Uuid> excluded, RowPredicate* predicate) {
  predicate->user_ref = user_ref;
  predicate->document_ids = filters.conversation_ids;
  std::sort(predicate->document_ids.begin(), predicate->document_ids.end());
  for (Role role : filters.roles) {
    const auto code = static_cast<uint32_t>(role);
    if (code >= static_cast<uint32_t>(kRoleCount))
      return Status::ValidationError("filters.roles", "unknown role " + std::to_string(code));
    predicate->role_mask |= 1u << code;
  }
  predicate->excluded_rows = std::move(excluded);
  std::sort(predicate->excluded_rows.begin(), predicate->excluded_rows.end());
  predicate->created_from = filters.created_from.value_or(kMinTimestamp);
  predicate->created_until = filters.created_until.value_or(kMaxTimestamp);
  if (predicate->created_from >= predicate->created_until) {
    return Status::ValidationError("filters.created_until", "must be later than created_from");
  }
  return Status::Ok();
}

Result<MessageVectorAnswer> VectorStore::SearchMessageVectors(std::string_view user_id,
                                                              const MessageSearchRequest& request,
                                                              std::vector<Uuid> excluded) const {
  MNEMO_RETURN_IF_ERROR(tables::ValidateUserId(user_id));
  std::vector<float> unit;
  MNEMO_RETURN_IF_ERROR(
      ValidateVectorQuery(request.query, request.top_k, request.min_similarity, request.ef, &unit));
  uint32_t user_ref = 0;
  const bool known = users_.Find(user_id, &user_ref);
  RowPredicate predicate;
  MNEMO_RETURN_IF_ERROR(
      BuildMessagePredicate(request.filters, user_ref, std::move(excluded), &predicate));
  MessageVectorAnswer answer;
  if (!known) return answer;
  auto tenant = FindTenant(user_ref, OwnerKind::kMessage);
  if (!tenant) return answer;
  Result<TenantAnswer> searched = [&] {
    const auto gate = log_->ReadGate();  // the graph reads vectors in place
    return tenant->Search(
        QueryFor(*tenant, unit, request.top_k, request.ef, request.min_similarity, predicate));
  }();
  MNEMO_ASSIGN_OR_RETURN(TenantAnswer found, std::move(searched));
  answer.exact = found.exact;
  answer.ef_used = found.ef_used;
  answer.hits.reserve(found.hits.size());
  for (const TenantHit& hit : found.hits) {
    answer.hits.push_back(MessageVectorHit{hit.row.chunk_id, hit.row.document->id,
                                           std::clamp(hit.similarity, -1.0f, 1.0f)});
  }
  return answer;
}

}  // namespace mnemo::vector

// ---- message content terms ------------------------------------------------------------------

namespace mnemo::vector {

void MessageTexts::Put(uint64_t label, RowState row) {
  std::unique_lock lock(mutex_);
  rows_.insert_or_assign(label, std::move(row));
}

void MessageTexts::Remove(uint64_t label) {
  std::unique_lock lock(mutex_);
  rows_.erase(label);
}

bool MessageTexts::Admits(uint64_t label, const RowPredicate& predicate) const {
  std::shared_lock lock(mutex_);
  auto it = rows_.find(label);
  return it != rows_.end() && predicate.Matches(it->second);
}

bool MessageTexts::Copy(uint64_t label, RowState* row) const {
  std::shared_lock lock(mutex_);
  auto it = rows_.find(label);
  if (it == rows_.end()) return false;
  *row = it->second;
  return true;
}

size_t MessageTexts::size() const {
  std::shared_lock lock(mutex_);
  return rows_.size();
}

Result<std::optional<tables::TextRef>> VectorStore::StageTextPut(storage::WriteTxn& txn,
                                                                 std::string_view user_id,
                                                                 const Message& message,
                                                                 bool conversation_deleted) {
  if (!text_) return std::optional<tables::TextRef>();
  const tables::TextRef ref{next_label_.fetch_add(1), MonthOf(message.created_at)};
  size_t stored = 0;
  MNEMO_RETURN_IF_ERROR(text_->StageAdd(txn, text::RowKind::kMessage, user_id,
                                        {text::TextRow{ref.label, ref.month, message.content}},
                                        &stored));
  // A content without terms stores nothing, so no stored row ever names an unused label (the
  // label counter restarts above the largest stored one).
  if (stored == 0) return std::optional<tables::TextRef>();
  MessagePayload payload = PayloadOf(user_id, message);
  txn.Put(Cf::kIndex, keys::MessageTextPayloadKey(ref.month, ref.label),
          EncodeMessagePayload(payload));
  txn.OnCommit([this, label = ref.label, payload = std::move(payload), conversation_deleted] {
    message_texts_.Put(label, MessageRowState(payload, users_.Intern(payload.user_id),
                                              conversations_.FindOrAdd(payload.conversation_id,
                                                                       conversation_deleted)));
  });
  return std::optional<tables::TextRef>(ref);
}

Status VectorStore::StageTextRemove(storage::WriteTxn& txn, std::string_view user_id,
                                    const tables::TextRef& ref) {
  txn.Delete(Cf::kIndex, keys::MessageTextPayloadKey(ref.month, ref.label));
  // Without the index (keyword search off) the stored terms stay, as chunks' do.
  if (text_) {
    MNEMO_RETURN_IF_ERROR(text_->StageRemove(txn, text::RowKind::kMessage, user_id,
                                             {text::RowRef{ref.month, ref.label}}));
  }
  txn.OnCommit([this, label = ref.label] { message_texts_.Remove(label); });
  return Status::Ok();
}

Status VectorStore::LoadMessageTexts(uint64_t* max_label) {
  return ScanMessagePayloads(keys::MessageTextPayloadTagPrefix(), keys::ParseMessageTextPayloadKey,
                             "terms", max_label, [&](LoadedRow&& loaded, const std::string&) {
                               message_texts_.Put(loaded.label, std::move(loaded.row));
                             });
}

Result<MessageTextAnswer> VectorStore::SearchMessageText(std::string_view user_id,
                                                         std::string_view field,
                                                         std::string_view query, size_t depth,
                                                         const MessageSearchFilters& filters,
                                                         std::vector<Uuid> excluded) const {
  MNEMO_RETURN_IF_ERROR(tables::ValidateUserId(user_id));
  if (!text_) return Status::Unavailable("keyword search is not enabled on this store");
  uint32_t user_ref = 0;
  const bool known = users_.Find(user_id, &user_ref);
  RowPredicate predicate;
  MNEMO_RETURN_IF_ERROR(BuildMessagePredicate(filters, user_ref, std::move(excluded), &predicate));
  text::ParsedQuery parsed;
  MNEMO_RETURN_IF_ERROR(text::ParseQuery(field, query, &parsed));
  MessageTextAnswer answer;
  TextLegInfo& info = answer.info;
  info.terms = parsed.terms;
  info.stopwords_ignored = static_cast<int32_t>(parsed.stopwords);
  if (parsed.terms.empty()) return answer;  // nothing to search for: the leg does not run
  info.ran = true;
  if (!known) {
    info.unknown_terms = parsed.terms;
    return answer;
  }
  MNEMO_ASSIGN_OR_RETURN(
      text::TextAnswer found,
      text_->Search(text::RowKind::kMessage, user_id, parsed.terms, depth,
                    [&](uint64_t label) { return message_texts_.Admits(label, predicate); }));
  info.unknown_terms = std::move(found.unknown_terms);
  info.rows = static_cast<int64_t>(found.rows);
  info.postings = static_cast<int64_t>(found.postings);
  info.rows_scored = static_cast<int64_t>(found.rows_scored);
  answer.hits.reserve(found.hits.size());
  for (const text::TextHit& hit : found.hits) {
    RowState row;
    if (!message_texts_.Copy(hit.label, &row)) continue;  // removed since it was scored
    answer.hits.push_back(MessageTextHit{row.chunk_id, row.document->id, hit.score});
  }
  info.candidates = static_cast<int64_t>(answer.hits.size());
  return answer;
}

}  // namespace mnemo::vector
