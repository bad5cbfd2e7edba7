// The route table of mnemo-rest (SPEC §5, seed 001 Story 1.3): every method + path the sidecar
// answers, with its rate-limit class, whether it needs a user identity, and its success status.
// The request mapper, the metrics labels and the OpenAPI document are all derived from it, so
// they cannot drift apart.
//
// Thread-safety: immutable data and pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rate_limiter.h"

namespace mnemo::rest {

enum class RouteId : uint8_t {
  kCreateConversation,
  kListConversations,
  kSearchConversations,
  kConversationStats,
  kCountConversations,
  kGetConversation,
  kUpdateConversation,
  kDeleteConversation,
  kRestoreConversation,
  kListMessages,
  kAppendMessage,
  kDeleteMessages,
  kLastMessages,
  kAssembleContext,
  kCountMessages,
  kTokenStats,
  kSearchMessages,
  kGetMessage,
  kUpdateMessage,
  kDeleteMessage,
  kSetToolResults,
  kCreateDocument,
  kListDocuments,
  kCountDocuments,
  kSearchDocuments,
  kSearchDocumentsBatch,
  kGetDocument,
  kUpdateDocument,
  kDeleteDocument,
  kRestoreDocument,
  kListChunks,
  kAddChunks,
  kReplaceChunks,
  kGetChunk,
  kDeleteChunk,
  kRestoreChunk,
  kHealth,
  kReady,
  kMetrics,
  kOpenApi,
};

struct RouteInfo {
  RouteId id;
  std::string_view method;   // "GET", "POST", "PUT", "PATCH", "DELETE"
  std::string_view pattern;  // path with at most one "{id}" segment
  RateClass rate_class;      // the limit; every route has its own bucket per user
  bool needs_user;           // false for /health, /ready, /metrics, /api/openapi.json
  int success_status;        // 200, 201 or 204
  std::string_view tag;      // OpenAPI tag
  std::string_view summary;  // one line for the OpenAPI document
};

// Every route, in matching order.
std::span<const RouteInfo> Routes();

struct RouteLookup {
  const RouteInfo* route = nullptr;  // null: no route for this method (see allowed_methods)
  std::string path_id;               // the text of the "{id}" segment, when the pattern has one
  std::vector<std::string_view> allowed_methods;  // methods this path answers; empty = unknown path
};

// Finds the route for `method` and `path` (no query string; one trailing '/' is ignored).  A
// pattern without "{id}" wins over one with it (".../conversations/search" is not an id).
RouteLookup FindRoute(std::string_view method, std::string_view path);

}  // namespace mnemo::rest
