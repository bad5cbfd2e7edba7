// Context assembly: what one chat turn sends to a model (the conversation, the recent messages,
// the retrieved chunks and past messages) chosen within a token budget, in one call (SPEC §8).
//
// Thread-safety: stateless functions over thread-safe stores.
#pragma once

#include <cstdint>
#include <string_view>

#include "mnemo/options.h"
#include "mnemo/records.h"
#include "mnemo/result.h"
#include "tables/message_store.h"
#include "vector/vector_store.h"

namespace mnemo::context {

// VALIDATION_ERROR (field "token_estimate") unless the estimate's parameters are in range.
Status ValidateTokenEstimate(const TokenEstimate& estimate);

// The estimated tokens of `text` (0 for an empty text).  Invalid UTF-8 bytes count as other
// characters.
int64_t EstimateTokens(std::string_view text, const TokenEstimate& estimate);

// The tokens a message costs: its tokens_used when set, else the estimate of its content,
// tool_calls and tool_results.
int64_t MessageTokens(const Message& message, const TokenEstimate& estimate, TokenSource* source);

struct Sources {
  const tables::MessageStore& messages;
  const vector::VectorStore& vectors;
  uint32_t dimension = 0;
  TokenEstimate estimate;
};

// Engine::AssembleContext.
Result<ContextResponse> Assemble(const Sources& sources, std::string_view user_id,
                                 const ContextRequest& request);

}  // namespace mnemo::context
