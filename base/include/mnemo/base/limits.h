// The request limits of SPEC §2-§5: one value each, read by the engine (which enforces them),
// mnemod, the C++ client and mnemo-rest (which check early and name the same bounds).
//
// Thread-safety: constants.
#pragma once

#include <cstddef>
#include <cstdint>

namespace mnemo {

// ---- search ------------------------------------------------------------------------------------
inline constexpr int64_t kDefaultTopK = 10;
inline constexpr int64_t kMaxTopK = 1000;
// Graph beam width a caller may ask for (SearchRequest::ef).
inline constexpr int64_t kMaxEf = 10000;
// Queries in one batched search.
inline constexpr size_t kMaxSearchBatchQueries = 1000;
// Keyword search: bytes of query text, and distinct terms after analysis.
inline constexpr size_t kMaxTextQueryBytes = 4096;
inline constexpr size_t kMaxTextQueryTerms = 64;
// Hybrid search: candidates each leg (text, vector) hands to fusion, unless the request says.
inline constexpr int64_t kDefaultHybridCandidates = 50;

// Context assembly: the recent messages considered (newest first) and the chunks retrieved.
inline constexpr int64_t kDefaultContextMessages = 20;
inline constexpr int64_t kMaxContextMessages = 1000;
inline constexpr int64_t kDefaultContextChunks = 5;
// Past messages (memories) retrieved into a context.
inline constexpr int64_t kDefaultContextMemories = 5;
// A context's token budget.
inline constexpr int64_t kMaxContextTokens = 10'000'000;

// ---- writes ------------------------------------------------------------------------------------
// Chunks in one AddChunks / create-document call.
inline constexpr size_t kMaxChunksPerWrite = 10000;
// Operations in one atomic batch.
inline constexpr size_t kMaxBatchOps = 10000;
// tokens_used of a message: a PostgreSQL INTEGER in the schema mnemo replaces; bounding it keeps
// a conversation's int64 total_tokens exact for any realistic number of messages.
inline constexpr int64_t kMaxTokensUsed = 2147483647;

// ---- pages (skip/limit) ------------------------------------------------------------------------
inline constexpr int64_t kDefaultConversationPageSize = 20;
inline constexpr int64_t kMaxConversationPageSize = 100;
inline constexpr int64_t kDefaultMessagePageSize = 50;
inline constexpr int64_t kMaxMessagePageSize = 200;
inline constexpr int64_t kDefaultDocumentPageSize = 20;
inline constexpr int64_t kMaxDocumentPageSize = 100;
// A document's chunks (ListChunks).
inline constexpr int64_t kDefaultChunkPageSize = 100;
inline constexpr int64_t kMaxChunkPageSize = 1000;

// ---- fields ------------------------------------------------------------------------------------
inline constexpr size_t kMaxUserIdBytes = 255;
inline constexpr size_t kMaxTitleChars = 255;
inline constexpr size_t kMaxModelChars = 100;
inline constexpr size_t kMaxFilenameChars = 255;
// Bracket nesting of any JSON-valued field (metadata, tool_calls, ...).
inline constexpr int kMaxJsonDepth = 64;
// Trace ids (the client's per-thread trace id, mnemo-rest's X-Request-ID) are cut to this.
inline constexpr size_t kMaxTraceIdBytes = 128;
// The model a conversation gets when none is given.
inline constexpr char kDefaultModel[] = "claude-sonnet-4-5-20250929";

}  // namespace mnemo
