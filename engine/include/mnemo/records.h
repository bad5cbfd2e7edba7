// The rows of the conversation store (SPEC §2) and the inputs that create or change them.
//
// JSON-valued fields (metadata, parts, tool_calls, ...) are carried as JSON text, stored as given
// after validation.  Thread-safety: plain value types.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mnemo/base/limits.h"
#include "mnemo/types.h"

namespace mnemo {

// Top-level metadata keys that must equal the given JSON values, e.g. {"lang", "\"en\""} (an
// object key with a JSON-text value).  Used by list, count and search filters.
using MetadataEquals = std::vector<std::pair<std::string, std::string>>;

// ---- conversations ----------------------------------------------------------------------------

struct Conversation {
  Uuid id;
  std::string user_id;
  std::string title;
  std::optional<std::string> summary;
  std::string model;
  std::string system_prompt;
  std::string metadata;  // JSON object
  bool is_deleted = false;
  std::optional<Timestamp> deleted_at;
  Timestamp created_at = 0;
  Timestamp updated_at = 0;
  int64_t message_count = 0;  // maintained by the server
  int64_t total_tokens = 0;   // maintained by the server
  std::optional<Timestamp> last_message_at;
};

struct NewConversation {
  std::optional<Uuid> id;  // client-supplied id makes create idempotent
  std::string title;
  std::optional<std::string> summary;
  std::optional<std::string> model;  // default kDefaultModel
  std::string system_prompt;
  std::optional<std::string> metadata;  // default "{}"
};

// Fields left unset are not changed.
struct ConversationUpdate {
  std::optional<std::string> title;
  std::optional<std::string> summary;
  std::optional<std::string> model;
  std::optional<std::string> system_prompt;
  std::optional<std::string> metadata;
};

enum class ConversationOrder : uint8_t { kCreatedDesc = 0, kUpdatedDesc = 1 };

// Conditions a conversation must meet to be listed or counted; unset conditions match all.
// Time ranges are [from, until) in microseconds.
struct ConversationFilter {
  std::optional<Timestamp> created_from;
  std::optional<Timestamp> created_until;
  std::optional<Timestamp> updated_from;
  std::optional<Timestamp> updated_until;
  std::optional<std::string> model;           // exact match
  std::optional<std::string> title_contains;  // case-insensitive (UTF-8) substring
  MetadataEquals metadata_equals;
};

struct ConversationListOptions {
  ConversationOrder order = ConversationOrder::kCreatedDesc;
  int64_t skip = 0;
  int64_t limit = kDefaultConversationPageSize;  // 1..kMaxConversationPageSize
  std::string cursor;  // from a previous page's next_cursor; empty = from the start
  bool include_deleted = false;
  ConversationFilter filter;
};

struct ConversationPage {
  std::vector<Conversation> items;
  int64_t total = 0;        // rows matching, independent of skip/limit
  std::string next_cursor;  // empty when this page is the last
};

struct UserStats {
  int64_t total = 0;
  int64_t active = 0;
  int64_t deleted = 0;
  // Newest updated_at among the user's active conversations (soft-deleted ones do not count).
  std::optional<Timestamp> last_activity;
};

// ---- messages ---------------------------------------------------------------------------------

// FROZEN: stored on disk and sent on the wire.
enum class Role : uint8_t { kUser = 0, kAssistant = 1, kSystem = 2, kTool = 3 };
inline constexpr int kRoleCount = 4;

std::string_view RoleName(Role role);
std::optional<Role> ParseRole(std::string_view name);

struct Message {
  Uuid id;
  Uuid conversation_id;
  Role role = Role::kUser;
  std::string content;
  std::optional<std::string> parts;         // JSON array
  std::optional<std::string> tool_calls;    // JSON
  std::optional<std::string> tool_results;  // JSON
  std::optional<std::string> attachments;   // JSON
  std::optional<int64_t> tokens_used;
  std::string metadata;  // JSON object
  Timestamp created_at = 0;
  // An embedding is stored with the message (SearchMessages finds it); the vector itself is not
  // returned.
  bool has_embedding = false;
};

struct NewMessage {
  std::optional<Uuid> id;  // client-supplied id makes append idempotent
  Uuid conversation_id;
  std::string role;  // "user" | "assistant" | "system" | "tool"
  std::string content;
  std::optional<std::string> parts;
  std::optional<std::string> tool_calls;
  std::optional<std::string> tool_results;
  std::optional<std::string> attachments;
  std::optional<int64_t> tokens_used;
  std::optional<std::string> metadata;
  // Empty, or the data directory's dimension (finite, non-zero): written atomically with the
  // message and deleted with it, it makes the message searchable by SearchMessages.  An upsert
  // replaces the stored embedding with this one (none: the stored one is removed).
  std::vector<float> embedding;
};

// Changes to one message; fields left unset are not changed.  A JSON field set to the text
// "null" is cleared (tool_calls, tool_results, attachments, parts).
struct MessageUpdate {
  std::optional<std::string> role;
  std::optional<std::string> content;
  std::optional<std::string> parts;
  std::optional<std::string> tool_calls;
  std::optional<std::string> tool_results;
  std::optional<std::string> attachments;
  std::optional<int64_t> tokens_used;
  bool clear_tokens_used = false;  // sets tokens_used to null (tokens_used must be unset)
  std::optional<std::string> metadata;
};

enum class SortOrder : uint8_t { kAscending = 0, kDescending = 1 };

struct MessageQuery {
  SortOrder order = SortOrder::kAscending;  // oldest first
  int64_t skip = 0;
  int64_t limit = kDefaultMessagePageSize;  // 1..kMaxMessagePageSize
  std::string cursor;                       // from a previous page's next_cursor
  // ---- filters (also used by counts) ----
  std::optional<Role> role;               // only this role
  bool only_with_tool_calls = false;      // tool_calls present and not an empty array/object
  std::optional<Timestamp> created_from;  // [from, until)
  std::optional<Timestamp> created_until;
  MetadataEquals metadata_equals;
};

struct MessagePage {
  std::vector<Message> items;
  int64_t total = 0;  // messages matching the filters, independent of skip/limit
  std::string next_cursor;
};

struct RoleTokenStats {
  int64_t message_count = 0;
  int64_t total_tokens = 0;
};

struct TokenStats {
  int64_t message_count = 0;
  int64_t messages_with_tokens = 0;  // tokens_used not null
  int64_t total_tokens = 0;
  double average_tokens = 0;            // over messages_with_tokens; 0 when none
  RoleTokenStats per_role[kRoleCount];  // indexed by Role
};

// ---- documents --------------------------------------------------------------------------------

struct Document {
  Uuid id;
  std::string user_id;
  std::string filename;
  std::string file_type;  // pdf | txt | docx | md | html
  std::string content;
  int64_t total_chunks = 0;  // maintained by the server
  std::string metadata;      // JSON object
  bool is_deleted = false;
  std::optional<Timestamp> deleted_at;
  Timestamp created_at = 0;
  Timestamp updated_at = 0;
};

struct NewDocument {
  std::optional<Uuid> id;
  std::string filename;
  std::string file_type;
  std::string content;
  std::optional<std::string> metadata;
};

// Changes to a document; fields left unset are not changed.  A new filename or file_type
// shows in search hits and file_type filters at once.
struct DocumentUpdate {
  std::optional<std::string> filename;
  std::optional<std::string> file_type;
  std::optional<std::string> content;
  std::optional<std::string> metadata;
};

// Conditions a document must meet to be listed or counted; unset conditions match all.
struct DocumentFilter {
  std::optional<Timestamp> created_from;  // [from, until)
  std::optional<Timestamp> created_until;
  std::vector<std::string> file_types;           // any of these; empty = any type
  std::optional<std::string> filename_contains;  // case-insensitive (UTF-8) substring
  MetadataEquals metadata_equals;
};

struct DocumentListOptions {
  int64_t skip = 0;
  int64_t limit = kDefaultDocumentPageSize;  // 1..kMaxDocumentPageSize
  std::string cursor;
  bool include_deleted = false;
  DocumentFilter filter;
};

struct DocumentPage {
  std::vector<Document> items;
  int64_t total = 0;
  std::string next_cursor;
};

struct DocumentCounts {
  int64_t total = 0;
  int64_t active = 0;
  int64_t deleted = 0;
};

// ---- chunks and vector search (SPEC §2 chunks, §3) -------------------------------------------

struct NewChunk {
  std::optional<Uuid> id;  // client-supplied id: re-adding the same chunk is idempotent
  Uuid document_id;
  int64_t chunk_index = 0;              // >= 0, unique per document
  std::string chunk_text;               // non-empty
  std::vector<float> embedding;         // the data directory's dimension; finite, non-zero norm
  std::optional<std::string> metadata;  // JSON object, default {}
  std::optional<Timestamp> created_at;  // for back-fills; default now.  Picks the month partition.
};

struct Chunk {
  Uuid id;
  Uuid document_id;
  int64_t chunk_index = 0;
  std::string chunk_text;
  std::string metadata;
  Timestamp created_at = 0;
  // A soft-deleted chunk is hidden from search and keeps its chunk_index until it is restored
  // or deleted for good.
  bool is_deleted = false;
  std::optional<Timestamp> deleted_at;
};

struct ChunkListOptions {
  int64_t skip = 0;
  int64_t limit = 100;  // 1..1000
  std::string cursor;
  bool include_deleted = false;
};

// A document's chunks in chunk_index order.
struct ChunkPage {
  std::vector<Chunk> items;
  int64_t total = 0;  // chunks matching (live, or all with include_deleted)
  std::string next_cursor;
};

struct SearchFilters {
  std::vector<Uuid> document_ids;          // empty = any document
  std::vector<std::string> file_types;     // empty = any type
  std::optional<Timestamp> created_from;   // inclusive
  std::optional<Timestamp> created_until;  // exclusive
  MetadataEquals metadata_equals;
};

struct SearchRequest {
  std::vector<float> query;             // the data directory's dimension
  int64_t top_k = kDefaultTopK;         // 1..kMaxTopK
  std::optional<float> min_similarity;  // in [-1, 1]
  SearchFilters filters;
  std::optional<int64_t> ef;  // graph beam width; default adaptive
};

struct SearchHit {
  Uuid chunk_id;
  Uuid document_id;
  int64_t chunk_index = 0;
  std::string chunk_text;
  std::string filename;
  float similarity = 0;  // cosine in [-1, 1]
  Timestamp created_at = 0;
};

// How an answer was produced (SPEC §3 "honesty").
struct SearchResponse {
  std::vector<SearchHit> hits;    // best first
  bool exact = true;              // every allowed row was scored (no graph approximation)
  uint32_t ef_used = 0;           // the largest beam width used by a graph search, 0 if none
  bool fewer_than_top_k = false;  // fewer matching rows exist than top_k asked for
  int32_t partitions_searched = 0;
};

// ---- keyword (BM25) and hybrid search (SPEC §8) ---------------------------------------------

struct TextSearchRequest {
  std::string query;             // 1..kMaxTextQueryBytes bytes of UTF-8, not blank
  int64_t top_k = kDefaultTopK;  // 1..kMaxTopK
  SearchFilters filters;
};

// How hybrid search merges its two rankings.  FROZEN values (on the wire).
enum class Fusion : uint8_t { kRrf = 0, kWeighted = 1 };

struct HybridSearchRequest {
  std::string query_text;              // as TextSearchRequest::query
  std::vector<float> query_embedding;  // as SearchRequest::query
  int64_t top_k = kDefaultTopK;        // 1..kMaxTopK
  SearchFilters filters;               // applied to both legs
  Fusion fusion = Fusion::kRrf;
  std::optional<double> rrf_k;  // RRF constant, > 0; default 60
  std::optional<double>
      text_weight;  // weighted fusion: the text leg's share in [0, 1]; default 0.5
  // Rows each leg hands to fusion: top_k..kMaxTopK; default max(top_k, kDefaultHybridCandidates).
  std::optional<int64_t> candidates;
  std::optional<float> min_similarity;  // vector leg, as SearchRequest
  std::optional<int64_t> ef;            // vector leg, as SearchRequest
};

struct RankedHit {
  SearchHit hit;     // hit.similarity: the cosine when the vector leg returned the row, else 0
  double score = 0;  // the order: the BM25 score (text search) or the fused score (hybrid)
  std::optional<double> bm25;       // absent: the text leg did not return the row
  std::optional<float> similarity;  // absent: the vector leg did not return the row
  int32_t text_rank = 0;            // 1-based rank in the text leg; 0 = not returned by it
  int32_t vector_rank = 0;          // 1-based rank in the vector leg; 0 = not returned by it
};

// How the text leg ran.
struct TextLegInfo {
  bool ran = false;                // false: the query has no terms after analysis (stop words only)
  std::vector<std::string> terms;  // the query's index terms (normalised, stemmed)
  int32_t stopwords_ignored = 0;
  std::vector<std::string> unknown_terms;  // terms that no row of this user holds
  int64_t candidates = 0;                  // rows the leg returned
  int64_t rows = 0;                        // the user's rows with terms (BM25's N)
  int64_t postings = 0;                    // postings in the query terms' lists
  int64_t rows_scored = 0;  // rows whose BM25 score was computed (the rest were pruned)
  bool exact = true;        // always: pruning never changes the top k
};

// How the vector leg ran (hybrid only).
struct VectorLegInfo {
  bool ran = false;
  bool exact = true;  // as SearchResponse
  uint32_t ef_used = 0;
  int32_t partitions_searched = 0;
  int64_t candidates = 0;  // rows the leg returned
};

struct RankedSearchResponse {
  std::vector<RankedHit> hits;  // best first
  bool fewer_than_top_k = false;
  Fusion fusion = Fusion::kRrf;  // hybrid only
  TextLegInfo text;
  VectorLegInfo vector;
};

// ---- message search (SPEC §8) ------------------------------------------------------------------

struct MessageSearchFilters {
  std::vector<Uuid> conversation_ids;      // empty = any conversation
  std::vector<Role> roles;                 // empty = any role
  std::optional<Timestamp> created_from;   // inclusive
  std::optional<Timestamp> created_until;  // exclusive
};

// The user's messages nearest to an embedding (the vector leg: messages stored with one), best
// matching a keyword query (the text leg: BM25 over every message's content), or both fused into
// one ranking.  Messages of soft-deleted conversations are not found.
struct MessageSearchRequest {
  std::vector<float> query;  // empty, or the data directory's dimension
  // Unset, or as TextSearchRequest::query.  At least one of query and query_text is set.
  std::optional<std::string> query_text;
  int64_t top_k = kDefaultTopK;         // 1..kMaxTopK
  std::optional<float> min_similarity;  // vector leg, in [-1, 1]
  MessageSearchFilters filters;         // both legs
  std::optional<int64_t> ef;            // vector leg: graph beam width; default adaptive
  // With both legs, as HybridSearchRequest: how they are fused, and how many rows each hands on.
  Fusion fusion = Fusion::kRrf;
  std::optional<double> rrf_k;
  std::optional<double> text_weight;
  std::optional<int64_t> candidates;
};

struct MessageHit {
  Message message;
  float similarity = 0;  // cosine in [-1, 1] when the vector leg returned it, else 0
  double score = 0;      // the order: the cosine (vector only), BM25 (text only) or fused score
  std::optional<double> bm25;  // absent: the text leg did not return it
  int32_t text_rank = 0;       // 1-based rank in the text leg; 0 = not returned by it
  int32_t vector_rank = 0;     // 1-based rank in the vector leg; 0 = not returned by it
};

struct MessageSearchResponse {
  std::vector<MessageHit> hits;   // best first
  bool exact = true;              // the vector leg's, as SearchResponse (true without it)
  uint32_t ef_used = 0;           // the vector leg's, as SearchResponse
  bool fewer_than_top_k = false;  // fewer matching messages exist than top_k asked for
  Fusion fusion = Fusion::kRrf;   // with both legs
  TextLegInfo text;               // text.ran: the text leg ran (query_text had terms)
  VectorLegInfo vector;           // vector.ran: the vector leg ran (query was set)
};

// ---- context assembly (SPEC §8) ----------------------------------------------------------------

// What one chat turn needs, in one call.  The budget is spent in this order: the system prompt,
// then the most recent messages (newest first, stopping at the first that does not fit in what is
// left or in message_budget, so the window is an unbroken tail of the conversation), then the
// retrieved chunks, best first (a chunk that does not fit is left out and the next one tried),
// then the memories, best first, the same way.
struct ContextRequest {
  Uuid conversation_id;
  int64_t token_budget = 0;  // 1..kMaxContextTokens; must cover the system prompt
  int64_t max_messages = kDefaultContextMessages;  // 0..kMaxContextMessages
  // The most tokens the recent messages may take (0..kMaxContextTokens), so that the rest of the
  // budget stays for the chunks; unset: whatever the system prompt leaves.
  std::optional<int64_t> message_budget;
  // Chunk retrieval: by vector when query_embedding is set, by keyword when query_text is, hybrid
  // (RRF) when both are; none when neither is or k_chunks is 0.
  std::vector<float> query_embedding;        // empty, or the data directory's dimension
  std::string query_text;                    // empty, or as TextSearchRequest::query
  int64_t k_chunks = kDefaultContextChunks;  // 0..kMaxTopK
  SearchFilters chunk_filters;
  std::optional<float> min_similarity;  // vector leg, as SearchRequest
  // Memories: the user's past messages (any of the user's live conversations, this one
  // included) nearest to query_embedding, best matching query_text, or both fused (RRF), leaving
  // out the messages of the recent window.  None without either query or when k_memories is 0.
  int64_t k_memories = kDefaultContextMemories;  // 0..kMaxTopK
  MessageSearchFilters memory_filters;
};

// How a context item's tokens were counted.
enum class TokenSource : uint8_t { kMeasured = 0, kEstimated = 1 };  // FROZEN values (on the wire)

struct ContextMessage {
  Message message;
  int64_t tokens = 0;
  TokenSource token_source = TokenSource::kMeasured;  // measured = the message's tokens_used
};

struct ContextChunk {
  RankedHit hit;       // hit.score orders them (the cosine, BM25 or fused score)
  int64_t tokens = 0;  // always estimated
};

struct ContextMemory {
  Message message;
  float similarity = 0;        // cosine when the vector leg returned it, else 0
  double score = 0;            // the order: the cosine, BM25 or fused score (MessageHit::score)
  std::optional<double> bm25;  // absent: the text leg did not return it
  int64_t tokens = 0;
  TokenSource token_source = TokenSource::kMeasured;
};

enum class ContextRetrieval : uint8_t {
  kNone = 0,
  kVector = 1,
  kKeyword = 2,
  kHybrid = 3
};  // FROZEN

// How the budget was spent.
struct ContextBudget {
  int64_t budget = 0;
  int64_t system_prompt_tokens = 0;
  int64_t message_tokens = 0;
  int64_t chunk_tokens = 0;
  int64_t memory_tokens = 0;
  int64_t remaining = 0;  // budget - the four above
  // Messages among the max_messages most recent that did not fit (with every older one).
  int64_t messages_left_out = 0;
  int64_t chunks_left_out = 0;    // retrieved chunks that did not fit
  int64_t memories_left_out = 0;  // retrieved memories that did not fit
};

struct ContextResponse {
  Conversation conversation;
  std::vector<ContextMessage> messages;  // chronological (oldest first)
  std::vector<ContextChunk> chunks;      // best first
  std::vector<ContextMemory> memories;   // best first
  ContextRetrieval retrieval = ContextRetrieval::kNone;
  ContextBudget budget;
};

// The keyword index's size, all users.
struct TextIndexInfo {
  int64_t rows = 0;          // chunks and messages with terms
  int64_t message_rows = 0;  // of them, messages
  int64_t terms = 0;         // distinct terms
  int64_t postings = 0;      // postings in memory
  int64_t stored_bytes = 0;  // keys + values of the stored row terms, before compression
  int64_t memory_bytes = 0;  // posting lists and per-row arrays
};

struct PartitionInfo {
  std::string month;             // "YYYY-MM"
  int64_t rows = 0;              // live chunks
  int64_t vector_bytes = 0;      // stored vector bytes
  int64_t index_bytes = 0;       // in-memory HNSW bytes
  int64_t pending_rows = 0;      // written, not yet in the graph (searched exactly meanwhile)
  int64_t deleted_in_index = 0;  // tombstones awaiting compaction
};

struct AttachResult {
  int64_t attached = 0;
  int64_t skipped = 0;  // document gone, or id / (document, chunk_index) taken since
};

// One record of the replication log: a committed write call, encoded as
// engine/replication/write_record.h describes.
struct LogRecord {
  uint64_t seq = 0;
  std::string record;
};

}  // namespace mnemo
