// mnemo._native.enc: Python arguments -> Request payloads, through the C++ client's encoders
// (clients/cpp/src/codec.h), so the Python and C++ clients put the same bytes on the wire.
//
// Each function takes the request id, the user id and the operation's arguments as mnemo._ops
// passes them (ids as uuid.UUID or text, inputs as mnemo.inputs dataclasses, vector and hybrid
// search queries and context assemblies as mnemo._ops.SearchSpec / HybridSpec / ContextSpec) and
// returns a Request.  Wrong types raise mnemo.ValidationError naming the field.  Embeddings are
// read in place from the callers' buffers (VectorViews).
#include <pybind11/stl.h>

#include <string>
#include <utility>
#include <vector>

#include "codec.h"
#include "module.h"
#include "py_values.h"

namespace mnemo::python {
namespace {

using client::internal::VectorViews;
namespace codec = client::internal;

std::string Prefixed(const std::string& prefix, const char* field) {
  return prefix.empty() ? std::string(field) : prefix + "." + field;
}

client::NewConversation NewConversation(py::handle item, const std::string& prefix) {
  client::NewConversation out;
  out.title = Text(item.attr("title"), Prefixed(prefix, "title"));
  out.id = OptId(item.attr("id"), Prefixed(prefix, "id"));
  out.summary = OptText(item.attr("summary"), Prefixed(prefix, "summary"));
  out.model = OptText(item.attr("model"), Prefixed(prefix, "model"));
  out.system_prompt = Text(item.attr("system_prompt"), Prefixed(prefix, "system_prompt"));
  out.metadata = OptJson(item.attr("metadata"), Prefixed(prefix, "metadata"));
  return out;
}

// A message without its embedding, which is appended to `views` (read in place; an empty view
// when it has none).
client::NewMessage NewMessage(py::handle item, const std::string& prefix,
                              std::vector<FloatView>* held, VectorViews* views) {
  client::NewMessage out;
  out.conversation_id = Id(item.attr("conversation_id"), Prefixed(prefix, "conversation_id"));
  out.role = Text(item.attr("role"), Prefixed(prefix, "role"));
  out.content = Text(item.attr("content"), Prefixed(prefix, "content"));
  out.id = OptId(item.attr("id"), Prefixed(prefix, "id"));
  out.parts = OptJson(item.attr("parts"), Prefixed(prefix, "parts"));
  out.tool_calls = OptJson(item.attr("tool_calls"), Prefixed(prefix, "tool_calls"));
  out.tool_results = OptJson(item.attr("tool_results"), Prefixed(prefix, "tool_results"));
  out.attachments = OptJson(item.attr("attachments"), Prefixed(prefix, "attachments"));
  out.tokens_used = OptInt(item.attr("tokens_used"), Prefixed(prefix, "tokens_used"));
  out.metadata = OptJson(item.attr("metadata"), Prefixed(prefix, "metadata"));
  const py::object embedding = item.attr("embedding");
  if (embedding.is_none()) {
    views->emplace_back();
  } else {
    held->emplace_back(ToVectorBytes(embedding, Prefixed(prefix, "embedding")));
    views->push_back(held->back().floats());
  }
  return out;
}

client::NewDocument NewDocument(py::handle item, const std::string& prefix) {
  client::NewDocument out;
  out.filename = Text(item.attr("filename"), Prefixed(prefix, "filename"));
  out.file_type = Text(item.attr("file_type"), Prefixed(prefix, "file_type"));
  out.content = Text(item.attr("content"), Prefixed(prefix, "content"));
  out.id = OptId(item.attr("id"), Prefixed(prefix, "id"));
  out.metadata = OptJson(item.attr("metadata"), Prefixed(prefix, "metadata"));
  return out;
}

// A chunk without its embedding, which is appended to `views` (read in place).
client::NewChunk NewChunk(py::handle item, const std::string& prefix, std::vector<FloatView>* held,
                          VectorViews* views) {
  client::NewChunk out;
  out.chunk_text = Text(item.attr("chunk_text"), Prefixed(prefix, "chunk_text"));
  held->emplace_back(ToVectorBytes(item.attr("embedding"), Prefixed(prefix, "embedding")));
  views->push_back(held->back().floats());
  out.metadata = OptJson(item.attr("metadata"), Prefixed(prefix, "metadata"));
  out.id = OptId(item.attr("id"), Prefixed(prefix, "id"));
  out.document_id = Id(item.attr("document_id"), Prefixed(prefix, "document_id"));
  out.chunk_index = Int(item.attr("chunk_index"), Prefixed(prefix, "chunk_index"));
  out.created_at = OptMicros(item.attr("created_at"), Prefixed(prefix, "created_at"));
  return out;
}

// {key: JSON value} as metadata conditions; `field` names the mapping in errors.
std::vector<client::MetadataEquals> MetadataEquals(py::handle values, const std::string& field) {
  std::vector<client::MetadataEquals> out;
  if (values.is_none() || PyObject_Not(values.ptr()) == 1) return out;
  if (!py::hasattr(values, "items"))
    RaiseValidation("must be a mapping of metadata keys to values", field);
  for (py::handle pair : py::iter(values.attr("items")())) {
    const py::tuple key_value = py::reinterpret_borrow<py::tuple>(pair);
    out.push_back({Text(key_value[0], field), Json(key_value[1], field)});
  }
  return out;
}

// A mnemo.ConversationFilter (None: no condition).
client::ConversationFilter ConversationFilter(py::handle filter) {
  client::ConversationFilter out;
  if (filter.is_none()) return out;
  out.created_from = OptMicros(filter.attr("created_from"), "filter.created_from");
  out.created_until = OptMicros(filter.attr("created_until"), "filter.created_until");
  out.updated_from = OptMicros(filter.attr("updated_from"), "filter.updated_from");
  out.updated_until = OptMicros(filter.attr("updated_until"), "filter.updated_until");
  out.model = OptText(filter.attr("model"), "filter.model");
  out.title_contains = OptText(filter.attr("title_contains"), "filter.title_contains");
  out.metadata_equals = MetadataEquals(filter.attr("metadata_equals"), "filter.metadata_equals");
  return out;
}

// A role name as the wire's Role; `field` names it in errors.
client::Role RoleOf(py::handle role, const std::string& field) {
  const auto parsed = client::ParseRole(Text(role, field));
  if (!parsed) RaiseValidation("must be one of user, assistant, system, tool", field);
  return *parsed;
}

// Sets the conditions of a mnemo.MessageFilter (None: none) on `query`; its role and
// only_with_tool_calls win over the query's when set.
void ApplyMessageFilter(py::handle filter, client::MessageQuery* query) {
  if (filter.is_none()) return;
  if (const py::object role = filter.attr("role"); !role.is_none())
    query->role = RoleOf(role, "filter.role");
  if (PyObject_IsTrue(filter.attr("only_with_tool_calls").ptr()) == 1)
    query->only_with_tool_calls = true;
  query->created_from = OptMicros(filter.attr("created_from"), "filter.created_from");
  query->created_until = OptMicros(filter.attr("created_until"), "filter.created_until");
  query->metadata_equals = MetadataEquals(filter.attr("metadata_equals"), "filter.metadata_equals");
}

// A list of file types (not a single string); `field` names it in errors.
std::vector<std::string> FileTypes(py::handle values, const std::string& field) {
  std::vector<std::string> out;
  if (values.is_none()) return out;
  if (PyUnicode_Check(values.ptr())) RaiseValidation("must be a list of file types", field);
  for (py::handle type : py::iter(values)) out.push_back(Text(type, field));
  return out;
}

// A mnemo.DocumentFilter (None: no condition).
client::DocumentFilter DocumentFilter(py::handle filter) {
  client::DocumentFilter out;
  if (filter.is_none()) return out;
  out.created_from = OptMicros(filter.attr("created_from"), "filter.created_from");
  out.created_until = OptMicros(filter.attr("created_until"), "filter.created_until");
  out.file_types = FileTypes(filter.attr("file_types"), "filter.file_types");
  out.filename_contains = OptText(filter.attr("filename_contains"), "filter.filename_contains");
  out.metadata_equals = MetadataEquals(filter.attr("metadata_equals"), "filter.metadata_equals");
  return out;
}

// A field of update_message: None leaves it (nullopt), mnemo.CLEAR sets it to null ("null").
std::optional<std::string> UpdateJson(py::handle value, py::handle clear,
                                      const std::string& field) {
  if (value.is(clear)) return std::string("null");
  return OptJson(value, field);
}

// The chunks of a write; their embeddings go to `views` (read in place).
std::vector<client::NewChunk> NewChunks(py::list items, std::vector<FloatView>* held,
                                        VectorViews* views) {
  held->reserve(items.size());
  std::vector<client::NewChunk> chunks;
  chunks.reserve(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    chunks.push_back(NewChunk(items[i], "chunks[" + std::to_string(i) + "]", held, views));
  }
  return chunks;
}

client::SearchFilters Filters(py::handle filters) {
  client::SearchFilters out;
  if (filters.is_none() || filters.attr("is_empty")().cast<bool>()) return out;
  const py::handle document_ids = filters.attr("document_ids");
  for (py::handle id : py::iter(document_ids))
    out.document_ids.push_back(Id(id, "filters.document_ids"));
  out.file_types = FileTypes(filters.attr("file_types"), "filters.file_types");
  out.created_from = OptMicros(filters.attr("created_from"), "filters.created_from");
  out.created_until = OptMicros(filters.attr("created_until"), "filters.created_until");
  out.metadata_equals = MetadataEquals(filters.attr("metadata_equals"), "filters.metadata_equals");
  return out;
}

// A validated mnemo._ops.SearchSpec; its vector goes to `views`.
client::SearchRequest Search(py::handle spec, std::vector<FloatView>* held, VectorViews* views) {
  client::SearchRequest out;
  held->emplace_back(spec.attr("vector"));
  views->push_back(held->back().floats());
  out.top_k = spec.attr("top_k").cast<int64_t>();
  const py::object min_similarity = spec.attr("min_similarity");
  if (!min_similarity.is_none()) out.min_similarity = min_similarity.cast<float>();
  out.filters = Filters(spec.attr("filters"));
  const py::object ef = spec.attr("ef");
  if (!ef.is_none()) out.ef = ef.cast<int64_t>();
  return out;
}

// A validated mnemo._ops.HybridSpec; its embedding goes to `views`.
client::HybridSearchRequest Hybrid(py::handle spec, std::vector<FloatView>* held,
                                   VectorViews* views) {
  client::HybridSearchRequest out;
  out.query_text = Text(spec.attr("query_text"), "query_text");
  held->emplace_back(spec.attr("vector"));
  views->push_back(held->back().floats());
  out.top_k = spec.attr("top_k").cast<int64_t>();
  out.filters = Filters(spec.attr("filters"));
  out.fusion = static_cast<client::Fusion>(spec.attr("fusion").cast<uint8_t>());
  const auto opt_double = [&](const char* name) -> std::optional<double> {
    const py::object value = spec.attr(name);
    if (value.is_none()) return std::nullopt;
    return value.cast<double>();
  };
  out.rrf_k = opt_double("rrf_k");
  out.text_weight = opt_double("text_weight");
  if (const auto min_similarity = opt_double("min_similarity"))
    out.min_similarity = static_cast<float>(*min_similarity);
  const py::object candidates = spec.attr("candidates");
  if (!candidates.is_none()) out.candidates = candidates.cast<int64_t>();
  const py::object ef = spec.attr("ef");
  if (!ef.is_none()) out.ef = ef.cast<int64_t>();
  return out;
}

// A mnemo.MessageSearchFilters (None: no condition); its role names were checked by mnemo._ops
// and are checked again by the server.
client::MessageSearchFilters MessageFilters(py::handle filters, const std::string& field) {
  client::MessageSearchFilters out;
  if (filters.is_none()) return out;
  for (py::handle id : py::iter(filters.attr("conversation_ids")))
    out.conversation_ids.push_back(Id(id, field + ".conversation_ids"));
  for (py::handle role : py::iter(filters.attr("roles")))
    out.roles.push_back(Text(role, field + ".roles"));
  out.created_from = OptMicros(filters.attr("created_from"), field + ".created_from");
  out.created_until = OptMicros(filters.attr("created_until"), field + ".created_until");
  return out;
}

// A validated mnemo._ops.ContextSpec; its embedding, when there is one, goes to `views`.
// A validated mnemo._ops.MessageSearchSpec; its embedding, when it has one, goes to `views`.
client::MessageSearchRequest MessageSearch(py::handle spec, std::vector<FloatView>* held,
                                           VectorViews* views) {
  client::MessageSearchRequest out;
  const py::object vector = spec.attr("vector");
  if (!vector.is_none()) {
    held->emplace_back(vector);
    views->push_back(held->back().floats());
  }
  const py::object text = spec.attr("query_text");
  if (!text.is_none()) out.query_text = Text(text, "query_text");
  out.top_k = spec.attr("top_k").cast<int64_t>();
  const py::object min_similarity = spec.attr("min_similarity");
  if (!min_similarity.is_none()) out.min_similarity = min_similarity.cast<float>();
  out.filters = MessageFilters(spec.attr("filters"), "filters");
  const py::object ef = spec.attr("ef");
  if (!ef.is_none()) out.ef = ef.cast<int64_t>();
  out.fusion = static_cast<client::Fusion>(spec.attr("fusion").cast<uint8_t>());
  const py::object rrf_k = spec.attr("rrf_k");
  if (!rrf_k.is_none()) out.rrf_k = rrf_k.cast<double>();
  const py::object text_weight = spec.attr("text_weight");
  if (!text_weight.is_none()) out.text_weight = text_weight.cast<double>();
  const py::object candidates = spec.attr("candidates");
  if (!candidates.is_none()) out.candidates = candidates.cast<int64_t>();
  return out;
}

client::ContextRequest Context(py::handle spec, std::vector<FloatView>* held, VectorViews* views) {
  client::ContextRequest out;
  out.conversation_id = Id(spec.attr("conversation_id"), "conversation_id");
  out.token_budget = spec.attr("token_budget").cast<int64_t>();
  out.max_messages = spec.attr("max_messages").cast<int64_t>();
  const py::object vector = spec.attr("vector");
  if (!vector.is_none()) {
    held->emplace_back(vector);
    views->push_back(held->back().floats());
  }
  out.query_text = Text(spec.attr("query_text"), "query_text");
  out.k_chunks = spec.attr("k_chunks").cast<int64_t>();
  out.chunk_filters = Filters(spec.attr("filters"));
  const py::object min_similarity = spec.attr("min_similarity");
  if (!min_similarity.is_none()) out.min_similarity = min_similarity.cast<float>();
  const py::object message_budget = spec.attr("message_budget");
  if (!message_budget.is_none()) out.message_budget = message_budget.cast<int64_t>();
  out.k_memories = spec.attr("k_memories").cast<int64_t>();
  out.memory_filters = MessageFilters(spec.attr("memory_filters"), "memory_filters");
  return out;
}

std::optional<std::string_view> OptView(const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  return std::string_view(*text);
}

// One request id and user id, then the operation's arguments.
using Rid = uint64_t;

}  // namespace

void DefineEncoders(py::module_& enc) {
  enc.def("hello", [](Rid rid, uint32_t protocol_version, const std::string& api_key,
                      const std::string& client_name) {
    return Request{rid, codec::EncodeHello(rid, protocol_version, api_key, client_name)};
  });
  enc.def("create_conversation",
          [](Rid rid, const std::string& user, py::handle item, bool upsert) {
            const client::NewConversation input = NewConversation(item, "");
            return Request{rid, upsert ? codec::EncodeUpsertConversation(rid, user, input)
                                       : codec::EncodeCreateConversation(rid, user, input)};
          });
  enc.def("get_conversation",
          [](Rid rid, const std::string& user, py::handle id, bool include_deleted) {
            return Request{rid, codec::EncodeGetConversation(rid, user, Id(id, "conversation_id"),
                                                             include_deleted)};
          });
  enc.def(
      "list_conversations",
      [](Rid rid, const std::string& user, bool by_updated, py::handle skip, py::handle limit,
         py::handle cursor, bool include_deleted, py::handle title_contains, py::handle filter) {
        client::ConversationListOptions options;
        options.filter = ConversationFilter(filter);
        options.order = by_updated ? client::ConversationOrder::kUpdatedDesc
                                   : client::ConversationOrder::kCreatedDesc;
        options.skip = Int(skip, "skip");
        options.limit = Int(limit, "limit");
        options.cursor = OptText(cursor, "cursor").value_or("");
        options.include_deleted = include_deleted;
        const auto title = OptText(title_contains, "search_term");
        return Request{rid, codec::EncodeListConversations(rid, user, options, OptView(title))};
      });
  enc.def("get_user_stats", [](Rid rid, const std::string& user) {
    return Request{rid, codec::EncodeGetUserStats(rid, user)};
  });
  enc.def("update_conversation",
          [](Rid rid, const std::string& user, py::handle id, py::handle title, py::handle summary,
             py::handle model, py::handle system_prompt, py::handle metadata) {
            client::ConversationUpdate update;
            update.title = OptText(title, "title");
            update.summary = OptText(summary, "summary");
            update.model = OptText(model, "model");
            update.system_prompt = OptText(system_prompt, "system_prompt");
            update.metadata = OptJson(metadata, "metadata");
            return Request{
                rid, codec::EncodeUpdateConversation(rid, user, Id(id, "conversation_id"), update)};
          });
  enc.def("delete_conversation", [](Rid rid, const std::string& user, py::handle id, bool hard) {
    return Request{rid,
                   codec::EncodeDeleteConversation(rid, user, Id(id, "conversation_id"), hard)};
  });
  enc.def("restore_conversation", [](Rid rid, const std::string& user, py::handle id) {
    return Request{rid, codec::EncodeRestoreConversation(rid, user, Id(id, "conversation_id"))};
  });

  enc.def("append_message", [](Rid rid, const std::string& user, py::handle item, bool upsert) {
    std::vector<FloatView> held;
    VectorViews views;
    const client::NewMessage input = NewMessage(item, "", &held, &views);
    return Request{rid, upsert ? codec::EncodeUpsertMessage(rid, user, input, views)
                               : codec::EncodeAppendMessage(rid, user, input, views)};
  });
  enc.def("get_message", [](Rid rid, const std::string& user, py::handle id) {
    return Request{rid, codec::EncodeGetMessage(rid, user, Id(id, "message_id"))};
  });
  enc.def("list_messages", [](Rid rid, const std::string& user, py::handle conversation_id,
                              bool descending, py::handle skip, py::handle limit, py::handle cursor,
                              py::handle role, bool only_with_tool_calls, py::handle filter) {
    client::MessageQuery query;
    query.order = descending ? client::SortOrder::kDescending : client::SortOrder::kAscending;
    query.skip = Int(skip, "skip");
    query.limit = Int(limit, "limit");
    query.cursor = OptText(cursor, "cursor").value_or("");
    if (!role.is_none()) query.role = RoleOf(role, "role");
    query.only_with_tool_calls = only_with_tool_calls;
    ApplyMessageFilter(filter, &query);
    return Request{
        rid, codec::EncodeListMessages(rid, user, Id(conversation_id, "conversation_id"), query)};
  });
  enc.def("last_messages", [](Rid rid, const std::string& user, py::handle conversation_id,
                              py::handle count) {
    return Request{rid, codec::EncodeLastMessages(rid, user, Id(conversation_id, "conversation_id"),
                                                  Int(count, "count"))};
  });
  enc.def("last_message_by_role",
          [](Rid rid, const std::string& user, py::handle conversation_id, py::handle role) {
            return Request{
                rid, codec::EncodeLastMessageByRole(
                         rid, user, Id(conversation_id, "conversation_id"), RoleOf(role, "role"))};
          });
  enc.def("set_tool_results",
          [](Rid rid, const std::string& user, py::handle message_id, py::handle results) {
            return Request{rid, codec::EncodeSetToolResults(rid, user, Id(message_id, "message_id"),
                                                            Json(results, "tool_results"))};
          });
  enc.def("get_token_stats", [](Rid rid, const std::string& user, py::handle conversation_id) {
    return Request{rid,
                   codec::EncodeGetTokenStats(rid, user, Id(conversation_id, "conversation_id"))};
  });
  enc.def("delete_messages", [](Rid rid, const std::string& user, py::handle conversation_id) {
    return Request{rid,
                   codec::EncodeDeleteMessages(rid, user, Id(conversation_id, "conversation_id"))};
  });

  enc.def("create_document", [](Rid rid, const std::string& user, py::handle item) {
    return Request{rid, codec::EncodeCreateDocument(rid, user, NewDocument(item, ""))};
  });
  enc.def("get_document",
          [](Rid rid, const std::string& user, py::handle id, bool include_deleted) {
            return Request{
                rid, codec::EncodeGetDocument(rid, user, Id(id, "document_id"), include_deleted)};
          });
  enc.def("list_documents",
          [](Rid rid, const std::string& user, py::handle skip, py::handle limit, py::handle cursor,
             bool include_deleted, py::handle filename_contains, py::handle filter) {
            client::DocumentListOptions options;
            options.filter = DocumentFilter(filter);
            options.skip = Int(skip, "skip");
            options.limit = Int(limit, "limit");
            options.cursor = OptText(cursor, "cursor").value_or("");
            options.include_deleted = include_deleted;
            const auto filename = OptText(filename_contains, "search_term");
            return Request{rid, codec::EncodeListDocuments(rid, user, options, OptView(filename))};
          });
  enc.def("count_documents", [](Rid rid, const std::string& user) {
    return Request{rid, codec::EncodeCountDocuments(rid, user)};
  });
  enc.def("delete_document", [](Rid rid, const std::string& user, py::handle id, bool hard) {
    return Request{rid, codec::EncodeDeleteDocument(rid, user, Id(id, "document_id"), hard)};
  });
  enc.def("restore_document", [](Rid rid, const std::string& user, py::handle id) {
    return Request{rid, codec::EncodeRestoreDocument(rid, user, Id(id, "document_id"))};
  });

  enc.def("add_chunks", [](Rid rid, const std::string& user, py::list items) {
    std::vector<FloatView> held;
    VectorViews views;
    const std::vector<client::NewChunk> chunks = NewChunks(items, &held, &views);
    return Request{rid, codec::EncodeAddChunks(rid, user, chunks, views)};
  });
  enc.def("count_conversations", [](Rid rid, const std::string& user, py::handle filter,
                                    bool include_deleted, bool exists_only) {
    return Request{rid, codec::EncodeCountConversations(rid, user, ConversationFilter(filter),
                                                        include_deleted, exists_only)};
  });
  enc.def("count_messages", [](Rid rid, const std::string& user, py::handle conversation_id,
                               py::handle filter, bool exists_only) {
    client::MessageQuery query;
    ApplyMessageFilter(filter, &query);
    return Request{rid, codec::EncodeCountMessages(
                            rid, user, Id(conversation_id, "conversation_id"), query, exists_only)};
  });
  // Fields passed None are left unchanged; `clear` (mnemo.CLEAR) sets a JSON field or
  // tokens_used to null.
  enc.def("update_message", [](Rid rid, const std::string& user, py::handle id, py::handle role,
                               py::handle content, py::handle parts, py::handle tool_calls,
                               py::handle tool_results, py::handle attachments,
                               py::handle tokens_used, py::handle metadata, py::handle clear) {
    client::MessageUpdate update;
    if (!role.is_none()) update.role = std::string(client::RoleName(RoleOf(role, "role")));
    update.content = OptText(content, "content");
    update.parts = UpdateJson(parts, clear, "parts");
    update.tool_calls = UpdateJson(tool_calls, clear, "tool_calls");
    update.tool_results = UpdateJson(tool_results, clear, "tool_results");
    update.attachments = UpdateJson(attachments, clear, "attachments");
    if (tokens_used.is(clear)) {
      update.clear_tokens_used = true;
    } else {
      update.tokens_used = OptInt(tokens_used, "tokens_used");
    }
    update.metadata = OptJson(metadata, "metadata");
    return Request{rid, codec::EncodeUpdateMessage(rid, user, Id(id, "message_id"), update)};
  });
  enc.def("delete_message", [](Rid rid, const std::string& user, py::handle id) {
    return Request{rid, codec::EncodeDeleteMessage(rid, user, Id(id, "message_id"))};
  });
  enc.def("count_matching_documents", [](Rid rid, const std::string& user, py::handle filter,
                                         bool include_deleted, bool exists_only) {
    return Request{rid, codec::EncodeCountMatchingDocuments(rid, user, DocumentFilter(filter),
                                                            include_deleted, exists_only)};
  });
  enc.def(
      "update_document", [](Rid rid, const std::string& user, py::handle id, py::handle filename,
                            py::handle file_type, py::handle content, py::handle metadata) {
        client::DocumentUpdate update;
        update.filename = OptText(filename, "filename");
        update.file_type = OptText(file_type, "file_type");
        update.content = OptText(content, "content");
        update.metadata = OptJson(metadata, "metadata");
        return Request{rid, codec::EncodeUpdateDocument(rid, user, Id(id, "document_id"), update)};
      });
  enc.def("replace_chunks",
          [](Rid rid, const std::string& user, py::handle document_id, py::list items) {
            std::vector<FloatView> held;
            VectorViews views;
            const std::vector<client::NewChunk> chunks = NewChunks(items, &held, &views);
            return Request{rid, codec::EncodeReplaceChunks(
                                    rid, user, Id(document_id, "document_id"), chunks, views)};
          });
  enc.def("get_chunk", [](Rid rid, const std::string& user, py::handle id, bool include_deleted) {
    return Request{rid, codec::EncodeGetChunk(rid, user, Id(id, "chunk_id"), include_deleted)};
  });
  enc.def("list_chunks",
          [](Rid rid, const std::string& user, py::handle document_id, py::handle skip,
             py::handle limit, py::handle cursor, bool include_deleted) {
            client::ChunkListOptions options;
            options.skip = Int(skip, "skip");
            options.limit = Int(limit, "limit");
            options.cursor = OptText(cursor, "cursor").value_or("");
            options.include_deleted = include_deleted;
            return Request{
                rid, codec::EncodeListChunks(rid, user, Id(document_id, "document_id"), options)};
          });
  enc.def("delete_chunk", [](Rid rid, const std::string& user, py::handle id, bool hard) {
    return Request{rid, codec::EncodeDeleteChunk(rid, user, Id(id, "chunk_id"), hard)};
  });
  enc.def("restore_chunk", [](Rid rid, const std::string& user, py::handle id) {
    return Request{rid, codec::EncodeRestoreChunk(rid, user, Id(id, "chunk_id"))};
  });
  enc.def("search", [](Rid rid, const std::string& user, py::handle spec) {
    std::vector<FloatView> held;
    VectorViews views;
    const client::SearchRequest request = Search(spec, &held, &views);
    return Request{rid, codec::EncodeSearch(rid, user, request, views)};
  });
  enc.def("search_batch", [](Rid rid, const std::string& user, py::list specs) {
    std::vector<FloatView> held;
    held.reserve(specs.size());
    VectorViews views;
    std::vector<client::SearchRequest> requests;
    for (py::handle spec : specs) requests.push_back(Search(spec, &held, &views));
    return Request{rid, codec::EncodeSearchBatch(rid, user, requests, views)};
  });
  enc.def("search_text", [](Rid rid, const std::string& user, py::handle query, py::handle top_k,
                            py::handle filters) {
    client::TextSearchRequest request;
    request.query = Text(query, "query");
    request.top_k = Int(top_k, "top_k");
    request.filters = Filters(filters);
    return Request{rid, codec::EncodeSearchText(rid, user, request)};
  });
  enc.def("search_hybrid", [](Rid rid, const std::string& user, py::handle spec) {
    std::vector<FloatView> held;
    VectorViews views;
    const client::HybridSearchRequest request = Hybrid(spec, &held, &views);
    return Request{rid, codec::EncodeSearchHybrid(rid, user, request, views)};
  });
  enc.def("search_messages", [](Rid rid, const std::string& user, py::handle spec) {
    std::vector<FloatView> held;
    VectorViews views;
    const client::MessageSearchRequest request = MessageSearch(spec, &held, &views);
    return Request{rid, codec::EncodeSearchMessages(rid, user, request, views)};
  });
  enc.def("assemble_context", [](Rid rid, const std::string& user, py::handle spec) {
    std::vector<FloatView> held;
    VectorViews views;
    const client::ContextRequest request = Context(spec, &held, &views);
    return Request{rid, codec::EncodeAssembleContext(rid, user, request, views)};
  });
  enc.def("apply_batch", [](Rid rid, const std::string& user, py::list ops) {
    std::vector<FloatView> held;
    held.reserve(ops.size());
    VectorViews views;          // the add-chunk ops' embeddings
    VectorViews message_views;  // the message ops' embeddings (empty: none)
    client::Batch batch;
    for (size_t i = 0; i < ops.size(); ++i) {
      const py::tuple op = py::reinterpret_borrow<py::tuple>(ops[i]);
      const std::string kind = op[0].cast<std::string>();
      const py::handle item = op[1];
      const std::string prefix = "ops[" + std::to_string(i) + "]";
      if (kind == "create_conversation") {
        batch.CreateConversation(NewConversation(item, prefix));
      } else if (kind == "upsert_conversation") {
        batch.UpsertConversation(NewConversation(item, prefix));
      } else if (kind == "append_message") {
        batch.AppendMessage(NewMessage(item, prefix, &held, &message_views));
      } else if (kind == "upsert_message") {
        batch.UpsertMessage(NewMessage(item, prefix, &held, &message_views));
      } else if (kind == "create_document") {
        batch.CreateDocument(NewDocument(item, prefix));
      } else if (kind == "add_chunk") {
        batch.AddChunk(NewChunk(item, prefix, &held, &views));
      } else {
        RaiseValidation("unknown batch op " + kind, prefix);
      }
    }
    return Request{rid, codec::EncodeApplyBatch(rid, user, batch, views, message_views)};
  });

  enc.def("get_stats", [](Rid rid) { return Request{rid, codec::EncodeGetStats(rid)}; });
  enc.def("list_partitions", [](Rid rid) {
    return Request{rid, codec::EncodeListPartitions(rid)};
  });
  enc.def("rebuild_partition", [](Rid rid, py::handle month) {
    return Request{rid, codec::EncodeRebuildPartition(rid, Text(month, "month"))};
  });
  enc.def("archive_partition", [](Rid rid, py::handle month, py::handle path) {
    return Request{rid,
                   codec::EncodeArchivePartition(rid, Text(month, "month"), Text(path, "path"))};
  });
  enc.def("drop_partition", [](Rid rid, py::handle month) {
    return Request{rid, codec::EncodeDropPartition(rid, Text(month, "month"))};
  });
  enc.def("attach_archive", [](Rid rid, py::handle path) {
    return Request{rid, codec::EncodeAttachArchive(rid, Text(path, "path"))};
  });
  enc.def("create_backup", [](Rid rid, py::handle path) {
    return Request{rid, codec::EncodeCreateBackup(rid, Text(path, "path"))};
  });
  // All None: the server's configured policy; otherwise this one (parts left None are off).
  enc.def("apply_retention", [](Rid rid, py::handle keep_months, py::handle archive_dir,
                                py::handle purge_after_seconds) {
    if (keep_months.is_none() && archive_dir.is_none() && purge_after_seconds.is_none()) {
      return Request{rid, codec::EncodeApplyRetention(rid, std::nullopt)};
    }
    client::RetentionPolicy policy;
    policy.keep_months = static_cast<int32_t>(OptInt(keep_months, "keep_months").value_or(0));
    policy.archive_dir = OptText(archive_dir, "archive_dir").value_or("");
    policy.purge_after_seconds = OptInt(purge_after_seconds, "purge_after").value_or(0);
    return Request{rid, codec::EncodeApplyRetention(rid, policy)};
  });
}

}  // namespace mnemo::python
