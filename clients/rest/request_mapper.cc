// MapRequest: route lookup, query and JSON body validation, conversion to client arguments.
#include "request_mapper.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <string>

#include "json_fields.h"
#include "mnemo/base/limits.h"
#include "mnemo/base/time.h"
#include "query_string.h"

namespace mnemo::rest {
namespace {

// Query parameters of one request, with typed, validated accessors (throw FieldError).
class Query {
 public:
  explicit Query(QueryParams params) : params_(std::move(params)) {}

  const std::string* Find(std::string_view key) const {
    for (const auto& [k, v] : params_) {
      if (k == key) return &v;
    }
    return nullptr;
  }
  int64_t Int(std::string_view key, int64_t fallback, int64_t min, int64_t max) const {
    const std::string* text = Find(key);
    if (text == nullptr) return fallback;
    int64_t value = 0;
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
    if (ec != std::errc() || end != text->data() + text->size()) {
      throw FieldError(std::string(key), "must be an integer");
    }
    if (value < min || value > max) {
      throw FieldError(std::string(key),
                       "must be between " + std::to_string(min) + " and " + std::to_string(max));
    }
    return value;
  }
  bool Bool(std::string_view key) const {
    const std::string* text = Find(key);
    if (text == nullptr) return false;
    if (*text == "true" || *text == "1" || text->empty()) return true;
    if (*text == "false" || *text == "0") return false;
    throw FieldError(std::string(key), "must be true or false");
  }
  std::string Text(std::string_view key) const {
    const std::string* text = Find(key);
    return text == nullptr ? std::string() : *text;
  }
  std::optional<std::string> OptionalText(std::string_view key) const {
    const std::string* text = Find(key);
    if (text == nullptr) return std::nullopt;
    return *text;
  }
  std::optional<int64_t> Time(std::string_view key) const {
    const std::string* text = Find(key);
    if (text == nullptr) return std::nullopt;
    const auto micros = ParseTimestamp(*text);
    if (!micros)
      throw FieldError(std::string(key),
                       "must be an ISO-8601 timestamp with a zone, e.g. 2025-11-17T09:30:00Z");
    return micros;
  }
  // `key` holds a JSON object of top-level metadata values to match, e.g. {"team":"red"}.
  std::vector<mc::MetadataEquals> Metadata(std::string_view key) const {
    std::vector<mc::MetadataEquals> out;
    const std::string* text = Find(key);
    if (text == nullptr) return out;
    const auto parsed = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded() || !parsed.is_object()) {
      throw FieldError(std::string(key),
                       "must be a JSON object of metadata values, e.g. {\"team\":\"red\"}");
    }
    for (const auto& [name, value] : parsed.items()) out.push_back({name, value.dump()});
    return out;
  }
  // A comma-separated list ("pdf,md"); empty items are refused.
  std::vector<std::string> List(std::string_view key) const {
    std::vector<std::string> out;
    const std::string* text = Find(key);
    if (text == nullptr) return out;
    std::string_view rest(*text);
    while (true) {
      const size_t comma = rest.find(',');
      const std::string_view item = rest.substr(0, comma);
      if (item.empty())
        throw FieldError(std::string(key), "must be a comma-separated list without empty items");
      out.emplace_back(item);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
    return out;
  }

 private:
  QueryParams params_;
};

mc::Uuid PathId(const std::string& text) {
  const auto id = mc::Uuid::Parse(text);
  if (!id) throw FieldError("id", "must be a UUID");
  return *id;
}

mc::ConversationFilter ConversationFilterFrom(const Query& query) {
  mc::ConversationFilter filter;
  filter.created_from = query.Time("created_from");
  filter.created_until = query.Time("created_until");
  filter.updated_from = query.Time("updated_from");
  filter.updated_until = query.Time("updated_until");
  filter.model = query.OptionalText("model");
  filter.metadata_equals = query.Metadata("metadata");
  return filter;
}

mc::ConversationListOptions ConversationListFrom(const Query& query) {
  mc::ConversationListOptions options;
  options.filter = ConversationFilterFrom(query);
  options.skip = query.Int("skip", 0, 0, std::numeric_limits<int32_t>::max());
  options.limit = query.Int("limit", kDefaultListLimit, 1, kMaxConversationPageSize);
  options.include_deleted = query.Bool("include_deleted");
  options.cursor = query.Text("cursor");
  const std::string order = query.Text("order");
  if (order.empty() || order == "created") {
    options.order = mc::ConversationOrder::kCreatedDesc;
  } else if (order == "updated") {
    options.order = mc::ConversationOrder::kUpdatedDesc;
  } else {
    throw FieldError("order", "must be \"created\" or \"updated\"");
  }
  return options;
}

mc::NewConversation NewConversationFrom(const JsonObject& body) {
  mc::NewConversation input;
  input.id = body.OptionalUuid("id");
  input.title = body.RequiredString("title");
  input.summary = body.OptionalString("summary");
  input.model = body.OptionalString("model");
  input.system_prompt = body.OptionalString("system_prompt").value_or("");
  input.metadata = body.OptionalObjectText("metadata");
  return input;
}

mc::ConversationUpdate ConversationUpdateFrom(const JsonObject& body) {
  mc::ConversationUpdate update;
  update.title = body.OptionalString("title");
  update.summary = body.OptionalString("summary");
  update.model = body.OptionalString("model");
  update.system_prompt = body.OptionalString("system_prompt");
  update.metadata = body.OptionalObjectText("metadata");
  if (!update.title && !update.summary && !update.model && !update.system_prompt &&
      !update.metadata) {
    throw FieldError("body",
                     "no updatable field given (title, summary, model, system_prompt, metadata)");
  }
  return update;
}

std::optional<mc::Role> RoleFrom(const Query& query) {
  const std::string* role = query.Find("role");
  if (role == nullptr) return std::nullopt;
  auto parsed = mc::ParseRole(*role);
  if (!parsed) throw FieldError("role", "must be one of user, assistant, system, tool");
  return parsed;
}

// The filter fields of a message list or count.
void MessageFilterFrom(const Query& query, mc::MessageQuery* out) {
  out->only_with_tool_calls = query.Bool("tool_calls_only");
  out->role = RoleFrom(query);
  out->created_from = query.Time("created_from");
  out->created_until = query.Time("created_until");
  out->metadata_equals = query.Metadata("metadata");
}

mc::MessageQuery MessageQueryFrom(const Query& query) {
  mc::MessageQuery out;
  out.skip = query.Int("skip", 0, 0, std::numeric_limits<int32_t>::max());
  out.limit = query.Int("limit", kDefaultMessagePageSize, 1, kMaxMessagePageSize);
  out.cursor = query.Text("cursor");
  const std::string order = query.Text("order");
  if (order.empty() || order == "asc") {
    out.order = mc::SortOrder::kAscending;
  } else if (order == "desc") {
    out.order = mc::SortOrder::kDescending;
  } else {
    throw FieldError("order", "must be \"asc\" or \"desc\"");
  }
  MessageFilterFrom(query, &out);
  return out;
}

mc::NewMessage NewMessageFrom(const mc::Uuid& conversation_id, const JsonObject& body,
                              const MapContext& context) {
  mc::NewMessage input;
  input.conversation_id = conversation_id;
  input.id = body.OptionalUuid("id");
  input.role = body.RequiredString("role");
  if (!mc::ParseRole(input.role)) {
    throw FieldError(body.Path("role"), "must be one of user, assistant, system, tool");
  }
  input.content = body.OptionalString("content").value_or("");
  input.parts = body.OptionalArrayText("parts");
  input.tool_calls = body.OptionalJsonText("tool_calls");
  input.tool_results = body.OptionalJsonText("tool_results");
  input.attachments = body.OptionalJsonText("attachments");
  input.tokens_used = body.OptionalInt("tokens_used", 0, kMaxTokensUsed);
  input.metadata = body.OptionalObjectText("metadata");
  // Absent: no embedding.  Its dimension is checked here when mnemod's is known, else by mnemod
  // (422 naming embedding either way).
  if (body.OptionalArray("embedding"))
    input.embedding = body.RequiredVector("embedding", context.dimension);
  return input;
}

// A JSON field of an update: absent = unchanged, null = cleared ("null"), else its JSON text.
std::optional<std::string> UpdatedJson(const JsonObject& body, std::string_view key) {
  if (body.IsNull(key)) return std::string("null");
  return body.OptionalJsonText(key);
}

mc::MessageUpdate MessageUpdateFrom(const JsonObject& body) {
  mc::MessageUpdate update;
  update.role = body.OptionalString("role");
  if (update.role && !mc::ParseRole(*update.role)) {
    throw FieldError(body.Path("role"), "must be one of user, assistant, system, tool");
  }
  update.content = body.OptionalString("content");
  update.parts =
      body.IsNull("parts") ? std::optional<std::string>("null") : body.OptionalArrayText("parts");
  update.tool_calls = UpdatedJson(body, "tool_calls");
  update.tool_results = UpdatedJson(body, "tool_results");
  update.attachments = UpdatedJson(body, "attachments");
  update.tokens_used = body.OptionalInt("tokens_used", 0, std::numeric_limits<int32_t>::max());
  update.clear_tokens_used = body.IsNull("tokens_used");
  update.metadata = body.OptionalObjectText("metadata");
  if (!update.role && !update.content && !update.parts && !update.tool_calls &&
      !update.tool_results && !update.attachments && !update.tokens_used &&
      !update.clear_tokens_used && !update.metadata) {
    throw FieldError("body",
                     "no updatable field given (role, content, parts, tool_calls, tool_results, "
                     "attachments, tokens_used, metadata)");
  }
  return update;
}

mc::DocumentUpdate DocumentUpdateFrom(const JsonObject& body) {
  mc::DocumentUpdate update;
  update.filename = body.OptionalString("filename");
  update.file_type = body.OptionalString("file_type");
  update.content = body.OptionalString("content");
  update.metadata = body.OptionalObjectText("metadata");
  if (!update.filename && !update.file_type && !update.content && !update.metadata) {
    throw FieldError("body", "no updatable field given (filename, file_type, content, metadata)");
  }
  return update;
}

mc::DocumentFilter DocumentFilterFrom(const Query& query) {
  mc::DocumentFilter filter;
  filter.created_from = query.Time("created_from");
  filter.created_until = query.Time("created_until");
  filter.file_types = query.List("file_type");
  if (const std::string* q = query.Find("q"); q != nullptr && !q->empty())
    filter.filename_contains = *q;
  filter.metadata_equals = query.Metadata("metadata");
  return filter;
}

std::optional<int64_t> OptionalTimestamp(const JsonObject& body, std::string_view key) {
  const auto text = body.OptionalString(key);
  if (!text) return std::nullopt;
  const auto micros = ParseTimestamp(*text);
  if (!micros)
    throw FieldError(body.Path(key),
                     "must be an ISO-8601 timestamp with a zone, e.g. 2025-11-17T09:30:00Z");
  return micros;
}

// The chunks of `array` for `document`; a chunk without chunk_index gets its position.
std::vector<mc::NewChunk> ChunksFrom(const JsonArray& array, const mc::Uuid& document,
                                     const MapContext& context) {
  std::vector<mc::NewChunk> chunks;
  chunks.reserve(array.size());
  for (size_t i = 0; i < array.size(); ++i) {
    const JsonObject chunk = array.ObjectAt(i);
    mc::NewChunk out;
    out.id = chunk.OptionalUuid("id");
    out.document_id = document;
    out.chunk_index = chunk.OptionalInt("chunk_index", 0, std::numeric_limits<int32_t>::max())
                          .value_or(static_cast<int64_t>(i));
    out.chunk_text = chunk.RequiredString("chunk_text");
    out.embedding = chunk.RequiredVector("embedding", context.dimension);
    out.metadata = chunk.OptionalObjectText("metadata");
    out.created_at = OptionalTimestamp(chunk, "created_at");
    chunks.push_back(std::move(out));
  }
  return chunks;
}

CreateDocumentCall CreateDocumentFrom(const JsonObject& body, const MapContext& context) {
  CreateDocumentCall call;
  call.document.id = body.OptionalUuid("id").value_or(mc::Uuid::Generate());
  call.document.filename = body.RequiredString("filename");
  call.document.file_type = body.RequiredString("file_type");
  call.document.content = body.OptionalString("content").value_or("");
  call.document.metadata = body.OptionalObjectText("metadata");
  if (const auto chunks = body.OptionalArray("chunks"))
    call.chunks = ChunksFrom(*chunks, *call.document.id, context);
  return call;
}

WriteChunksCall WriteChunksFrom(const mc::Uuid& document, const JsonObject& body, bool replace,
                                const MapContext& context) {
  const auto chunks = body.OptionalArray("chunks");
  if (!chunks) throw FieldError(body.Path("chunks"), "is required");
  if (!replace && chunks->size() == 0)
    throw FieldError(body.Path("chunks"), "must hold at least one chunk");
  return WriteChunksCall{document, ChunksFrom(*chunks, document, context), replace};
}

mc::SearchFilters SearchFiltersFrom(const JsonObject& body) {
  mc::SearchFilters out;
  const auto filters = body.OptionalObject("filters");
  if (!filters) return out;
  if (const auto ids = filters->OptionalArray("document_ids")) {
    for (size_t i = 0; i < ids->size(); ++i) out.document_ids.push_back(ids->UuidAt(i));
  }
  if (const auto types = filters->OptionalArray("file_types")) {
    for (size_t i = 0; i < types->size(); ++i) out.file_types.push_back(types->StringAt(i));
  }
  out.created_from = OptionalTimestamp(*filters, "created_from");
  out.created_until = OptionalTimestamp(*filters, "created_until");
  if (const auto metadata = filters->OptionalObject("metadata")) {
    for (const auto& [key, value] : metadata->items())
      out.metadata_equals.push_back({key, value.dump()});
  }
  return out;
}

// The message-search filters under `key` (filters, memory_filters); absent: none.  Role names
// are checked here (422 naming <key>.roles), as mnemod checks them again.
mc::MessageSearchFilters MessageSearchFiltersFrom(const JsonObject& body, std::string_view key) {
  mc::MessageSearchFilters out;
  const auto filters = body.OptionalObject(key);
  if (!filters) return out;
  if (const auto ids = filters->OptionalArray("conversation_ids")) {
    for (size_t i = 0; i < ids->size(); ++i) out.conversation_ids.push_back(ids->UuidAt(i));
  }
  if (const auto roles = filters->OptionalArray("roles")) {
    for (size_t i = 0; i < roles->size(); ++i) {
      std::string role = roles->StringAt(i);
      if (!mc::ParseRole(role)) {
        throw FieldError(filters->Path("roles"),
                         "must each be one of user, assistant, system, tool; got \"" + role + "\"");
      }
      out.roles.push_back(std::move(role));
    }
  }
  out.created_from = OptionalTimestamp(*filters, "created_from");
  out.created_until = OptionalTimestamp(*filters, "created_until");
  return out;
}

std::optional<float> MinSimilarityFrom(const JsonObject& body, std::string_view key) {
  const auto similarity = body.OptionalNumber(key);
  if (!similarity) return std::nullopt;
  if (*similarity < -1 || *similarity > 1) throw FieldError(body.Path(key), "must be in [-1, 1]");
  return static_cast<float>(*similarity);
}

// The fusion settings of a hybrid search body (fusion, text_weight, rrf_k, candidates), checked
// here (422 before a round trip).  `top_k` is the request's.
struct FusionFields {
  mc::Fusion fusion = mc::Fusion::kRrf;
  std::optional<double> text_weight;
  std::optional<double> rrf_k;
  std::optional<int64_t> candidates;
};

FusionFields FusionFrom(const JsonObject& body, int64_t top_k) {
  FusionFields out;
  const std::string fusion = body.OptionalString("fusion").value_or("rrf");
  if (fusion == "weighted") {
    out.fusion = mc::Fusion::kWeighted;
  } else if (fusion != "rrf") {
    throw FieldError(body.Path("fusion"), "must be \"rrf\" or \"weighted\"");
  }
  out.text_weight = body.OptionalNumber("text_weight");
  if (out.text_weight && !(*out.text_weight >= 0 && *out.text_weight <= 1)) {
    throw FieldError(body.Path("text_weight"), "must be in [0, 1]");
  }
  out.rrf_k = body.OptionalNumber("rrf_k");
  if (out.rrf_k && !(*out.rrf_k > 0)) throw FieldError(body.Path("rrf_k"), "must be > 0");
  out.candidates = body.OptionalInt("candidates", top_k, kMaxTopK);
  return out;
}

// POST /api/v1/messages/search: `embedding` alone is vector search, `query` alone keyword
// search, both a hybrid search.  Ranges are checked here (422 before a round trip); the query
// text's own rules (not blank, length) are mnemod's.
SearchMessagesCall SearchMessagesFrom(const JsonObject& body, const MapContext& context) {
  SearchMessagesCall call;
  mc::MessageSearchRequest& request = call.request;
  request.query_text = body.OptionalString("query");
  // Without a keyword query the embedding is required (422 naming it, as before).
  if (!request.query_text || body.OptionalArray("embedding"))
    request.query = body.RequiredVector("embedding", context.dimension);
  request.top_k = body.OptionalInt("top_k", 1, kMaxTopK).value_or(kDefaultTopK);
  request.min_similarity = MinSimilarityFrom(body, "min_similarity");
  request.ef = body.OptionalInt("ef", 1, kMaxEf);
  request.filters = MessageSearchFiltersFrom(body, "filters");
  if (request.query_text && !request.query.empty()) {
    const FusionFields fusion = FusionFrom(body, request.top_k);
    request.fusion = fusion.fusion;
    request.text_weight = fusion.text_weight;
    request.rrf_k = fusion.rrf_k;
    request.candidates = fusion.candidates;
  }
  return call;
}

mc::SearchRequest SearchRequestFrom(const JsonObject& body, const MapContext& context) {
  mc::SearchRequest request;
  request.query = body.RequiredVector("embedding", context.dimension);
  request.top_k = body.OptionalInt("top_k", 1, kMaxTopK).value_or(kDefaultTopK);
  if (const auto threshold = body.OptionalNumber("threshold")) {
    if (*threshold < -1 || *threshold > 1)
      throw FieldError(body.Path("threshold"), "must be in [-1, 1]");
    request.min_similarity = static_cast<float>(*threshold);
  }
  request.ef = body.OptionalInt("ef", 1, kMaxEf);
  request.filters = SearchFiltersFrom(body);
  return request;
}

// POST /api/v1/documents/search: `embedding` alone is vector search, `query` alone keyword
// search, both a hybrid search.  The query text's own rules (not blank, length) are mnemod's.
ApiCall DocumentSearchFrom(const JsonObject& body, const MapContext& context) {
  const std::optional<std::string> query = body.OptionalString("query");
  if (!query) return SearchDocumentsCall{SearchRequestFrom(body, context)};
  if (!body.OptionalArray("embedding")) {
    mc::TextSearchRequest request;
    request.query = *query;
    request.top_k = body.OptionalInt("top_k", 1, kMaxTopK).value_or(kDefaultTopK);
    request.filters = SearchFiltersFrom(body);
    return TextSearchDocumentsCall{std::move(request)};
  }
  const mc::SearchRequest vector = SearchRequestFrom(body, context);
  mc::HybridSearchRequest request;
  request.query_text = *query;
  request.query_embedding = vector.query;
  request.top_k = vector.top_k;
  request.filters = vector.filters;
  request.min_similarity = vector.min_similarity;
  request.ef = vector.ef;
  const FusionFields fusion = FusionFrom(body, request.top_k);
  request.fusion = fusion.fusion;
  request.text_weight = fusion.text_weight;
  request.rrf_k = fusion.rrf_k;
  request.candidates = fusion.candidates;
  return HybridSearchDocumentsCall{std::move(request)};
}

// POST /api/v1/conversations/{id}/context.  The ranges are checked here (422 before a round
// trip); the embedding's dimension, a blank query_text and a budget below the system prompt are
// mnemod's to refuse (422 naming the same fields).
AssembleContextCall ContextFrom(const mc::Uuid& conversation_id, const JsonObject& body,
                                const MapContext& context) {
  AssembleContextCall call;
  mc::ContextRequest& request = call.request;
  request.conversation_id = conversation_id;
  const auto budget = body.OptionalInt("token_budget", 1, kMaxContextTokens);
  if (!budget) throw FieldError(body.Path("token_budget"), "is required");
  request.token_budget = *budget;
  request.max_messages =
      body.OptionalInt("max_messages", 0, kMaxContextMessages).value_or(kDefaultContextMessages);
  request.message_budget = body.OptionalInt("message_budget", 0, kMaxContextTokens);
  request.k_chunks = body.OptionalInt("k_chunks", 0, kMaxTopK).value_or(kDefaultContextChunks);
  if (body.OptionalArray("query_embedding"))
    request.query_embedding = body.RequiredVector("query_embedding", context.dimension);
  request.query_text = body.OptionalString("query_text").value_or("");
  request.chunk_filters = SearchFiltersFrom(body);
  request.min_similarity = MinSimilarityFrom(body, "min_similarity");
  request.k_memories =
      body.OptionalInt("k_memories", 0, kMaxTopK).value_or(kDefaultContextMemories);
  request.memory_filters = MessageSearchFiltersFrom(body, "memory_filters");
  return call;
}

bool IsJsonContentType(std::string_view content_type) {
  const std::string_view media = content_type.substr(0, content_type.find(';'));
  std::string lower;
  for (const char c : media) {
    if (c != ' ' && c != '\t')
      lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return lower.empty() || lower == "application/json" ||
         (lower.starts_with("application/") && lower.ends_with("+json"));
}

// Builds the call for an API route.  Throws FieldError on invalid input.
ApiCall BuildCall(const RouteInfo& route, const std::string& path_id, const Query& query,
                  std::string_view body_text, const MapContext& context) {
  using enum RouteId;
  const auto body = [&] { return JsonObject::ParseBody(body_text); };
  switch (route.id) {
    case kCreateConversation: return CreateConversationCall{NewConversationFrom(body())};
    case kListConversations: return ListConversationsCall{ConversationListFrom(query)};
    case kSearchConversations: {
      std::string q = query.Text("q");
      if (q.empty()) throw FieldError("q", "a non-empty search text is required");
      return SearchConversationsCall{std::move(q), ConversationListFrom(query)};
    }
    case kConversationStats: return ConversationStatsCall{};
    case kCountConversations:
      return CountConversationsCall{ConversationFilterFrom(query), query.Bool("include_deleted"),
                                    query.Bool("exists")};
    case kGetConversation:
      return GetConversationCall{PathId(path_id), query.Bool("include_deleted")};
    case kUpdateConversation: {
      const mc::Uuid id = PathId(path_id);
      return UpdateConversationCall{id, ConversationUpdateFrom(body())};
    }
    case kDeleteConversation: return DeleteConversationCall{PathId(path_id), query.Bool("hard")};
    case kRestoreConversation: return RestoreConversationCall{PathId(path_id)};
    case kListMessages: {
      const mc::Uuid id = PathId(path_id);
      return ListMessagesCall{id, MessageQueryFrom(query)};
    }
    case kAppendMessage: {
      const mc::Uuid id = PathId(path_id);
      return AppendMessageCall{NewMessageFrom(id, body(), context)};
    }
    case kDeleteMessages: return DeleteMessagesCall{PathId(path_id)};
    case kLastMessages: {
      const mc::Uuid id = PathId(path_id);
      return LastMessagesCall{id, query.Int("count", kDefaultLastMessages, 1, kMaxMessagePageSize),
                              RoleFrom(query)};
    }
    case kAssembleContext: {
      const mc::Uuid id = PathId(path_id);
      return ContextFrom(id, body(), context);
    }
    case kCountMessages: {
      CountMessagesCall call{PathId(path_id), {}, query.Bool("exists")};
      MessageFilterFrom(query, &call.filter);
      return call;
    }
    case kTokenStats: return TokenStatsCall{PathId(path_id)};
    case kGetMessage: return GetMessageCall{PathId(path_id)};
    case kUpdateMessage: {
      const mc::Uuid id = PathId(path_id);
      return UpdateMessageCall{id, MessageUpdateFrom(body())};
    }
    case kDeleteMessage: return DeleteMessageCall{PathId(path_id)};
    case kSetToolResults: {
      const mc::Uuid id = PathId(path_id);
      const JsonObject parsed = body();
      if (!parsed.Has("tool_results"))
        throw FieldError("tool_results", "is required (null clears it)");
      return SetToolResultsCall{
          id, parsed.IsNull("tool_results") ? "null" : *parsed.OptionalJsonText("tool_results")};
    }
    case kCreateDocument: return CreateDocumentFrom(body(), context);
    case kListDocuments: {
      ListDocumentsCall call;
      call.options.skip = query.Int("skip", 0, 0, std::numeric_limits<int32_t>::max());
      call.options.limit = query.Int("limit", kDefaultListLimit, 1, kMaxDocumentPageSize);
      call.options.include_deleted = query.Bool("include_deleted");
      call.options.cursor = query.Text("cursor");
      call.options.filter = DocumentFilterFrom(query);
      return call;
    }
    case kCountDocuments:
      return CountDocumentsCall{DocumentFilterFrom(query), query.Bool("include_deleted"),
                                query.Bool("exists")};
    case kSearchDocuments: return DocumentSearchFrom(body(), context);
    case kSearchMessages: return SearchMessagesFrom(body(), context);
    case kSearchDocumentsBatch: {
      const JsonObject parsed = body();
      const auto queries = parsed.OptionalArray("queries");
      if (!queries) throw FieldError("queries", "is required");
      if (queries->size() == 0 || queries->size() > kMaxSearchBatchQueries) {
        throw FieldError("queries",
                         "must hold 1.." + std::to_string(kMaxSearchBatchQueries) + " queries");
      }
      SearchDocumentsBatchCall call;
      for (size_t i = 0; i < queries->size(); ++i)
        call.requests.push_back(SearchRequestFrom(queries->ObjectAt(i), context));
      return call;
    }
    case kGetDocument: return GetDocumentCall{PathId(path_id), query.Bool("include_deleted")};
    case kUpdateDocument: {
      const mc::Uuid id = PathId(path_id);
      return UpdateDocumentCall{id, DocumentUpdateFrom(body())};
    }
    case kDeleteDocument: return DeleteDocumentCall{PathId(path_id), query.Bool("hard")};
    case kRestoreDocument: return RestoreDocumentCall{PathId(path_id)};
    case kListChunks: {
      ListChunksCall call{PathId(path_id), {}};
      call.options.skip = query.Int("skip", 0, 0, std::numeric_limits<int32_t>::max());
      call.options.limit = query.Int("limit", kDefaultChunkPageSize, 1, kMaxChunkPageSize);
      call.options.cursor = query.Text("cursor");
      call.options.include_deleted = query.Bool("include_deleted");
      return call;
    }
    case kAddChunks:
    case kReplaceChunks: {
      const mc::Uuid id = PathId(path_id);
      return WriteChunksFrom(id, body(), route.id == kReplaceChunks, context);
    }
    case kGetChunk: return GetChunkCall{PathId(path_id), query.Bool("include_deleted")};
    case kDeleteChunk: return DeleteChunkCall{PathId(path_id), query.Bool("hard")};
    case kRestoreChunk: return RestoreChunkCall{PathId(path_id)};
    case kHealth:
    case kReady:
    case kMetrics:
    case kOpenApi: return MetaCall{};
  }
  return MetaCall{};
}

bool TakesBody(RouteId id) {
  using enum RouteId;
  return id == kCreateConversation || id == kUpdateConversation || id == kAppendMessage ||
         id == kUpdateMessage || id == kSetToolResults || id == kCreateDocument ||
         id == kUpdateDocument || id == kSearchDocuments || id == kSearchDocumentsBatch ||
         id == kAddChunks || id == kReplaceChunks || id == kAssembleContext ||
         id == kSearchMessages;
}

}  // namespace

std::variant<MappedCall, ApiError> MapRequest(std::string_view method, std::string_view target,
                                              std::string_view content_type, std::string_view body,
                                              const MapContext& context) {
  const auto [path, query_text] = SplitTarget(target);
  const RouteLookup lookup = FindRoute(method, path);
  if (lookup.route == nullptr) {
    if (lookup.allowed_methods.empty()) {
      return ErrorOf(StatusCode::kNotFound, "no route for " + std::string(path));
    }
    ApiError error{405, "METHOD_NOT_ALLOWED",
                   std::string(method) + " is not allowed on " + std::string(path),
                   nlohmann::json::object()};
    error.details["allow"] = lookup.allowed_methods;
    return error;
  }
  if (TakesBody(lookup.route->id) && !IsJsonContentType(content_type)) {
    return ApiError{415, "UNSUPPORTED_MEDIA_TYPE", "the body must be application/json",
                    nlohmann::json::object()};
  }
  auto params = ParseQuery(query_text);
  if (!params) return ValidationError("query", "malformed percent-escape in the query string");
  try {
    return MappedCall{lookup.route, BuildCall(*lookup.route, lookup.path_id,
                                              Query(std::move(*params)), body, context)};
  } catch (const FieldError& e) {
    return ValidationError(e.field(), e.field() + " " + e.what());
  }
}

}  // namespace mnemo::rest
