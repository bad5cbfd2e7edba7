// The client's value types: ids, timestamps, the records of SPEC §2 and the inputs and answers
// of every operation.  They mirror the wire schema (protocol/schema/mnemo.fbs) without exposing
// any FlatBuffers type, so the protocol can change underneath without touching callers.
//
// Conventions: timestamps are microseconds since the Unix epoch (UTC), set by the server.
// JSON-valued fields (metadata, parts, tool_calls, ...) are JSON text, sent and returned as
// given; the server validates them.  An unset std::optional is "absent / null" on the wire; for
// inputs it means "use the server's default" (or, for updates, "leave unchanged").
//
// Thread-safety: plain value types.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mnemo/base/limits.h"
#include "mnemo/base/time.h"
#include "mnemo/base/uuid.h"

namespace mnemo::client {

// Microseconds since the Unix epoch, UTC (mnemo/base/time.h).
using Timestamp = ::mnemo::Timestamp;

// A 128-bit id in RFC 9562 text form (mnemo/base/uuid.h).  On the wire it travels as two
// big-endian 64-bit halves: hi() holds bytes 0..7 of the canonical form, lo() bytes 8..15.
// Uuid::Generate() makes a new time-ordered (version 7) id, e.g. for idempotent creates.
using Uuid = ::mnemo::Uuid;
using UuidHash = ::mnemo::UuidHash;

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
  std::optional<Uuid> id;  // client-supplied: create is idempotent, upsert needs one
  std::string title;       // 1..255 characters, not blank
  std::optional<std::string> summary;
  std::optional<std::string> model;  // default kDefaultModel
  std::string system_prompt;
  std::optional<std::string> metadata;  // JSON object, default {}
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

struct MetadataEquals {
  std::string key;    // a top-level metadata key
  std::string value;  // a JSON value, e.g. "\"en\"" or "3"
};

// Conditions of conversation lists and counts; unset conditions match all.  Time ranges are
// [from, until).
struct ConversationFilter {
  std::optional<Timestamp> created_from;
  std::optional<Timestamp> created_until;
  std::optional<Timestamp> updated_from;
  std::optional<Timestamp> updated_until;
  std::optional<std::string> model;           // exact
  std::optional<std::string> title_contains;  // case-insensitive substring
  std::vector<MetadataEquals> metadata_equals;
};

struct ConversationListOptions {
  ConversationOrder order = ConversationOrder::kCreatedDesc;
  int64_t skip = 0;
  int64_t limit = kDefaultConversationPageSize;  // 1..kMaxConversationPageSize
  std::string cursor;  // a previous page's next_cursor; empty = from the start
  bool include_deleted = false;
  ConversationFilter filter;
};

struct ConversationPage {
  std::vector<Conversation> items;
  int64_t total = 0;        // rows matching, independent of skip/limit
  std::string next_cursor;  // empty on the last page
};

struct UserStats {
  int64_t total = 0;
  int64_t active = 0;
  int64_t deleted = 0;
  std::optional<Timestamp> last_activity;
};

// ---- messages ---------------------------------------------------------------------------------

// FROZEN: the numbers equal the wire's Role values.
enum class Role : uint8_t { kUser = 0, kAssistant = 1, kSystem = 2, kTool = 3 };

// "user", "assistant", "system", "tool".
std::string_view RoleName(Role role);
// The inverse of RoleName (exact, lower case); nullopt otherwise.
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
  // An embedding is stored with the message (Client::SearchMessages finds it); the vector itself
  // is not returned.  Always false from a server older than message embeddings.
  bool has_embedding = false;
};

struct NewMessage {
  std::optional<Uuid> id;  // client-supplied: append is idempotent, upsert needs one
  Uuid conversation_id;
  // "user" | "assistant" | "system" | "tool" (RoleName); validated by the server.
  std::string role = "user";
  std::string content;  // non-empty unless parts is given
  std::optional<std::string> parts;
  std::optional<std::string> tool_calls;
  std::optional<std::string> tool_results;
  std::optional<std::string> attachments;
  std::optional<int64_t> tokens_used;   // 0 ≤ n ≤ 2147483647 (a PostgreSQL INTEGER)
  std::optional<std::string> metadata;  // JSON object, default {}
  // Empty (none), or the server's dimension: stored with the message, it makes the message
  // searchable by Client::SearchMessages.  An upsert replaces the stored embedding (empty: the
  // stored one is removed).
  std::vector<float> embedding;
};

// Changes to one message; unset fields are not changed.  A JSON field set to "null" is
// cleared; clear_tokens_used sets tokens_used to null.
struct MessageUpdate {
  std::optional<std::string> role;
  std::optional<std::string> content;
  std::optional<std::string> parts;
  std::optional<std::string> tool_calls;
  std::optional<std::string> tool_results;
  std::optional<std::string> attachments;
  std::optional<int64_t> tokens_used;
  bool clear_tokens_used = false;
  std::optional<std::string> metadata;
};

enum class SortOrder : uint8_t { kAscending = 0, kDescending = 1 };

struct MessageQuery {
  SortOrder order = SortOrder::kAscending;  // oldest first
  int64_t skip = 0;
  int64_t limit = kDefaultMessagePageSize;  // 1..kMaxMessagePageSize
  std::string cursor;                       // a previous page's next_cursor
  // ---- filters (also used by CountMessages) ----
  std::optional<Role> role;               // only this role
  bool only_with_tool_calls = false;      // tool_calls present and not empty
  std::optional<Timestamp> created_from;  // [from, until)
  std::optional<Timestamp> created_until;
  std::vector<MetadataEquals> metadata_equals;
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
  double average_tokens = 0;                 // over messages_with_tokens; 0 when none
  std::array<RoleTokenStats, 4> per_role{};  // indexed by static_cast<size_t>(Role)
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
  std::string filename;   // 1..255 characters
  std::string file_type;  // pdf | txt | docx | md | html
  std::string content;
  std::optional<std::string> metadata;  // JSON object, default {}
};

// Changes to a document; unset fields are not changed.
struct DocumentUpdate {
  std::optional<std::string> filename;
  std::optional<std::string> file_type;
  std::optional<std::string> content;
  std::optional<std::string> metadata;
};

// Conditions of document lists and counts; unset conditions match all.
struct DocumentFilter {
  std::optional<Timestamp> created_from;  // [from, until)
  std::optional<Timestamp> created_until;
  std::vector<std::string> file_types;           // any of these
  std::optional<std::string> filename_contains;  // case-insensitive substring
  std::vector<MetadataEquals> metadata_equals;
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
  std::optional<Uuid> id;  // client-supplied: re-adding the same chunk is idempotent
  Uuid document_id;
  int64_t chunk_index = 0;              // >= 0, unique per document
  std::string chunk_text;               // non-empty
  std::vector<float> embedding;         // the server's dimension (ServerInfo::dimension)
  std::optional<std::string> metadata;  // JSON object, default {}
  std::optional<Timestamp> created_at;  // back-fills; picks the month partition.  Default now.
};

struct Chunk {
  Uuid id;
  Uuid document_id;
  int64_t chunk_index = 0;
  std::string chunk_text;
  std::string metadata;
  Timestamp created_at = 0;
  bool is_deleted = false;  // soft-deleted: hidden from search, chunk_index kept
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
  int64_t total = 0;
  std::string next_cursor;
};

struct SearchFilters {
  std::vector<Uuid> document_ids;          // empty = any document
  std::vector<std::string> file_types;     // empty = any type
  std::optional<Timestamp> created_from;   // inclusive
  std::optional<Timestamp> created_until;  // exclusive
  std::vector<MetadataEquals> metadata_equals;
};

struct SearchRequest {
  std::vector<float> query;             // the server's dimension
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

// The answer to one search, with how it was produced (SPEC §3 "honesty").
struct SearchResponse {
  std::vector<SearchHit> hits;    // best first
  bool exact = true;              // every allowed row was scored
  uint32_t ef_used = 0;           // the largest graph beam width used, 0 if no graph search
  bool fewer_than_top_k = false;  // fewer matching rows exist than top_k
  int32_t partitions_searched = 0;
};

// ---- keyword (BM25) and hybrid search ---------------------------------------------------------

struct TextSearchRequest {
  std::string query;             // 1..kMaxTextQueryBytes bytes of UTF-8, not blank
  int64_t top_k = kDefaultTopK;  // 1..kMaxTopK
  SearchFilters filters;
};

// How a hybrid search merges its keyword and vector rankings.
enum class Fusion : uint8_t { kRrf = 0, kWeighted = 1 };

struct HybridSearchRequest {
  std::string query_text;              // as TextSearchRequest::query
  std::vector<float> query_embedding;  // as SearchRequest::query
  int64_t top_k = kDefaultTopK;
  SearchFilters filters;         // applied to both legs
  Fusion fusion = Fusion::kRrf;  // reciprocal rank fusion, or min-max normalised weights
  std::optional<double> rrf_k;   // RRF constant, > 0; server default 60
  std::optional<double>
      text_weight;  // weighted fusion: the text leg's share in [0, 1]; default 0.5
  std::optional<int64_t> candidates;    // rows each leg hands to fusion; default max(top_k, 50)
  std::optional<float> min_similarity;  // vector leg
  std::optional<int64_t> ef;            // vector leg
};

struct RankedHit {
  SearchHit hit;     // hit.similarity: the cosine when the vector leg returned the row, else 0
  double score = 0;  // the order: BM25 (keyword search) or the fused score (hybrid)
  std::optional<double> bm25;       // absent: the text leg did not return the row
  std::optional<float> similarity;  // absent: the vector leg did not return the row
  int32_t text_rank = 0;            // 1-based; 0 = not returned by the text leg
  int32_t vector_rank = 0;          // 1-based; 0 = not returned by the vector leg
};

// How the keyword leg ran.
struct TextLegInfo {
  bool ran = false;                // false: the query has no terms after analysis (stop words only)
  std::vector<std::string> terms;  // the query's index terms (normalised, stemmed)
  int32_t stopwords_ignored = 0;
  std::vector<std::string> unknown_terms;  // terms no row of this user holds
  int64_t candidates = 0;                  // rows the leg returned
  int64_t rows = 0;                        // the user's rows with terms (BM25's N)
  int64_t postings = 0;                    // postings in the query terms' lists
  int64_t rows_scored = 0;                 // rows whose score was computed (the rest were pruned)
  bool exact = true;
};

// How the vector leg of a hybrid search ran.
struct VectorLegInfo {
  bool ran = false;
  bool exact = true;
  uint32_t ef_used = 0;
  int32_t partitions_searched = 0;
  int64_t candidates = 0;
};

struct RankedSearchResponse {
  std::vector<RankedHit> hits;  // best first
  bool fewer_than_top_k = false;
  Fusion fusion = Fusion::kRrf;  // hybrid only
  TextLegInfo text;
  VectorLegInfo vector;  // hybrid only
};

// ---- message search ---------------------------------------------------------------------------

// Which messages a message search (or context assembly's memories) may return; every set
// condition must match.
struct MessageSearchFilters {
  std::vector<Uuid> conversation_ids;  // empty = any conversation
  // Empty = any role.  Role names (RoleName), validated by the server: another name is
  // VALIDATION_ERROR naming filters.roles (memory_filters.roles).
  std::vector<std::string> roles;
  std::optional<Timestamp> created_from;   // inclusive
  std::optional<Timestamp> created_until;  // exclusive
};

// The user's messages stored with an embedding nearest to `query` (the vector leg), the user's
// messages best matching `query_text` by BM25 over their content (the text leg), or both fused
// into one ranking as HybridSearchRequest.  At least one of query and query_text.  Messages of
// soft-deleted conversations are not found.
struct MessageSearchRequest {
  std::vector<float> query;             // empty, or the server's dimension
  int64_t top_k = kDefaultTopK;         // 1..kMaxTopK
  std::optional<float> min_similarity;  // vector leg, in [-1, 1]
  MessageSearchFilters filters;         // both legs
  std::optional<int64_t> ef;            // vector leg: graph beam width; default adaptive
  // Unset, or as TextSearchRequest::query (set and blank: VALIDATION_ERROR naming query_text).
  std::optional<std::string> query_text;
  // Both legs, as HybridSearchRequest.
  Fusion fusion = Fusion::kRrf;
  std::optional<double> rrf_k;
  std::optional<double> text_weight;
  std::optional<int64_t> candidates;
};

struct MessageHit {
  Message message;
  float similarity = 0;        // cosine in [-1, 1] when the vector leg returned it, else 0
  double score = 0;            // the order: cosine (vector only), BM25 (text only) or fused score
  std::optional<double> bm25;  // absent: the text leg did not return it
  int32_t text_rank = 0;       // 1-based; 0 = not returned by the text leg
  int32_t vector_rank = 0;     // 1-based; 0 = not returned by the vector leg
};

struct MessageSearchResponse {
  std::vector<MessageHit> hits;   // best first
  bool exact = true;              // the vector leg scored every allowed row (true without it)
  uint32_t ef_used = 0;           // the largest graph beam width used, 0 if no graph search
  bool fewer_than_top_k = false;  // fewer matching messages exist than top_k
  Fusion fusion = Fusion::kRrf;   // with both legs
  TextLegInfo text;               // text.ran: the text leg ran
  VectorLegInfo vector;           // vector.ran: the vector leg ran
};

// ---- context assembly -------------------------------------------------------------------------

// What one chat turn needs, in one call (Client::AssembleContext).  The server spends the budget
// in this order: the system prompt, then the most recent messages (newest first, stopping at the
// first that does not fit, so the window is an unbroken tail of the conversation), then the
// retrieved chunks, best first (a chunk that does not fit is left out and the next one tried),
// then the memories, best first (likewise).
struct ContextRequest {
  Uuid conversation_id;
  int64_t token_budget = 0;  // 1..kMaxContextTokens; must cover the system prompt
  int64_t max_messages = kDefaultContextMessages;  // 0..kMaxContextMessages
  // The most tokens the recent messages may take (0..kMaxContextTokens), leaving the rest of the
  // budget for the chunks; unset: whatever the system prompt leaves.
  std::optional<int64_t> message_budget;
  // Chunk retrieval: by vector when query_embedding is set, by keyword when query_text is, hybrid
  // (RRF) when both are; none when neither is or k_chunks is 0.
  std::vector<float> query_embedding;        // empty, or the server's dimension
  std::string query_text;                    // empty, or as TextSearchRequest::query
  int64_t k_chunks = kDefaultContextChunks;  // 0..kMaxTopK
  SearchFilters chunk_filters;
  std::optional<float> min_similarity;  // vector leg, in [-1, 1]
  // Memories: the user's past messages nearest to query_embedding (any of the user's live
  // conversations, this one included), leaving out the messages of the recent window.  None
  // without query_embedding or with k_memories 0.
  int64_t k_memories = kDefaultContextMemories;  // 0..kMaxTopK
  MessageSearchFilters memory_filters;
};

// How a context item's tokens were counted.  FROZEN: the numbers equal the wire's.
enum class TokenSource : uint8_t { kMeasured = 0, kEstimated = 1 };

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
  float similarity = 0;  // cosine to the query embedding when the vector leg returned it, else 0
  double score = 0;      // the order: cosine, BM25 or fused score
  std::optional<double> bm25;  // absent: the text leg did not return it
  int64_t tokens = 0;
  TokenSource token_source = TokenSource::kMeasured;  // measured = the message's tokens_used
};

// How the chunks were retrieved.  FROZEN: the numbers equal the wire's; a reply from a newer
// server may carry a value past kHybrid.
enum class ContextRetrieval : uint8_t { kNone = 0, kVector = 1, kKeyword = 2, kHybrid = 3 };

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

// ---- administration ---------------------------------------------------------------------------

struct PartitionInfo {
  std::string month;  // "YYYY-MM"
  int64_t rows = 0;
  int64_t vector_bytes = 0;
  int64_t index_bytes = 0;
  int64_t pending_rows = 0;      // written, not yet linked into the graph
  int64_t deleted_in_index = 0;  // tombstones awaiting compaction
};

struct AttachResult {
  int64_t attached = 0;
  int64_t skipped = 0;
};

// A snapshot of the server's data (Client::OpenSnapshot): its id and the files it holds.
struct SnapshotFile {
  std::string path;  // relative to the snapshot's root, '/'-separated
  uint64_t size = 0;
};
struct SnapshotManifest {
  std::string id;
  std::vector<SnapshotFile> files;
};

// Records of a server's replication log (Client::Follow): each a committed write call, encoded as
// the engine's write record (a replica applies it with Engine::ApplyLogged).
struct LogEntry {
  uint64_t seq = 0;
  std::string record;
};
struct FollowBatch {
  std::vector<LogEntry> records;  // in sequence order; empty when none exists from `from` on
  uint64_t last_seq = 0;          // the last sequence in the server's log
};

// A retention policy to run once (Client::ApplyRetention); see mnemod's --retention-* flags.
struct RetentionPolicy {
  int32_t keep_months = 0;          // keep the newest N calendar months of chunks; 0 keeps all
  std::string archive_dir;          // on the server's machine; empty: retired months not archived
  int64_t purge_after_seconds = 0;  // purge soft-deleted rows deleted this long ago; 0 never
};

struct RetiredMonth {
  std::string month;  // "YYYY-MM"
  int64_t rows = 0;
  std::string archive_path;  // empty when not archived
};

struct RetentionReport {
  Timestamp now = 0;
  Timestamp month_cutoff = 0;  // 0: no month retention
  Timestamp purge_cutoff = 0;  // 0: no purge
  std::vector<RetiredMonth> retired;
  int64_t conversations_purged = 0;
  int64_t documents_purged = 0;
  int64_t chunks_purged = 0;
};

struct OpStats {
  std::string name;
  uint64_t count = 0;
  uint64_t errors = 0;
  double p50_us = 0;
  double p99_us = 0;
};

// The keyword index's size, all users.
struct TextIndexInfo {
  int64_t rows = 0;          // chunks and messages with terms
  int64_t terms = 0;         // distinct terms
  int64_t postings = 0;      // postings in memory
  int64_t stored_bytes = 0;  // keys + values of the stored row terms, before compression
  int64_t memory_bytes = 0;  // posting lists and per-row arrays
  int64_t message_rows = 0;  // of the rows, messages (0 from servers before message terms)
};

// A node's place in its cluster, as the node reports it (GetStats).
struct ClusterInfo {
  enum class Role : uint8_t { kStandalone = 0, kFollower = 1, kPrimary = 2 };
  Role role = Role::kStandalone;  // kStandalone: no etcd configured (or an older server)
  std::string cluster;
  std::string node_id;
  std::string address;          // what the node advertises
  uint64_t epoch = 0;           // the epoch the node won; 0 unless primary
  bool writable = false;        // primary and not fenced: it accepts writes now
  std::string primary_node_id;  // the primary the node knows of; empty: none
  std::string primary_address;
  uint64_t primary_epoch = 0;
  uint64_t applied_seq = 0;  // the highest log sequence the node has applied
  // A follower's lag behind its primary: the records it knew it lacked at its last answer from
  // the primary, and the time since it last held everything the primary had (nullopt: unknown,
  // or not a follower).
  uint64_t lag_records = 0;
  std::optional<std::chrono::milliseconds> lag;
};

struct ServerStats {
  uint64_t uptime_seconds = 0;
  uint32_t connections = 0;
  std::vector<PartitionInfo> partitions;
  std::vector<OpStats> ops;
  uint64_t data_bytes = 0;
  std::optional<TextIndexInfo> text;  // absent: keyword search is off
  ClusterInfo cluster;
};

// What the server said in its handshake reply.
struct ServerInfo {
  uint32_t protocol_version = 0;
  std::string server_version;
  uint32_t max_frame_bytes = 0;
  uint32_t max_in_flight = 0;  // per connection; 0 = no limit announced
  uint32_t dimension = 0;      // embedding dimension of the data directory
  std::string principal;       // "service", or the user id a user key is pinned to
};

}  // namespace mnemo::client
