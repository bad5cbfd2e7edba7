// Message search: the vector layer ranks the user's message vectors; the message store supplies
// the rows.
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
Result<MessageSearchResponse> SearchMessages(const tables::MessageStore& messages,
                                             const vector::VectorStore& vectors,
                                             std::string_view user_id,
                                             const MessageSearchRequest& request,
                                             std::vector<Uuid> excluded = {});

}  // namespace mnemo::context
