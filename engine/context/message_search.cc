#include "context/message_search.h"

#include <utility>

namespace mnemo::context {

Result<MessageSearchResponse> SearchMessages(const tables::MessageStore& messages,
                                             const vector::VectorStore& vectors,
                                             std::string_view user_id,
                                             const MessageSearchRequest& request) {
  MNEMO_ASSIGN_OR_RETURN(vector::MessageVectorAnswer found,
                         vectors.SearchMessageVectors(user_id, request));
  MessageSearchResponse response;
  response.exact = found.exact;
  response.ef_used = found.ef_used;
  response.hits.reserve(found.hits.size());
  for (const vector::MessageVectorHit& hit : found.hits) {
    auto message = messages.Get(user_id, hit.message_id);
    if (message.status().IsNotFound()) continue;
    MNEMO_RETURN_IF_ERROR(message.status());
    response.hits.push_back(MessageHit{std::move(message).value(), hit.similarity});
  }
  response.fewer_than_top_k = response.hits.size() < static_cast<size_t>(request.top_k);
  return response;
}

}  // namespace mnemo::context
