// mnemo._native.dec: Response payloads -> mnemo.models dataclasses, through the C++ client's
// decoders (clients/cpp/src/codec.h).  A response carrying an error raises it as its mnemo.errors
// class; a body of the wrong type raises InternalError.  Ids become uuid.UUID, timestamps aware
// UTC datetimes, JSON text Python values.
#include <pybind11/stl.h>

#include <string>
#include <utility>
#include <vector>

#include "codec.h"
#include "module.h"
#include "py_values.h"

namespace mnemo::python {
namespace {

namespace codec = client::internal;

const wire::Response& Root(const Response& response) {
  return *flatbuffers::GetRoot<wire::Response>(response.payload.data());
}

// The value of a decoder's Result, or its error raised.
template <typename T>
T Take(client::Result<T> result) {
  if (!result.ok()) Raise(result.error());
  return std::move(result).value();
}

py::object FromConversation(const client::Conversation& in) {
  py::object out = NewModel(MNEMO_MODEL("Conversation"));
  Set(out, MNEMO_FIELD("Conversation", "id"), PyUuid(in.id));
  Set(out, MNEMO_FIELD("Conversation", "user_id"), PyText(in.user_id));
  Set(out, MNEMO_FIELD("Conversation", "title"), PyText(in.title));
  Set(out, MNEMO_FIELD("Conversation", "summary"), PyOptText(in.summary));
  Set(out, MNEMO_FIELD("Conversation", "model"), PyText(in.model));
  Set(out, MNEMO_FIELD("Conversation", "system_prompt"), PyText(in.system_prompt));
  Set(out, MNEMO_FIELD("Conversation", "metadata"), PyJsonObject(in.metadata));
  Set(out, MNEMO_FIELD("Conversation", "is_deleted"), py::bool_(in.is_deleted));
  Set(out, MNEMO_FIELD("Conversation", "deleted_at"), PyOptTime(in.deleted_at));
  Set(out, MNEMO_FIELD("Conversation", "created_at"), PyTime(in.created_at));
  Set(out, MNEMO_FIELD("Conversation", "updated_at"), PyTime(in.updated_at));
  Set(out, MNEMO_FIELD("Conversation", "message_count"), py::int_(in.message_count));
  Set(out, MNEMO_FIELD("Conversation", "total_tokens"), py::int_(in.total_tokens));
  Set(out, MNEMO_FIELD("Conversation", "last_message_at"), PyOptTime(in.last_message_at));
  return out;
}

py::object FromMessage(const client::Message& in) {
  py::object out = NewModel(MNEMO_MODEL("Message"));
  Set(out, MNEMO_FIELD("Message", "id"), PyUuid(in.id));
  Set(out, MNEMO_FIELD("Message", "conversation_id"), PyUuid(in.conversation_id));
  Set(out, MNEMO_FIELD("Message", "role"), py::str(std::string(client::RoleName(in.role))));
  Set(out, MNEMO_FIELD("Message", "content"), PyText(in.content));
  Set(out, MNEMO_FIELD("Message", "parts"), PyJson(in.parts));
  Set(out, MNEMO_FIELD("Message", "tool_calls"), PyJson(in.tool_calls));
  Set(out, MNEMO_FIELD("Message", "tool_results"), PyJson(in.tool_results));
  Set(out, MNEMO_FIELD("Message", "attachments"), PyJson(in.attachments));
  Set(out, MNEMO_FIELD("Message", "tokens_used"), PyOptInt(in.tokens_used));
  Set(out, MNEMO_FIELD("Message", "metadata"), PyJsonObject(in.metadata));
  Set(out, MNEMO_FIELD("Message", "created_at"), PyTime(in.created_at));
  Set(out, MNEMO_FIELD("Message", "has_embedding"), py::bool_(in.has_embedding));
  return out;
}

py::object FromDocument(const client::Document& in) {
  py::object out = NewModel(MNEMO_MODEL("Document"));
  Set(out, MNEMO_FIELD("Document", "id"), PyUuid(in.id));
  Set(out, MNEMO_FIELD("Document", "user_id"), PyText(in.user_id));
  Set(out, MNEMO_FIELD("Document", "filename"), PyText(in.filename));
  Set(out, MNEMO_FIELD("Document", "file_type"), PyText(in.file_type));
  Set(out, MNEMO_FIELD("Document", "content"), PyText(in.content));
  Set(out, MNEMO_FIELD("Document", "total_chunks"), py::int_(in.total_chunks));
  Set(out, MNEMO_FIELD("Document", "metadata"), PyJsonObject(in.metadata));
  Set(out, MNEMO_FIELD("Document", "is_deleted"), py::bool_(in.is_deleted));
  Set(out, MNEMO_FIELD("Document", "deleted_at"), PyOptTime(in.deleted_at));
  Set(out, MNEMO_FIELD("Document", "created_at"), PyTime(in.created_at));
  Set(out, MNEMO_FIELD("Document", "updated_at"), PyTime(in.updated_at));
  return out;
}

py::object FromChunk(const client::Chunk& in) {
  py::object out = NewModel(MNEMO_MODEL("Chunk"));
  Set(out, MNEMO_FIELD("Chunk", "id"), PyUuid(in.id));
  Set(out, MNEMO_FIELD("Chunk", "document_id"), PyUuid(in.document_id));
  Set(out, MNEMO_FIELD("Chunk", "chunk_index"), py::int_(in.chunk_index));
  Set(out, MNEMO_FIELD("Chunk", "chunk_text"), PyText(in.chunk_text));
  Set(out, MNEMO_FIELD("Chunk", "metadata"), PyJsonObject(in.metadata));
  Set(out, MNEMO_FIELD("Chunk", "created_at"), PyTime(in.created_at));
  Set(out, MNEMO_FIELD("Chunk", "is_deleted"), py::bool_(in.is_deleted));
  Set(out, MNEMO_FIELD("Chunk", "deleted_at"), PyOptTime(in.deleted_at));
  return out;
}

py::object FromSearchHit(const client::SearchHit& hit) {
  py::object out = NewModel(MNEMO_MODEL("SearchHit"));
  Set(out, MNEMO_FIELD("SearchHit", "chunk_id"), PyUuid(hit.chunk_id));
  Set(out, MNEMO_FIELD("SearchHit", "document_id"), PyUuid(hit.document_id));
  Set(out, MNEMO_FIELD("SearchHit", "chunk_index"), py::int_(hit.chunk_index));
  Set(out, MNEMO_FIELD("SearchHit", "chunk_text"), PyText(hit.chunk_text));
  Set(out, MNEMO_FIELD("SearchHit", "filename"), PyText(hit.filename));
  Set(out, MNEMO_FIELD("SearchHit", "similarity"), py::float_(hit.similarity));
  Set(out, MNEMO_FIELD("SearchHit", "created_at"), PyTime(hit.created_at));
  return out;
}

py::object FromSearch(const client::SearchResponse& in) {
  py::list hits(in.hits.size());
  for (size_t i = 0; i < in.hits.size(); ++i) hits[i] = FromSearchHit(in.hits[i]);
  py::object out = NewModel(MNEMO_MODEL("SearchResult"));
  Set(out, MNEMO_FIELD("SearchResult", "hits"), std::move(hits));
  Set(out, MNEMO_FIELD("SearchResult", "exact"), py::bool_(in.exact));
  Set(out, MNEMO_FIELD("SearchResult", "ef_used"), py::int_(in.ef_used));
  Set(out, MNEMO_FIELD("SearchResult", "fewer_than_top_k"), py::bool_(in.fewer_than_top_k));
  Set(out, MNEMO_FIELD("SearchResult", "partitions_searched"), py::int_(in.partitions_searched));
  return out;
}

template <typename T>
py::object PyOptFloat(const std::optional<T>& value) {
  return value ? py::object(py::float_(static_cast<double>(*value))) : py::none();
}

// The schema's Fusion names by wire value ("rrf", "weighted"): mnemo._native.dec.FUSION_NAMES.
py::tuple FusionNames() {
  py::list names;
  for (const auto value : wire::EnumValuesFusion())
    names.append(py::str(wire::EnumNameFusion(value)));
  return py::tuple(names);
}

py::object FromRankedHit(const client::RankedHit& hit) {
  py::object out = NewModel(MNEMO_MODEL("RankedHit"));
  Set(out, MNEMO_FIELD("RankedHit", "hit"), FromSearchHit(hit.hit));
  Set(out, MNEMO_FIELD("RankedHit", "score"), py::float_(hit.score));
  Set(out, MNEMO_FIELD("RankedHit", "bm25"), PyOptFloat(hit.bm25));
  Set(out, MNEMO_FIELD("RankedHit", "similarity"), PyOptFloat(hit.similarity));
  Set(out, MNEMO_FIELD("RankedHit", "text_rank"), py::int_(hit.text_rank));
  Set(out, MNEMO_FIELD("RankedHit", "vector_rank"), py::int_(hit.vector_rank));
  return out;
}

py::list Texts(const std::vector<std::string>& items) {
  py::list out(items.size());
  for (size_t i = 0; i < items.size(); ++i) out[i] = PyText(items[i]);
  return out;
}

py::object FromTextLeg(const client::TextLegInfo& in) {
  py::object text = NewModel(MNEMO_MODEL("TextLegInfo"));
  Set(text, MNEMO_FIELD("TextLegInfo", "ran"), py::bool_(in.ran));
  Set(text, MNEMO_FIELD("TextLegInfo", "terms"), Texts(in.terms));
  Set(text, MNEMO_FIELD("TextLegInfo", "stopwords_ignored"), py::int_(in.stopwords_ignored));
  Set(text, MNEMO_FIELD("TextLegInfo", "unknown_terms"), Texts(in.unknown_terms));
  Set(text, MNEMO_FIELD("TextLegInfo", "candidates"), py::int_(in.candidates));
  Set(text, MNEMO_FIELD("TextLegInfo", "rows"), py::int_(in.rows));
  Set(text, MNEMO_FIELD("TextLegInfo", "postings"), py::int_(in.postings));
  Set(text, MNEMO_FIELD("TextLegInfo", "rows_scored"), py::int_(in.rows_scored));
  Set(text, MNEMO_FIELD("TextLegInfo", "exact"), py::bool_(in.exact));
  return text;
}

py::object FromVectorLeg(const client::VectorLegInfo& in) {
  py::object vector = NewModel(MNEMO_MODEL("VectorLegInfo"));
  Set(vector, MNEMO_FIELD("VectorLegInfo", "ran"), py::bool_(in.ran));
  Set(vector, MNEMO_FIELD("VectorLegInfo", "exact"), py::bool_(in.exact));
  Set(vector, MNEMO_FIELD("VectorLegInfo", "ef_used"), py::int_(in.ef_used));
  Set(vector, MNEMO_FIELD("VectorLegInfo", "partitions_searched"),
      py::int_(in.partitions_searched));
  Set(vector, MNEMO_FIELD("VectorLegInfo", "candidates"), py::int_(in.candidates));
  return vector;
}

py::str FusionName(client::Fusion fusion) {
  return py::str(wire::EnumNameFusion(fusion == client::Fusion::kWeighted ? wire::Fusion::weighted
                                                                          : wire::Fusion::rrf));
}

py::object FromRankedSearch(const client::RankedSearchResponse& in) {
  py::list hits(in.hits.size());
  for (size_t i = 0; i < in.hits.size(); ++i) hits[i] = FromRankedHit(in.hits[i]);
  py::object out = NewModel(MNEMO_MODEL("RankedSearchResult"));
  Set(out, MNEMO_FIELD("RankedSearchResult", "hits"), std::move(hits));
  Set(out, MNEMO_FIELD("RankedSearchResult", "fewer_than_top_k"), py::bool_(in.fewer_than_top_k));
  Set(out, MNEMO_FIELD("RankedSearchResult", "fusion"), FusionName(in.fusion));
  Set(out, MNEMO_FIELD("RankedSearchResult", "text"), FromTextLeg(in.text));
  Set(out, MNEMO_FIELD("RankedSearchResult", "vector"), FromVectorLeg(in.vector));
  return out;
}

// The schema's names of the context enums ("measured", "hybrid", ...); a value past the known
// ones (a newer server) reads as its number.
py::str TokenSourceName(client::TokenSource source) {
  const char* name = wire::EnumNameTokenSource(static_cast<wire::TokenSource>(source));
  return py::str(*name != '\0' ? std::string(name) : std::to_string(static_cast<int>(source)));
}
py::str RetrievalName(client::ContextRetrieval retrieval) {
  const char* name = wire::EnumNameContextRetrieval(static_cast<wire::ContextRetrieval>(retrieval));
  return py::str(*name != '\0' ? std::string(name) : std::to_string(static_cast<int>(retrieval)));
}

py::object FromContext(const client::ContextResponse& in) {
  py::list messages(in.messages.size());
  for (size_t i = 0; i < in.messages.size(); ++i) {
    const client::ContextMessage& item = in.messages[i];
    py::object out = NewModel(MNEMO_MODEL("ContextMessage"));
    Set(out, MNEMO_FIELD("ContextMessage", "message"), FromMessage(item.message));
    Set(out, MNEMO_FIELD("ContextMessage", "tokens"), py::int_(item.tokens));
    Set(out, MNEMO_FIELD("ContextMessage", "token_source"), TokenSourceName(item.token_source));
    messages[i] = std::move(out);
  }
  py::list chunks(in.chunks.size());
  for (size_t i = 0; i < in.chunks.size(); ++i) {
    const client::ContextChunk& item = in.chunks[i];
    py::object out = NewModel(MNEMO_MODEL("ContextChunk"));
    Set(out, MNEMO_FIELD("ContextChunk", "hit"), FromRankedHit(item.hit));
    Set(out, MNEMO_FIELD("ContextChunk", "tokens"), py::int_(item.tokens));
    chunks[i] = std::move(out);
  }
  const client::ContextBudget& b = in.budget;
  py::object budget = NewModel(MNEMO_MODEL("ContextBudget"));
  Set(budget, MNEMO_FIELD("ContextBudget", "budget"), py::int_(b.budget));
  Set(budget, MNEMO_FIELD("ContextBudget", "system_prompt_tokens"),
      py::int_(b.system_prompt_tokens));
  Set(budget, MNEMO_FIELD("ContextBudget", "message_tokens"), py::int_(b.message_tokens));
  Set(budget, MNEMO_FIELD("ContextBudget", "chunk_tokens"), py::int_(b.chunk_tokens));
  Set(budget, MNEMO_FIELD("ContextBudget", "remaining"), py::int_(b.remaining));
  Set(budget, MNEMO_FIELD("ContextBudget", "messages_left_out"), py::int_(b.messages_left_out));
  Set(budget, MNEMO_FIELD("ContextBudget", "chunks_left_out"), py::int_(b.chunks_left_out));
  Set(budget, MNEMO_FIELD("ContextBudget", "memory_tokens"), py::int_(b.memory_tokens));
  Set(budget, MNEMO_FIELD("ContextBudget", "memories_left_out"), py::int_(b.memories_left_out));
  py::list memories(in.memories.size());
  for (size_t i = 0; i < in.memories.size(); ++i) {
    const client::ContextMemory& item = in.memories[i];
    py::object memory = NewModel(MNEMO_MODEL("ContextMemory"));
    Set(memory, MNEMO_FIELD("ContextMemory", "message"), FromMessage(item.message));
    Set(memory, MNEMO_FIELD("ContextMemory", "similarity"), py::float_(item.similarity));
    Set(memory, MNEMO_FIELD("ContextMemory", "score"), py::float_(item.score));
    Set(memory, MNEMO_FIELD("ContextMemory", "bm25"), PyOptFloat(item.bm25));
    Set(memory, MNEMO_FIELD("ContextMemory", "tokens"), py::int_(item.tokens));
    Set(memory, MNEMO_FIELD("ContextMemory", "token_source"), TokenSourceName(item.token_source));
    memories[i] = std::move(memory);
  }
  py::object out = NewModel(MNEMO_MODEL("ContextResult"));
  Set(out, MNEMO_FIELD("ContextResult", "conversation"), FromConversation(in.conversation));
  Set(out, MNEMO_FIELD("ContextResult", "messages"), std::move(messages));
  Set(out, MNEMO_FIELD("ContextResult", "chunks"), std::move(chunks));
  Set(out, MNEMO_FIELD("ContextResult", "retrieval"), RetrievalName(in.retrieval));
  Set(out, MNEMO_FIELD("ContextResult", "budget"), std::move(budget));
  Set(out, MNEMO_FIELD("ContextResult", "memories"), std::move(memories));
  return out;
}

py::object FromMessageSearch(const client::MessageSearchResponse& in) {
  py::list hits(in.hits.size());
  for (size_t i = 0; i < in.hits.size(); ++i) {
    py::object hit = NewModel(MNEMO_MODEL("MessageHit"));
    Set(hit, MNEMO_FIELD("MessageHit", "message"), FromMessage(in.hits[i].message));
    Set(hit, MNEMO_FIELD("MessageHit", "similarity"), py::float_(in.hits[i].similarity));
    Set(hit, MNEMO_FIELD("MessageHit", "score"), py::float_(in.hits[i].score));
    Set(hit, MNEMO_FIELD("MessageHit", "bm25"), PyOptFloat(in.hits[i].bm25));
    Set(hit, MNEMO_FIELD("MessageHit", "text_rank"), py::int_(in.hits[i].text_rank));
    Set(hit, MNEMO_FIELD("MessageHit", "vector_rank"), py::int_(in.hits[i].vector_rank));
    hits[i] = std::move(hit);
  }
  py::object out = NewModel(MNEMO_MODEL("MessageSearchResult"));
  Set(out, MNEMO_FIELD("MessageSearchResult", "hits"), std::move(hits));
  Set(out, MNEMO_FIELD("MessageSearchResult", "exact"), py::bool_(in.exact));
  Set(out, MNEMO_FIELD("MessageSearchResult", "ef_used"), py::int_(in.ef_used));
  Set(out, MNEMO_FIELD("MessageSearchResult", "fewer_than_top_k"), py::bool_(in.fewer_than_top_k));
  Set(out, MNEMO_FIELD("MessageSearchResult", "fusion"), FusionName(in.fusion));
  Set(out, MNEMO_FIELD("MessageSearchResult", "text"), FromTextLeg(in.text));
  Set(out, MNEMO_FIELD("MessageSearchResult", "vector"), FromVectorLeg(in.vector));
  return out;
}

py::object FromPartition(const client::PartitionInfo& in) {
  py::object out = NewModel(MNEMO_MODEL("PartitionInfo"));
  Set(out, MNEMO_FIELD("PartitionInfo", "month"), PyText(in.month));
  Set(out, MNEMO_FIELD("PartitionInfo", "rows"), py::int_(in.rows));
  Set(out, MNEMO_FIELD("PartitionInfo", "vector_bytes"), py::int_(in.vector_bytes));
  Set(out, MNEMO_FIELD("PartitionInfo", "index_bytes"), py::int_(in.index_bytes));
  Set(out, MNEMO_FIELD("PartitionInfo", "pending_rows"), py::int_(in.pending_rows));
  Set(out, MNEMO_FIELD("PartitionInfo", "deleted_in_index"), py::int_(in.deleted_in_index));
  return out;
}

template <typename T, typename Convert>
py::list ListOf(const std::vector<T>& items, Convert convert) {
  py::list out(items.size());
  for (size_t i = 0; i < items.size(); ++i) out[i] = convert(items[i]);
  return out;
}

template <typename PageT, typename Convert>
py::object PageOf(const PageT& in, Convert convert) {
  py::object out = NewModel(MNEMO_MODEL("Page"));
  Set(out, MNEMO_FIELD("Page", "items"), ListOf(in.items, convert));
  Set(out, MNEMO_FIELD("Page", "total"), py::int_(in.total));
  Set(out, MNEMO_FIELD("Page", "next_cursor"),
      in.next_cursor.empty() ? py::none() : PyText(in.next_cursor));
  return out;
}

}  // namespace

py::object DecodeServerInfo(const client::ServerInfo& in) {
  py::object out = NewModel(MNEMO_MODEL("ServerInfo"));
  Set(out, MNEMO_FIELD("ServerInfo", "protocol_version"), py::int_(in.protocol_version));
  Set(out, MNEMO_FIELD("ServerInfo", "server_version"), PyText(in.server_version));
  Set(out, MNEMO_FIELD("ServerInfo", "max_frame_bytes"), py::int_(in.max_frame_bytes));
  Set(out, MNEMO_FIELD("ServerInfo", "max_in_flight"), py::int_(in.max_in_flight));
  Set(out, MNEMO_FIELD("ServerInfo", "dimension"), py::int_(in.dimension));
  Set(out, MNEMO_FIELD("ServerInfo", "principal"), PyText(in.principal));
  return out;
}

void DefineDecoders(py::module_& dec) {
  dec.def("hello_reply", [](const Response& r) {
    return DecodeServerInfo(Take(codec::DecodeHelloReply(Root(r))));
  });
  dec.def("conversation", [](const Response& r) {
    return FromConversation(Take(codec::DecodeConversation(Root(r))));
  });
  dec.def("conversation_page", [](const Response& r) {
    return PageOf(Take(codec::DecodeConversationPage(Root(r))), FromConversation);
  });
  dec.def("user_stats", [](const Response& r) {
    const client::UserStats in = Take(codec::DecodeUserStats(Root(r)));
    py::object out = NewModel(MNEMO_MODEL("UserStats"));
    Set(out, MNEMO_FIELD("UserStats", "total_conversations"), py::int_(in.total));
    Set(out, MNEMO_FIELD("UserStats", "active_conversations"), py::int_(in.active));
    Set(out, MNEMO_FIELD("UserStats", "deleted_conversations"), py::int_(in.deleted));
    Set(out, MNEMO_FIELD("UserStats", "last_activity"), PyOptTime(in.last_activity));
    return out;
  });
  dec.def("message",
          [](const Response& r) { return FromMessage(Take(codec::DecodeMessage(Root(r)))); });
  dec.def("optional_message", [](const Response& r) -> py::object {
    const auto found = Take(codec::DecodeOptionalMessage(Root(r)));
    return found ? FromMessage(*found) : py::none();
  });
  dec.def("message_page", [](const Response& r) {
    return PageOf(Take(codec::DecodeMessagePage(Root(r))), FromMessage);
  });
  dec.def("messages", [](const Response& r) {
    return ListOf(Take(codec::DecodeMessages(Root(r))), FromMessage);
  });
  dec.def("token_stats", [](const Response& r) {
    const client::TokenStats in = Take(codec::DecodeTokenStats(Root(r)));
    py::dict per_role;
    for (size_t role = 0; role < in.per_role.size(); ++role) {
      py::object tokens = NewModel(MNEMO_MODEL("RoleTokens"));
      Set(tokens, MNEMO_FIELD("RoleTokens", "message_count"),
          py::int_(in.per_role[role].message_count));
      Set(tokens, MNEMO_FIELD("RoleTokens", "total_tokens"),
          py::int_(in.per_role[role].total_tokens));
      per_role[py::str(std::string(client::RoleName(static_cast<client::Role>(role))))] = tokens;
    }
    py::object out = NewModel(MNEMO_MODEL("TokenStats"));
    Set(out, MNEMO_FIELD("TokenStats", "message_count"), py::int_(in.message_count));
    Set(out, MNEMO_FIELD("TokenStats", "messages_with_tokens"), py::int_(in.messages_with_tokens));
    Set(out, MNEMO_FIELD("TokenStats", "total_tokens"), py::int_(in.total_tokens));
    Set(out, MNEMO_FIELD("TokenStats", "average_tokens"), py::float_(in.average_tokens));
    Set(out, MNEMO_FIELD("TokenStats", "per_role"), std::move(per_role));
    return out;
  });
  dec.def("count", [](const Response& r) { return Take(codec::DecodeCount(Root(r))); });
  dec.def("document",
          [](const Response& r) { return FromDocument(Take(codec::DecodeDocument(Root(r)))); });
  dec.def("document_page", [](const Response& r) {
    return PageOf(Take(codec::DecodeDocumentPage(Root(r))), FromDocument);
  });
  dec.def("document_counts", [](const Response& r) {
    const client::DocumentCounts in = Take(codec::DecodeDocumentCounts(Root(r)));
    py::object out = NewModel(MNEMO_MODEL("DocumentCounts"));
    Set(out, MNEMO_FIELD("DocumentCounts", "total"), py::int_(in.total));
    Set(out, MNEMO_FIELD("DocumentCounts", "active"), py::int_(in.active));
    Set(out, MNEMO_FIELD("DocumentCounts", "deleted"), py::int_(in.deleted));
    return out;
  });
  dec.def("chunks",
          [](const Response& r) { return ListOf(Take(codec::DecodeChunks(Root(r))), FromChunk); });
  dec.def("chunk", [](const Response& r) { return FromChunk(Take(codec::DecodeChunk(Root(r)))); });
  dec.def("chunk_page", [](const Response& r) {
    return PageOf(Take(codec::DecodeChunkPage(Root(r))), FromChunk);
  });
  dec.def("exists", [](const Response& r) { return Take(codec::DecodeExists(Root(r))); });
  dec.def("retention", [](const Response& r) {
    const client::RetentionReport in = Take(codec::DecodeRetention(Root(r)));
    // 0 is "that part of the policy is off" on the wire.
    const auto cutoff = [](client::Timestamp micros) -> py::object {
      return micros == 0 ? py::none() : PyTime(micros);
    };
    py::object out = NewModel(MNEMO_MODEL("RetentionReport"));
    Set(out, MNEMO_FIELD("RetentionReport", "now"), PyTime(in.now));
    Set(out, MNEMO_FIELD("RetentionReport", "month_cutoff"), cutoff(in.month_cutoff));
    Set(out, MNEMO_FIELD("RetentionReport", "purge_cutoff"), cutoff(in.purge_cutoff));
    Set(out, MNEMO_FIELD("RetentionReport", "retired"),
        ListOf(in.retired, [](const client::RetiredMonth& month) {
          py::object item = NewModel(MNEMO_MODEL("RetiredMonth"));
          Set(item, MNEMO_FIELD("RetiredMonth", "month"), PyText(month.month));
          Set(item, MNEMO_FIELD("RetiredMonth", "rows"), py::int_(month.rows));
          Set(item, MNEMO_FIELD("RetiredMonth", "archive_path"),
              month.archive_path.empty() ? py::none() : PyText(month.archive_path));
          return item;
        }));
    Set(out, MNEMO_FIELD("RetentionReport", "conversations_purged"),
        py::int_(in.conversations_purged));
    Set(out, MNEMO_FIELD("RetentionReport", "documents_purged"), py::int_(in.documents_purged));
    Set(out, MNEMO_FIELD("RetentionReport", "chunks_purged"), py::int_(in.chunks_purged));
    return out;
  });
  dec.def("search_result",
          [](const Response& r) { return FromSearch(Take(codec::DecodeSearch(Root(r)))); });
  dec.def("search_results", [](const Response& r) {
    return ListOf(Take(codec::DecodeSearchBatch(Root(r))), FromSearch);
  });
  dec.def("ranked_search_result", [](const Response& r) {
    return FromRankedSearch(Take(codec::DecodeRankedSearch(Root(r))));
  });
  dec.attr("FUSION_NAMES") = FusionNames();
  dec.def("context",
          [](const Response& r) { return FromContext(Take(codec::DecodeContext(Root(r)))); });
  dec.def("message_search_result", [](const Response& r) {
    return FromMessageSearch(Take(codec::DecodeMessageSearch(Root(r))));
  });
  dec.def("batch_ids",
          [](const Response& r) { return ListOf(Take(codec::DecodeBatchIds(Root(r))), PyUuid); });
  dec.def("partitions", [](const Response& r) {
    return ListOf(Take(codec::DecodePartitions(Root(r))), FromPartition);
  });
  dec.def("attach", [](const Response& r) {
    const client::AttachResult in = Take(codec::DecodeAttach(Root(r)));
    py::object out = NewModel(MNEMO_MODEL("AttachResult"));
    Set(out, MNEMO_FIELD("AttachResult", "attached"), py::int_(in.attached));
    Set(out, MNEMO_FIELD("AttachResult", "skipped"), py::int_(in.skipped));
    return out;
  });
  dec.def("stats", [](const Response& r) {
    const client::ServerStats in = Take(codec::DecodeStats(Root(r)));
    py::object out = NewModel(MNEMO_MODEL("ServerStats"));
    Set(out, MNEMO_FIELD("ServerStats", "uptime_seconds"), py::int_(in.uptime_seconds));
    Set(out, MNEMO_FIELD("ServerStats", "connections"), py::int_(in.connections));
    Set(out, MNEMO_FIELD("ServerStats", "partitions"), ListOf(in.partitions, FromPartition));
    Set(out, MNEMO_FIELD("ServerStats", "ops"), ListOf(in.ops, [](const client::OpStats& op) {
          py::object item = NewModel(MNEMO_MODEL("OpStats"));
          Set(item, MNEMO_FIELD("OpStats", "name"), PyText(op.name));
          Set(item, MNEMO_FIELD("OpStats", "count"), py::int_(op.count));
          Set(item, MNEMO_FIELD("OpStats", "errors"), py::int_(op.errors));
          Set(item, MNEMO_FIELD("OpStats", "p50_us"), py::float_(op.p50_us));
          Set(item, MNEMO_FIELD("OpStats", "p99_us"), py::float_(op.p99_us));
          return item;
        }));
    Set(out, MNEMO_FIELD("ServerStats", "data_bytes"), py::int_(in.data_bytes));
    return out;
  });
  dec.def("done", [](const Response& r) {
    const client::Result<void> done = codec::DecodeDone(Root(r));
    if (!done.ok()) Raise(done.error());
  });
}

}  // namespace mnemo::python
