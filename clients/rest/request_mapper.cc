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
      throw FieldError(std::string(key), "must be between " + std::to_string(min) + " and " +
                                             std::to_string(max));
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

 private:
  QueryParams params_;
};

mc::Uuid PathId(const std::string& text) {
  const auto id = mc::Uuid::Parse(text);
  if (!id) throw FieldError("id", "must be a UUID");
  return *id;
}

mc::ConversationListOptions ConversationListFrom(const Query& query) {
  mc::ConversationListOptions options;
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
    throw FieldError("body", "no updatable field given (title, summary, model, system_prompt, metadata)");
  }
  return update;
}

mc::MessageQuery MessageQueryFrom(const Query& query) {
  mc::MessageQuery out;
  out.skip = query.Int("skip", 0, 0, std::numeric_limits<int32_t>::max());
  out.limit = query.Int("limit", kDefaultMessagePageSize, 1, kMaxMessagePageSize);
  out.cursor = query.Text("cursor");
  out.only_with_tool_calls = query.Bool("tool_calls_only");
  const std::string order = query.Text("order");
  if (order.empty() || order == "asc") {
    out.order = mc::SortOrder::kAscending;
  } else if (order == "desc") {
    out.order = mc::SortOrder::kDescending;
  } else {
    throw FieldError("order", "must be \"asc\" or \"desc\"");
  }
  if (const std::string* role = query.Find("role")) {
    out.role = mc::ParseRole(*role);
    if (!out.role) throw FieldError("role", "must be one of user, assistant, system, tool");
  }
  return out;
}

mc::NewMessage NewMessageFrom(const mc::Uuid& conversation_id, const JsonObject& body) {
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
  return input;
}

std::optional<int64_t> OptionalTimestamp(const JsonObject& body, std::string_view key) {
  const auto text = body.OptionalString(key);
  if (!text) return std::nullopt;
  const auto micros = ParseTimestamp(*text);
  if (!micros) throw FieldError(body.Path(key), "must be an ISO-8601 timestamp with a zone, e.g. 2025-11-17T09:30:00Z");
  return micros;
}

CreateDocumentCall CreateDocumentFrom(const JsonObject& body, const MapContext& context) {
  CreateDocumentCall call;
  call.document.id = body.OptionalUuid("id").value_or(mc::Uuid::Generate());
  call.document.filename = body.RequiredString("filename");
  call.document.file_type = body.RequiredString("file_type");
  call.document.content = body.OptionalString("content").value_or("");
  call.document.metadata = body.OptionalObjectText("metadata");
  const auto chunks = body.OptionalArray("chunks");
  if (!chunks) return call;
  call.chunks.reserve(chunks->size());
  for (size_t i = 0; i < chunks->size(); ++i) {
    const JsonObject chunk = chunks->ObjectAt(i);
    mc::NewChunk out;
    out.id = chunk.OptionalUuid("id");
    out.document_id = *call.document.id;
    out.chunk_index = chunk.OptionalInt("chunk_index", 0, std::numeric_limits<int32_t>::max())
                          .value_or(static_cast<int64_t>(i));
    out.chunk_text = chunk.RequiredString("chunk_text");
    out.embedding = chunk.RequiredVector("embedding", context.dimension);
    out.metadata = chunk.OptionalObjectText("metadata");
    out.created_at = OptionalTimestamp(chunk, "created_at");
    call.chunks.push_back(std::move(out));
  }
  return call;
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
    for (const auto& [key, value] : metadata->items()) out.metadata_equals.push_back({key, value.dump()});
  }
  return out;
}

mc::SearchRequest SearchRequestFrom(const JsonObject& body, const MapContext& context) {
  mc::SearchRequest request;
  request.query = body.RequiredVector("embedding", context.dimension);
  request.top_k = body.OptionalInt("top_k", 1, kMaxTopK).value_or(kDefaultTopK);
  if (const auto threshold = body.OptionalNumber("threshold")) {
    if (*threshold < -1 || *threshold > 1) throw FieldError(body.Path("threshold"), "must be in [-1, 1]");
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
  const std::string fusion = body.OptionalString("fusion").value_or("rrf");
  if (fusion == "weighted") {
    request.fusion = mc::Fusion::kWeighted;
  } else if (fusion != "rrf") {
    throw FieldError(body.Path("fusion"), "must be \"rrf\" or \"weighted\"");
  }
  request.text_weight = body.OptionalNumber("text_weight");
  if (request.text_weight && !(*request.text_weight >= 0 && *request.text_weight <= 1)) {
    throw FieldError(body.Path("text_weight"), "must be in [0, 1]");
  }
  request.rrf_k = body.OptionalNumber("rrf_k");
  if (request.rrf_k && !(*request.rrf_k > 0)) throw FieldError(body.Path("rrf_k"), "must be > 0");
  request.candidates = body.OptionalInt("candidates", request.top_k, kMaxTopK);
  return HybridSearchDocumentsCall{std::move(request)};
}

bool IsJsonContentType(std::string_view content_type) {
  const std::string_view media = content_type.substr(0, content_type.find(';'));
  std::string lower;
  for (const char c : media) {
    if (c != ' ' && c != '\t') lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
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
    case kGetConversation: return GetConversationCall{PathId(path_id), query.Bool("include_deleted")};
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
      return AppendMessageCall{NewMessageFrom(id, body())};
    }
    case kTokenStats: return TokenStatsCall{PathId(path_id)};
    case kCreateDocument: return CreateDocumentFrom(body(), context);
    case kListDocuments: {
      ListDocumentsCall call;
      call.options.skip = query.Int("skip", 0, 0, std::numeric_limits<int32_t>::max());
      call.options.limit = query.Int("limit", kDefaultListLimit, 1, kMaxDocumentPageSize);
      call.options.include_deleted = query.Bool("include_deleted");
      call.options.cursor = query.Text("cursor");
      if (const std::string* q = query.Find("q"); q != nullptr && !q->empty()) call.filename_query = *q;
      return call;
    }
    case kSearchDocuments: return DocumentSearchFrom(body(), context);
    case kGetDocument: return GetDocumentCall{PathId(path_id), query.Bool("include_deleted")};
    case kDeleteDocument: return DeleteDocumentCall{PathId(path_id), query.Bool("hard")};
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
         id == kCreateDocument || id == kSearchDocuments;
}

}  // namespace

std::variant<MappedCall, ApiError> MapRequest(std::string_view method, std::string_view target,
                                              std::string_view content_type,
                                              std::string_view body, const MapContext& context) {
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
    return MappedCall{lookup.route,
                      BuildCall(*lookup.route, lookup.path_id, Query(std::move(*params)), body, context)};
  } catch (const FieldError& e) {
    return ValidationError(e.field(), e.field() + " " + e.what());
  }
}

}  // namespace mnemo::rest
