#include "mnemo/client/client.h"

#include <utility>

#include "codec.h"
#include "mnemo/base/crc32c.h"
#include "router.h"

namespace mnemo::client {
namespace {

using internal::Router;
using internal::Transport;
constexpr auto kRead = Transport::Retry::kIfBroken;
constexpr auto kWrite = Transport::Retry::kNever;

// Sends one encoded request and decodes its response with `decode`.
template <typename Encode, typename Decode>
auto Invoke(Router& transport, Transport::Retry retry, Encode encode, Decode decode)
    -> decltype(decode(std::declval<const wire::Response&>())) {
  const uint64_t id = transport.NextRequestId();
  auto payload = transport.Call(id, encode(id), retry);
  if (!payload.ok()) return payload.error();
  // Verified by the transport; the root is read in place.
  const auto* response = flatbuffers::GetRoot<wire::Response>(payload->data());
  return decode(*response);
}

}  // namespace

Client::Client(std::unique_ptr<Router> router) : router_(std::move(router)) {}
Client::~Client() = default;

Result<std::unique_ptr<Client>> Client::Connect(const ClientOptions& options) {
  auto router = Router::Open(options);
  if (!router.ok()) return router.error();
  return std::unique_ptr<Client>(new Client(std::move(router).value()));
}

ServerInfo Client::server_info() const { return router_->server_info(); }

std::string Client::current_address() const { return router_->current_address(); }

// ---- conversations ----

Result<Conversation> Client::CreateConversation(std::string_view user_id,
                                                const NewConversation& input) {
  return Invoke(
      *router_, kWrite,
      [&](uint64_t id) { return internal::EncodeCreateConversation(id, user_id, input); },
      internal::DecodeConversation);
}

Result<Conversation> Client::UpsertConversation(std::string_view user_id,
                                                const NewConversation& input) {
  return Invoke(
      *router_, kWrite,
      [&](uint64_t id) { return internal::EncodeUpsertConversation(id, user_id, input); },
      internal::DecodeConversation);
}

Result<Conversation> Client::GetConversation(std::string_view user_id, const Uuid& id,
                                             bool include_deleted) {
  return Invoke(
      *router_, kRead,
      [&](uint64_t rid) {
        return internal::EncodeGetConversation(rid, user_id, id, include_deleted);
      },
      internal::DecodeConversation);
}

Result<ConversationPage> Client::ListConversations(std::string_view user_id,
                                                   const ConversationListOptions& options) {
  return Invoke(
      *router_, kRead,
      [&](uint64_t id) {
        return internal::EncodeListConversations(id, user_id, options, std::nullopt);
      },
      internal::DecodeConversationPage);
}

Result<ConversationPage> Client::SearchConversationsByTitle(
    std::string_view user_id, std::string_view query, const ConversationListOptions& options) {
  return Invoke(
      *router_, kRead,
      [&](uint64_t id) { return internal::EncodeListConversations(id, user_id, options, query); },
      internal::DecodeConversationPage);
}

Result<UserStats> Client::GetUserStats(std::string_view user_id) {
  return Invoke(
      *router_, kRead, [&](uint64_t id) { return internal::EncodeGetUserStats(id, user_id); },
      internal::DecodeUserStats);
}

Result<int64_t> Client::CountConversations(std::string_view user_id,
                                           const ConversationFilter& filter, bool include_deleted) {
  return Invoke(
      *router_, kRead,
      [&](uint64_t id) {
        return internal::EncodeCountConversations(id, user_id, filter, include_deleted, false);
      },
      internal::DecodeCount);
}

Result<bool> Client::ConversationsExist(std::string_view user_id, const ConversationFilter& filter,
                                        bool include_deleted) {
  return Invoke(
      *router_, kRead,
      [&](uint64_t id) {
        return internal::EncodeCountConversations(id, user_id, filter, include_deleted, true);
      },
      internal::DecodeExists);
}

Result<Conversation> Client::UpdateConversation(std::string_view user_id, const Uuid& id,
                                                const ConversationUpdate& update) {
  return Invoke(
      *router_, kWrite,
      [&](uint64_t rid) { return internal::EncodeUpdateConversation(rid, user_id, id, update); },
      internal::DecodeConversation);
}

Result<Conversation> Client::SoftDeleteConversation(std::string_view user_id, const Uuid& id) {
  return Invoke(
      *router_, kWrite,
      [&](uint64_t rid) { return internal::EncodeDeleteConversation(rid, user_id, id, false); },
      internal::DecodeConversation);
}

Result<void> Client::HardDeleteConversation(std::string_view user_id, const Uuid& id) {
  return Invoke(
      *router_, kWrite,
      [&](uint64_t rid) { return internal::EncodeDeleteConversation(rid, user_id, id, true); },
      internal::DecodeDone);
}

Result<Conversation> Client::RestoreConversation(std::string_view user_id, const Uuid& id) {
  return Invoke(
      *router_, kWrite,
      [&](uint64_t rid) { return internal::EncodeRestoreConversation(rid, user_id, id); },
      internal::DecodeConversation);
}

// ---- messages ----

Result<Message> Client::AppendMessage(std::string_view user_id, const NewMessage& input) {
  return Invoke(
      *router_, kWrite,
      [&](uint64_t id) { return internal::EncodeAppendMessage(id, user_id, input); },
      internal::DecodeMessage);
}

Result<Message> Client::UpsertMessage(std::string_view user_id, const NewMessage& input) {
  return Invoke(
      *router_, kWrite,
      [&](uint64_t id) { return internal::EncodeUpsertMessage(id, user_id, input); },
      internal::DecodeMessage);
}

Result<Message> Client::GetMessage(std::string_view user_id, const Uuid& message_id) {
  return Invoke(
      *router_, kRead,
      [&](uint64_t id) { return internal::EncodeGetMessage(id, user_id, message_id); },
      internal::DecodeMessage);
}

Result<MessagePage> Client::ListMessages(std::string_view user_id, const Uuid& conversation_id,
                                         const MessageQuery& query) {
  return Invoke(
      *router_, kRead,
      [&](uint64_t id) {
        return internal::EncodeListMessages(id, user_id, conversation_id, query);
      },
      internal::DecodeMessagePage);
}

Result<int64_t> Client::CountMessages(std::string_view user_id, const Uuid& conversation_id,
                                      const MessageQuery& filter) {
  return Invoke(
      *router_, kRead,
      [&](uint64_t id) {
        return internal::EncodeCountMessages(id, user_id, conversation_id, filter, false);
      },
      internal::DecodeCount);
}

Result<bool> Client::MessagesExist(std::string_view user_id, const Uuid& conversation_id,
                                   const MessageQuery& filter) {
  return Invoke(
      *router_, kRead,
      [&](uint64_t id) {
        return internal::EncodeCountMessages(id, user_id, conversation_id, filter, true);
      },
      internal::DecodeExists);
}

Result<Message> Client::UpdateMessage(std::string_view user_id, const Uuid& message_id,
                                      const MessageUpdate& update) {
  return Invoke(
      *router_, kWrite,
      [&](uint64_t id) { return internal::EncodeUpdateMessage(id, user_id, message_id, update); },
      internal::DecodeMessage);
}

Result<Message> Client::DeleteMessage(std::string_view user_id, const Uuid& message_id) {
  return Invoke(
      *router_, kWrite,
      [&](uint64_t id) { return internal::EncodeDeleteMessage(id, user_id, message_id); },
      internal::DecodeMessage);
}

Result<std::vector<Message>> Client::LastMessages(std::string_view user_id,
                                                  const Uuid& conversation_id, int64_t count) {
  return Invoke(
      *router_, kRead,
      [&](uint64_t id) {
        return internal::EncodeLastMessages(id, user_id, conversation_id, count);
      },
      internal::DecodeMessages);
}

Result<std::optional<Message>> Client::LastMessageByRole(std::string_view user_id,
                                                         const Uuid& conversation_id, Role role) {
  return Invoke(
      *router_, kRead,
      [&](uint64_t id) {
        return internal::EncodeLastMessageByRole(id, user_id, conversation_id, role);
      },
      internal::DecodeOptionalMessage);
}

Result<Message> Client::SetToolResults(std::string_view user_id, const Uuid& message_id,
                                       std::string_view tool_results_json) {
  return Invoke(
      *router_, kWrite,
      [&](uint64_t id) {
        return internal::EncodeSetToolResults(id, user_id, message_id, tool_results_json);
      },
      internal::DecodeMessage);
}

Result<TokenStats> Client::GetTokenStats(std::string_view user_id, const Uuid& conversation_id) {
  return Invoke(
      *router_, kRead,
      [&](uint64_t id) { return internal::EncodeGetTokenStats(id, user_id, conversation_id); },
      internal::DecodeTokenStats);
}

Result<int64_t> Client::DeleteAllMessages(std::string_view user_id, const Uuid& conversation_id) {
  return Invoke(
      *router_, kWrite,
      [&](uint64_t id) { return internal::EncodeDeleteMessages(id, user_id, conversation_id); },
      internal::DecodeCount);
}

// ---- documents ----

Result<Document> Client::CreateDocument(std::string_view user_id, const NewDocument& input) {
  return Invoke(
      *router_, kWrite,
      [&](uint64_t id) { return internal::EncodeCreateDocument(id, user_id, input); },
      internal::DecodeDocument);
}

Result<Document> Client::GetDocument(std::string_view user_id, const Uuid& id,
                                     bool include_deleted) {
  return Invoke(
      *router_, kRead,
      [&](uint64_t rid) { return internal::EncodeGetDocument(rid, user_id, id, include_deleted); },
      internal::DecodeDocument);
}

Result<DocumentPage> Client::ListDocuments(std::string_view user_id,
                                           const DocumentListOptions& options) {
  return Invoke(
      *router_, kRead,
      [&](uint64_t id) {
        return internal::EncodeListDocuments(id, user_id, options, std::nullopt);
      },
      internal::DecodeDocumentPage);
}

Result<DocumentPage> Client::SearchDocumentsByFilename(std::string_view user_id,
                                                       std::string_view query,
                                                       const DocumentListOptions& options) {
  return Invoke(
      *router_, kRead,
      [&](uint64_t id) { return internal::EncodeListDocuments(id, user_id, options, query); },
      internal::DecodeDocumentPage);
}

Result<DocumentCounts> Client::CountDocuments(std::string_view user_id) {
  return Invoke(
      *router_, kRead, [&](uint64_t id) { return internal::EncodeCountDocuments(id, user_id); },
      internal::DecodeDocumentCounts);
}

Result<int64_t> Client::CountDocuments(std::string_view user_id, const DocumentFilter& filter,
                                       bool include_deleted) {
  return Invoke(
      *router_, kRead,
      [&](uint64_t id) {
        return internal::EncodeCountMatchingDocuments(id, user_id, filter, include_deleted, false);
      },
      internal::DecodeCount);
}

Result<bool> Client::DocumentsExist(std::string_view user_id, const DocumentFilter& filter,
                                    bool include_deleted) {
  return Invoke(
      *router_, kRead,
      [&](uint64_t id) {
        return internal::EncodeCountMatchingDocuments(id, user_id, filter, include_deleted, true);
      },
      internal::DecodeExists);
}

Result<Document> Client::UpdateDocument(std::string_view user_id, const Uuid& id,
                                        const DocumentUpdate& update) {
  return Invoke(
      *router_, kWrite,
      [&](uint64_t rid) { return internal::EncodeUpdateDocument(rid, user_id, id, update); },
      internal::DecodeDocument);
}

Result<Document> Client::SoftDeleteDocument(std::string_view user_id, const Uuid& id) {
  return Invoke(
      *router_, kWrite,
      [&](uint64_t rid) { return internal::EncodeDeleteDocument(rid, user_id, id, false); },
      internal::DecodeDocument);
}

Result<void> Client::HardDeleteDocument(std::string_view user_id, const Uuid& id) {
  return Invoke(
      *router_, kWrite,
      [&](uint64_t rid) { return internal::EncodeDeleteDocument(rid, user_id, id, true); },
      internal::DecodeDone);
}

Result<Document> Client::RestoreDocument(std::string_view user_id, const Uuid& id) {
  return Invoke(
      *router_, kWrite,
      [&](uint64_t rid) { return internal::EncodeRestoreDocument(rid, user_id, id); },
      internal::DecodeDocument);
}

// ---- chunks and vector search ----

Result<std::vector<Chunk>> Client::AddChunks(std::string_view user_id,
                                             const std::vector<NewChunk>& chunks) {
  return Invoke(
      *router_, kWrite, [&](uint64_t id) { return internal::EncodeAddChunks(id, user_id, chunks); },
      internal::DecodeChunks);
}

Result<Chunk> Client::GetChunk(std::string_view user_id, const Uuid& chunk_id,
                               bool include_deleted) {
  return Invoke(
      *router_, kRead,
      [&](uint64_t id) { return internal::EncodeGetChunk(id, user_id, chunk_id, include_deleted); },
      internal::DecodeChunk);
}

Result<ChunkPage> Client::ListChunks(std::string_view user_id, const Uuid& document_id,
                                     const ChunkListOptions& options) {
  return Invoke(
      *router_, kRead,
      [&](uint64_t id) { return internal::EncodeListChunks(id, user_id, document_id, options); },
      internal::DecodeChunkPage);
}

Result<Chunk> Client::SoftDeleteChunk(std::string_view user_id, const Uuid& chunk_id) {
  return Invoke(
      *router_, kWrite,
      [&](uint64_t id) { return internal::EncodeDeleteChunk(id, user_id, chunk_id, false); },
      internal::DecodeChunk);
}

Result<Chunk> Client::RestoreChunk(std::string_view user_id, const Uuid& chunk_id) {
  return Invoke(
      *router_, kWrite,
      [&](uint64_t id) { return internal::EncodeRestoreChunk(id, user_id, chunk_id); },
      internal::DecodeChunk);
}

Result<Chunk> Client::DeleteChunk(std::string_view user_id, const Uuid& chunk_id) {
  return Invoke(
      *router_, kWrite,
      [&](uint64_t id) { return internal::EncodeDeleteChunk(id, user_id, chunk_id, true); },
      internal::DecodeChunk);
}

Result<std::vector<Chunk>> Client::ReplaceChunks(std::string_view user_id, const Uuid& document_id,
                                                 const std::vector<NewChunk>& chunks) {
  return Invoke(
      *router_, kWrite,
      [&](uint64_t id) { return internal::EncodeReplaceChunks(id, user_id, document_id, chunks); },
      internal::DecodeChunks);
}

Result<SearchResponse> Client::Search(std::string_view user_id, const SearchRequest& request) {
  return Invoke(
      *router_, kRead, [&](uint64_t id) { return internal::EncodeSearch(id, user_id, request); },
      internal::DecodeSearch);
}

Result<std::vector<SearchResponse>> Client::SearchBatch(
    std::string_view user_id, const std::vector<SearchRequest>& requests) {
  return Invoke(
      *router_, kRead,
      [&](uint64_t id) { return internal::EncodeSearchBatch(id, user_id, requests); },
      internal::DecodeSearchBatch);
}

Result<RankedSearchResponse> Client::SearchText(std::string_view user_id,
                                                const TextSearchRequest& request) {
  return Invoke(
      *router_, kRead,
      [&](uint64_t id) { return internal::EncodeSearchText(id, user_id, request); },
      internal::DecodeRankedSearch);
}

Result<RankedSearchResponse> Client::SearchHybrid(std::string_view user_id,
                                                  const HybridSearchRequest& request) {
  return Invoke(
      *router_, kRead,
      [&](uint64_t id) { return internal::EncodeSearchHybrid(id, user_id, request); },
      internal::DecodeRankedSearch);
}

Result<MessageSearchResponse> Client::SearchMessages(std::string_view user_id,
                                                     const MessageSearchRequest& request) {
  return Invoke(
      *router_, kRead,
      [&](uint64_t id) { return internal::EncodeSearchMessages(id, user_id, request); },
      internal::DecodeMessageSearch);
}

// ---- context assembly ----

Result<ContextResponse> Client::AssembleContext(std::string_view user_id,
                                                const ContextRequest& request) {
  return Invoke(
      *router_, kRead,
      [&](uint64_t id) { return internal::EncodeAssembleContext(id, user_id, request); },
      internal::DecodeContext);
}

// ---- atomic batches ----

Result<std::vector<Uuid>> Client::ApplyBatch(std::string_view user_id, const Batch& batch) {
  return Invoke(
      *router_, kWrite, [&](uint64_t id) { return internal::EncodeApplyBatch(id, user_id, batch); },
      internal::DecodeBatchIds);
}

// ---- administration ----

Result<ServerStats> Client::GetStats() {
  return Invoke(
      *router_, kRead, [](uint64_t id) { return internal::EncodeGetStats(id); },
      internal::DecodeStats);
}

Result<std::vector<PartitionInfo>> Client::ListPartitions() {
  return Invoke(
      *router_, kRead, [](uint64_t id) { return internal::EncodeListPartitions(id); },
      internal::DecodePartitions);
}

Result<void> Client::RebuildPartition(std::string_view month) {
  return Invoke(
      *router_, kWrite, [&](uint64_t id) { return internal::EncodeRebuildPartition(id, month); },
      internal::DecodeDone);
}

Result<int64_t> Client::ArchivePartition(std::string_view month, std::string_view path) {
  return Invoke(
      *router_, kWrite,
      [&](uint64_t id) { return internal::EncodeArchivePartition(id, month, path); },
      internal::DecodeCount);
}

Result<int64_t> Client::DropPartition(std::string_view month) {
  return Invoke(
      *router_, kWrite, [&](uint64_t id) { return internal::EncodeDropPartition(id, month); },
      internal::DecodeCount);
}

Result<AttachResult> Client::AttachArchive(std::string_view path) {
  return Invoke(
      *router_, kWrite, [&](uint64_t id) { return internal::EncodeAttachArchive(id, path); },
      internal::DecodeAttach);
}

Result<void> Client::CreateBackup(std::string_view path) {
  return Invoke(
      *router_, kWrite, [&](uint64_t id) { return internal::EncodeCreateBackup(id, path); },
      internal::DecodeDone);
}

Result<SnapshotManifest> Client::OpenSnapshot() {
  return Invoke(
      *router_, kWrite, [&](uint64_t id) { return internal::EncodeOpenSnapshot(id); },
      internal::DecodeSnapshotManifest);
}

Result<std::string> Client::ReadSnapshot(std::string_view snapshot_id, std::string_view path,
                                         uint64_t offset, uint32_t max_bytes) {
  auto chunk = Invoke(
      *router_, kRead,
      [&](uint64_t id) {
        return internal::EncodeReadSnapshot(id, snapshot_id, path, offset, max_bytes);
      },
      internal::DecodeSnapshotChunk);
  if (!chunk.ok()) return chunk.error();
  if (Crc32c(chunk->data.data(), chunk->data.size()) != chunk->crc32c) {
    return Error{Code::kUnavailable,
                 "snapshot chunk of " + std::string(path) + " at offset " + std::to_string(offset) +
                     " arrived damaged (CRC-32C mismatch)",
                 ""};
  }
  return std::move(chunk->data);
}

Result<void> Client::CloseSnapshot(std::string_view snapshot_id) {
  return Invoke(
      *router_, kWrite, [&](uint64_t id) { return internal::EncodeCloseSnapshot(id, snapshot_id); },
      internal::DecodeDone);
}

Result<FollowBatch> Client::Follow(uint64_t from, uint32_t max_records, uint32_t max_bytes,
                                   std::string_view follower_id) {
  return Invoke(
      *router_, kWrite,
      [&](uint64_t id) {
        return internal::EncodeFollow(id, from, max_records, max_bytes, follower_id);
      },
      internal::DecodeFollow);
}

Result<RetentionReport> Client::ApplyRetention(const std::optional<RetentionPolicy>& policy) {
  return Invoke(
      *router_, kWrite, [&](uint64_t id) { return internal::EncodeApplyRetention(id, policy); },
      internal::DecodeRetention);
}

}  // namespace mnemo::client
