// ApiCall: what one HTTP request asks of mnemod, already validated and converted to the client
// library's argument types (request_mapper.h builds it, executor.h performs it).  One struct per
// API route; the user_id is not part of it: it always comes from the authenticated identity.
//
// Thread-safety: value types.
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "mnemo/client/types.h"

namespace mnemo::rest {

namespace mc = mnemo::client;

struct MetaCall {};  // /health, /ready, /metrics, /api/openapi.json: answered by the sidecar

struct CreateConversationCall {
  mc::NewConversation input;
};
struct ListConversationsCall {
  mc::ConversationListOptions options;
};
struct SearchConversationsCall {
  std::string query;
  mc::ConversationListOptions options;
};
struct ConversationStatsCall {};
// exists: stop at the first match and answer {"exists": bool} instead of {"count": n}.
struct CountConversationsCall {
  mc::ConversationFilter filter;
  bool include_deleted = false;
  bool exists = false;
};
struct GetConversationCall {
  mc::Uuid id;
  bool include_deleted = false;
};
struct UpdateConversationCall {
  mc::Uuid id;
  mc::ConversationUpdate update;
};
struct DeleteConversationCall {
  mc::Uuid id;
  bool hard = false;
};
struct RestoreConversationCall {
  mc::Uuid id;
};
struct ListMessagesCall {
  mc::Uuid conversation_id;
  mc::MessageQuery query;
};
struct AppendMessageCall {
  mc::NewMessage input;
};
struct DeleteMessagesCall {
  mc::Uuid conversation_id;
};
// The last `count` messages (of `role` when set), oldest first.
struct LastMessagesCall {
  mc::Uuid conversation_id;
  int64_t count = 20;
  std::optional<mc::Role> role;
};
// The user's messages stored with an embedding, nearest first.
struct SearchMessagesCall {
  mc::MessageSearchRequest request;
};
// The conversation, its recent messages within a budget and retrieved chunks (one round trip).
struct AssembleContextCall {
  mc::ContextRequest request;
};
struct CountMessagesCall {
  mc::Uuid conversation_id;
  mc::MessageQuery filter;
  bool exists = false;
};
struct TokenStatsCall {
  mc::Uuid conversation_id;
};
struct GetMessageCall {
  mc::Uuid id;
};
struct UpdateMessageCall {
  mc::Uuid id;
  mc::MessageUpdate update;
};
struct DeleteMessageCall {
  mc::Uuid id;
};
struct SetToolResultsCall {
  mc::Uuid id;
  std::string tool_results;
};  // JSON text
// A document and its chunks, written in one atomic batch.  document.id is always set (the
// mapper generates one when the body has none) so the chunks can name it.
struct CreateDocumentCall {
  mc::NewDocument document;
  std::vector<mc::NewChunk> chunks;
};
struct ListDocumentsCall {
  mc::DocumentListOptions options;
};
struct CountDocumentsCall {
  mc::DocumentFilter filter;
  bool include_deleted = false;
  bool exists = false;
};
struct GetDocumentCall {
  mc::Uuid id;
  bool include_deleted = false;
};
struct UpdateDocumentCall {
  mc::Uuid id;
  mc::DocumentUpdate update;
};
struct DeleteDocumentCall {
  mc::Uuid id;
  bool hard = false;
};
struct RestoreDocumentCall {
  mc::Uuid id;
};
struct SearchDocumentsCall {
  mc::SearchRequest request;
};
// The same route with a text `query` (keyword search), or with both `query` and `embedding`.
struct TextSearchDocumentsCall {
  mc::TextSearchRequest request;
};
struct HybridSearchDocumentsCall {
  mc::HybridSearchRequest request;
};
struct SearchDocumentsBatchCall {
  std::vector<mc::SearchRequest> requests;
};
struct ListChunksCall {
  mc::Uuid document_id;
  mc::ChunkListOptions options;
};
// Chunks for AddChunks (replace = false) or ReplaceChunks; each names document_id.
struct WriteChunksCall {
  mc::Uuid document_id;
  std::vector<mc::NewChunk> chunks;
  bool replace = false;
};
struct GetChunkCall {
  mc::Uuid id;
  bool include_deleted = false;
};
struct DeleteChunkCall {
  mc::Uuid id;
  bool hard = false;
};
struct RestoreChunkCall {
  mc::Uuid id;
};

using ApiCall = std::variant<
    MetaCall, CreateConversationCall, ListConversationsCall, SearchConversationsCall,
    ConversationStatsCall, CountConversationsCall, GetConversationCall, UpdateConversationCall,
    DeleteConversationCall, RestoreConversationCall, ListMessagesCall, AppendMessageCall,
    DeleteMessagesCall, LastMessagesCall, CountMessagesCall, TokenStatsCall, GetMessageCall,
    UpdateMessageCall, DeleteMessageCall, SetToolResultsCall, CreateDocumentCall, ListDocumentsCall,
    CountDocumentsCall, GetDocumentCall, UpdateDocumentCall, DeleteDocumentCall,
    RestoreDocumentCall, SearchDocumentsCall, SearchDocumentsBatchCall, ListChunksCall,
    WriteChunksCall, GetChunkCall, DeleteChunkCall, RestoreChunkCall, TextSearchDocumentsCall,
    HybridSearchDocumentsCall, AssembleContextCall, SearchMessagesCall>;

}  // namespace mnemo::rest
