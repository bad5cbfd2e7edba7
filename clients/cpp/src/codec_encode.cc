// The encoders of codec.h: client values -> Request FlatBuffers.
#include <span>
#include <type_traits>
#include <utility>
#include <variant>

#include "codec.h"
#include "flatbuffers/flatbuffers.h"
#include "trace_id.h"

namespace mnemo::client::internal {
namespace {

namespace fb = flatbuffers;

template <typename T>
using Offset = fb::Offset<T>;

// The i-th vector a request carries: views[i] when views are given, else the input's own.
std::span<const float> VectorAt(const VectorViews& views, size_t i, const std::vector<float>& own) {
  return views.empty() ? std::span<const float>(own) : views.at(i);
}

fb::Optional<int64_t> OptScalar(const std::optional<int64_t>& value) {
  if (value) return *value;
  return fb::nullopt;
}

fb::Optional<double> OptDouble(const std::optional<double>& value) {
  if (value) return *value;
  return fb::nullopt;
}

wire::Fusion FusionToWire(Fusion fusion) {
  return fusion == Fusion::kWeighted ? wire::Fusion::weighted : wire::Fusion::rrf;
}

// Wraps a FlatBufferBuilder with the conversions every encoder needs.  Nested objects are built
// before the table that refers to them, as FlatBuffers requires.
class Encoder {
 public:
  Offset<fb::String> Str(std::string_view text) {
    return fbb_.CreateString(text.data(), text.size());
  }
  // Absent (0) for nullopt, so the reader sees null.
  Offset<fb::String> OptStr(const std::optional<std::string>& text) {
    return text ? Str(*text) : Offset<fb::String>();
  }
  Offset<fb::String> OptStr(std::optional<std::string_view> text) {
    return text ? Str(*text) : Offset<fb::String>();
  }
  // Absent for an empty string (used where empty means "not given": cursors).
  Offset<fb::String> NonEmptyStr(std::string_view text) {
    return text.empty() ? Offset<fb::String>() : Str(text);
  }

  Offset<wire::NewConversation> NewConversation(const client::NewConversation& input) {
    const auto title = Str(input.title);
    const auto summary = OptStr(input.summary);
    const auto model = OptStr(input.model);
    const auto system_prompt = Str(input.system_prompt);
    const auto metadata = OptStr(input.metadata);
    const wire::Id id = input.id ? UuidToWire(*input.id) : wire::Id();
    return wire::CreateNewConversation(fbb_, input.id ? &id : nullptr, title, summary, model,
                                       system_prompt, metadata);
  }

  // `embedding_view` replaces input.embedding (VectorViews); empty: sent absent (none).
  Offset<wire::NewMessage> NewMessage(const client::NewMessage& input,
                                      std::span<const float> embedding_view) {
    const auto role = Str(input.role);
    const auto content = Str(input.content);
    const auto parts = OptStr(input.parts);
    const auto tool_calls = OptStr(input.tool_calls);
    const auto tool_results = OptStr(input.tool_results);
    const auto attachments = OptStr(input.attachments);
    const auto metadata = OptStr(input.metadata);
    const auto embedding = OptFloats(embedding_view);
    const wire::Id id = input.id ? UuidToWire(*input.id) : wire::Id();
    const wire::Id conversation_id = UuidToWire(input.conversation_id);
    return wire::CreateNewMessage(fbb_, input.id ? &id : nullptr, &conversation_id, role, content,
                                  parts, tool_calls, tool_results, attachments,
                                  OptScalar(input.tokens_used), metadata, embedding);
  }

  Offset<wire::NewDocument> NewDocument(const client::NewDocument& input) {
    const auto filename = Str(input.filename);
    const auto file_type = Str(input.file_type);
    const auto content = Str(input.content);
    const auto metadata = OptStr(input.metadata);
    const wire::Id id = input.id ? UuidToWire(*input.id) : wire::Id();
    return wire::CreateNewDocument(fbb_, input.id ? &id : nullptr, filename, file_type, content,
                                   metadata);
  }

  // `embedding` replaces input.embedding (VectorViews).
  Offset<wire::NewChunk> NewChunk(const client::NewChunk& input,
                                  std::span<const float> embedding_view) {
    const auto chunk_text = Str(input.chunk_text);
    const auto embedding = fbb_.CreateVector(embedding_view.data(), embedding_view.size());
    const auto metadata = OptStr(input.metadata);
    const wire::Id id = input.id ? UuidToWire(*input.id) : wire::Id();
    const wire::Id document_id = UuidToWire(input.document_id);
    return wire::CreateNewChunk(fbb_, input.id ? &id : nullptr, &document_id, input.chunk_index,
                                chunk_text, embedding, metadata, OptScalar(input.created_at));
  }

  // Chunk i's embedding is views[i] when views are given (VectorViews).
  Offset<fb::Vector<Offset<wire::NewChunk>>> Chunks(const std::vector<client::NewChunk>& chunks,
                                                    const VectorViews& views) {
    std::vector<Offset<wire::NewChunk>> items;
    items.reserve(chunks.size());
    for (size_t i = 0; i < chunks.size(); ++i) {
      items.push_back(NewChunk(chunks[i], VectorAt(views, i, chunks[i].embedding)));
    }
    return fbb_.CreateVector(items);
  }

  // `query_view` replaces request.query (VectorViews).
  Offset<wire::SearchQuery> SearchQuery(const SearchRequest& request,
                                        std::span<const float> query_view) {
    const auto query = fbb_.CreateVector(query_view.data(), query_view.size());
    const auto filters = SearchFilters(request.filters);
    fb::Optional<float> min_similarity = fb::nullopt;
    if (request.min_similarity) min_similarity = *request.min_similarity;
    return wire::CreateSearchQuery(fbb_, query, request.top_k, min_similarity, filters,
                                   OptScalar(request.ef));
  }

  // Absent when no filter is set.
  Offset<wire::SearchFilters> SearchFilters(const client::SearchFilters& filters) {
    if (filters.document_ids.empty() && filters.file_types.empty() && !filters.created_from &&
        !filters.created_until && filters.metadata_equals.empty()) {
      return {};
    }
    Offset<fb::Vector<const wire::Id*>> document_ids;
    if (!filters.document_ids.empty()) {
      std::vector<wire::Id> ids;
      ids.reserve(filters.document_ids.size());
      for (const Uuid& id : filters.document_ids) ids.push_back(UuidToWire(id));
      document_ids = fbb_.CreateVectorOfStructs(ids);
    }
    Offset<fb::Vector<Offset<fb::String>>> file_types;
    if (!filters.file_types.empty()) {
      std::vector<Offset<fb::String>> types;
      for (const std::string& type : filters.file_types) types.push_back(Str(type));
      file_types = fbb_.CreateVector(types);
    }
    const auto metadata_equals = Metadata(filters.metadata_equals);
    return wire::CreateSearchFilters(fbb_, document_ids, file_types,
                                     OptScalar(filters.created_from),
                                     OptScalar(filters.created_until), metadata_equals);
  }

  // Absent when empty.
  Offset<fb::Vector<float>> OptFloats(std::span<const float> values) {
    if (values.empty()) return {};
    return fbb_.CreateVector(values.data(), values.size());
  }

  // Absent when no filter is set.
  Offset<wire::MessageSearchFilters> MessageSearchFilters(const client::MessageSearchFilters& f) {
    if (f.conversation_ids.empty() && f.roles.empty() && !f.created_from && !f.created_until) {
      return {};
    }
    Offset<fb::Vector<const wire::Id*>> conversation_ids;
    if (!f.conversation_ids.empty()) {
      std::vector<wire::Id> ids;
      ids.reserve(f.conversation_ids.size());
      for (const Uuid& id : f.conversation_ids) ids.push_back(UuidToWire(id));
      conversation_ids = fbb_.CreateVectorOfStructs(ids);
    }
    const auto roles = Strings(f.roles);
    return wire::CreateMessageSearchFilters(fbb_, conversation_ids, roles,
                                            OptScalar(f.created_from), OptScalar(f.created_until));
  }

  // Absent when empty.
  Offset<fb::Vector<Offset<wire::MetadataEquals>>> Metadata(
      const std::vector<MetadataEquals>& conditions) {
    if (conditions.empty()) return {};
    std::vector<Offset<wire::MetadataEquals>> items;
    items.reserve(conditions.size());
    for (const MetadataEquals& item : conditions) {
      const auto key = Str(item.key);
      const auto value = Str(item.value);
      items.push_back(wire::CreateMetadataEquals(fbb_, key, value));
    }
    return fbb_.CreateVector(items);
  }

  Offset<fb::Vector<Offset<fb::String>>> Strings(const std::vector<std::string>& texts) {
    if (texts.empty()) return {};
    std::vector<Offset<fb::String>> items;
    items.reserve(texts.size());
    for (const std::string& text : texts) items.push_back(Str(text));
    return fbb_.CreateVector(items);
  }

  // Absent when no condition is set.
  Offset<wire::ConversationFilter> ConversationFilter(const client::ConversationFilter& f) {
    if (!f.created_from && !f.created_until && !f.updated_from && !f.updated_until && !f.model &&
        !f.title_contains && f.metadata_equals.empty()) {
      return {};
    }
    const auto model = OptStr(f.model);
    const auto title = OptStr(f.title_contains);
    const auto metadata = Metadata(f.metadata_equals);
    return wire::CreateConversationFilter(fbb_, OptScalar(f.created_from),
                                          OptScalar(f.created_until), OptScalar(f.updated_from),
                                          OptScalar(f.updated_until), model, title, metadata);
  }

  // The filter fields of a message query; absent when none is set.
  Offset<wire::MessageFilter> MessageFilter(const MessageQuery& q) {
    if (!q.role && !q.only_with_tool_calls && !q.created_from && !q.created_until &&
        q.metadata_equals.empty()) {
      return {};
    }
    const auto role = q.role ? Str(RoleName(*q.role)) : Offset<fb::String>();
    const auto metadata = Metadata(q.metadata_equals);
    return wire::CreateMessageFilter(fbb_, role, q.only_with_tool_calls, OptScalar(q.created_from),
                                     OptScalar(q.created_until), metadata);
  }

  Offset<wire::DocumentFilter> DocumentFilter(const client::DocumentFilter& f) {
    if (!f.created_from && !f.created_until && f.file_types.empty() && !f.filename_contains &&
        f.metadata_equals.empty()) {
      return {};
    }
    const auto types = Strings(f.file_types);
    const auto name = OptStr(f.filename_contains);
    const auto metadata = Metadata(f.metadata_equals);
    return wire::CreateDocumentFilter(fbb_, OptScalar(f.created_from), OptScalar(f.created_until),
                                      types, name, metadata);
  }

  Offset<wire::SearchHybridRequest> SearchHybrid(const HybridSearchRequest& request,
                                                 std::span<const float> embedding_view) {
    const auto text = Str(request.query_text);
    const auto embedding = fbb_.CreateVector(embedding_view.data(), embedding_view.size());
    const auto filters = SearchFilters(request.filters);
    fb::Optional<float> min_similarity = fb::nullopt;
    if (request.min_similarity) min_similarity = *request.min_similarity;
    return wire::CreateSearchHybridRequest(
        fbb_, text, embedding, request.top_k, filters, FusionToWire(request.fusion),
        OptDouble(request.rrf_k), OptDouble(request.text_weight), OptScalar(request.candidates),
        min_similarity, OptScalar(request.ef));
  }

  // Finishes the Request and returns its bytes.
  template <typename Body>
  std::string Finish(uint64_t request_id, std::string_view user_id, wire::RequestBody type,
                     Offset<Body> body) {
    const auto user = NonEmptyStr(user_id);
    const auto trace = NonEmptyStr(CurrentTraceId());
    const auto root = wire::CreateRequest(fbb_, request_id, user, type, body.Union(), trace);
    fbb_.Finish(root, wire::RequestIdentifier());
    return std::string(reinterpret_cast<const char*>(fbb_.GetBufferPointer()), fbb_.GetSize());
  }

  fb::FlatBufferBuilder& fbb() { return fbb_; }

 private:
  fb::FlatBufferBuilder fbb_{1024};
};

}  // namespace

// ---- encoders ---------------------------------------------------------------------------------

std::string EncodeHello(uint64_t request_id, uint32_t protocol_version, std::string_view api_key,
                        std::string_view client_name) {
  Encoder e;
  const auto key = e.NonEmptyStr(api_key);
  const auto name = e.NonEmptyStr(client_name);
  const auto body = wire::CreateHello(e.fbb(), protocol_version, key, name);
  return e.Finish(request_id, {}, wire::RequestBody::Hello, body);
}

std::string EncodeCreateConversation(uint64_t request_id, std::string_view user_id,
                                     const NewConversation& input) {
  Encoder e;
  const auto conversation = e.NewConversation(input);
  const auto body = wire::CreateCreateConversationRequest(e.fbb(), conversation);
  return e.Finish(request_id, user_id, wire::RequestBody::CreateConversationRequest, body);
}

std::string EncodeUpsertConversation(uint64_t request_id, std::string_view user_id,
                                     const NewConversation& input) {
  Encoder e;
  const auto conversation = e.NewConversation(input);
  const auto body = wire::CreateUpsertConversationRequest(e.fbb(), conversation);
  return e.Finish(request_id, user_id, wire::RequestBody::UpsertConversationRequest, body);
}

std::string EncodeGetConversation(uint64_t request_id, std::string_view user_id, const Uuid& id,
                                  bool include_deleted) {
  Encoder e;
  const wire::Id wire_id = UuidToWire(id);
  const auto body = wire::CreateGetConversationRequest(e.fbb(), &wire_id, include_deleted);
  return e.Finish(request_id, user_id, wire::RequestBody::GetConversationRequest, body);
}

std::string EncodeListConversations(uint64_t request_id, std::string_view user_id,
                                    const ConversationListOptions& options,
                                    std::optional<std::string_view> title_contains) {
  Encoder e;
  ConversationFilter filter = options.filter;
  if (title_contains) filter.title_contains = std::string(*title_contains);
  // The title also travels in the request's own field, which servers without filter tables read.
  const auto cursor = e.NonEmptyStr(options.cursor);
  const auto title = e.OptStr(filter.title_contains);
  const auto wire_filter = e.ConversationFilter(filter);
  const auto body = wire::CreateListConversationsRequest(
      e.fbb(), static_cast<wire::ConversationOrder>(options.order), options.skip, options.limit,
      cursor, options.include_deleted, title, wire_filter);
  return e.Finish(request_id, user_id, wire::RequestBody::ListConversationsRequest, body);
}

std::string EncodeGetUserStats(uint64_t request_id, std::string_view user_id) {
  Encoder e;
  const auto body = wire::CreateGetUserStatsRequest(e.fbb());
  return e.Finish(request_id, user_id, wire::RequestBody::GetUserStatsRequest, body);
}

std::string EncodeCountConversations(uint64_t request_id, std::string_view user_id,
                                     const ConversationFilter& filter, bool include_deleted,
                                     bool exists_only) {
  Encoder e;
  const auto wire_filter = e.ConversationFilter(filter);
  const auto body =
      wire::CreateCountConversationsRequest(e.fbb(), include_deleted, wire_filter, exists_only);
  return e.Finish(request_id, user_id, wire::RequestBody::CountConversationsRequest, body);
}

std::string EncodeUpdateConversation(uint64_t request_id, std::string_view user_id, const Uuid& id,
                                     const ConversationUpdate& update) {
  Encoder e;
  const auto title = e.OptStr(update.title);
  const auto summary = e.OptStr(update.summary);
  const auto model = e.OptStr(update.model);
  const auto system_prompt = e.OptStr(update.system_prompt);
  const auto metadata = e.OptStr(update.metadata);
  const wire::Id wire_id = UuidToWire(id);
  const auto body = wire::CreateUpdateConversationRequest(e.fbb(), &wire_id, title, summary, model,
                                                          system_prompt, metadata);
  return e.Finish(request_id, user_id, wire::RequestBody::UpdateConversationRequest, body);
}

std::string EncodeDeleteConversation(uint64_t request_id, std::string_view user_id, const Uuid& id,
                                     bool hard) {
  Encoder e;
  const wire::Id wire_id = UuidToWire(id);
  const auto body = wire::CreateDeleteConversationRequest(e.fbb(), &wire_id, hard);
  return e.Finish(request_id, user_id, wire::RequestBody::DeleteConversationRequest, body);
}

std::string EncodeRestoreConversation(uint64_t request_id, std::string_view user_id,
                                      const Uuid& id) {
  Encoder e;
  const wire::Id wire_id = UuidToWire(id);
  const auto body = wire::CreateRestoreConversationRequest(e.fbb(), &wire_id);
  return e.Finish(request_id, user_id, wire::RequestBody::RestoreConversationRequest, body);
}

std::string EncodeAppendMessage(uint64_t request_id, std::string_view user_id,
                                const NewMessage& input, const VectorViews& views) {
  Encoder e;
  const auto message = e.NewMessage(input, VectorAt(views, 0, input.embedding));
  const auto body = wire::CreateAppendMessageRequest(e.fbb(), message);
  return e.Finish(request_id, user_id, wire::RequestBody::AppendMessageRequest, body);
}

std::string EncodeUpsertMessage(uint64_t request_id, std::string_view user_id,
                                const NewMessage& input, const VectorViews& views) {
  Encoder e;
  const auto message = e.NewMessage(input, VectorAt(views, 0, input.embedding));
  const auto body = wire::CreateUpsertMessageRequest(e.fbb(), message);
  return e.Finish(request_id, user_id, wire::RequestBody::UpsertMessageRequest, body);
}

std::string EncodeGetMessage(uint64_t request_id, std::string_view user_id, const Uuid& id) {
  Encoder e;
  const wire::Id wire_id = UuidToWire(id);
  const auto body = wire::CreateGetMessageRequest(e.fbb(), &wire_id);
  return e.Finish(request_id, user_id, wire::RequestBody::GetMessageRequest, body);
}

std::string EncodeListMessages(uint64_t request_id, std::string_view user_id,
                               const Uuid& conversation_id, const MessageQuery& query) {
  Encoder e;
  const auto cursor = e.NonEmptyStr(query.cursor);
  // Role and tool-call filters also travel in the request's own fields (older servers).
  const auto role = query.role ? e.Str(RoleName(*query.role)) : Offset<fb::String>();
  const auto filter = e.MessageFilter(query);
  const wire::Id wire_id = UuidToWire(conversation_id);
  const auto body = wire::CreateListMessagesRequest(
      e.fbb(), &wire_id, static_cast<wire::SortOrder>(query.order), query.skip, query.limit, cursor,
      role, query.only_with_tool_calls, filter);
  return e.Finish(request_id, user_id, wire::RequestBody::ListMessagesRequest, body);
}

std::string EncodeLastMessages(uint64_t request_id, std::string_view user_id,
                               const Uuid& conversation_id, int64_t count) {
  Encoder e;
  const wire::Id wire_id = UuidToWire(conversation_id);
  const auto body = wire::CreateLastMessagesRequest(e.fbb(), &wire_id, count);
  return e.Finish(request_id, user_id, wire::RequestBody::LastMessagesRequest, body);
}

std::string EncodeLastMessageByRole(uint64_t request_id, std::string_view user_id,
                                    const Uuid& conversation_id, Role role) {
  Encoder e;
  const auto role_name = e.Str(RoleName(role));
  const wire::Id wire_id = UuidToWire(conversation_id);
  const auto body = wire::CreateLastMessageByRoleRequest(e.fbb(), &wire_id, role_name);
  return e.Finish(request_id, user_id, wire::RequestBody::LastMessageByRoleRequest, body);
}

std::string EncodeSetToolResults(uint64_t request_id, std::string_view user_id,
                                 const Uuid& message_id, std::string_view tool_results_json) {
  Encoder e;
  const auto results = e.Str(tool_results_json);
  const wire::Id wire_id = UuidToWire(message_id);
  const auto body = wire::CreateSetToolResultsRequest(e.fbb(), &wire_id, results);
  return e.Finish(request_id, user_id, wire::RequestBody::SetToolResultsRequest, body);
}

std::string EncodeGetTokenStats(uint64_t request_id, std::string_view user_id,
                                const Uuid& conversation_id) {
  Encoder e;
  const wire::Id wire_id = UuidToWire(conversation_id);
  const auto body = wire::CreateGetTokenStatsRequest(e.fbb(), &wire_id);
  return e.Finish(request_id, user_id, wire::RequestBody::GetTokenStatsRequest, body);
}

std::string EncodeDeleteMessages(uint64_t request_id, std::string_view user_id,
                                 const Uuid& conversation_id) {
  Encoder e;
  const wire::Id wire_id = UuidToWire(conversation_id);
  const auto body = wire::CreateDeleteMessagesRequest(e.fbb(), &wire_id);
  return e.Finish(request_id, user_id, wire::RequestBody::DeleteMessagesRequest, body);
}

std::string EncodeCountMessages(uint64_t request_id, std::string_view user_id,
                                const Uuid& conversation_id, const MessageQuery& filter,
                                bool exists_only) {
  Encoder e;
  const auto wire_filter = e.MessageFilter(filter);
  const wire::Id wire_id = UuidToWire(conversation_id);
  const auto body = wire::CreateCountMessagesRequest(e.fbb(), &wire_id, wire_filter, exists_only);
  return e.Finish(request_id, user_id, wire::RequestBody::CountMessagesRequest, body);
}

std::string EncodeUpdateMessage(uint64_t request_id, std::string_view user_id,
                                const Uuid& message_id, const MessageUpdate& update) {
  Encoder e;
  const auto role = e.OptStr(update.role);
  const auto content = e.OptStr(update.content);
  const auto parts = e.OptStr(update.parts);
  const auto tool_calls = e.OptStr(update.tool_calls);
  const auto tool_results = e.OptStr(update.tool_results);
  const auto attachments = e.OptStr(update.attachments);
  const auto metadata = e.OptStr(update.metadata);
  fb::Optional<int64_t> tokens = fb::nullopt;
  if (update.tokens_used) tokens = *update.tokens_used;
  const wire::Id wire_id = UuidToWire(message_id);
  const auto body = wire::CreateUpdateMessageRequest(e.fbb(), &wire_id, role, content, parts,
                                                     tool_calls, tool_results, attachments, tokens,
                                                     update.clear_tokens_used, metadata);
  return e.Finish(request_id, user_id, wire::RequestBody::UpdateMessageRequest, body);
}

std::string EncodeDeleteMessage(uint64_t request_id, std::string_view user_id,
                                const Uuid& message_id) {
  Encoder e;
  const wire::Id wire_id = UuidToWire(message_id);
  const auto body = wire::CreateDeleteMessageRequest(e.fbb(), &wire_id);
  return e.Finish(request_id, user_id, wire::RequestBody::DeleteMessageRequest, body);
}

std::string EncodeCreateDocument(uint64_t request_id, std::string_view user_id,
                                 const NewDocument& input) {
  Encoder e;
  const auto document = e.NewDocument(input);
  const auto body = wire::CreateCreateDocumentRequest(e.fbb(), document);
  return e.Finish(request_id, user_id, wire::RequestBody::CreateDocumentRequest, body);
}

std::string EncodeGetDocument(uint64_t request_id, std::string_view user_id, const Uuid& id,
                              bool include_deleted) {
  Encoder e;
  const wire::Id wire_id = UuidToWire(id);
  const auto body = wire::CreateGetDocumentRequest(e.fbb(), &wire_id, include_deleted);
  return e.Finish(request_id, user_id, wire::RequestBody::GetDocumentRequest, body);
}

std::string EncodeListDocuments(uint64_t request_id, std::string_view user_id,
                                const DocumentListOptions& options,
                                std::optional<std::string_view> filename_contains) {
  Encoder e;
  DocumentFilter filter = options.filter;
  if (filename_contains) filter.filename_contains = std::string(*filename_contains);
  const auto cursor = e.NonEmptyStr(options.cursor);
  const auto filename =
      e.OptStr(filter.filename_contains);  // also in its own field (older servers)
  const auto wire_filter = e.DocumentFilter(filter);
  const auto body = wire::CreateListDocumentsRequest(
      e.fbb(), options.skip, options.limit, cursor, options.include_deleted, filename, wire_filter);
  return e.Finish(request_id, user_id, wire::RequestBody::ListDocumentsRequest, body);
}

std::string EncodeCountDocuments(uint64_t request_id, std::string_view user_id) {
  Encoder e;
  const auto body = wire::CreateCountDocumentsRequest(e.fbb());
  return e.Finish(request_id, user_id, wire::RequestBody::CountDocumentsRequest, body);
}

std::string EncodeDeleteDocument(uint64_t request_id, std::string_view user_id, const Uuid& id,
                                 bool hard) {
  Encoder e;
  const wire::Id wire_id = UuidToWire(id);
  const auto body = wire::CreateDeleteDocumentRequest(e.fbb(), &wire_id, hard);
  return e.Finish(request_id, user_id, wire::RequestBody::DeleteDocumentRequest, body);
}

std::string EncodeRestoreDocument(uint64_t request_id, std::string_view user_id, const Uuid& id) {
  Encoder e;
  const wire::Id wire_id = UuidToWire(id);
  const auto body = wire::CreateRestoreDocumentRequest(e.fbb(), &wire_id);
  return e.Finish(request_id, user_id, wire::RequestBody::RestoreDocumentRequest, body);
}

std::string EncodeCountMatchingDocuments(uint64_t request_id, std::string_view user_id,
                                         const DocumentFilter& filter, bool include_deleted,
                                         bool exists_only) {
  Encoder e;
  const auto wire_filter = e.DocumentFilter(filter);
  const auto body =
      wire::CreateCountMatchingDocumentsRequest(e.fbb(), include_deleted, wire_filter, exists_only);
  return e.Finish(request_id, user_id, wire::RequestBody::CountMatchingDocumentsRequest, body);
}

std::string EncodeUpdateDocument(uint64_t request_id, std::string_view user_id, const Uuid& id,
                                 const DocumentUpdate& update) {
  Encoder e;
  const auto filename = e.OptStr(update.filename);
  const auto file_type = e.OptStr(update.file_type);
  const auto content = e.OptStr(update.content);
  const auto metadata = e.OptStr(update.metadata);
  const wire::Id wire_id = UuidToWire(id);
  const auto body =
      wire::CreateUpdateDocumentRequest(e.fbb(), &wire_id, filename, file_type, content, metadata);
  return e.Finish(request_id, user_id, wire::RequestBody::UpdateDocumentRequest, body);
}

std::string EncodeGetChunk(uint64_t request_id, std::string_view user_id, const Uuid& id,
                           bool include_deleted) {
  Encoder e;
  const wire::Id wire_id = UuidToWire(id);
  const auto body = wire::CreateGetChunkRequest(e.fbb(), &wire_id, include_deleted);
  return e.Finish(request_id, user_id, wire::RequestBody::GetChunkRequest, body);
}

std::string EncodeListChunks(uint64_t request_id, std::string_view user_id, const Uuid& document_id,
                             const ChunkListOptions& options) {
  Encoder e;
  const auto cursor = e.NonEmptyStr(options.cursor);
  const wire::Id wire_id = UuidToWire(document_id);
  const auto body = wire::CreateListChunksRequest(e.fbb(), &wire_id, options.skip, options.limit,
                                                  cursor, options.include_deleted);
  return e.Finish(request_id, user_id, wire::RequestBody::ListChunksRequest, body);
}

std::string EncodeDeleteChunk(uint64_t request_id, std::string_view user_id, const Uuid& id,
                              bool hard) {
  Encoder e;
  const wire::Id wire_id = UuidToWire(id);
  const auto body = wire::CreateDeleteChunkRequest(e.fbb(), &wire_id, hard);
  return e.Finish(request_id, user_id, wire::RequestBody::DeleteChunkRequest, body);
}

std::string EncodeRestoreChunk(uint64_t request_id, std::string_view user_id, const Uuid& id) {
  Encoder e;
  const wire::Id wire_id = UuidToWire(id);
  const auto body = wire::CreateRestoreChunkRequest(e.fbb(), &wire_id);
  return e.Finish(request_id, user_id, wire::RequestBody::RestoreChunkRequest, body);
}

std::string EncodeReplaceChunks(uint64_t request_id, std::string_view user_id,
                                const Uuid& document_id, const std::vector<NewChunk>& chunks,
                                const VectorViews& views) {
  Encoder e;
  const auto vector = e.Chunks(chunks, views);
  const wire::Id wire_id = UuidToWire(document_id);
  const auto body = wire::CreateReplaceChunksRequest(e.fbb(), &wire_id, vector);
  return e.Finish(request_id, user_id, wire::RequestBody::ReplaceChunksRequest, body);
}

std::string EncodeAddChunks(uint64_t request_id, std::string_view user_id,
                            const std::vector<NewChunk>& chunks, const VectorViews& views) {
  Encoder e;
  const auto vector = e.Chunks(chunks, views);
  const auto body = wire::CreateAddChunksRequest(e.fbb(), vector);
  return e.Finish(request_id, user_id, wire::RequestBody::AddChunksRequest, body);
}

std::string EncodeSearch(uint64_t request_id, std::string_view user_id,
                         const SearchRequest& request, const VectorViews& views) {
  Encoder e;
  const auto query = e.SearchQuery(request, VectorAt(views, 0, request.query));
  const auto body = wire::CreateSearchRequest(e.fbb(), query);
  return e.Finish(request_id, user_id, wire::RequestBody::SearchRequest, body);
}

std::string EncodeSearchBatch(uint64_t request_id, std::string_view user_id,
                              const std::vector<SearchRequest>& requests,
                              const VectorViews& views) {
  Encoder e;
  std::vector<Offset<wire::SearchQuery>> queries;
  queries.reserve(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    queries.push_back(e.SearchQuery(requests[i], VectorAt(views, i, requests[i].query)));
  }
  const auto vector = e.fbb().CreateVector(queries);
  const auto body = wire::CreateSearchBatchRequest(e.fbb(), vector);
  return e.Finish(request_id, user_id, wire::RequestBody::SearchBatchRequest, body);
}

std::string EncodeSearchText(uint64_t request_id, std::string_view user_id,
                             const TextSearchRequest& request) {
  Encoder e;
  const auto query = e.Str(request.query);
  const auto filters = e.SearchFilters(request.filters);
  const auto body = wire::CreateSearchTextRequest(e.fbb(), query, request.top_k, filters);
  return e.Finish(request_id, user_id, wire::RequestBody::SearchTextRequest, body);
}

std::string EncodeSearchHybrid(uint64_t request_id, std::string_view user_id,
                               const HybridSearchRequest& request, const VectorViews& views) {
  Encoder e;
  const auto body = e.SearchHybrid(request, VectorAt(views, 0, request.query_embedding));
  return e.Finish(request_id, user_id, wire::RequestBody::SearchHybridRequest, body);
}

std::string EncodeSearchMessages(uint64_t request_id, std::string_view user_id,
                                 const MessageSearchRequest& request, const VectorViews& views) {
  Encoder e;
  const std::span<const float> query_view = VectorAt(views, 0, request.query);
  // Absent without an embedding (a keyword search).
  Offset<fb::Vector<float>> query = 0;
  if (!query_view.empty()) query = e.fbb().CreateVector(query_view.data(), query_view.size());
  const auto filters = e.MessageSearchFilters(request.filters);
  fb::Optional<float> min_similarity = fb::nullopt;
  if (request.min_similarity) min_similarity = *request.min_similarity;
  fb::Optional<int64_t> ef = fb::nullopt;
  if (request.ef) ef = *request.ef;
  // Absent when unset; an empty text is sent (and refused by the server as blank).
  Offset<fb::String> text = 0;
  if (request.query_text) text = e.fbb().CreateString(*request.query_text);
  const auto body = wire::CreateSearchMessagesRequest(
      e.fbb(), query, request.top_k, min_similarity, filters, ef, text,
      FusionToWire(request.fusion), OptDouble(request.rrf_k), OptDouble(request.text_weight),
      OptScalar(request.candidates));
  return e.Finish(request_id, user_id, wire::RequestBody::SearchMessagesRequest, body);
}

std::string EncodeAssembleContext(uint64_t request_id, std::string_view user_id,
                                  const ContextRequest& request, const VectorViews& views) {
  Encoder e;
  const std::span<const float> embedding_view = VectorAt(views, 0, request.query_embedding);
  // Empty embedding and text are sent absent: "no vector / keyword leg".
  const auto embedding = embedding_view.empty()
                             ? Offset<fb::Vector<float>>()
                             : e.fbb().CreateVector(embedding_view.data(), embedding_view.size());
  const auto text = e.NonEmptyStr(request.query_text);
  const auto filters = e.SearchFilters(request.chunk_filters);
  const auto memory_filters = e.MessageSearchFilters(request.memory_filters);
  fb::Optional<float> min_similarity = fb::nullopt;
  if (request.min_similarity) min_similarity = *request.min_similarity;
  fb::Optional<int64_t> message_budget = fb::nullopt;
  if (request.message_budget) message_budget = *request.message_budget;
  const wire::Id conversation_id = UuidToWire(request.conversation_id);
  const auto body = wire::CreateAssembleContextRequest(
      e.fbb(), &conversation_id, request.token_budget, request.max_messages, embedding, text,
      request.k_chunks, filters, min_similarity, message_budget, request.k_memories,
      memory_filters);
  return e.Finish(request_id, user_id, wire::RequestBody::AssembleContextRequest, body);
}

std::string EncodeApplyBatch(uint64_t request_id, std::string_view user_id, const Batch& batch,
                             const VectorViews& views, const VectorViews& message_views) {
  Encoder e;
  size_t chunks = 0;    // add-chunk ops so far: the index into views
  size_t messages = 0;  // message ops so far: the index into message_views
  std::vector<Offset<wire::BatchOp>> ops;
  ops.reserve(batch.size());
  for (const Batch::Op& op : batch.ops()) {
    std::visit(
        [&](const auto& item) {
          using T = std::decay_t<decltype(item)>;
          if constexpr (std::is_same_v<T, Batch::CreateConversationOp>) {
            const auto input = e.NewConversation(item.conversation);
            ops.push_back(wire::CreateBatchOp(e.fbb(), input));
          } else if constexpr (std::is_same_v<T, Batch::UpsertConversationOp>) {
            const auto input = e.NewConversation(item.conversation);
            ops.push_back(wire::CreateBatchOp(e.fbb(), 0, input));
          } else if constexpr (std::is_same_v<T, Batch::AppendMessageOp>) {
            const auto input = e.NewMessage(
                item.message, VectorAt(message_views, messages++, item.message.embedding));
            ops.push_back(wire::CreateBatchOp(e.fbb(), 0, 0, input));
          } else if constexpr (std::is_same_v<T, Batch::UpsertMessageOp>) {
            const auto input = e.NewMessage(
                item.message, VectorAt(message_views, messages++, item.message.embedding));
            ops.push_back(wire::CreateBatchOp(e.fbb(), 0, 0, 0, input));
          } else if constexpr (std::is_same_v<T, Batch::CreateDocumentOp>) {
            const auto input = e.NewDocument(item.document);
            ops.push_back(wire::CreateBatchOp(e.fbb(), 0, 0, 0, 0, input));
          } else {
            static_assert(std::is_same_v<T, Batch::AddChunkOp>);
            const auto input =
                e.NewChunk(item.chunk, VectorAt(views, chunks++, item.chunk.embedding));
            ops.push_back(wire::CreateBatchOp(e.fbb(), 0, 0, 0, 0, 0, input));
          }
        },
        op);
  }
  const auto vector = e.fbb().CreateVector(ops);
  const auto body = wire::CreateApplyBatchRequest(e.fbb(), vector);
  return e.Finish(request_id, user_id, wire::RequestBody::ApplyBatchRequest, body);
}

std::string EncodeGetStats(uint64_t request_id) {
  Encoder e;
  const auto body = wire::CreateGetStatsRequest(e.fbb());
  return e.Finish(request_id, {}, wire::RequestBody::GetStatsRequest, body);
}

std::string EncodeListPartitions(uint64_t request_id) {
  Encoder e;
  const auto body = wire::CreateListPartitionsRequest(e.fbb());
  return e.Finish(request_id, {}, wire::RequestBody::ListPartitionsRequest, body);
}

std::string EncodeRebuildPartition(uint64_t request_id, std::string_view month) {
  Encoder e;
  const auto m = e.Str(month);
  const auto body = wire::CreateRebuildPartitionRequest(e.fbb(), m);
  return e.Finish(request_id, {}, wire::RequestBody::RebuildPartitionRequest, body);
}

std::string EncodeArchivePartition(uint64_t request_id, std::string_view month,
                                   std::string_view path) {
  Encoder e;
  const auto m = e.Str(month);
  const auto p = e.Str(path);
  const auto body = wire::CreateArchivePartitionRequest(e.fbb(), m, p);
  return e.Finish(request_id, {}, wire::RequestBody::ArchivePartitionRequest, body);
}

std::string EncodeDropPartition(uint64_t request_id, std::string_view month) {
  Encoder e;
  const auto m = e.Str(month);
  const auto body = wire::CreateDropPartitionRequest(e.fbb(), m);
  return e.Finish(request_id, {}, wire::RequestBody::DropPartitionRequest, body);
}

std::string EncodeAttachArchive(uint64_t request_id, std::string_view path) {
  Encoder e;
  const auto p = e.Str(path);
  const auto body = wire::CreateAttachArchiveRequest(e.fbb(), p);
  return e.Finish(request_id, {}, wire::RequestBody::AttachArchiveRequest, body);
}

std::string EncodeCreateBackup(uint64_t request_id, std::string_view path) {
  Encoder e;
  const auto p = e.Str(path);
  const auto body = wire::CreateCreateBackupRequest(e.fbb(), p);
  return e.Finish(request_id, {}, wire::RequestBody::CreateBackupRequest, body);
}

std::string EncodeOpenSnapshot(uint64_t request_id) {
  Encoder e;
  const auto body = wire::CreateOpenSnapshotRequest(e.fbb());
  return e.Finish(request_id, {}, wire::RequestBody::OpenSnapshotRequest, body);
}

std::string EncodeReadSnapshot(uint64_t request_id, std::string_view snapshot_id,
                               std::string_view path, uint64_t offset, uint32_t max_bytes) {
  Encoder e;
  const auto id = e.Str(snapshot_id);
  const auto p = e.Str(path);
  const auto body = wire::CreateReadSnapshotRequest(e.fbb(), id, p, offset, max_bytes);
  return e.Finish(request_id, {}, wire::RequestBody::ReadSnapshotRequest, body);
}

std::string EncodeCloseSnapshot(uint64_t request_id, std::string_view snapshot_id) {
  Encoder e;
  const auto id = e.Str(snapshot_id);
  const auto body = wire::CreateCloseSnapshotRequest(e.fbb(), id);
  return e.Finish(request_id, {}, wire::RequestBody::CloseSnapshotRequest, body);
}

std::string EncodeFollow(uint64_t request_id, uint64_t from, uint32_t max_records,
                         uint32_t max_bytes, std::string_view follower_id) {
  Encoder e;
  const auto follower = e.Str(follower_id);
  const auto body = wire::CreateFollowRequest(e.fbb(), from, max_records, max_bytes, follower);
  return e.Finish(request_id, {}, wire::RequestBody::FollowRequest, body);
}

std::string EncodeApplyRetention(uint64_t request_id,
                                 const std::optional<RetentionPolicy>& policy) {
  Encoder e;
  const auto dir = policy ? e.NonEmptyStr(policy->archive_dir) : Offset<fb::String>();
  const auto body = policy ? wire::CreateApplyRetentionRequest(e.fbb(), false, policy->keep_months,
                                                               dir, policy->purge_after_seconds)
                           : wire::CreateApplyRetentionRequest(e.fbb(), true);
  return e.Finish(request_id, {}, wire::RequestBody::ApplyRetentionRequest, body);
}

}  // namespace mnemo::client::internal
