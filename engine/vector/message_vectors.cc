// VectorStore's message vectors: the tables::MessageVectors side the message and conversation
// stores write through, the open-time load of message payloads, and message search.
//
// A message vector is stored like a chunk's (cf vectors, by month and label) with a small payload
// under its own index tag, so opening a data directory rebuilds each user's message tenant with
// one scan.  The message row keeps the label and month; its store stages every change here in the
// same transaction.
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
  MNEMO_RETURN_IF_ERROR(log_->StagePut(txn, std::span(&stored, 1)));
  txn.OnCommit([this, ref, payload = std::move(payload), unit = std::move(unit)]() mutable {
    std::shared_ptr<Tenant> tenant = TenantFor(payload.user_id, OwnerKind::kMessage);
    RowState state;
    state.user_ref = tenant->user_ref();
    state.created_at = payload.created_at;
    state.chunk_index = payload.role;
    state.chunk_id = payload.message_id;
    // Messages are only appended to live conversations, so a new state starts live.
    state.document = conversations_.FindOrAdd(payload.conversation_id, /*deleted=*/false);
    std::vector<Tenant::FreshRow> rows;
    rows.push_back(Tenant::FreshRow{ref.label, std::move(state), std::move(unit)});
    tenant->InsertBatch(std::move(rows));
    NotifyIndexer();
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

Status VectorStore::LoadMessageRows(RowsByUser* rows_by_user, uint64_t* max_label) {
  // The deleted flag of each conversation with message vectors comes from its row.
  std::unordered_map<Uuid, std::shared_ptr<DocumentState>, UuidHash> states;
  const auto conversation_state = [&](const Uuid& id) -> Result<std::shared_ptr<DocumentState>> {
    auto it = states.find(id);
    if (it != states.end()) return it->second;
    std::string value;
    MNEMO_RETURN_IF_ERROR(db_.Get(Cf::kConversations, keys::ConversationKey(id), &value));
    tables::ConversationRow row;
    MNEMO_RETURN_IF_ERROR(tables::DecodeConversation(value, id, &row));
    auto state = conversations_.FindOrAdd(id, row.conversation.is_deleted);
    states.emplace(id, state);
    return state;
  };
  Status failed;
  storage::ScanRange range;
  range.prefix = keys::MessagePayloadTagPrefix();
  MNEMO_RETURN_IF_ERROR(
      db_.Scan(Cf::kIndex, range, [&](std::string_view key, std::string_view value) {
        uint32_t month = 0;
        uint64_t label = 0;
        if (!keys::ParseMessagePayloadKey(key, &month, &label)) {
          failed = Status::Internal("corrupt message payload key");
          return false;
        }
        MessagePayload payload;
        failed = DecodeMessagePayload(value, &payload);
        if (!failed.ok()) return false;
        auto state = conversation_state(payload.conversation_id);
        if (!state.ok()) {
          failed = state.status().IsNotFound()
                       ? Status::Internal("message " + payload.message_id.ToString() +
                                          " has a vector but no conversation")
                       : state.status();
          return false;
        }
        RowState row;
        row.user_ref = users_.Intern(payload.user_id);
        row.created_at = payload.created_at;
        row.chunk_index = payload.role;
        row.chunk_id = payload.message_id;
        row.document = std::move(state).value();
        *max_label = std::max(*max_label, label);
        (*rows_by_user)[payload.user_id].push_back(LoadedRow{label, month, std::move(row)});
        return true;
      }));
  return failed;
}

Result<MessageVectorAnswer> VectorStore::SearchMessageVectors(std::string_view user_id,
                                                              const MessageSearchRequest& request,
                                                              std::vector<Uuid> excluded) const {
  MNEMO_RETURN_IF_ERROR(tables::ValidateUserId(user_id));
  std::vector<float> unit;
  MNEMO_RETURN_IF_ERROR(
      ValidateVectorQuery(request.query, request.top_k, request.min_similarity, request.ef, &unit));
  const MessageSearchFilters& filters = request.filters;
  RowPredicate predicate;
  predicate.document_ids = filters.conversation_ids;
  std::sort(predicate.document_ids.begin(), predicate.document_ids.end());
  for (Role role : filters.roles) {
    const auto code = static_cast<uint32_t>(role);
    if (code >= static_cast<uint32_t>(kRoleCount))
      return Status::ValidationError("filters.roles", "unknown role " + std::to_string(code));
    predicate.role_mask |= 1u << code;
  }
  predicate.excluded_rows = std::move(excluded);
  std::sort(predicate.excluded_rows.begin(), predicate.excluded_rows.end());
  predicate.created_from = filters.created_from.value_or(kMinTimestamp);
  predicate.created_until = filters.created_until.value_or(kMaxTimestamp);
  if (predicate.created_from >= predicate.created_until) {
    return Status::ValidationError("filters.created_until", "must be later than created_from");
  }

  MessageVectorAnswer answer;
  uint32_t user_ref = 0;
  if (!users_.Find(user_id, &user_ref)) return answer;
  predicate.user_ref = user_ref;
  auto tenant = FindTenant(user_ref, OwnerKind::kMessage);
  if (!tenant) return answer;
  MNEMO_ASSIGN_OR_RETURN(TenantAnswer found,
                         tenant->Search(QueryFor(*tenant, unit, request.top_k, request.ef,
                                                 request.min_similarity, predicate)));
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
