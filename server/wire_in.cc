#include "server/wire_in.h"

#include "protocol/wire_codes.h"

namespace mnemo::server {
namespace {

Status Missing(const char* field) {
  return Status::ValidationError(field, std::string(field) + " is required");
}

std::vector<float> FloatsOf(const flatbuffers::Vector<float>* values) {
  if (values == nullptr) return {};
  // The wire's little-endian floats are this host's: one copy, no per-element decoding.
  static_assert(FLATBUFFERS_LITTLEENDIAN, "decode floats element by element on big-endian hosts");
  return std::vector<float>(values->data(), values->data() + values->size());
}

}  // namespace

Uuid FromWireId(const wire::Id& id) { return protocol::FromWire(id); }

Result<Uuid> RequireId(const wire::Id* id, const char* field) {
  if (id == nullptr) return Missing(field);
  return FromWireId(*id);
}

std::optional<Uuid> OptionalId(const wire::Id* id) {
  if (id == nullptr) return std::nullopt;
  return FromWireId(*id);
}

std::string StringOf(const flatbuffers::String* text) { return text ? text->str() : std::string(); }

std::optional<std::string> OptionalString(const flatbuffers::String* text) {
  if (text == nullptr) return std::nullopt;
  return text->str();
}

Result<Role> RoleFromString(const std::string& name) {
  auto role = ParseRole(name);
  if (!role)
    return Status::ValidationError("role", "role must be one of user, assistant, system, tool");
  return *role;
}

Result<NewConversation> FromWire(const wire::NewConversation* input, const char* field) {
  if (input == nullptr) return Missing(field);
  NewConversation out;
  out.id = OptionalId(input->id());
  out.title = StringOf(input->title());
  out.summary = OptionalString(input->summary());
  out.model = OptionalString(input->model());
  out.system_prompt = StringOf(input->system_prompt());
  out.metadata = OptionalString(input->metadata());
  return out;
}

Result<NewMessage> FromWire(const wire::NewMessage* input, const char* field) {
  if (input == nullptr) return Missing(field);
  NewMessage out;
  out.id = OptionalId(input->id());
  MNEMO_ASSIGN_OR_RETURN(out.conversation_id,
                         RequireId(input->conversation_id(), "conversation_id"));
  out.role = StringOf(input->role());
  out.content = StringOf(input->content());
  out.parts = OptionalString(input->parts());
  out.tool_calls = OptionalString(input->tool_calls());
  out.tool_results = OptionalString(input->tool_results());
  out.attachments = OptionalString(input->attachments());
  out.tokens_used = input->tokens_used();
  out.metadata = OptionalString(input->metadata());
  out.embedding = FloatsOf(input->embedding());
  return out;
}

Result<NewDocument> FromWire(const wire::NewDocument* input, const char* field) {
  if (input == nullptr) return Missing(field);
  NewDocument out;
  out.id = OptionalId(input->id());
  out.filename = StringOf(input->filename());
  out.file_type = StringOf(input->file_type());
  out.content = StringOf(input->content());
  out.metadata = OptionalString(input->metadata());
  return out;
}

Result<NewChunk> FromWire(const wire::NewChunk* input, const char* field) {
  if (input == nullptr) return Missing(field);
  NewChunk out;
  out.id = OptionalId(input->id());
  MNEMO_ASSIGN_OR_RETURN(out.document_id, RequireId(input->document_id(), "document_id"));
  out.chunk_index = input->chunk_index();
  out.chunk_text = StringOf(input->chunk_text());
  out.embedding = FloatsOf(input->embedding());
  out.metadata = OptionalString(input->metadata());
  out.created_at = input->created_at();
  return out;
}

Result<SearchRequest> FromWire(const wire::SearchQuery* input, const char* field) {
  if (input == nullptr) return Missing(field);
  SearchRequest out;
  out.query = FloatsOf(input->query());
  out.top_k = input->top_k();
  out.min_similarity = input->min_similarity();
  out.ef = input->ef();
  MNEMO_ASSIGN_OR_RETURN(out.filters, FiltersFromWire(input->filters()));
  return out;
}

Result<MetadataEquals> MetadataFromWire(
    const flatbuffers::Vector<flatbuffers::Offset<wire::MetadataEquals>>* items,
    const char* field) {
  MetadataEquals out;
  if (items == nullptr) return out;
  for (const wire::MetadataEquals* pair : *items) {
    if (pair == nullptr || pair->key() == nullptr || pair->value() == nullptr) {
      return Status::ValidationError(field, std::string(field) + " entries need a key and a value");
    }
    out.emplace_back(pair->key()->str(), pair->value()->str());
  }
  return out;
}

Result<ConversationFilter> FromWire(const wire::ConversationFilter* input) {
  ConversationFilter out;
  if (input == nullptr) return out;
  out.created_from = input->created_from();
  out.created_until = input->created_until();
  out.updated_from = input->updated_from();
  out.updated_until = input->updated_until();
  out.model = OptionalString(input->model());
  out.title_contains = OptionalString(input->title_contains());
  MNEMO_ASSIGN_OR_RETURN(out.metadata_equals,
                         MetadataFromWire(input->metadata_equals(), "metadata_equals"));
  return out;
}

Result<DocumentFilter> FromWire(const wire::DocumentFilter* input) {
  DocumentFilter out;
  if (input == nullptr) return out;
  out.created_from = input->created_from();
  out.created_until = input->created_until();
  if (input->file_types() != nullptr) {
    for (const flatbuffers::String* type : *input->file_types())
      out.file_types.push_back(StringOf(type));
  }
  out.filename_contains = OptionalString(input->filename_contains());
  MNEMO_ASSIGN_OR_RETURN(out.metadata_equals,
                         MetadataFromWire(input->metadata_equals(), "metadata_equals"));
  return out;
}

Status ApplyFilter(const wire::MessageFilter* input, MessageQuery* query) {
  if (input == nullptr) return Status::Ok();
  if (input->role() != nullptr) {
    MNEMO_ASSIGN_OR_RETURN(query->role, RoleFromString(input->role()->str()));
  }
  query->only_with_tool_calls = query->only_with_tool_calls || input->only_with_tool_calls();
  query->created_from = input->created_from();
  query->created_until = input->created_until();
  MNEMO_ASSIGN_OR_RETURN(query->metadata_equals,
                         MetadataFromWire(input->metadata_equals(), "metadata_equals"));
  return Status::Ok();
}

MessageUpdate FromWire(const wire::UpdateMessageRequest& input) {
  MessageUpdate out;
  out.role = OptionalString(input.role());
  out.content = OptionalString(input.content());
  out.parts = OptionalString(input.parts());
  out.tool_calls = OptionalString(input.tool_calls());
  out.tool_results = OptionalString(input.tool_results());
  out.attachments = OptionalString(input.attachments());
  out.tokens_used = input.tokens_used();
  out.clear_tokens_used = input.clear_tokens_used();
  out.metadata = OptionalString(input.metadata());
  return out;
}

DocumentUpdate FromWire(const wire::UpdateDocumentRequest& input) {
  DocumentUpdate out;
  out.filename = OptionalString(input.filename());
  out.file_type = OptionalString(input.file_type());
  out.content = OptionalString(input.content());
  out.metadata = OptionalString(input.metadata());
  return out;
}

Result<std::vector<NewChunk>> ChunksFromWire(
    const flatbuffers::Vector<flatbuffers::Offset<wire::NewChunk>>* chunks) {
  std::vector<NewChunk> out;
  if (chunks == nullptr) return out;
  if (chunks->size() > kMaxChunksPerWrite) {
    return Status::ValidationError(
        "chunks", "at most " + std::to_string(kMaxChunksPerWrite) + " chunks per request");
  }
  out.reserve(chunks->size());
  for (const wire::NewChunk* chunk : *chunks) {
    MNEMO_ASSIGN_OR_RETURN(NewChunk input, FromWire(chunk, "chunks"));
    out.push_back(std::move(input));
  }
  return out;
}

Result<WriteOp> FromWire(const wire::BatchOp* input, const char* field) {
  if (input == nullptr) return Missing(field);
  const int set = (input->create_conversation() != nullptr) +
                  (input->upsert_conversation() != nullptr) + (input->append_message() != nullptr) +
                  (input->upsert_message() != nullptr) + (input->create_document() != nullptr) +
                  (input->add_chunk() != nullptr);
  if (set != 1) {
    return Status::ValidationError(field, std::string(field) + " must set exactly one operation");
  }
  if (input->create_conversation()) {
    MNEMO_ASSIGN_OR_RETURN(NewConversation value,
                           FromWire(input->create_conversation(), "create_conversation"));
    return WriteOp(CreateConversationOp{std::move(value)});
  }
  if (input->upsert_conversation()) {
    MNEMO_ASSIGN_OR_RETURN(NewConversation value,
                           FromWire(input->upsert_conversation(), "upsert_conversation"));
    return WriteOp(UpsertConversationOp{std::move(value)});
  }
  if (input->append_message()) {
    MNEMO_ASSIGN_OR_RETURN(NewMessage value, FromWire(input->append_message(), "append_message"));
    return WriteOp(AppendMessageOp{std::move(value)});
  }
  if (input->upsert_message()) {
    MNEMO_ASSIGN_OR_RETURN(NewMessage value, FromWire(input->upsert_message(), "upsert_message"));
    return WriteOp(UpsertMessageOp{std::move(value)});
  }
  if (input->create_document()) {
    MNEMO_ASSIGN_OR_RETURN(NewDocument value,
                           FromWire(input->create_document(), "create_document"));
    return WriteOp(CreateDocumentOp{std::move(value)});
  }
  MNEMO_ASSIGN_OR_RETURN(NewChunk value, FromWire(input->add_chunk(), "add_chunk"));
  return WriteOp(AddChunkOp{std::move(value)});
}

Result<SearchFilters> FiltersFromWire(const wire::SearchFilters* input) {
  SearchFilters out;
  if (input == nullptr) return out;
  if (input->document_ids()) {
    for (const wire::Id* id : *input->document_ids()) out.document_ids.push_back(FromWireId(*id));
  }
  if (input->file_types()) {
    for (const flatbuffers::String* type : *input->file_types())
      out.file_types.push_back(StringOf(type));
  }
  out.created_from = input->created_from();
  out.created_until = input->created_until();
  MNEMO_ASSIGN_OR_RETURN(out.metadata_equals,
                         MetadataFromWire(input->metadata_equals(), "metadata_equals"));
  return out;
}

Result<TextSearchRequest> FromWire(const wire::SearchTextRequest& input) {
  TextSearchRequest out;
  out.query = StringOf(input.query());
  out.top_k = input.top_k();
  MNEMO_ASSIGN_OR_RETURN(out.filters, FiltersFromWire(input.filters()));
  return out;
}

Result<Fusion> FusionFromWire(wire::Fusion fusion) {
  switch (fusion) {
    case wire::Fusion::rrf: return Fusion::kRrf;
    case wire::Fusion::weighted: return Fusion::kWeighted;
    default: return Status::ValidationError("fusion", "must be rrf or weighted");
  }
}

Result<HybridSearchRequest> FromWire(const wire::SearchHybridRequest& input) {
  HybridSearchRequest out;
  out.query_text = StringOf(input.query_text());
  out.query_embedding = FloatsOf(input.query_embedding());
  out.top_k = input.top_k();
  MNEMO_ASSIGN_OR_RETURN(out.filters, FiltersFromWire(input.filters()));
  MNEMO_ASSIGN_OR_RETURN(out.fusion, FusionFromWire(input.fusion()));
  out.rrf_k = input.rrf_k();
  out.text_weight = input.text_weight();
  out.candidates = input.candidates();
  out.min_similarity = input.min_similarity();
  out.ef = input.ef();
  return out;
}

Result<MessageSearchFilters> MessageFiltersFromWire(const wire::MessageSearchFilters* input,
                                                    const char* field) {
  MessageSearchFilters out;
  if (input == nullptr) return out;
  if (input->conversation_ids() != nullptr) {
    for (const wire::Id* id : *input->conversation_ids())
      out.conversation_ids.push_back(FromWireId(*id));
  }
  if (input->roles() != nullptr) {
    for (const flatbuffers::String* name : *input->roles()) {
      const auto role = ParseRole(StringOf(name));
      if (!role) {
        return Status::ValidationError(
            std::string(field) + ".roles",
            "roles must each be one of user, assistant, system, tool; got '" + StringOf(name) +
                "'");
      }
      out.roles.push_back(*role);
    }
  }
  out.created_from = input->created_from();
  out.created_until = input->created_until();
  return out;
}

Result<MessageSearchRequest> FromWire(const wire::SearchMessagesRequest& input) {
  MessageSearchRequest out;
  out.query = FloatsOf(input.query());
  out.top_k = input.top_k();
  out.min_similarity = input.min_similarity();
  MNEMO_ASSIGN_OR_RETURN(out.filters, MessageFiltersFromWire(input.filters(), "filters"));
  out.ef = input.ef();
  if (input.query_text() != nullptr) out.query_text = StringOf(input.query_text());
  MNEMO_ASSIGN_OR_RETURN(out.fusion, FusionFromWire(input.fusion()));
  out.rrf_k = input.rrf_k();
  out.text_weight = input.text_weight();
  out.candidates = input.candidates();
  return out;
}

Result<ContextRequest> FromWire(const wire::AssembleContextRequest& input) {
  ContextRequest out;
  MNEMO_ASSIGN_OR_RETURN(out.conversation_id,
                         RequireId(input.conversation_id(), "conversation_id"));
  out.token_budget = input.token_budget();
  out.max_messages = input.max_messages();
  out.query_embedding = FloatsOf(input.query_embedding());
  out.query_text = StringOf(input.query_text());
  out.k_chunks = input.k_chunks();
  MNEMO_ASSIGN_OR_RETURN(out.chunk_filters, FiltersFromWire(input.filters()));
  out.min_similarity = input.min_similarity();
  out.message_budget = input.message_budget();
  out.k_memories = input.k_memories();
  MNEMO_ASSIGN_OR_RETURN(out.memory_filters,
                         MessageFiltersFromWire(input.memory_filters(), "memory_filters"));
  return out;
}

}  // namespace mnemo::server
