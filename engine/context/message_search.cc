#include "context/message_search.h"

#include <utility>

namespace mnemo::context {

Result<MessageSearchResponse> SearchMessages(const tables::MessageStore& messages,
                                             const vector::VectorStore& vectors,
                                             std::string_view user_id,
                                             const MessageSearchRequest& request,
                                             std::vector<Uuid> excluded) {
  MNEMO_ASSIGN_OR_RETURN(vector::MessageVectorAnswer found,
                         vectors.SearchMessageVectors(user_id, request, std::move(excluded)));
  MessageSearchResponse response;
  response.exact = found.exact;
  response.ef_used = found.ef_used;
  std::vector<Uuid> ids;
  ids.reserve(found.hits.size());
  for (const vector::MessageVectorHit& hit : found.hits) ids.push_back(hit.message_id);
  std::vector<std::optional<Message>> rows;
  MNEMO_RETURN_IF_ERROR(messages.GetMany(user_id, ids, &rows));
  response.hits.reserve(found.hits.size());
  for (size_t i = 0; i < found.hits.size(); ++i) {
    if (!rows[i]) continue;
    response.hits.push_back(MessageHit{std::move(*rows[i]), found.hits[i].similarity});
  }
  response.fewer_than_top_k = response.hits.size() < static_cast<size_t>(request.top_k);
  return response;
}

}  // namespace mnemo::context
