// Client: the C++ client of mnemod (SPEC §4).  One typed method per operation of the wire
// protocol (protocol/schema/mnemo.fbs); values in, values out (types.h), errors as values
// (error.h).  No FlatBuffers or Asio type appears in this interface.
//
// Connections.  A Client keeps ClientOptions::pool_size TCP connections.  Each opens with the
// Hello handshake and then pipelines requests: every request carries an id, and the connection's
// reader hands each response to the caller waiting for that id.  A call goes to the ready
// connection with the fewest requests in flight, and never exceeds the server's announced
// max_in_flight per connection (extra requests queue in the client).
//
// Failures.  A call fails with UNAVAILABLE when its connection cannot be established, breaks
// while the request is in flight, or the response does not arrive within request_timeout.  A
// broken connection is re-established transparently by the next call that needs it.  A read
// whose connection broke is retried once on a fresh connection (within the same deadline); a
// write is never retried, because it may or may not have been applied: give creates a client
// id (Uuid::Generate()) to make retrying them yourself safe.  Every other code comes from the
// server unchanged.
//
// Clusters.  ClientOptions::addresses may list several nodes of a cluster.  The client uses one
// node at a time: the first that answers, then the next one after a node fails.  The failing
// call itself is sent to the next node if it is a read, or a write that never left the client
// (the failed node could not be connected to); a write that may have reached it is not resent. Only
// the cluster's primary applies writes; any other node answers a write NOT_PRIMARY, naming the
// primary when it knows it.  That answer proves the write was not applied, so the client reconnects
// to the named primary and sends the write there once; if that fails too, the caller gets the error
// (NOT_PRIMARY carries Error::primary_address and primary_epoch).  Reads are served by every node;
// until the write stream is replicated, a follower answers them from its own data.
//
// Threading.  All sockets are driven by one I/O thread owned by the Client (Boost.Asio,
// asynchronous operations on one io_context); calling threads only encode, hand the request to
// that thread and wait for their own response.  Thread-safety: a Client is fully thread-safe;
// share one instance between threads.  Destroying it closes every connection.  REQUIRES: no
// call is in progress on another thread while the Client is destroyed.
//
// Users.  Every user-scoped method takes the user_id the request acts for as its first
// argument.  A service key may name any user; a user key only its own user (others get
// AUTHORIZATION_ERROR).  Rows of other users are NOT_FOUND, never revealed.  Administration
// methods act on the whole server and name no user.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mnemo/client/batch.h"
#include "mnemo/client/error.h"
#include "mnemo/client/options.h"
#include "mnemo/client/types.h"

namespace mnemo::client {

namespace internal {
class Router;
}

// Tags every call the current thread makes while it lives with `trace_id` (e.g. an HTTP
// X-Request-ID): mnemod writes it beside the request id in its log lines, so one request can be
// followed from the web app through mnemo-rest into mnemod.  Scopes nest; the innermost wins.
// At most kMaxTraceIdBytes are sent.  Thread-safety: affects only the constructing thread.
class ScopedTraceId {
 public:
  static constexpr size_t kMaxTraceIdBytes = ::mnemo::kMaxTraceIdBytes;
  explicit ScopedTraceId(std::string_view trace_id);
  ~ScopedTraceId();
  ScopedTraceId(const ScopedTraceId&) = delete;
  ScopedTraceId& operator=(const ScopedTraceId&) = delete;

 private:
  std::string previous_;
};

class Client {
 public:
  // Opens the pool: every connection is established and completes its handshake before this
  // returns.  Errors: UNAVAILABLE (cannot connect, or connect_timeout elapsed),
  // AUTHENTICATION_ERROR (the key was refused), VALIDATION_ERROR (bad options or a protocol
  // version the server does not speak).  The caller owns the returned Client.
  static Result<std::unique_ptr<Client>> Connect(const ClientOptions& options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // The handshake reply of the node in use (of the pool's first connection).
  ServerInfo server_info() const;
  // "host:port" of the node in use; empty between a node's failure and the next call.
  std::string current_address() const;

  // ---- conversations ----
  // Creates a conversation.  With a client-supplied id, creating it again returns the existing
  // row (DUPLICATE_RECORD if that id belongs to a different conversation; server's rule).
  Result<Conversation> CreateConversation(std::string_view user_id, const NewConversation& input);
  // Inserts or replaces the conversation with input.id (REQUIRES: input.id is set).
  Result<Conversation> UpsertConversation(std::string_view user_id, const NewConversation& input);
  // NOT_FOUND for a missing or other user's conversation, and for a soft-deleted one unless
  // include_deleted.
  Result<Conversation> GetConversation(std::string_view user_id, const Uuid& id,
                                       bool include_deleted = false);
  // The user's conversations, newest first (by created_at or updated_at).
  Result<ConversationPage> ListConversations(std::string_view user_id,
                                             const ConversationListOptions& options = {});
  // Conversations whose title contains `query`, case-insensitively, paged like the list.
  Result<ConversationPage> SearchConversationsByTitle(std::string_view user_id,
                                                      std::string_view query,
                                                      const ConversationListOptions& options = {});
  // The number of the user's conversations matching `filter`.
  Result<int64_t> CountConversations(std::string_view user_id,
                                     const ConversationFilter& filter = {},
                                     bool include_deleted = false);
  // Whether any conversation of the user matches `filter` (stops at the first).
  Result<bool> ConversationsExist(std::string_view user_id, const ConversationFilter& filter = {},
                                  bool include_deleted = false);
  // Counts of the user's conversations (total, active, deleted) and the last activity.
  Result<UserStats> GetUserStats(std::string_view user_id);
  // Changes the fields set in `update`; returns the row after the change.
  Result<Conversation> UpdateConversation(std::string_view user_id, const Uuid& id,
                                          const ConversationUpdate& update);
  // Soft delete: hidden from gets and lists until restored.  Returns the row as deleted.
  Result<Conversation> SoftDeleteConversation(std::string_view user_id, const Uuid& id);
  // Removes the conversation and all its messages for good.
  Result<void> HardDeleteConversation(std::string_view user_id, const Uuid& id);
  // Undoes a soft delete; returns the restored row.
  Result<Conversation> RestoreConversation(std::string_view user_id, const Uuid& id);

  // ---- messages ----
  // Appends a message; the conversation's counters and updated_at move in the same write.  An
  // input.embedding is stored with it (VALIDATION_ERROR naming embedding when its dimension is
  // not the server's or a value is not finite).
  Result<Message> AppendMessage(std::string_view user_id, const NewMessage& input);
  // Inserts or replaces the message with input.id (REQUIRES: input.id is set), its embedding
  // included (an empty one removes the stored one).
  Result<Message> UpsertMessage(std::string_view user_id, const NewMessage& input);
  Result<Message> GetMessage(std::string_view user_id, const Uuid& message_id);
  // A page of a conversation's messages (oldest or newest first, optional role / tool-call
  // filters).
  Result<MessagePage> ListMessages(std::string_view user_id, const Uuid& conversation_id,
                                   const MessageQuery& query = {});
  // The number of the conversation's messages matching the query's filters (paging ignored).
  Result<int64_t> CountMessages(std::string_view user_id, const Uuid& conversation_id,
                                const MessageQuery& filter = {});
  Result<bool> MessagesExist(std::string_view user_id, const Uuid& conversation_id,
                             const MessageQuery& filter = {});
  // Changes the fields set in `update`; the conversation's total_tokens follows.
  Result<Message> UpdateMessage(std::string_view user_id, const Uuid& message_id,
                                const MessageUpdate& update);
  // Deletes one message for good; the conversation's counters follow.  Returns the message.
  Result<Message> DeleteMessage(std::string_view user_id, const Uuid& message_id);
  // The last `count` messages in chronological order.
  Result<std::vector<Message>> LastMessages(std::string_view user_id, const Uuid& conversation_id,
                                            int64_t count);
  // The newest message of `role`, or nullopt when the conversation has none.
  Result<std::optional<Message>> LastMessageByRole(std::string_view user_id,
                                                   const Uuid& conversation_id, Role role);
  // Replaces a message's tool_results (JSON text); returns the updated message.
  Result<Message> SetToolResults(std::string_view user_id, const Uuid& message_id,
                                 std::string_view tool_results_json);
  Result<TokenStats> GetTokenStats(std::string_view user_id, const Uuid& conversation_id);
  // Deletes every message of the conversation; returns how many were deleted.
  Result<int64_t> DeleteAllMessages(std::string_view user_id, const Uuid& conversation_id);

  // ---- documents ----
  Result<Document> CreateDocument(std::string_view user_id, const NewDocument& input);
  Result<Document> GetDocument(std::string_view user_id, const Uuid& id,
                               bool include_deleted = false);
  // The user's documents, newest first.
  Result<DocumentPage> ListDocuments(std::string_view user_id,
                                     const DocumentListOptions& options = {});
  // Documents whose filename contains `query`, case-insensitively.
  Result<DocumentPage> SearchDocumentsByFilename(std::string_view user_id, std::string_view query,
                                                 const DocumentListOptions& options = {});
  Result<DocumentCounts> CountDocuments(std::string_view user_id);
  // The number of the user's documents matching `filter`.
  Result<int64_t> CountDocuments(std::string_view user_id, const DocumentFilter& filter,
                                 bool include_deleted = false);
  Result<bool> DocumentsExist(std::string_view user_id, const DocumentFilter& filter = {},
                              bool include_deleted = false);
  // Changes the fields set in `update` of a live document; search shows a new filename or file
  // type at once.
  Result<Document> UpdateDocument(std::string_view user_id, const Uuid& id,
                                  const DocumentUpdate& update);
  // Soft delete: the document and its chunks disappear from gets, lists and searches at once.
  // Returns the row as deleted.
  Result<Document> SoftDeleteDocument(std::string_view user_id, const Uuid& id);
  // Removes the document, its chunks and their vectors for good.
  Result<void> HardDeleteDocument(std::string_view user_id, const Uuid& id);
  Result<Document> RestoreDocument(std::string_view user_id, const Uuid& id);

  // ---- chunks and vector search ----
  // Adds chunks (with embeddings) to the user's live documents, all or none.  The chunks are
  // searchable when this returns.
  Result<std::vector<Chunk>> AddChunks(std::string_view user_id,
                                       const std::vector<NewChunk>& chunks);
  // One chunk; a soft-deleted one only with include_deleted.
  Result<Chunk> GetChunk(std::string_view user_id, const Uuid& chunk_id,
                         bool include_deleted = false);
  // A live document's chunks in chunk_index order.
  Result<ChunkPage> ListChunks(std::string_view user_id, const Uuid& document_id,
                               const ChunkListOptions& options = {});
  // Hides a chunk from search; it keeps its chunk_index until restored or deleted for good.
  Result<Chunk> SoftDeleteChunk(std::string_view user_id, const Uuid& chunk_id);
  Result<Chunk> RestoreChunk(std::string_view user_id, const Uuid& chunk_id);
  // Removes a chunk (live or soft-deleted) and its vector for good.
  Result<Chunk> DeleteChunk(std::string_view user_id, const Uuid& chunk_id);
  // Replaces every chunk of a live document by `chunks` atomically (empty: removes them all).
  Result<std::vector<Chunk>> ReplaceChunks(std::string_view user_id, const Uuid& document_id,
                                           const std::vector<NewChunk>& chunks);
  // Cosine top-k over the user's chunks of live documents (SPEC §3).
  Result<SearchResponse> Search(std::string_view user_id, const SearchRequest& request);
  // Several searches in one round trip; answers in request order.
  Result<std::vector<SearchResponse>> SearchBatch(std::string_view user_id,
                                                  const std::vector<SearchRequest>& requests);
  // BM25 keyword search over the user's chunks (same filters as Search).  A query of stop words
  // only, or of terms no chunk holds, is an empty answer whose `text` says why.
  Result<RankedSearchResponse> SearchText(std::string_view user_id,
                                          const TextSearchRequest& request);
  // Keyword and vector search fused into one ranking in one round trip.
  Result<RankedSearchResponse> SearchHybrid(std::string_view user_id,
                                            const HybridSearchRequest& request);

  // The user's messages stored with an embedding, nearest to request.query first, with how the
  // answer was produced (as Search).  VALIDATION_ERROR naming the field: query (dimension),
  // top_k, min_similarity, ef, filters.roles (an unknown role name), filters.created_until.
  Result<MessageSearchResponse> SearchMessages(std::string_view user_id,
                                               const MessageSearchRequest& request);

  // ---- context assembly ----
  // The conversation, its most recent messages that fit request.token_budget (chronological) and
  // the top request.k_chunks chunks (vector, keyword or hybrid retrieval) and request.k_memories
  // past messages nearest to the query embedding, with each item's token count and how the
  // budget was spent, in one round trip.  Errors: NOT_FOUND for a conversation that is missing,
  // another user's or soft-deleted; VALIDATION_ERROR naming the field for bad input
  // (token_budget, max_messages, k_chunks, k_memories, query_embedding's dimension, query_text,
  // min_similarity, filters, memory_filters.roles) and for a budget smaller than the system
  // prompt (token_budget);
  // UNAVAILABLE for query_text when the server's keyword search is off.
  Result<ContextResponse> AssembleContext(std::string_view user_id, const ContextRequest& request);

  // ---- atomic batches ----
  // Applies every op of `batch` or none.  Returns the id of the row each op created or changed,
  // in op order.
  Result<std::vector<Uuid>> ApplyBatch(std::string_view user_id, const Batch& batch);

  // ---- administration (service principal) ----
  Result<ServerStats> GetStats();
  Result<std::vector<PartitionInfo>> ListPartitions();
  // Rebuilds the graph of one month ("YYYY-MM") online.
  Result<void> RebuildPartition(std::string_view month);
  // Exports a month's chunks to `path` on the server's machine; returns the row count.
  Result<int64_t> ArchivePartition(std::string_view month, std::string_view path);
  // Deletes a month's chunks; returns the row count.
  Result<int64_t> DropPartition(std::string_view month);
  // Re-attaches an archive written by ArchivePartition.
  Result<AttachResult> AttachArchive(std::string_view path);
  // Writes an online backup to `path` (which must not exist) on the server's machine.
  Result<void> CreateBackup(std::string_view path);
  // Runs retention once with `policy`, or with the server's configured policy when nullopt.
  Result<RetentionReport> ApplyRetention(const std::optional<RetentionPolicy>& policy);
  // Snapshots: a consistent copy of the server's data (what CreateBackup writes) made on the
  // server and read over this connection in chunks; `mnemo snapshot fetch` uses them.  Open makes
  // one (the server keeps at most two, and deletes one left idle for ten minutes); Read returns
  // up to `max_bytes` (0: the server's chunk size, 4 MiB) of one of its files from `offset`,
  // fewer only at the end, none past it; a chunk whose CRC-32C does not match its bytes is
  // UNAVAILABLE.  Close deletes the snapshot.
  Result<SnapshotManifest> OpenSnapshot();
  Result<std::string> ReadSnapshot(std::string_view snapshot_id, std::string_view path,
                                   uint64_t offset, uint32_t max_bytes = 0);
  Result<void> CloseSnapshot(std::string_view snapshot_id);
  // Replication (mnemod's replicas use it): up to `max_records` records, and about `max_bytes`
  // (the first record comes whatever its size), of the server's log from sequence `from` (>= 1)
  // on.  With a non-empty `follower_id` the call
  // acknowledges, for that replica, every record below `from` (semi-sync writes on the primary
  // wait for such acknowledgements) and may be held by the server about 100 ms when no record
  // exists yet.  UNAVAILABLE when the server's log is off; never retried (it acknowledges).
  Result<FollowBatch> Follow(uint64_t from, uint32_t max_records, uint32_t max_bytes,
                             std::string_view follower_id);

 private:
  explicit Client(std::unique_ptr<internal::Router> router);
  std::unique_ptr<internal::Router> router_;
};

}  // namespace mnemo::client
