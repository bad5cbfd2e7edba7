// OpenAPI document: paths from Routes(), component schemas written out by hand below.
#include "openapi.h"

#include <cctype>
#include <string>

#include "mnemo/base/limits.h"
#include "request_mapper.h"
#include "routes.h"

namespace mnemo::rest {
namespace {

using json = nlohmann::json;

json Ref(const std::string& name) { return {{"$ref", "#/components/schemas/" + name}}; }
json Str() { return {{"type", "string"}}; }
json NullableStr() { return {{"type", "string"}, {"nullable", true}}; }
json Uuid() { return {{"type", "string"}, {"format", "uuid"}}; }
json Time() { return {{"type", "string"}, {"format", "date-time"}}; }
json Int() { return {{"type", "integer"}, {"format", "int64"}}; }
json Obj() { return {{"type", "object"}, {"additionalProperties", true}}; }
json Vec() { return {{"type", "array"}, {"items", {{"type", "number"}, {"format", "float"}}}}; }
json Page(const std::string& item) {
  return {{"type", "object"},
          {"properties",
           {{"items", {{"type", "array"}, {"items", Ref(item)}}},
            {"total", Int()},
            {"skip", Int()},
            {"limit", Int()},
            {"next_cursor", NullableStr()}}}};
}

json Schemas() {
  json s;
  s["Error"] = {
      {"type", "object"},
      {"properties",
       {{"error",
         {{"type", "object"},
          {"properties",
           {{"code", Str()}, {"message", Str()}, {"request_id", Str()}, {"details", Obj()}}}}}}}};
  s["Conversation"] = {{"type", "object"},
                       {"properties",
                        {{"id", Uuid()},
                         {"user_id", Str()},
                         {"title", Str()},
                         {"summary", NullableStr()},
                         {"model", Str()},
                         {"system_prompt", Str()},
                         {"metadata", Obj()},
                         {"is_deleted", {{"type", "boolean"}}},
                         {"deleted_at", Time()},
                         {"created_at", Time()},
                         {"updated_at", Time()},
                         {"message_count", Int()},
                         {"total_tokens", Int()},
                         {"last_message_at", Time()}}}};
  s["ConversationCreate"] = {{"type", "object"},
                             {"required", {"title"}},
                             {"properties",
                              {{"id", Uuid()},
                               {"title", Str()},
                               {"summary", Str()},
                               {"model", Str()},
                               {"system_prompt", Str()},
                               {"metadata", Obj()}}}};
  s["ConversationUpdate"] = {{"type", "object"},
                             {"properties",
                              {{"title", Str()},
                               {"summary", Str()},
                               {"model", Str()},
                               {"system_prompt", Str()},
                               {"metadata", Obj()}}}};
  s["ConversationPage"] = Page("Conversation");
  s["UserStats"] = {
      {"type", "object"},
      {"properties",
       {{"total", Int()}, {"active", Int()}, {"deleted", Int()}, {"last_activity", Time()}}}};
  s["Message"] = {
      {"type", "object"},
      {"properties",
       {{"id", Uuid()},
        {"conversation_id", Uuid()},
        {"role", {{"type", "string"}, {"enum", {"user", "assistant", "system", "tool"}}}},
        {"content", Str()},
        {"parts", {{"type", "array"}, {"items", Obj()}}},
        {"tool_calls", {}},
        {"tool_results", {}},
        {"attachments", {}},
        {"tokens_used", Int()},
        {"metadata", Obj()},
        {"created_at", Time()},
        {"has_embedding",
         {{"type", "boolean"},
          {"description", "an embedding is stored with the message (not returned)"}}}}}};
  s["MessageCreate"] = {
      {"type", "object"},
      {"required", {"role"}},
      {"properties",
       {{"id", Uuid()},
        {"role", {{"type", "string"}, {"enum", {"user", "assistant", "system", "tool"}}}},
        {"content", Str()},
        {"parts", {{"type", "array"}, {"items", Obj()}}},
        {"tool_calls", {}},
        {"tool_results", {}},
        {"attachments", {}},
        {"tokens_used", Int()},
        {"metadata", Obj()},
        {"embedding",
         {{"type", "array"},
          {"items", {{"type", "number"}, {"format", "float"}}},
          {"description",
           "optional: stored with the message, it makes the message searchable "
           "(POST /api/v1/messages/search, context memories)"}}}}}};
  s["MessagePage"] = Page("Message");
  s["MessageSearchFilters"] = {
      {"type", "object"},
      {"properties",
       {{"conversation_ids", {{"type", "array"}, {"items", Uuid()}}},
        {"roles",
         {{"type", "array"},
          {"items", {{"type", "string"}, {"enum", {"user", "assistant", "system", "tool"}}}}}},
        {"created_from", Time()},
        {"created_until", Time()}}}};
  s["MessageSearchRequest"] = {
      {"type", "object"},
      {"description",
       "embedding alone: the messages stored with an embedding, nearest first; query alone: BM25 "
       "keyword search over every message's content; both: hybrid search (the two rankings "
       "fused, reciprocal rank fusion by default). One of them is required."},
      {"properties",
       {{"embedding", Vec()},
        {"query",
         {{"type", "string"},
          {"minLength", 1},
          {"maxLength", kMaxTextQueryBytes},
          {"description", "keyword query (UTF-8 bytes; not blank)"}}},
        {"fusion", {{"type", "string"}, {"enum", {"rrf", "weighted"}}, {"default", "rrf"}}},
        {"text_weight",
         {{"type", "number"},
          {"minimum", 0},
          {"maximum", 1},
          {"default", 0.5},
          {"description", "weighted fusion: the keyword leg's share"}}},
        {"rrf_k", {{"type", "number"}, {"exclusiveMinimum", 0}, {"default", 60}}},
        {"candidates",
         {{"type", "integer"},
          {"minimum", 1},
          {"maximum", kMaxTopK},
          {"description", "rows each leg hands to fusion (>= top_k; default max(top_k, 50))"}}},
        {"top_k",
         {{"type", "integer"}, {"minimum", 1}, {"maximum", kMaxTopK}, {"default", kDefaultTopK}}},
        {"min_similarity",
         {{"type", "number"},
          {"minimum", -1},
          {"maximum", 1},
          {"description", "vector leg; needs embedding"}}},
        {"ef", {{"type", "integer"}, {"minimum", 1}, {"maximum", kMaxEf}}},
        {"filters", Ref("MessageSearchFilters")}}}};
  json message_hit = s["Message"];
  message_hit["properties"]["similarity"] = {
      {"type", "number"}, {"description", "cosine when the vector leg returned it, else 0"}};
  message_hit["properties"]["score"] = {
      {"type", "number"},
      {"description", "the order: cosine (vector), BM25 (keyword) or the fused score (hybrid)"}};
  message_hit["properties"]["bm25"] = {{"type", "number"}, {"nullable", true}};
  message_hit["properties"]["text_rank"] = Int();
  message_hit["properties"]["vector_rank"] = Int();
  s["MessageSearchResponse"] = {
      {"type", "object"},
      {"properties",
       {{"mode", {{"type", "string"}, {"enum", {"vector", "keyword", "hybrid"}}}},
        {"items", {{"type", "array"}, {"items", message_hit}}},
        {"total", Int()},
        {"exact", {{"type", "boolean"}}},
        {"ef_used", Int()},
        {"fewer_than_top_k", {{"type", "boolean"}}},
        {"fusion", {{"type", "string"}, {"enum", {"rrf", "weighted"}}}},
        {"text", Ref("TextLegInfo")},
        {"vector", Ref("VectorLegInfo")}}}};
  s["TokenStats"] = {{"type", "object"},
                     {"properties",
                      {{"message_count", Int()},
                       {"messages_with_tokens", Int()},
                       {"total_tokens", Int()},
                       {"average_tokens", {{"type", "number"}}},
                       {"per_role", Obj()}}}};
  s["Document"] = {
      {"type", "object"},
      {"properties",
       {{"id", Uuid()},
        {"user_id", Str()},
        {"filename", Str()},
        {"file_type", {{"type", "string"}, {"enum", {"pdf", "txt", "docx", "md", "html"}}}},
        {"content", Str()},
        {"total_chunks", Int()},
        {"metadata", Obj()},
        {"is_deleted", {{"type", "boolean"}}},
        {"deleted_at", Time()},
        {"created_at", Time()},
        {"updated_at", Time()}}}};
  s["ChunkCreate"] = {{"type", "object"},
                      {"required", {"chunk_text", "embedding"}},
                      {"properties",
                       {{"id", Uuid()},
                        {"chunk_index", Int()},
                        {"chunk_text", Str()},
                        {"embedding", Vec()},
                        {"metadata", Obj()},
                        {"created_at", Time()}}}};
  s["DocumentCreate"] = {{"type", "object"},
                         {"required", {"filename", "file_type"}},
                         {"properties",
                          {{"id", Uuid()},
                           {"filename", Str()},
                           {"file_type", Str()},
                           {"content", Str()},
                           {"metadata", Obj()},
                           {"chunks", {{"type", "array"}, {"items", Ref("ChunkCreate")}}}}}};
  s["DocumentPage"] = Page("Document");
  s["SearchRequest"] = {
      {"type", "object"},
      {"description",
       "embedding alone: vector search; query alone: BM25 keyword search; both: hybrid search "
       "(the two rankings fused, reciprocal rank fusion by default). One of them is required."},
      {"properties",
       {{"embedding", Vec()},
        {"query",
         {{"type", "string"},
          {"minLength", 1},
          {"maxLength", kMaxTextQueryBytes},
          {"description", "keyword query (UTF-8 bytes; not blank)"}}},
        {"fusion", {{"type", "string"}, {"enum", {"rrf", "weighted"}}, {"default", "rrf"}}},
        {"text_weight",
         {{"type", "number"},
          {"minimum", 0},
          {"maximum", 1},
          {"default", 0.5},
          {"description", "weighted fusion: the keyword leg's share"}}},
        {"rrf_k", {{"type", "number"}, {"exclusiveMinimum", 0}, {"default", 60}}},
        {"candidates",
         {{"type", "integer"},
          {"minimum", 1},
          {"maximum", kMaxTopK},
          {"description", "rows each leg hands to fusion (>= top_k; default max(top_k, 50))"}}},
        {"top_k",
         {{"type", "integer"}, {"minimum", 1}, {"maximum", kMaxTopK}, {"default", kDefaultTopK}}},
        {"threshold", {{"type", "number"}, {"minimum", -1}, {"maximum", 1}}},
        {"ef", {{"type", "integer"}, {"minimum", 1}, {"maximum", kMaxEf}}},
        {"filters",
         {{"type", "object"},
          {"properties",
           {{"document_ids", {{"type", "array"}, {"items", Uuid()}}},
            {"file_types", {{"type", "array"}, {"items", Str()}}},
            {"created_from", Time()},
            {"created_until", Time()},
            {"metadata", Obj()}}}}}}}};
  s["SearchHit"] = {{"type", "object"},
                    {"properties",
                     {{"chunk_id", Uuid()},
                      {"document_id", Uuid()},
                      {"chunk_index", Int()},
                      {"chunk_text", Str()},
                      {"filename", Str()},
                      {"similarity", {{"type", "number"}}},
                      {"created_at", Time()}}}};
  s["Chunk"] = {{"type", "object"},
                {"properties",
                 {{"id", Uuid()},
                  {"document_id", Uuid()},
                  {"chunk_index", Int()},
                  {"chunk_text", Str()},
                  {"metadata", Obj()},
                  {"created_at", Time()},
                  {"is_deleted", {{"type", "boolean"}}},
                  {"deleted_at", Time()}}}};
  s["ChunkPage"] = Page("Chunk");
  s["ChunksWrite"] = {
      {"type", "object"},
      {"required", {"chunks"}},
      {"properties", {{"chunks", {{"type", "array"}, {"items", Ref("ChunkCreate")}}}}}};
  s["ChunkIds"] = {
      {"type", "object"},
      {"properties",
       {{"items",
         {{"type", "array"},
          {"items",
           {{"type", "object"}, {"properties", {{"id", Uuid()}, {"chunk_index", Int()}}}}}}},
        {"total", Int()}}}};
  s["Count"] = {{"type", "object"},
                {"description", "{\"count\": n}, or {\"exists\": bool} with ?exists=true"},
                {"properties", {{"count", Int()}, {"exists", {{"type", "boolean"}}}}}};
  s["Deleted"] = {{"type", "object"}, {"properties", {{"deleted", Int()}}}};
  s["MessageList"] = {
      {"type", "object"},
      {"properties",
       {{"items", {{"type", "array"}, {"items", Ref("Message")}}}, {"total", Int()}}}};
  s["MessageUpdate"] = {
      {"type", "object"},
      {"description",
       "fields left out are unchanged; null clears parts, tool_calls, tool_results, "
       "attachments and tokens_used"},
      {"properties",
       {{"role", {{"type", "string"}, {"enum", {"user", "assistant", "system", "tool"}}}},
        {"content", Str()},
        {"parts", {{"type", "array"}, {"items", Obj()}, {"nullable", true}}},
        {"tool_calls", {}},
        {"tool_results", {}},
        {"attachments", {}},
        {"tokens_used", {{"type", "integer"}, {"nullable", true}}},
        {"metadata", Obj()}}}};
  s["ToolResults"] = {
      {"type", "object"},
      {"required", {"tool_results"}},
      {"properties", {{"tool_results", {{"description", "any JSON value; null clears it"}}}}}};
  s["DocumentUpdate"] = {
      {"type", "object"},
      {"properties",
       {{"filename", Str()},
        {"file_type", {{"type", "string"}, {"enum", {"pdf", "txt", "docx", "md", "html"}}}},
        {"content", Str()},
        {"metadata", Obj()}}}};
  s["SearchBatchRequest"] = {{"type", "object"},
                             {"required", {"queries"}},
                             {"properties",
                              {{"queries",
                                {{"type", "array"},
                                 {"items", Ref("SearchRequest")},
                                 {"minItems", 1},
                                 {"maxItems", kMaxSearchBatchQueries}}}}}};
  s["SearchBatchResponse"] = {
      {"type", "object"},
      {"properties", {{"results", {{"type", "array"}, {"items", Ref("SearchResponse")}}}}}};
  s["RankedSearchHit"] = {
      {"type", "object"},
      {"properties",
       {{"chunk_id", Uuid()},
        {"document_id", Uuid()},
        {"chunk_index", Int()},
        {"chunk_text", Str()},
        {"filename", Str()},
        {"created_at", Time()},
        {"score",
         {{"type", "number"}, {"description", "BM25 (keyword) or the fused score (hybrid)"}}},
        {"bm25", {{"type", "number"}, {"nullable", true}}},
        {"similarity", {{"type", "number"}, {"nullable", true}}},
        {"text_rank", Int()},
        {"vector_rank", Int()}}}};
  s["SearchResponse"] = {
      {"type", "object"},
      {"description",
       "vector search: items are SearchHit and exact/ef_used/partitions_searched describe the "
       "graph search; keyword and hybrid search (mode): items are RankedSearchHit, text (and "
       "vector) say how each leg ran"},
      {"properties",
       {{"items",
         {{"type", "array"}, {"items", {{"oneOf", {Ref("SearchHit"), Ref("RankedSearchHit")}}}}}},
        {"total", Int()},
        {"top_k", Int()},
        {"exact", {{"type", "boolean"}}},
        {"ef_used", Int()},
        {"fewer_than_top_k", {{"type", "boolean"}}},
        {"partitions_searched", Int()},
        {"mode", {{"type", "string"}, {"enum", {"keyword", "hybrid"}}}},
        {"fusion", {{"type", "string"}, {"enum", {"rrf", "weighted"}}}},
        {"text", Ref("TextLegInfo")},
        {"vector", Ref("VectorLegInfo")}}}};
  s["TextLegInfo"] = {{"type", "object"},
                      {"description", "how the keyword leg ran"},
                      {"properties",
                       {{"ran", {{"type", "boolean"}}},
                        {"terms", {{"type", "array"}, {"items", Str()}}},
                        {"stopwords_ignored", Int()},
                        {"unknown_terms", {{"type", "array"}, {"items", Str()}}},
                        {"candidates", Int()},
                        {"rows", Int()},
                        {"postings", Int()},
                        {"rows_scored", Int()},
                        {"exact", {{"type", "boolean"}}}}}};
  s["VectorLegInfo"] = {{"type", "object"},
                        {"description", "how the vector leg ran"},
                        {"properties",
                         {{"ran", {{"type", "boolean"}}},
                          {"exact", {{"type", "boolean"}}},
                          {"ef_used", Int()},
                          {"partitions_searched", Int()},
                          {"candidates", Int()}}}};
  s["ContextRequest"] = {
      {"type", "object"},
      {"required", {"token_budget"}},
      {"description",
       "The budget goes to the system prompt, then to the newest of the last max_messages "
       "messages (stopping at the first that does not fit, or at message_budget), then to the "
       "retrieved chunks, best "
       "first (one that does not fit is skipped). Chunks are found by vector with "
       "query_embedding, by keyword with query_text, hybrid (RRF) with both, not at all with "
       "neither or k_chunks 0. A budget below the system prompt's tokens is a 422 on "
       "token_budget."},
      {"properties",
       {{"token_budget", {{"type", "integer"}, {"minimum", 1}, {"maximum", kMaxContextTokens}}},
        {"max_messages",
         {{"type", "integer"},
          {"minimum", 0},
          {"maximum", kMaxContextMessages},
          {"default", kDefaultContextMessages}}},
        {"message_budget",
         {{"type", "integer"},
          {"minimum", 0},
          {"maximum", kMaxContextTokens},
          {"description",
           "the most tokens the recent messages may take, leaving the rest for the chunks; "
           "default: whatever the system prompt leaves"}}},
        {"query_embedding", Vec()},
        {"query_text",
         {{"type", "string"},
          {"maxLength", kMaxTextQueryBytes},
          {"description", "keyword query (UTF-8 bytes; not blank)"}}},
        {"k_chunks",
         {{"type", "integer"},
          {"minimum", 0},
          {"maximum", kMaxTopK},
          {"default", kDefaultContextChunks}}},
        {"min_similarity",
         {{"type", "number"},
          {"minimum", -1},
          {"maximum", 1},
          {"description", "vector leg only: needs query_embedding"}}},
        {"filters", s["SearchRequest"]["properties"]["filters"]},
        {"k_memories",
         {{"type", "integer"},
          {"minimum", 0},
          {"maximum", kMaxTopK},
          {"default", kDefaultContextMemories},
          {"description",
           "past messages nearest to query_embedding, best matching query_text, or both "
           "fused (RRF), outside the recent window; spent after the chunks"}}},
        {"memory_filters", Ref("MessageSearchFilters")}}}};
  json context_message = s["Message"];
  context_message["properties"]["tokens"] = Int();
  context_message["properties"]["token_source"] = {{"type", "string"},
                                                   {"enum", {"measured", "estimated"}}};
  json context_chunk = s["RankedSearchHit"];
  context_chunk["properties"]["tokens"] = Int();
  json context_memory = context_message;
  context_memory["properties"]["similarity"] = {{"type", "number"}};
  context_memory["properties"]["score"] = {{"type", "number"}};
  context_memory["properties"]["bm25"] = {{"type", "number"}, {"nullable", true}};
  s["ContextResponse"] = {
      {"type", "object"},
      {"properties",
       {{"conversation", Ref("Conversation")},
        {"messages", {{"type", "array"}, {"items", context_message}}},
        {"chunks", {{"type", "array"}, {"items", context_chunk}}},
        {"memories", {{"type", "array"}, {"items", context_memory}}},
        {"retrieval", {{"type", "string"}, {"enum", {"none", "vector", "keyword", "hybrid"}}}},
        {"budget",
         {{"type", "object"},
          {"properties",
           {{"budget", Int()},
            {"system_prompt_tokens", Int()},
            {"message_tokens", Int()},
            {"chunk_tokens", Int()},
            {"memory_tokens", Int()},
            {"remaining", Int()},
            {"messages_left_out", Int()},
            {"chunks_left_out", Int()},
            {"memories_left_out", Int()}}}}}}}};
  return s;
}

// The request body schema and the success response schema of an API route ("" = none).
std::pair<std::string, std::string> BodyAndResponse(RouteId id) {
  using enum RouteId;
  switch (id) {
    case kCreateConversation: return {"ConversationCreate", "Conversation"};
    case kListConversations:
    case kSearchConversations: return {"", "ConversationPage"};
    case kConversationStats: return {"", "UserStats"};
    case kCountConversations:
    case kCountMessages:
    case kCountDocuments: return {"", "Count"};
    case kGetConversation:
    case kRestoreConversation: return {"", "Conversation"};
    case kUpdateConversation: return {"ConversationUpdate", "Conversation"};
    case kListMessages: return {"", "MessagePage"};
    case kAppendMessage: return {"MessageCreate", "Message"};
    case kTokenStats: return {"", "TokenStats"};
    case kDeleteMessages: return {"", "Deleted"};
    case kLastMessages: return {"", "MessageList"};
    case kAssembleContext: return {"ContextRequest", "ContextResponse"};
    case kSearchMessages: return {"MessageSearchRequest", "MessageSearchResponse"};
    case kGetMessage: return {"", "Message"};
    case kUpdateMessage: return {"MessageUpdate", "Message"};
    case kSetToolResults: return {"ToolResults", "Message"};
    case kUpdateDocument: return {"DocumentUpdate", "Document"};
    case kRestoreDocument: return {"", "Document"};
    case kSearchDocumentsBatch: return {"SearchBatchRequest", "SearchBatchResponse"};
    case kListChunks: return {"", "ChunkPage"};
    case kAddChunks:
    case kReplaceChunks: return {"ChunksWrite", "ChunkIds"};
    case kGetChunk:
    case kRestoreChunk: return {"", "Chunk"};
    case kCreateDocument: return {"DocumentCreate", "Document"};
    case kListDocuments: return {"", "DocumentPage"};
    case kSearchDocuments: return {"SearchRequest", "SearchResponse"};
    case kGetDocument: return {"", "Document"};
    case kDeleteConversation:
    case kDeleteDocument:
    case kDeleteMessage:
    case kDeleteChunk:
    case kHealth:
    case kReady:
    case kMetrics:
    case kOpenApi: return {"", ""};
  }
  return {"", ""};
}

json QueryParam(const std::string& name, json schema, const std::string& description) {
  return {{"name", name},
          {"in", "query"},
          {"required", false},
          {"schema", std::move(schema)},
          {"description", description}};
}

// Appends `more` to `params`.
json With(json params, std::initializer_list<json> more) {
  for (const json& p : more) params.push_back(p);
  return params;
}

json QueryParams(RouteId id) {
  using enum RouteId;
  const json skip =
      QueryParam("skip", {{"type", "integer"}, {"minimum", 0}, {"default", 0}}, "rows to skip");
  const json limit = QueryParam("limit",
                                {{"type", "integer"},
                                 {"minimum", 1},
                                 {"maximum", kMaxConversationPageSize},
                                 {"default", kDefaultListLimit}},
                                "page size");
  const json cursor = QueryParam("cursor", Str(), "a previous page's next_cursor");
  const json deleted =
      QueryParam("include_deleted", {{"type", "boolean"}}, "include soft-deleted rows");
  const json exists = QueryParam("exists", {{"type", "boolean"}},
                                 "answer {\"exists\": bool}, stopping at the first match");
  const json hard = QueryParam("hard", {{"type", "boolean"}}, "delete for good");
  const json created_from =
      QueryParam("created_from", Time(), "created at or after (ISO-8601 with a zone)");
  const json created_until = QueryParam("created_until", Time(), "created before");
  const json metadata =
      QueryParam("metadata", Str(),
                 "JSON object of top-level metadata values to match, e.g. {\"team\":\"red\"}");
  const json conversation_filters = {created_from,
                                     created_until,
                                     QueryParam("updated_from", Time(), "updated at or after"),
                                     QueryParam("updated_until", Time(), "updated before"),
                                     QueryParam("model", Str(), "exact model"),
                                     metadata};
  const json role =
      QueryParam("role", {{"type", "string"}, {"enum", {"user", "assistant", "system", "tool"}}},
                 "only this role");
  const json message_filters = {
      role, QueryParam("tool_calls_only", {{"type", "boolean"}}, "only messages with tool calls"),
      created_from, created_until, metadata};
  const json document_filters = {
      QueryParam("q", Str(), "filename substring"),
      QueryParam("file_type", Str(), "comma-separated file types, e.g. pdf,md"), created_from,
      created_until, metadata};
  switch (id) {
    case kListConversations:
      return With(conversation_filters,
                  {skip, limit, cursor, deleted,
                   QueryParam("order", {{"type", "string"}, {"enum", {"created", "updated"}}},
                              "newest first by")});
    case kSearchConversations:
      return With(conversation_filters,
                  {QueryParam("q", Str(), "title substring (required)"), skip, limit, deleted});
    case kCountConversations: return With(conversation_filters, {deleted, exists});
    case kGetConversation:
    case kGetDocument:
    case kGetChunk: return json::array({deleted});  // not {x}: clang would copy x, not wrap it
    case kDeleteConversation:
    case kDeleteDocument:
    case kDeleteChunk: return json::array({hard});
    case kListMessages:
      return With(message_filters,
                  {skip,
                   QueryParam("limit",
                              {{"type", "integer"},
                               {"minimum", 1},
                               {"maximum", kMaxMessagePageSize},
                               {"default", kDefaultMessagePageSize}},
                              "page size"),
                   cursor,
                   QueryParam("order", {{"type", "string"}, {"enum", {"asc", "desc"}}},
                              "oldest (asc) or newest first")});
    case kCountMessages: return With(message_filters, {exists});
    case kLastMessages:
      return {QueryParam("count",
                         {{"type", "integer"},
                          {"minimum", 1},
                          {"maximum", kMaxMessagePageSize},
                          {"default", kDefaultLastMessages}},
                         "how many"),
              role};
    case kListDocuments: return With(document_filters, {skip, limit, cursor, deleted});
    case kCountDocuments: return With(document_filters, {deleted, exists});
    case kListChunks:
      return {skip,
              QueryParam("limit",
                         {{"type", "integer"},
                          {"minimum", 1},
                          {"maximum", kMaxChunkPageSize},
                          {"default", kDefaultChunkPageSize}},
                         "page size"),
              cursor,
              QueryParam("include_deleted", {{"type", "boolean"}}, "include soft-deleted chunks")};
    default: return json::array();
  }
}

json Operation(const RouteInfo& route) {
  json op = {{"summary", std::string(route.summary)},
             {"tags", {std::string(route.tag)}},
             {"operationId", std::string(route.method) + " " + std::string(route.pattern)}};
  json parameters = QueryParams(route.id);
  if (std::string_view(route.pattern).find("{id}") != std::string_view::npos) {
    parameters.push_back({{"name", "id"}, {"in", "path"}, {"required", true}, {"schema", Uuid()}});
  }
  if (!parameters.empty()) op["parameters"] = parameters;
  const auto [body, response] = BodyAndResponse(route.id);
  if (!body.empty()) {
    op["requestBody"] = {{"required", true},
                         {"content", {{"application/json", {{"schema", Ref(body)}}}}}};
  }
  json ok = {{"description", "success"}};
  if (!response.empty()) ok["content"] = {{"application/json", {{"schema", Ref(response)}}}};
  if (route.id == RouteId::kMetrics) ok["content"] = {{"text/plain", {{"schema", Str()}}}};
  json responses = {{std::to_string(route.success_status), ok}};
  const json error = {{"description", "error"},
                      {"content", {{"application/json", {{"schema", Ref("Error")}}}}}};
  if (route.needs_user) {
    op["security"] = {{{"bearerAuth", json::array()}}, {{"devUserHeader", json::array()}}};
    for (const char* status : {"401", "404", "409", "413", "422", "429", "503"})
      responses[status] = error;
  } else if (route.id == RouteId::kHealth) {
    responses["503"] = {{"description", "mnemod unreachable"}};
  }
  op["responses"] = responses;
  return op;
}

}  // namespace

json OpenApiDocument() {
  json paths = json::object();
  for (const RouteInfo& route : Routes()) {
    std::string method(route.method);
    for (char& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    paths[std::string(route.pattern)][method] = Operation(route);
  }
  return {
      {"openapi", "3.0.3"},
      {"info",
       {{"title", "mnemo REST API"},
        {"version", "1.0.0"},
        {"description",
         "REST sidecar of mnemo (SPEC §5). Identity: Authorization: Bearer <HS256 JWT, sub = user "
         "id>; "
         "X-User-ID only when mnemo-rest runs with --dev-user-header. Errors: "
         "{\"error\": {\"code\", \"message\", \"request_id\", \"details\"}}. Codes are SPEC §4's; "
         "two are spelt "
         "differently in the seeds' backend: NOT_FOUND is its RECORD_NOT_FOUND and INTERNAL_ERROR "
         "its "
         "INTERNAL_SERVER_ERROR (mnemo-rest --error-codes seed answers with the seeds' spellings). "
         "Rate limits are "
         "per user and per route."}}},
      {"paths", paths},
      {"components",
       {{"schemas", Schemas()},
        {"securitySchemes",
         {{"bearerAuth", {{"type", "http"}, {"scheme", "bearer"}, {"bearerFormat", "JWT"}}},
          {"devUserHeader", {{"type", "apiKey"}, {"in", "header"}, {"name", "X-User-ID"}}}}}}},
  };
}

}  // namespace mnemo::rest
