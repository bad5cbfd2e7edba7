// Records -> JSON.
#include "json_view.h"

#include "mnemo/base/time.h"

namespace mnemo::rest {
namespace {

namespace mc = mnemo::client;

nlohmann::json OptionalTime(const std::optional<mc::Timestamp>& t) {
  return t ? nlohmann::json(FormatTimestamp(*t)) : nlohmann::json(nullptr);
}

nlohmann::json OptionalJson(const std::optional<std::string>& text) {
  return text ? EmbeddedJson(*text) : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json EmbeddedJson(const std::string& text) {
  if (text.empty()) return nullptr;
  nlohmann::json value = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  return value.is_discarded() ? nlohmann::json(text) : value;
}

nlohmann::json ConversationJson(const mc::Conversation& c) {
  return {
      {"id", c.id.ToString()},
      {"user_id", c.user_id},
      {"title", c.title},
      {"summary", c.summary ? nlohmann::json(*c.summary) : nlohmann::json(nullptr)},
      {"model", c.model},
      {"system_prompt", c.system_prompt},
      {"metadata", c.metadata.empty() ? nlohmann::json::object() : EmbeddedJson(c.metadata)},
      {"is_deleted", c.is_deleted},
      {"deleted_at", OptionalTime(c.deleted_at)},
      {"created_at", FormatTimestamp(c.created_at)},
      {"updated_at", FormatTimestamp(c.updated_at)},
      {"message_count", c.message_count},
      {"total_tokens", c.total_tokens},
      {"last_message_at", OptionalTime(c.last_message_at)},
  };
}

nlohmann::json MessageJson(const mc::Message& m) {
  return {
      {"id", m.id.ToString()},
      {"conversation_id", m.conversation_id.ToString()},
      {"role", std::string(mc::RoleName(m.role))},
      {"content", m.content},
      {"parts", OptionalJson(m.parts)},
      {"tool_calls", OptionalJson(m.tool_calls)},
      {"tool_results", OptionalJson(m.tool_results)},
      {"attachments", OptionalJson(m.attachments)},
      {"tokens_used", m.tokens_used ? nlohmann::json(*m.tokens_used) : nlohmann::json(nullptr)},
      {"metadata", m.metadata.empty() ? nlohmann::json::object() : EmbeddedJson(m.metadata)},
      {"created_at", FormatTimestamp(m.created_at)},
      {"has_embedding", m.has_embedding},
  };
}

nlohmann::json DocumentJson(const mc::Document& d, bool include_content) {
  nlohmann::json out = {
      {"id", d.id.ToString()},
      {"user_id", d.user_id},
      {"filename", d.filename},
      {"file_type", d.file_type},
      {"total_chunks", d.total_chunks},
      {"metadata", d.metadata.empty() ? nlohmann::json::object() : EmbeddedJson(d.metadata)},
      {"is_deleted", d.is_deleted},
      {"deleted_at", OptionalTime(d.deleted_at)},
      {"created_at", FormatTimestamp(d.created_at)},
      {"updated_at", FormatTimestamp(d.updated_at)},
  };
  if (include_content) out["content"] = d.content;
  return out;
}

nlohmann::json ChunkJson(const mc::Chunk& c) {
  return {
      {"id", c.id.ToString()},
      {"document_id", c.document_id.ToString()},
      {"chunk_index", c.chunk_index},
      {"chunk_text", c.chunk_text},
      {"metadata", c.metadata.empty() ? nlohmann::json::object() : EmbeddedJson(c.metadata)},
      {"created_at", FormatTimestamp(c.created_at)},
      {"is_deleted", c.is_deleted},
      {"deleted_at", OptionalTime(c.deleted_at)},
  };
}

nlohmann::json UserStatsJson(const mc::UserStats& s) {
  return {{"total", s.total},
          {"active", s.active},
          {"deleted", s.deleted},
          {"last_activity", OptionalTime(s.last_activity)}};
}

nlohmann::json TokenStatsJson(const mc::TokenStats& s) {
  nlohmann::json per_role = nlohmann::json::object();
  for (size_t i = 0; i < s.per_role.size(); ++i) {
    per_role[std::string(mc::RoleName(static_cast<mc::Role>(i)))] = {
        {"message_count", s.per_role[i].message_count},
        {"total_tokens", s.per_role[i].total_tokens}};
  }
  return {{"message_count", s.message_count},
          {"messages_with_tokens", s.messages_with_tokens},
          {"total_tokens", s.total_tokens},
          {"average_tokens", s.average_tokens},
          {"per_role", per_role}};
}

nlohmann::json SearchResponseJson(const mc::SearchResponse& r, int64_t top_k) {
  nlohmann::json items = nlohmann::json::array();
  for (const mc::SearchHit& h : r.hits) {
    items.push_back({{"chunk_id", h.chunk_id.ToString()},
                     {"document_id", h.document_id.ToString()},
                     {"chunk_index", h.chunk_index},
                     {"chunk_text", h.chunk_text},
                     {"filename", h.filename},
                     {"similarity", h.similarity},
                     {"created_at", FormatTimestamp(h.created_at)}});
  }
  const auto total = static_cast<int64_t>(items.size());
  return {{"items", std::move(items)},
          {"total", total},
          {"top_k", top_k},
          {"exact", r.exact},
          {"ef_used", r.ef_used},
          {"fewer_than_top_k", r.fewer_than_top_k},
          {"partitions_searched", r.partitions_searched}};
}

namespace {

nlohmann::json RankedHitJson(const mc::RankedHit& ranked) {
  const auto optional = [](const auto& value) {
    return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
  };
  const mc::SearchHit& h = ranked.hit;
  return {{"chunk_id", h.chunk_id.ToString()},
          {"document_id", h.document_id.ToString()},
          {"chunk_index", h.chunk_index},
          {"chunk_text", h.chunk_text},
          {"filename", h.filename},
          {"created_at", FormatTimestamp(h.created_at)},
          {"score", ranked.score},
          {"bm25", optional(ranked.bm25)},
          {"similarity", optional(ranked.similarity)},
          {"text_rank", ranked.text_rank},
          {"vector_rank", ranked.vector_rank}};
}

}  // namespace

namespace {

nlohmann::json TextLegJson(const mc::TextLegInfo& text) {
  return {{"ran", text.ran},
          {"terms", text.terms},
          {"stopwords_ignored", text.stopwords_ignored},
          {"unknown_terms", text.unknown_terms},
          {"candidates", text.candidates},
          {"rows", text.rows},
          {"postings", text.postings},
          {"rows_scored", text.rows_scored},
          {"exact", text.exact}};
}

nlohmann::json VectorLegJson(const mc::VectorLegInfo& vector) {
  return {{"ran", vector.ran},
          {"exact", vector.exact},
          {"ef_used", vector.ef_used},
          {"partitions_searched", vector.partitions_searched},
          {"candidates", vector.candidates}};
}

const char* FusionName(mc::Fusion fusion) {
  return fusion == mc::Fusion::kWeighted ? "weighted" : "rrf";
}

nlohmann::json OptionalNumber(const std::optional<double>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json RankedSearchResponseJson(const mc::RankedSearchResponse& r, int64_t top_k,
                                        bool hybrid) {
  nlohmann::json items = nlohmann::json::array();
  for (const mc::RankedHit& ranked : r.hits) items.push_back(RankedHitJson(ranked));
  const auto total = static_cast<int64_t>(items.size());
  nlohmann::json out = {{"mode", hybrid ? "hybrid" : "keyword"},
                        {"items", std::move(items)},
                        {"total", total},
                        {"top_k", top_k},
                        {"fewer_than_top_k", r.fewer_than_top_k},
                        {"text", TextLegJson(r.text)}};
  if (hybrid) {
    out["fusion"] = FusionName(r.fusion);
    out["vector"] = VectorLegJson(r.vector);
  }
  return out;
}

nlohmann::json ContextResponseJson(const mc::ContextResponse& r) {
  nlohmann::json messages = nlohmann::json::array();
  for (const mc::ContextMessage& item : r.messages) {
    nlohmann::json message = MessageJson(item.message);
    message["tokens"] = item.tokens;
    message["token_source"] =
        item.token_source == mc::TokenSource::kMeasured ? "measured" : "estimated";
    messages.push_back(std::move(message));
  }
  nlohmann::json chunks = nlohmann::json::array();
  for (const mc::ContextChunk& item : r.chunks) {
    nlohmann::json chunk = RankedHitJson(item.hit);
    chunk["tokens"] = item.tokens;
    chunks.push_back(std::move(chunk));
  }
  const char* retrieval = "none";
  switch (r.retrieval) {
    case mc::ContextRetrieval::kNone: retrieval = "none"; break;
    case mc::ContextRetrieval::kVector: retrieval = "vector"; break;
    case mc::ContextRetrieval::kKeyword: retrieval = "keyword"; break;
    case mc::ContextRetrieval::kHybrid: retrieval = "hybrid"; break;
  }
  nlohmann::json memories = nlohmann::json::array();
  for (const mc::ContextMemory& item : r.memories) {
    nlohmann::json memory = MessageJson(item.message);
    memory["similarity"] = item.similarity;
    memory["score"] = item.score;
    memory["bm25"] = OptionalNumber(item.bm25);
    memory["tokens"] = item.tokens;
    memory["token_source"] =
        item.token_source == mc::TokenSource::kMeasured ? "measured" : "estimated";
    memories.push_back(std::move(memory));
  }
  const mc::ContextBudget& b = r.budget;
  return {{"conversation", ConversationJson(r.conversation)},
          {"messages", std::move(messages)},
          {"chunks", std::move(chunks)},
          {"memories", std::move(memories)},
          {"retrieval", retrieval},
          {"budget",
           {{"budget", b.budget},
            {"system_prompt_tokens", b.system_prompt_tokens},
            {"message_tokens", b.message_tokens},
            {"chunk_tokens", b.chunk_tokens},
            {"memory_tokens", b.memory_tokens},
            {"remaining", b.remaining},
            {"messages_left_out", b.messages_left_out},
            {"chunks_left_out", b.chunks_left_out},
            {"memories_left_out", b.memories_left_out}}}};
}

nlohmann::json MessageSearchResponseJson(const mc::MessageSearchResponse& r, bool by_text,
                                         bool by_vector) {
  nlohmann::json items = nlohmann::json::array();
  for (const mc::MessageHit& hit : r.hits) {
    nlohmann::json item = MessageJson(hit.message);
    item["similarity"] = hit.similarity;
    item["score"] = hit.score;
    item["bm25"] = OptionalNumber(hit.bm25);
    item["text_rank"] = hit.text_rank;
    item["vector_rank"] = hit.vector_rank;
    items.push_back(std::move(item));
  }
  const auto total = static_cast<int64_t>(items.size());
  const char* mode = !by_text ? "vector" : by_vector ? "hybrid" : "keyword";
  nlohmann::json out = {{"mode", mode},
                        {"items", std::move(items)},
                        {"total", total},
                        {"exact", r.exact},
                        {"ef_used", r.ef_used},
                        {"fewer_than_top_k", r.fewer_than_top_k},
                        {"text", TextLegJson(r.text)},
                        {"vector", VectorLegJson(r.vector)}};
  if (by_text && by_vector) out["fusion"] = FusionName(r.fusion);
  return out;
}

nlohmann::json PageJson(nlohmann::json items, int64_t total, int64_t skip, int64_t limit,
                        const std::string& next_cursor) {
  return {
      {"items", std::move(items)},
      {"total", total},
      {"skip", skip},
      {"limit", limit},
      {"next_cursor", next_cursor.empty() ? nlohmann::json(nullptr) : nlohmann::json(next_cursor)}};
}

}  // namespace mnemo::rest
