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

struct CreateConversationCall { mc::NewConversation input; };
struct ListConversationsCall { mc::ConversationListOptions options; };
struct SearchConversationsCall { std::string query; mc::ConversationListOptions options; };
struct ConversationStatsCall {};
struct GetConversationCall { mc::Uuid id; bool include_deleted = false; };
struct UpdateConversationCall { mc::Uuid id; mc::ConversationUpdate update; };
struct DeleteConversationCall { mc::Uuid id; bool hard = false; };
struct RestoreConversationCall { mc::Uuid id; };
struct ListMessagesCall { mc::Uuid conversation_id; mc::MessageQuery query; };
struct AppendMessageCall { mc::NewMessage input; };
struct TokenStatsCall { mc::Uuid conversation_id; };
// A document and its chunks, written in one atomic batch.  document.id is always set (the
// mapper generates one when the body has none) so the chunks can name it.
struct CreateDocumentCall { mc::NewDocument document; std::vector<mc::NewChunk> chunks; };
struct ListDocumentsCall { mc::DocumentListOptions options; std::optional<std::string> filename_query; };
struct GetDocumentCall { mc::Uuid id; bool include_deleted = false; };
struct DeleteDocumentCall { mc::Uuid id; bool hard = false; };
struct SearchDocumentsCall { mc::SearchRequest request; };
// The same route with a text `query` (keyword search), or with both `query` and `embedding`.
struct TextSearchDocumentsCall { mc::TextSearchRequest request; };
struct HybridSearchDocumentsCall { mc::HybridSearchRequest request; };

using ApiCall = std::variant<MetaCall, CreateConversationCall, ListConversationsCall,
                             SearchConversationsCall, ConversationStatsCall, GetConversationCall,
                             UpdateConversationCall, DeleteConversationCall,
                             RestoreConversationCall, ListMessagesCall, AppendMessageCall,
                             TokenStatsCall, CreateDocumentCall, ListDocumentsCall,
                             GetDocumentCall, DeleteDocumentCall, SearchDocumentsCall,
                             TextSearchDocumentsCall, HybridSearchDocumentsCall>;

}  // namespace mnemo::rest
