// The JSON shapes of mnemo-rest's answers (seed 001's response models): records of the client
// library rendered with ids as UUID strings, timestamps as ISO-8601 UTC, JSON-valued fields
// (metadata, parts, tool_calls, ...) embedded as JSON, and lists as {items, total, skip, limit}.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mnemo/client/types.h"

namespace mnemo::rest {

nlohmann::json ConversationJson(const mnemo::client::Conversation& c);
nlohmann::json MessageJson(const mnemo::client::Message& m);
// include_content: false in lists (a document's text can be large).
nlohmann::json DocumentJson(const mnemo::client::Document& d, bool include_content);
nlohmann::json ChunkJson(const mnemo::client::Chunk& c);
nlohmann::json UserStatsJson(const mnemo::client::UserStats& s);
nlohmann::json TokenStatsJson(const mnemo::client::TokenStats& s);
// {items, total, top_k, exact, ef_used, fewer_than_top_k, partitions_searched}.
nlohmann::json SearchResponseJson(const mnemo::client::SearchResponse& r, int64_t top_k);
// Keyword or hybrid search: {mode ("keyword" | "hybrid"), items (each a search hit plus score,
// bm25, text_rank, vector_rank; similarity null when the vector leg did not return the row),
// total, top_k, fewer_than_top_k, text {...}, and for hybrid fusion and vector {...}}.
nlohmann::json RankedSearchResponseJson(const mnemo::client::RankedSearchResponse& r, int64_t top_k,
                                        bool hybrid);
// {conversation, messages (each a message plus tokens and token_source "measured" |
// "estimated"; oldest first), chunks (each a ranked search hit plus tokens; best first),
// retrieval ("none" | "vector" | "keyword" | "hybrid"), budget {budget, system_prompt_tokens,
// message_tokens, chunk_tokens, remaining, messages_left_out, chunks_left_out}}.
nlohmann::json ContextResponseJson(const mnemo::client::ContextResponse& r);
// {mode ("vector" | "keyword" | "hybrid": which queries the request had), items (each a message
// plus similarity, score, bm25 (null: not returned by the text leg), text_rank, vector_rank; best
// first), total, exact, ef_used, fewer_than_top_k, text and vector (how each leg ran), fusion
// (hybrid only)}.
nlohmann::json MessageSearchResponseJson(const mnemo::client::MessageSearchResponse& r,
                                         bool by_text, bool by_vector);
// {items, total, skip, limit, next_cursor (null on the last page)}.
nlohmann::json PageJson(nlohmann::json items, int64_t total, int64_t skip, int64_t limit,
                        const std::string& next_cursor);
// JSON text stored by mnemod as a value; a non-JSON string (should not happen) is kept as a
// string rather than failing the response.
nlohmann::json EmbeddedJson(const std::string& text);

}  // namespace mnemo::rest
