#include "context/message_search.h"

#include <utility>

#include "tables/validation.h"
#include "text/fusion.h"

namespace mnemo::context {
namespace {

// The rows of `hits` (by message id), in order; hits whose message is gone are dropped.
Status LoadRows(const tables::MessageStore& messages, std::string_view user_id,
                std::vector<MessageHit>* hits) {
  std::vector<Uuid> ids;
  ids.reserve(hits->size());
  for (const MessageHit& hit : *hits) ids.push_back(hit.message.id);
  std::vector<std::optional<Message>> rows;
  MNEMO_RETURN_IF_ERROR(messages.GetMany(user_id, ids, &rows));
  size_t kept = 0;
  for (size_t i = 0; i < hits->size(); ++i) {
    if (!rows[i]) continue;
    (*hits)[i].message = std::move(*rows[i]);
    if (kept != i) (*hits)[kept] = std::move((*hits)[i]);
    ++kept;
  }
  hits->resize(kept);
  return Status::Ok();
}

MessageHit HitOf(const Uuid& message_id) {
  MessageHit hit;
  hit.message.id = message_id;
  return hit;
}

}  // namespace

Result<MessageSearchResponse> SearchMessages(const tables::MessageStore& messages,
                                             const vector::VectorStore& vectors,
                                             std::string_view user_id,
                                             const MessageSearchRequest& request,
                                             std::vector<Uuid> excluded) {
  MNEMO_RETURN_IF_ERROR(tables::ValidateUserId(user_id));
  if (request.top_k < 1 || request.top_k > kMaxTopK)
    return Status::ValidationError("top_k", "must be in 1.." + std::to_string(kMaxTopK));
  const bool by_vector = !request.query.empty();
  const bool by_text = request.query_text.has_value();
  if (!by_vector && !by_text) {
    return Status::ValidationError("query",
                                   "needs an embedding (query), a keyword query (query_text) or "
                                   "both");
  }
  if (!by_vector && request.min_similarity) {
    return Status::ValidationError("min_similarity", "applies to the vector leg: set query too");
  }
  text::FusionPlan plan;
  plan.depth = static_cast<size_t>(request.top_k);
  if (by_vector && by_text) {
    MNEMO_RETURN_IF_ERROR(text::PlanFusion(request.fusion, request.rrf_k, request.text_weight,
                                           request.candidates, request.top_k, &plan));
  }

  MessageSearchResponse response;
  vector::MessageTextAnswer text_leg;
  if (by_text) {
    MNEMO_ASSIGN_OR_RETURN(
        text_leg, vectors.SearchMessageText(user_id, "query_text", *request.query_text, plan.depth,
                                            request.filters, excluded));
  }
  vector::MessageVectorAnswer vector_leg;
  if (by_vector) {
    MessageSearchRequest vector_request = request;
    vector_request.top_k = static_cast<int64_t>(plan.depth);
    MNEMO_ASSIGN_OR_RETURN(vector_leg,
                           vectors.SearchMessageVectors(user_id, vector_request, excluded));
    response.exact = vector_leg.exact;
    response.ef_used = vector_leg.ef_used;
    response.vector.ran = true;
    response.vector.exact = vector_leg.exact;
    response.vector.ef_used = vector_leg.ef_used;
    response.vector.candidates = static_cast<int64_t>(vector_leg.hits.size());
  }
  response.text = std::move(text_leg.info);

  if (by_vector && by_text) {
    response.fusion = plan.fusion;
    std::vector<text::LegHit> text_hits;
    text_hits.reserve(text_leg.hits.size());
    for (const vector::MessageTextHit& hit : text_leg.hits)
      text_hits.push_back(text::LegHit{hit.message_id, hit.bm25});
    std::vector<text::LegHit> vector_hits;
    vector_hits.reserve(vector_leg.hits.size());
    for (const vector::MessageVectorHit& hit : vector_leg.hits)
      vector_hits.push_back(text::LegHit{hit.message_id, hit.similarity});
    for (const text::FusedHit& fused :
         text::Fuse(plan, text_hits, vector_hits, static_cast<size_t>(request.top_k))) {
      MessageHit hit = HitOf(fused.id);
      hit.score = fused.score;
      hit.text_rank = fused.text_rank;
      hit.vector_rank = fused.vector_rank;
      if (fused.text_rank > 0) hit.bm25 = fused.text_score;
      if (fused.vector_rank > 0) hit.similarity = static_cast<float>(fused.vector_score);
      response.hits.push_back(std::move(hit));
    }
  } else if (by_text) {
    int32_t rank = 0;
    for (const vector::MessageTextHit& found : text_leg.hits) {
      MessageHit hit = HitOf(found.message_id);
      hit.score = found.bm25;
      hit.bm25 = found.bm25;
      hit.text_rank = ++rank;
      response.hits.push_back(std::move(hit));
    }
  } else {
    int32_t rank = 0;
    for (const vector::MessageVectorHit& found : vector_leg.hits) {
      MessageHit hit = HitOf(found.message_id);
      hit.similarity = found.similarity;
      hit.score = found.similarity;
      hit.vector_rank = ++rank;
      response.hits.push_back(std::move(hit));
    }
  }
  MNEMO_RETURN_IF_ERROR(LoadRows(messages, user_id, &response.hits));
  response.fewer_than_top_k = response.hits.size() < static_cast<size_t>(request.top_k);
  return response;
}

}  // namespace mnemo::context
