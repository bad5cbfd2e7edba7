// Message search: the vector layer ranks the user's message vectors (the vector leg) and the
// keyword index their content terms (the text leg); with both, the rankings are fused (text/
// fusion.h).  The message store supplies the rows.
//
// Thread-safety: stateless functions over thread-safe stores.
#pragma once

#include <string_view>

#include "mnemo/records.h"
#include "mnemo/result.h"
#include "tables/message_store.h"
#include "vector/vector_store.h"

namespace mnemo::context {

// Engine::SearchMessages; `excluded` names messages never returned (they do not take a place
// of the top k).  A message deleted between ranking and reading is left out.
// Errors (VALIDATION_ERROR naming the field): top_k outside 1..kMaxTopK; neither query nor
// query_text set ("query"); query_text invalid as TextSearchRequest::query ("query_text");
// min_similarity without query; fusion settings with both legs as HybridSearchRequest; the
// vector leg's as SearchMessageVectors.  UNAVAILABLE for query_text on a store without keyword
// search.
Result<MessageSearchResponse> SearchMessages(const tables::MessageStore& messages,
                                             const vector::VectorStore& vectors,
                                             std::string_view user_id,
                                             const MessageSearchRequest& request,
                                             std::vector<Uuid> excluded = {});

}  // namespace mnemo::context
