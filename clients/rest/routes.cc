// The route table and the path matcher.
#include "routes.h"

#include <array>

namespace mnemo::rest {
namespace {

using enum RouteId;
constexpr RateClass kC = RateClass::kCreate;
constexpr RateClass kR = RateClass::kRead;
constexpr RateClass kO = RateClass::kOther;

constexpr std::array kRoutes = {
    RouteInfo{kCreateConversation, "POST", "/api/v1/conversations", kC, true, 201, "Conversations",
              "Create a conversation"},
    RouteInfo{
        kListConversations, "GET", "/api/v1/conversations", kR, true, 200, "Conversations",
        "List the user's conversations, newest first (filters: time ranges, model, metadata)"},
    RouteInfo{kSearchConversations, "GET", "/api/v1/conversations/search", kR, true, 200,
              "Conversations", "Search conversations by title (case-insensitive substring)"},
    RouteInfo{kConversationStats, "GET", "/api/v1/conversations/stats", kR, true, 200,
              "Conversations", "Counts of the user's conversations"},
    RouteInfo{
        kCountConversations, "GET", "/api/v1/conversations/count", kR, true, 200, "Conversations",
        "Count the conversations matching the list filters (?exists=true stops at the first)"},
    RouteInfo{kGetConversation, "GET", "/api/v1/conversations/{id}", kR, true, 200, "Conversations",
              "Get a conversation"},
    RouteInfo{kUpdateConversation, "PATCH", "/api/v1/conversations/{id}", kO, true, 200,
              "Conversations", "Update title, summary, model, system prompt or metadata"},
    RouteInfo{kDeleteConversation, "DELETE", "/api/v1/conversations/{id}", kO, true, 204,
              "Conversations",
              "Delete a conversation (soft; ?hard=true removes it and its messages)"},
    RouteInfo{kRestoreConversation, "POST", "/api/v1/conversations/{id}/restore", kO, true, 200,
              "Conversations", "Undo a soft delete"},
    RouteInfo{kListMessages, "GET", "/api/v1/conversations/{id}/messages", kR, true, 200,
              "Messages",
              "Page a conversation's messages (filters: role, tool calls, time range, metadata)"},
    RouteInfo{kAppendMessage, "POST", "/api/v1/conversations/{id}/messages", kC, true, 201,
              "Messages", "Append a message"},
    RouteInfo{kDeleteMessages, "DELETE", "/api/v1/conversations/{id}/messages", kO, true, 200,
              "Messages", "Delete every message of a conversation"},
    RouteInfo{kLastMessages, "GET", "/api/v1/conversations/{id}/messages/last", kR, true, 200,
              "Messages", "The last N messages (optionally of one role), oldest first"},
    RouteInfo{kAssembleContext, "POST", "/api/v1/conversations/{id}/context", kR, true, 200,
              "Conversations",
              "The conversation, its recent messages within a token budget and the relevant "
              "chunks, in one call"},
    RouteInfo{kCountMessages, "GET", "/api/v1/conversations/{id}/messages/count", kR, true, 200,
              "Messages", "Count the messages matching the list filters"},
    RouteInfo{kTokenStats, "GET", "/api/v1/conversations/{id}/messages/stats", kR, true, 200,
              "Messages", "Token usage of a conversation"},
    RouteInfo{kSearchMessages, "POST", "/api/v1/messages/search", kR, true, 200, "Messages",
              "The user's messages by embedding, by keyword (BM25) or both fused"},
    RouteInfo{kGetMessage, "GET", "/api/v1/messages/{id}", kR, true, 200, "Messages",
              "Get one message"},
    RouteInfo{kUpdateMessage, "PATCH", "/api/v1/messages/{id}", kO, true, 200, "Messages",
              "Update one message (null clears a JSON field)"},
    RouteInfo{kDeleteMessage, "DELETE", "/api/v1/messages/{id}", kO, true, 204, "Messages",
              "Delete one message"},
    RouteInfo{kSetToolResults, "PUT", "/api/v1/messages/{id}/tool_results", kO, true, 200,
              "Messages", "Set a message's tool_results"},
    RouteInfo{kCreateDocument, "POST", "/api/v1/documents", kC, true, 201, "Documents",
              "Create a document with its chunks and embeddings (atomic)"},
    RouteInfo{kListDocuments, "GET", "/api/v1/documents", kR, true, 200, "Documents",
              "List the user's documents, newest first (?q= filename search; filters: file_type, "
              "time range, metadata)"},
    RouteInfo{kCountDocuments, "GET", "/api/v1/documents/count", kR, true, 200, "Documents",
              "Count the documents matching the list filters"},
    RouteInfo{kSearchDocuments, "POST", "/api/v1/documents/search", kR, true, 200, "Documents",
              "Cosine top-k search over the user's chunks"},
    RouteInfo{kSearchDocumentsBatch, "POST", "/api/v1/documents/search/batch", kR, true, 200,
              "Documents", "Several searches in one request"},
    RouteInfo{kGetDocument, "GET", "/api/v1/documents/{id}", kR, true, 200, "Documents",
              "Get a document"},
    RouteInfo{kUpdateDocument, "PATCH", "/api/v1/documents/{id}", kO, true, 200, "Documents",
              "Update filename, file type, content or metadata"},
    RouteInfo{kDeleteDocument, "DELETE", "/api/v1/documents/{id}", kO, true, 204, "Documents",
              "Delete a document (soft; ?hard=true removes chunks and vectors)"},
    RouteInfo{kRestoreDocument, "POST", "/api/v1/documents/{id}/restore", kO, true, 200,
              "Documents", "Undo a soft delete"},
    RouteInfo{kListChunks, "GET", "/api/v1/documents/{id}/chunks", kR, true, 200, "Chunks",
              "Page a document's chunks in chunk_index order"},
    RouteInfo{kAddChunks, "POST", "/api/v1/documents/{id}/chunks", kC, true, 201, "Chunks",
              "Add chunks with embeddings to an existing document (atomic)"},
    RouteInfo{kReplaceChunks, "PUT", "/api/v1/documents/{id}/chunks", kO, true, 200, "Chunks",
              "Replace every chunk of a document (atomic)"},
    RouteInfo{kGetChunk, "GET", "/api/v1/chunks/{id}", kR, true, 200, "Chunks", "Get one chunk"},
    RouteInfo{kDeleteChunk, "DELETE", "/api/v1/chunks/{id}", kO, true, 204, "Chunks",
              "Delete one chunk (soft: hidden from search; ?hard=true removes it for good)"},
    RouteInfo{kRestoreChunk, "POST", "/api/v1/chunks/{id}/restore", kO, true, 200, "Chunks",
              "Undo a chunk's soft delete"},
    RouteInfo{kHealth, "GET", "/health", kR, false, 200, "Health",
              "Liveness: 200 when mnemod answers, 503 otherwise"},
    RouteInfo{kReady, "GET", "/ready", kR, false, 200, "Health",
              "Readiness of the sidecar process"},
    RouteInfo{kMetrics, "GET", "/metrics", kR, false, 200, "Health",
              "Prometheus metrics of the sidecar (mnemod serves its own: --metrics-listen)"},
    RouteInfo{kOpenApi, "GET", "/api/openapi.json", kR, false, 200, "Health",
              "This OpenAPI document"},
};

// Matches `path` against `pattern`; on success stores the "{id}" segment in *id.
bool MatchPattern(std::string_view pattern, std::string_view path, std::string* id) {
  while (!pattern.empty() && !path.empty()) {
    if (pattern.front() != '/' || path.front() != '/') return false;
    pattern.remove_prefix(1);
    path.remove_prefix(1);
    const std::string_view pseg = pattern.substr(0, pattern.find('/'));
    const std::string_view seg = path.substr(0, path.find('/'));
    if (pseg == "{id}") {
      if (seg.empty()) return false;
      *id = std::string(seg);
    } else if (pseg != seg) {
      return false;
    }
    pattern.remove_prefix(pseg.size());
    path.remove_prefix(seg.size());
  }
  return pattern.empty() && path.empty();
}

}  // namespace

std::span<const RouteInfo> Routes() { return kRoutes; }

RouteLookup FindRoute(std::string_view method, std::string_view path) {
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  RouteLookup lookup;
  const RouteInfo* with_id = nullptr;
  std::string with_id_text;
  for (const RouteInfo& route : kRoutes) {
    std::string id;
    if (!MatchPattern(route.pattern, path, &id)) continue;
    lookup.allowed_methods.push_back(route.method);
    if (route.method != method) continue;
    if (id.empty()) {
      lookup.route = &route;
      lookup.path_id.clear();
      return lookup;
    }
    if (with_id == nullptr) {
      with_id = &route;
      with_id_text = std::move(id);
    }
  }
  if (with_id != nullptr) {
    lookup.route = with_id;
    lookup.path_id = std::move(with_id_text);
  }
  return lookup;
}

}  // namespace mnemo::rest
