// The client's codec: turns the client's value types into Request FlatBuffers and Response
// FlatBuffers back into value types.  Private to the client library (no public header exposes
// it); unit tests reach it directly.
//
// Encoders return one finished Request buffer (the frame payload, without the length prefix),
// identified "MNEM".  user_id empty means "no user" (the field is left absent), used by the
// handshake and the administration requests.  Every request carries the encoding thread's
// trace id (ScopedTraceId, trace_id.h) when one is set.
//
// Decoders take a verified Response (protocol::VerifyResponse) and return the value the
// operation produces.  A response carrying an error yields that Error (code, message, field as
// sent; a code outside the table becomes INTERNAL_ERROR).  A response whose body is not the
// type the operation expects yields INTERNAL_ERROR naming both types.
//
// Thread-safety: stateless functions.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mnemo/client/batch.h"
#include "mnemo/client/error.h"
#include "mnemo/client/types.h"
#include "mnemo/wire/mnemo_generated.h"

namespace mnemo::client::internal {

// ---- encoding ---------------------------------------------------------------------------------

// Float vectors the encoders read in place instead of the inputs' own std::vector: the Python
// client passes its callers' numpy / array('f') buffers this way, so they are copied once,
// straight into the request.  When not empty, views[i] is the i-th vector the request carries
// (chunk i's embedding; query i; a hybrid search's, a message search's or a context's query
// embedding; an appended or upserted message's embedding; the embedding of the i-th add-chunk op
// of a batch), and there must be exactly as many views as vectors.  An empty view is "no
// embedding" for a message.
using VectorViews = std::vector<std::span<const float>>;

std::string EncodeHello(uint64_t request_id, uint32_t protocol_version, std::string_view api_key,
                        std::string_view client_name);

std::string EncodeCreateConversation(uint64_t request_id, std::string_view user_id,
                                     const NewConversation& input);
std::string EncodeUpsertConversation(uint64_t request_id, std::string_view user_id,
                                     const NewConversation& input);
std::string EncodeGetConversation(uint64_t request_id, std::string_view user_id, const Uuid& id,
                                  bool include_deleted);
// title_contains set: the title search form of the list.
std::string EncodeListConversations(uint64_t request_id, std::string_view user_id,
                                    const ConversationListOptions& options,
                                    std::optional<std::string_view> title_contains);
std::string EncodeGetUserStats(uint64_t request_id, std::string_view user_id);
std::string EncodeCountConversations(uint64_t request_id, std::string_view user_id,
                                     const ConversationFilter& filter, bool include_deleted,
                                     bool exists_only);
std::string EncodeUpdateConversation(uint64_t request_id, std::string_view user_id, const Uuid& id,
                                     const ConversationUpdate& update);
std::string EncodeDeleteConversation(uint64_t request_id, std::string_view user_id, const Uuid& id,
                                     bool hard);
std::string EncodeRestoreConversation(uint64_t request_id, std::string_view user_id,
                                      const Uuid& id);

std::string EncodeAppendMessage(uint64_t request_id, std::string_view user_id,
                                const NewMessage& input, const VectorViews& views = {});
std::string EncodeUpsertMessage(uint64_t request_id, std::string_view user_id,
                                const NewMessage& input, const VectorViews& views = {});
std::string EncodeGetMessage(uint64_t request_id, std::string_view user_id, const Uuid& id);
std::string EncodeListMessages(uint64_t request_id, std::string_view user_id,
                               const Uuid& conversation_id, const MessageQuery& query);
std::string EncodeLastMessages(uint64_t request_id, std::string_view user_id,
                               const Uuid& conversation_id, int64_t count);
std::string EncodeLastMessageByRole(uint64_t request_id, std::string_view user_id,
                                    const Uuid& conversation_id, Role role);
std::string EncodeSetToolResults(uint64_t request_id, std::string_view user_id,
                                 const Uuid& message_id, std::string_view tool_results_json);
std::string EncodeGetTokenStats(uint64_t request_id, std::string_view user_id,
                                const Uuid& conversation_id);
std::string EncodeDeleteMessages(uint64_t request_id, std::string_view user_id,
                                 const Uuid& conversation_id);
// The filter fields of `filter` (its paging is ignored).
std::string EncodeCountMessages(uint64_t request_id, std::string_view user_id,
                                const Uuid& conversation_id, const MessageQuery& filter,
                                bool exists_only);
std::string EncodeUpdateMessage(uint64_t request_id, std::string_view user_id,
                                const Uuid& message_id, const MessageUpdate& update);
std::string EncodeDeleteMessage(uint64_t request_id, std::string_view user_id,
                                const Uuid& message_id);

std::string EncodeCreateDocument(uint64_t request_id, std::string_view user_id,
                                 const NewDocument& input);
std::string EncodeGetDocument(uint64_t request_id, std::string_view user_id, const Uuid& id,
                              bool include_deleted);
// filename_contains set: the filename search form of the list.
std::string EncodeListDocuments(uint64_t request_id, std::string_view user_id,
                                const DocumentListOptions& options,
                                std::optional<std::string_view> filename_contains);
std::string EncodeCountDocuments(uint64_t request_id, std::string_view user_id);
std::string EncodeDeleteDocument(uint64_t request_id, std::string_view user_id, const Uuid& id,
                                 bool hard);
std::string EncodeRestoreDocument(uint64_t request_id, std::string_view user_id, const Uuid& id);
std::string EncodeCountMatchingDocuments(uint64_t request_id, std::string_view user_id,
                                         const DocumentFilter& filter, bool include_deleted,
                                         bool exists_only);
std::string EncodeUpdateDocument(uint64_t request_id, std::string_view user_id, const Uuid& id,
                                 const DocumentUpdate& update);

std::string EncodeAddChunks(uint64_t request_id, std::string_view user_id,
                            const std::vector<NewChunk>& chunks, const VectorViews& views = {});
std::string EncodeGetChunk(uint64_t request_id, std::string_view user_id, const Uuid& id,
                           bool include_deleted);
std::string EncodeListChunks(uint64_t request_id, std::string_view user_id, const Uuid& document_id,
                             const ChunkListOptions& options);
std::string EncodeDeleteChunk(uint64_t request_id, std::string_view user_id, const Uuid& id,
                              bool hard);
std::string EncodeRestoreChunk(uint64_t request_id, std::string_view user_id, const Uuid& id);
std::string EncodeReplaceChunks(uint64_t request_id, std::string_view user_id,
                                const Uuid& document_id, const std::vector<NewChunk>& chunks,
                                const VectorViews& views = {});
std::string EncodeSearch(uint64_t request_id, std::string_view user_id,
                         const SearchRequest& request, const VectorViews& views = {});
std::string EncodeSearchBatch(uint64_t request_id, std::string_view user_id,
                              const std::vector<SearchRequest>& requests,
                              const VectorViews& views = {});
std::string EncodeSearchText(uint64_t request_id, std::string_view user_id,
                             const TextSearchRequest& request);
std::string EncodeSearchHybrid(uint64_t request_id, std::string_view user_id,
                               const HybridSearchRequest& request, const VectorViews& views = {});
std::string EncodeSearchMessages(uint64_t request_id, std::string_view user_id,
                                 const MessageSearchRequest& request,
                                 const VectorViews& views = {});
std::string EncodeAssembleContext(uint64_t request_id, std::string_view user_id,
                                  const ContextRequest& request, const VectorViews& views = {});
// `message_views`, when not empty, holds the embedding of each append-message and upsert-message
// op of the batch, in op order (VectorViews; an empty view: none).
std::string EncodeApplyBatch(uint64_t request_id, std::string_view user_id, const Batch& batch,
                             const VectorViews& views = {}, const VectorViews& message_views = {});

std::string EncodeGetStats(uint64_t request_id);
std::string EncodeListPartitions(uint64_t request_id);
std::string EncodeRebuildPartition(uint64_t request_id, std::string_view month);
std::string EncodeArchivePartition(uint64_t request_id, std::string_view month,
                                   std::string_view path);
std::string EncodeDropPartition(uint64_t request_id, std::string_view month);
std::string EncodeAttachArchive(uint64_t request_id, std::string_view path);
std::string EncodeCreateBackup(uint64_t request_id, std::string_view path);
std::string EncodeOpenSnapshot(uint64_t request_id);
std::string EncodeReadSnapshot(uint64_t request_id, std::string_view snapshot_id,
                               std::string_view path, uint64_t offset, uint32_t max_bytes);
std::string EncodeCloseSnapshot(uint64_t request_id, std::string_view snapshot_id);
std::string EncodeFollow(uint64_t request_id, uint64_t from, uint32_t max_records,
                         uint32_t max_bytes, std::string_view follower_id);
// nullopt: the server's configured policy.
std::string EncodeApplyRetention(uint64_t request_id, const std::optional<RetentionPolicy>& policy);

// ---- decoding ---------------------------------------------------------------------------------

// The wire error as a client Error (codes outside the table become INTERNAL_ERROR).
Error ErrorFromWire(const wire::Error& error);
Code CodeFromWire(wire::StatusCode code);

Uuid UuidFromWire(const wire::Id& id);
wire::Id UuidToWire(const Uuid& id);

Result<ServerInfo> DecodeHelloReply(const wire::Response& response);
Result<Conversation> DecodeConversation(const wire::Response& response);
Result<ConversationPage> DecodeConversationPage(const wire::Response& response);
Result<UserStats> DecodeUserStats(const wire::Response& response);
// MessageReply with a message (absent message: NOT_FOUND).
Result<Message> DecodeMessage(const wire::Response& response);
// MessageReply; an absent message is nullopt.
Result<std::optional<Message>> DecodeOptionalMessage(const wire::Response& response);
Result<MessagePage> DecodeMessagePage(const wire::Response& response);
Result<std::vector<Message>> DecodeMessages(const wire::Response& response);
Result<TokenStats> DecodeTokenStats(const wire::Response& response);
Result<int64_t> DecodeCount(const wire::Response& response);
Result<Document> DecodeDocument(const wire::Response& response);
Result<DocumentPage> DecodeDocumentPage(const wire::Response& response);
Result<DocumentCounts> DecodeDocumentCounts(const wire::Response& response);
Result<std::vector<Chunk>> DecodeChunks(const wire::Response& response);
Result<Chunk> DecodeChunk(const wire::Response& response);
Result<ChunkPage> DecodeChunkPage(const wire::Response& response);
// CountReply as a yes/no (count > 0).
Result<bool> DecodeExists(const wire::Response& response);
Result<RetentionReport> DecodeRetention(const wire::Response& response);
Result<SearchResponse> DecodeSearch(const wire::Response& response);
Result<std::vector<SearchResponse>> DecodeSearchBatch(const wire::Response& response);
Result<RankedSearchResponse> DecodeRankedSearch(const wire::Response& response);
Result<ContextResponse> DecodeContext(const wire::Response& response);
Result<MessageSearchResponse> DecodeMessageSearch(const wire::Response& response);
Result<std::vector<Uuid>> DecodeBatchIds(const wire::Response& response);
Result<std::vector<PartitionInfo>> DecodePartitions(const wire::Response& response);
Result<AttachResult> DecodeAttach(const wire::Response& response);
Result<SnapshotManifest> DecodeSnapshotManifest(const wire::Response& response);
// The chunk's bytes and the CRC-32C the server sent with them (not checked here).
struct SnapshotChunkData {
  std::string data;
  uint32_t crc32c = 0;
};
Result<SnapshotChunkData> DecodeSnapshotChunk(const wire::Response& response);
Result<FollowBatch> DecodeFollow(const wire::Response& response);
Result<ServerStats> DecodeStats(const wire::Response& response);
// Success with any body (or none): the operation returns nothing the client needs.
Result<void> DecodeDone(const wire::Response& response);

}  // namespace mnemo::client::internal
