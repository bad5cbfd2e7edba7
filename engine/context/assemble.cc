#include "context/assemble.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "context/message_search.h"
#include "tables/validation.h"

namespace mnemo::context {
namespace {

// The searches name their own fields ("query", "top_k", "filters.*"); a context request names
// them differently.  An empty `filters_prefix` leaves filter fields as they are.
Status RenameSearchField(Status status, std::string_view query_field, std::string_view top_k_field,
                         std::string_view filters_prefix = {}) {
  if (!status.IsValidationError()) return status;
  if (status.field() == "query") return Status::ValidationError(query_field, status.message());
  if (status.field() == "top_k") return Status::ValidationError(top_k_field, status.message());
  if (!filters_prefix.empty() && status.field().starts_with("filters.")) {
    return Status::ValidationError(std::string(filters_prefix) + std::string(status.field()),
                                   status.message());
  }
  return status;
}

// Keeps the items (their tokens counted) that fit in *remaining, in order, skipping one that
// does not for the next; adds what they spend to *spent and counts the skipped in *left_out.
template <typename Item>
std::vector<Item> KeepWhatFits(std::vector<Item> items, int64_t* remaining, int64_t* spent,
                               int64_t* left_out) {
  std::vector<Item> kept;
  for (Item& item : items) {
    if (item.tokens > *remaining) {
      ++*left_out;
      continue;
    }
    *remaining -= item.tokens;
    *spent += item.tokens;
    kept.push_back(std::move(item));
  }
  return kept;
}

Status ValidateRequest(const ContextRequest& request, uint32_t dimension) {
  if (request.token_budget < 1 || request.token_budget > kMaxContextTokens) {
    return Status::ValidationError("token_budget",
                                   "must be in 1.." + std::to_string(kMaxContextTokens));
  }
  if (request.max_messages < 0 || request.max_messages > kMaxContextMessages) {
    return Status::ValidationError("max_messages",
                                   "must be in 0.." + std::to_string(kMaxContextMessages));
  }
  if (request.message_budget &&
      (*request.message_budget < 0 || *request.message_budget > kMaxContextTokens)) {
    return Status::ValidationError("message_budget",
                                   "must be in 0.." + std::to_string(kMaxContextTokens));
  }
  if (request.k_chunks < 0 || request.k_chunks > kMaxTopK) {
    return Status::ValidationError("k_chunks", "must be in 0.." + std::to_string(kMaxTopK));
  }
  if (request.k_memories < 0 || request.k_memories > kMaxTopK) {
    return Status::ValidationError("k_memories", "must be in 0.." + std::to_string(kMaxTopK));
  }
  if (!request.query_embedding.empty() && request.query_embedding.size() != dimension) {
    return Status::ValidationError(
        "query_embedding", "has " + std::to_string(request.query_embedding.size()) +
                               " values; this data directory stores " + std::to_string(dimension) +
                               "-dimensional embeddings");
  }
  return Status::Ok();
}

ContextChunk FromVectorHit(SearchHit hit, int32_t rank) {
  ContextChunk chunk;
  chunk.hit.score = hit.similarity;
  chunk.hit.similarity = hit.similarity;
  chunk.hit.vector_rank = rank;
  chunk.hit.hit = std::move(hit);
  return chunk;
}

// The chunks the request asks for, best first, and how they were found.
Result<std::vector<ContextChunk>> Retrieve(const Sources& sources, std::string_view user_id,
                                           const ContextRequest& request,
                                           ContextRetrieval* retrieval) {
  std::vector<ContextChunk> chunks;
  const bool by_vector = !request.query_embedding.empty();
  const bool by_text = !request.query_text.empty();
  if (request.k_chunks == 0 || (!by_vector && !by_text)) {
    *retrieval = ContextRetrieval::kNone;
    return chunks;
  }
  if (by_vector && !by_text) {
    *retrieval = ContextRetrieval::kVector;
    SearchRequest search;
    search.query = request.query_embedding;
    search.top_k = request.k_chunks;
    search.min_similarity = request.min_similarity;
    search.filters = request.chunk_filters;
    auto found = sources.vectors.Search(user_id, search);
    if (!found.ok()) return RenameSearchField(found.status(), "query_embedding", "k_chunks");
    int32_t rank = 0;
    for (SearchHit& hit : found->hits) chunks.push_back(FromVectorHit(std::move(hit), ++rank));
    return chunks;
  }
  if (!by_vector && request.min_similarity) {
    return Status::ValidationError("min_similarity",
                                   "applies to the vector leg: set query_embedding too");
  }
  *retrieval = by_vector ? ContextRetrieval::kHybrid : ContextRetrieval::kKeyword;
  const auto ranked = [&]() -> Result<RankedSearchResponse> {
    if (!by_vector) {
      TextSearchRequest search;
      search.query = request.query_text;
      search.top_k = request.k_chunks;
      search.filters = request.chunk_filters;
      return sources.vectors.SearchText(user_id, search);
    }
    HybridSearchRequest search;
    search.query_text = request.query_text;
    search.query_embedding = request.query_embedding;
    search.top_k = request.k_chunks;
    search.min_similarity = request.min_similarity;
    search.filters = request.chunk_filters;
    return sources.vectors.SearchHybrid(user_id, search);
  };
  auto found = ranked();
  if (!found.ok()) return RenameSearchField(found.status(), "query_text", "k_chunks");
  for (RankedHit& hit : found->hits) {
    ContextChunk chunk;
    chunk.hit = std::move(hit);
    chunks.push_back(std::move(chunk));
  }
  return chunks;
}

// The memories the request asks for, best first: the user's messages not in the recent window
// nearest to the query embedding, best matching the query text, or both fused (RRF).
Result<std::vector<ContextMemory>> RetrieveMemories(const Sources& sources,
                                                    std::string_view user_id,
                                                    const ContextRequest& request,
                                                    const std::vector<ContextMessage>& window) {
  std::vector<ContextMemory> memories;
  const bool by_vector = !request.query_embedding.empty();
  const bool by_text = !request.query_text.empty();
  if (request.k_memories == 0 || (!by_vector && !by_text)) return memories;
  MessageSearchRequest search;
  search.query = request.query_embedding;
  if (by_text) search.query_text = request.query_text;
  search.top_k = request.k_memories;
  search.filters = request.memory_filters;
  std::vector<Uuid> in_window;
  in_window.reserve(window.size());
  for (const ContextMessage& m : window) in_window.push_back(m.message.id);
  auto found =
      SearchMessages(sources.messages, sources.vectors, user_id, search, std::move(in_window));
  if (!found.ok()) {
    return RenameSearchField(found.status(), "query_embedding", "k_memories", "memory_");
  }
  for (MessageHit& hit : found->hits) {
    ContextMemory memory;
    memory.message = std::move(hit.message);
    memory.similarity = hit.similarity;
    memory.score = hit.score;
    memory.bm25 = hit.bm25;
    memories.push_back(std::move(memory));
  }
  return memories;
}

// The estimate of `text` without the per-text overhead.
int64_t TextTokens(std::string_view text, const TokenEstimate& estimate) {
  size_t ascii = 0;
  size_t other = 0;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x80) {
      ++ascii;
    } else if ((byte & 0xC0) != 0x80) {  // a lead byte (or a stray byte): one character
      ++other;
    }
  }
  const double tokens = static_cast<double>(ascii) / estimate.ascii_bytes_per_token +
                        static_cast<double>(other) * estimate.tokens_per_other_char;
  return static_cast<int64_t>(std::ceil(tokens));
}

}  // namespace

Status ValidateTokenEstimate(const TokenEstimate& estimate) {
  if (!(estimate.ascii_bytes_per_token > 0) || !std::isfinite(estimate.ascii_bytes_per_token)) {
    return Status::ValidationError("token_estimate", "ascii_bytes_per_token must be > 0");
  }
  if (!(estimate.tokens_per_other_char >= 0) || !std::isfinite(estimate.tokens_per_other_char)) {
    return Status::ValidationError("token_estimate", "tokens_per_other_char must be >= 0");
  }
  if (estimate.per_text_overhead < 0 || estimate.per_text_overhead > kMaxTokensUsed) {
    return Status::ValidationError(
        "token_estimate", "per_text_overhead must be in 0.." + std::to_string(kMaxTokensUsed));
  }
  return Status::Ok();
}

int64_t EstimateTokens(std::string_view text, const TokenEstimate& estimate) {
  return text.empty() ? 0 : TextTokens(text, estimate) + estimate.per_text_overhead;
}

int64_t MessageTokens(const Message& message, const TokenEstimate& estimate, TokenSource* source) {
  if (message.tokens_used) {
    *source = TokenSource::kMeasured;
    return *message.tokens_used;
  }
  *source = TokenSource::kEstimated;
  // The per-text overhead is the message's framing: counted once for the message.
  return TextTokens(message.content, estimate) +
         TextTokens(message.tool_calls.value_or(""), estimate) +
         TextTokens(message.tool_results.value_or(""), estimate) + estimate.per_text_overhead;
}

Result<ContextResponse> Assemble(const Sources& sources, std::string_view user_id,
                                 const ContextRequest& request) {
  MNEMO_RETURN_IF_ERROR(tables::ValidateUserId(user_id));
  MNEMO_RETURN_IF_ERROR(ValidateRequest(request, sources.dimension));

  ContextResponse response;
  ContextBudget& budget = response.budget;
  budget.budget = request.token_budget;
  // The conversation (and so its system prompt) and its recent messages come from one snapshot.
  std::vector<Message> recent;
  MNEMO_ASSIGN_OR_RETURN(
      response.conversation,
      sources.messages.ReadRecent(user_id, request.conversation_id, request.max_messages, &recent));
  budget.system_prompt_tokens =
      EstimateTokens(response.conversation.system_prompt, sources.estimate);
  if (budget.system_prompt_tokens > request.token_budget) {
    return Status::ValidationError("token_budget",
                                   "is " + std::to_string(request.token_budget) +
                                       " tokens; the conversation's system prompt alone needs " +
                                       std::to_string(budget.system_prompt_tokens));
  }
  int64_t remaining = request.token_budget - budget.system_prompt_tokens;
  const int64_t message_room = std::min(remaining, request.message_budget.value_or(remaining));
  // Newest first, stopping at the first message that does not fit.
  size_t first_kept = recent.size();
  std::vector<ContextMessage> kept;
  while (first_kept > 0) {
    ContextMessage item;
    item.tokens = MessageTokens(recent[first_kept - 1], sources.estimate, &item.token_source);
    if (budget.message_tokens + item.tokens > message_room) break;
    budget.message_tokens += item.tokens;
    --first_kept;
    item.message = std::move(recent[first_kept]);
    kept.push_back(std::move(item));
  }
  remaining -= budget.message_tokens;
  response.messages.assign(std::make_move_iterator(kept.rbegin()),
                           std::make_move_iterator(kept.rend()));
  budget.messages_left_out = static_cast<int64_t>(first_kept);

  MNEMO_ASSIGN_OR_RETURN(std::vector<ContextChunk> chunks,
                         Retrieve(sources, user_id, request, &response.retrieval));
  for (ContextChunk& chunk : chunks)
    chunk.tokens = EstimateTokens(chunk.hit.hit.chunk_text, sources.estimate);
  response.chunks =
      KeepWhatFits(std::move(chunks), &remaining, &budget.chunk_tokens, &budget.chunks_left_out);
  MNEMO_ASSIGN_OR_RETURN(std::vector<ContextMemory> memories,
                         RetrieveMemories(sources, user_id, request, response.messages));
  for (ContextMemory& memory : memories)
    memory.tokens = MessageTokens(memory.message, sources.estimate, &memory.token_source);
  response.memories = KeepWhatFits(std::move(memories), &remaining, &budget.memory_tokens,
                                   &budget.memories_left_out);
  budget.remaining = remaining;
  return response;
}

}  // namespace mnemo::context
