#include "server/wire_out.h"

#include "protocol/wire_codes.h"

namespace mnemo::server {

// The engine's context enums travel as their values.
static_assert(static_cast<uint8_t>(TokenSource::kMeasured) ==
              static_cast<uint8_t>(wire::TokenSource::measured));
static_assert(static_cast<uint8_t>(TokenSource::kEstimated) ==
              static_cast<uint8_t>(wire::TokenSource::estimated));
static_assert(static_cast<uint8_t>(ContextRetrieval::kNone) ==
              static_cast<uint8_t>(wire::ContextRetrieval::none));
static_assert(static_cast<uint8_t>(ContextRetrieval::kVector) ==
              static_cast<uint8_t>(wire::ContextRetrieval::vector));
static_assert(static_cast<uint8_t>(ContextRetrieval::kKeyword) ==
              static_cast<uint8_t>(wire::ContextRetrieval::keyword));
static_assert(static_cast<uint8_t>(ContextRetrieval::kHybrid) ==
              static_cast<uint8_t>(wire::ContextRetrieval::hybrid));

wire::Id ToWireId(const Uuid& id) { return protocol::ToWire(id); }

wire::Role ToWireRole(Role role) {
  switch (role) {
    case Role::kUser: return wire::Role::user;
    case Role::kAssistant: return wire::Role::assistant;
    case Role::kSystem: return wire::Role::system;
    case Role::kTool: return wire::Role::tool;
  }
  return wire::Role::user;
}

namespace {

flatbuffers::Offset<flatbuffers::String> OptionalString(Builder& fbb,
                                                        const std::optional<std::string>& text) {
  return text ? fbb.CreateString(*text) : flatbuffers::Offset<flatbuffers::String>();
}

}  // namespace

flatbuffers::Offset<wire::Conversation> BuildConversation(Builder& fbb, const Conversation& row) {
  const wire::Id id = ToWireId(row.id);
  return wire::CreateConversation(fbb, &id, fbb.CreateString(row.user_id),
                                  fbb.CreateString(row.title), OptionalString(fbb, row.summary),
                                  fbb.CreateString(row.model), fbb.CreateString(row.system_prompt),
                                  fbb.CreateString(row.metadata), row.is_deleted, row.deleted_at,
                                  row.created_at, row.updated_at, row.message_count,
                                  row.total_tokens, row.last_message_at);
}

flatbuffers::Offset<wire::Message> BuildMessage(Builder& fbb, const Message& row) {
  const wire::Id id = ToWireId(row.id);
  const wire::Id conversation_id = ToWireId(row.conversation_id);
  return wire::CreateMessage(
      fbb, &id, &conversation_id, ToWireRole(row.role), fbb.CreateString(row.content),
      OptionalString(fbb, row.parts), OptionalString(fbb, row.tool_calls),
      OptionalString(fbb, row.tool_results), OptionalString(fbb, row.attachments), row.tokens_used,
      fbb.CreateString(row.metadata), row.created_at, row.has_embedding);
}

flatbuffers::Offset<wire::Document> BuildDocument(Builder& fbb, const Document& row) {
  const wire::Id id = ToWireId(row.id);
  return wire::CreateDocument(fbb, &id, fbb.CreateString(row.user_id),
                              fbb.CreateString(row.filename), fbb.CreateString(row.file_type),
                              fbb.CreateString(row.content), row.total_chunks,
                              fbb.CreateString(row.metadata), row.is_deleted, row.deleted_at,
                              row.created_at, row.updated_at);
}

flatbuffers::Offset<wire::Chunk> BuildChunk(Builder& fbb, const Chunk& row) {
  const wire::Id id = ToWireId(row.id);
  const wire::Id document_id = ToWireId(row.document_id);
  return wire::CreateChunk(fbb, &id, &document_id, row.chunk_index,
                           fbb.CreateString(row.chunk_text), fbb.CreateString(row.metadata),
                           row.created_at, row.is_deleted, row.deleted_at);
}

flatbuffers::Offset<wire::SearchHit> BuildSearchHit(Builder& fbb, const SearchHit& hit) {
  const wire::Id chunk_id = ToWireId(hit.chunk_id);
  const wire::Id document_id = ToWireId(hit.document_id);
  return wire::CreateSearchHit(fbb, &chunk_id, &document_id, hit.chunk_index,
                               fbb.CreateString(hit.chunk_text), fbb.CreateString(hit.filename),
                               hit.similarity, hit.created_at);
}

flatbuffers::Offset<wire::SearchReply> BuildSearchReply(Builder& fbb,
                                                        const SearchResponse& response) {
  std::vector<flatbuffers::Offset<wire::SearchHit>> hits;
  hits.reserve(response.hits.size());
  for (const SearchHit& hit : response.hits) hits.push_back(BuildSearchHit(fbb, hit));
  return wire::CreateSearchReply(fbb, fbb.CreateVector(hits), response.exact, response.ef_used,
                                 response.fewer_than_top_k, response.partitions_searched);
}

namespace {

wire::Fusion FusionToWire(Fusion fusion) {
  return fusion == Fusion::kWeighted ? wire::Fusion::weighted : wire::Fusion::rrf;
}

flatbuffers::Offset<wire::TextLegInfo> BuildTextLegInfo(Builder& fbb, const TextLegInfo& text) {
  const auto terms = fbb.CreateVectorOfStrings(text.terms);
  const auto unknown = fbb.CreateVectorOfStrings(text.unknown_terms);
  return wire::CreateTextLegInfo(fbb, text.ran, terms, text.stopwords_ignored, unknown,
                                 text.candidates, text.rows, text.postings, text.rows_scored,
                                 text.exact);
}

flatbuffers::Offset<wire::VectorLegInfo> BuildVectorLegInfo(Builder& fbb,
                                                            const VectorLegInfo& vector) {
  return wire::CreateVectorLegInfo(fbb, vector.ran, vector.exact, vector.ef_used,
                                   vector.partitions_searched, vector.candidates);
}

}  // namespace

flatbuffers::Offset<wire::RankedHit> BuildRankedHit(Builder& fbb, const RankedHit& ranked) {
  const auto hit = BuildSearchHit(fbb, ranked.hit);
  return wire::CreateRankedHit(fbb, hit, ranked.score, ranked.bm25, ranked.similarity,
                               ranked.text_rank, ranked.vector_rank);
}

flatbuffers::Offset<wire::RankedSearchReply> BuildRankedSearchReply(
    Builder& fbb, const RankedSearchResponse& response) {
  std::vector<flatbuffers::Offset<wire::RankedHit>> hits;
  hits.reserve(response.hits.size());
  for (const RankedHit& ranked : response.hits) hits.push_back(BuildRankedHit(fbb, ranked));
  const auto hit_vector = fbb.CreateVector(hits);
  const auto text_info = BuildTextLegInfo(fbb, response.text);
  const auto vector_info = BuildVectorLegInfo(fbb, response.vector);
  return wire::CreateRankedSearchReply(fbb, hit_vector, response.fewer_than_top_k,
                                       FusionToWire(response.fusion), text_info, vector_info);
}

flatbuffers::Offset<wire::ContextReply> BuildContextReply(Builder& fbb,
                                                          const ContextResponse& response) {
  const auto conversation = BuildConversation(fbb, response.conversation);
  std::vector<flatbuffers::Offset<wire::ContextMessage>> messages;
  messages.reserve(response.messages.size());
  for (const ContextMessage& item : response.messages) {
    const auto message = BuildMessage(fbb, item.message);
    messages.push_back(wire::CreateContextMessage(
        fbb, message, item.tokens, static_cast<wire::TokenSource>(item.token_source)));
  }
  const auto message_vector = fbb.CreateVector(messages);
  std::vector<flatbuffers::Offset<wire::ContextChunk>> chunks;
  chunks.reserve(response.chunks.size());
  for (const ContextChunk& item : response.chunks) {
    const auto hit = BuildRankedHit(fbb, item.hit);
    chunks.push_back(wire::CreateContextChunk(fbb, hit, item.tokens));
  }
  const auto chunk_vector = fbb.CreateVector(chunks);
  std::vector<flatbuffers::Offset<wire::ContextMemory>> memories;
  memories.reserve(response.memories.size());
  for (const ContextMemory& item : response.memories) {
    const auto message = BuildMessage(fbb, item.message);
    memories.push_back(wire::CreateContextMemory(fbb, message, item.similarity, item.tokens,
                                                 static_cast<wire::TokenSource>(item.token_source),
                                                 item.score, item.bm25));
  }
  const auto memory_vector = fbb.CreateVector(memories);
  const ContextBudget& b = response.budget;
  const auto budget = wire::CreateContextBudget(
      fbb, b.budget, b.system_prompt_tokens, b.message_tokens, b.chunk_tokens, b.remaining,
      b.messages_left_out, b.chunks_left_out, b.memory_tokens, b.memories_left_out);
  return wire::CreateContextReply(fbb, conversation, message_vector, chunk_vector,
                                  static_cast<wire::ContextRetrieval>(response.retrieval), budget,
                                  memory_vector);
}

flatbuffers::Offset<wire::MessageSearchReply> BuildMessageSearchReply(
    Builder& fbb, const MessageSearchResponse& response) {
  std::vector<flatbuffers::Offset<wire::MessageHit>> hits;
  hits.reserve(response.hits.size());
  for (const MessageHit& hit : response.hits) {
    const auto message = BuildMessage(fbb, hit.message);
    hits.push_back(wire::CreateMessageHit(fbb, message, hit.similarity, hit.score, hit.bm25,
                                          hit.text_rank, hit.vector_rank));
  }
  const auto hit_vector = fbb.CreateVector(hits);
  const auto text_info = BuildTextLegInfo(fbb, response.text);
  const auto vector_info = BuildVectorLegInfo(fbb, response.vector);
  return wire::CreateMessageSearchReply(fbb, hit_vector, response.exact, response.ef_used,
                                        response.fewer_than_top_k, FusionToWire(response.fusion),
                                        text_info, vector_info);
}

flatbuffers::Offset<wire::PartitionInfo> BuildPartitionInfo(Builder& fbb,
                                                            const PartitionInfo& info) {
  return wire::CreatePartitionInfo(fbb, fbb.CreateString(info.month), info.rows, info.vector_bytes,
                                   info.index_bytes, info.pending_rows, info.deleted_in_index);
}

flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<wire::PartitionInfo>>>
BuildPartitionInfos(Builder& fbb, const std::vector<PartitionInfo>& infos) {
  std::vector<flatbuffers::Offset<wire::PartitionInfo>> out;
  out.reserve(infos.size());
  for (const auto& info : infos) out.push_back(BuildPartitionInfo(fbb, info));
  return fbb.CreateVector(out);
}

std::string ErrorResponse(uint64_t id, const Status& status) {
  Builder fbb(256);
  const auto message = fbb.CreateString(status.message());
  const auto field = status.field().empty() ? flatbuffers::Offset<flatbuffers::String>()
                                            : fbb.CreateString(status.field());
  const auto error = wire::CreateError(fbb, protocol::ToWire(status.code()), message, field);
  fbb.Finish(wire::CreateResponse(fbb, id, error), wire::RequestIdentifier());
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
}

std::string NotPrimaryResponse(uint64_t id, const std::string& message,
                               const std::string& primary_address, uint64_t primary_epoch) {
  Builder fbb(256);
  const auto text = fbb.CreateString(message);
  const auto address = primary_address.empty() ? flatbuffers::Offset<flatbuffers::String>()
                                               : fbb.CreateString(primary_address);
  const auto error =
      wire::CreateError(fbb, wire::StatusCode::NOT_PRIMARY, text, 0, address, primary_epoch);
  fbb.Finish(wire::CreateResponse(fbb, id, error), wire::RequestIdentifier());
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
}

std::string FinishResponse(Builder& fbb, uint64_t id, wire::ResponseBody type,
                           flatbuffers::Offset<void> body) {
  fbb.Finish(wire::CreateResponse(fbb, id, 0, type, body), wire::RequestIdentifier());
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
}

}  // namespace mnemo::server
