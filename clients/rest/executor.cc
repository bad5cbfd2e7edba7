// One client call per ApiCall alternative.
#include "executor.h"

#include <algorithm>

#include "json_view.h"

namespace mnemo::rest {
namespace {

namespace mc = mnemo::client;

ExecOutcome Fail(const mc::Error& error) { return {0, std::nullopt, FromClientError(error)}; }

template <typename T, typename Renderer>
ExecOutcome Render(const mc::Result<T>& result, int status, Renderer render) {
  if (!result.ok()) return Fail(result.error());
  return {status, render(result.value()), std::nullopt};
}

ExecOutcome NoContent(const mc::Result<void>& result) {
  if (!result.ok()) return Fail(result.error());
  return {204, std::nullopt, std::nullopt};
}

nlohmann::json CountJson(int64_t count) { return {{"count", count}}; }
nlohmann::json ExistsJson(bool exists) { return {{"exists", exists}}; }

nlohmann::json MessagesJson(const std::vector<mc::Message>& messages) {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& m : messages) items.push_back(MessageJson(m));
  return items;
}

nlohmann::json ChunksJson(const std::vector<mc::Chunk>& chunks) {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& c : chunks) items.push_back(ChunkJson(c));
  return items;
}

nlohmann::json ConversationPageJson(const mc::ConversationPage& page,
                                    const mc::ConversationListOptions& o) {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& c : page.items) items.push_back(ConversationJson(c));
  return PageJson(std::move(items), page.total, o.skip, o.limit, page.next_cursor);
}

struct Visitor {
  mc::Client& client;
  std::string_view user;

  ExecOutcome operator()(const MetaCall&) const {
    return {0, std::nullopt,
            ErrorOf(StatusCode::kInternalError, "meta route reached the executor")};
  }
  ExecOutcome operator()(const CreateConversationCall& c) const {
    return Render(client.CreateConversation(user, c.input), 201, ConversationJson);
  }
  ExecOutcome operator()(const ListConversationsCall& c) const {
    return Render(
        client.ListConversations(user, c.options), 200,
        [&](const mc::ConversationPage& p) { return ConversationPageJson(p, c.options); });
  }
  ExecOutcome operator()(const SearchConversationsCall& c) const {
    return Render(
        client.SearchConversationsByTitle(user, c.query, c.options), 200,
        [&](const mc::ConversationPage& p) { return ConversationPageJson(p, c.options); });
  }
  ExecOutcome operator()(const ConversationStatsCall&) const {
    return Render(client.GetUserStats(user), 200, UserStatsJson);
  }
  ExecOutcome operator()(const CountConversationsCall& c) const {
    if (c.exists)
      return Render(client.ConversationsExist(user, c.filter, c.include_deleted), 200, ExistsJson);
    return Render(client.CountConversations(user, c.filter, c.include_deleted), 200, CountJson);
  }
  ExecOutcome operator()(const GetConversationCall& c) const {
    return Render(client.GetConversation(user, c.id, c.include_deleted), 200, ConversationJson);
  }
  ExecOutcome operator()(const UpdateConversationCall& c) const {
    return Render(client.UpdateConversation(user, c.id, c.update), 200, ConversationJson);
  }
  ExecOutcome operator()(const DeleteConversationCall& c) const {
    if (c.hard) return NoContent(client.HardDeleteConversation(user, c.id));
    const auto result = client.SoftDeleteConversation(user, c.id);
    return result.ok() ? ExecOutcome{204, std::nullopt, std::nullopt} : Fail(result.error());
  }
  ExecOutcome operator()(const RestoreConversationCall& c) const {
    return Render(client.RestoreConversation(user, c.id), 200, ConversationJson);
  }
  ExecOutcome operator()(const ListMessagesCall& c) const {
    return Render(client.ListMessages(user, c.conversation_id, c.query), 200,
                  [&](const mc::MessagePage& page) {
                    nlohmann::json items = nlohmann::json::array();
                    for (const auto& m : page.items) items.push_back(MessageJson(m));
                    return PageJson(std::move(items), page.total, c.query.skip, c.query.limit,
                                    page.next_cursor);
                  });
  }
  ExecOutcome operator()(const AppendMessageCall& c) const {
    return Render(client.AppendMessage(user, c.input), 201, MessageJson);
  }
  ExecOutcome operator()(const DeleteMessagesCall& c) const {
    return Render(client.DeleteAllMessages(user, c.conversation_id), 200, [](int64_t deleted) {
      return nlohmann::json{{"deleted", deleted}};
    });
  }
  ExecOutcome operator()(const LastMessagesCall& c) const {
    const auto as_items = [](const std::vector<mc::Message>& messages) {
      return nlohmann::json{{"items", MessagesJson(messages)}, {"total", messages.size()}};
    };
    if (!c.role)
      return Render(client.LastMessages(user, c.conversation_id, c.count), 200, as_items);
    // The newest `count` of one role, returned oldest first.
    mc::MessageQuery query;
    query.order = mc::SortOrder::kDescending;
    query.limit = c.count;
    query.role = c.role;
    auto page = client.ListMessages(user, c.conversation_id, query);
    if (!page.ok()) return Fail(page.error());
    std::reverse(page->items.begin(), page->items.end());
    return {200, as_items(page->items), std::nullopt};
  }
  ExecOutcome operator()(const CountMessagesCall& c) const {
    if (c.exists)
      return Render(client.MessagesExist(user, c.conversation_id, c.filter), 200, ExistsJson);
    return Render(client.CountMessages(user, c.conversation_id, c.filter), 200, CountJson);
  }
  ExecOutcome operator()(const GetMessageCall& c) const {
    return Render(client.GetMessage(user, c.id), 200, MessageJson);
  }
  ExecOutcome operator()(const UpdateMessageCall& c) const {
    return Render(client.UpdateMessage(user, c.id, c.update), 200, MessageJson);
  }
  ExecOutcome operator()(const DeleteMessageCall& c) const {
    const auto result = client.DeleteMessage(user, c.id);
    return result.ok() ? ExecOutcome{204, std::nullopt, std::nullopt} : Fail(result.error());
  }
  ExecOutcome operator()(const SetToolResultsCall& c) const {
    return Render(client.SetToolResults(user, c.id, c.tool_results), 200, MessageJson);
  }
  ExecOutcome operator()(const TokenStatsCall& c) const {
    return Render(client.GetTokenStats(user, c.conversation_id), 200, TokenStatsJson);
  }
  ExecOutcome operator()(const CreateDocumentCall& c) const {
    mc::Batch batch;
    batch.CreateDocument(c.document);
    for (const mc::NewChunk& chunk : c.chunks) batch.AddChunk(chunk);
    const auto ids = client.ApplyBatch(user, batch);
    if (!ids.ok()) return Fail(ids.error());
    const auto document = client.GetDocument(user, *c.document.id);
    if (!document.ok()) return Fail(document.error());
    nlohmann::json body = DocumentJson(*document, /*include_content=*/true);
    nlohmann::json chunks = nlohmann::json::array();
    for (size_t i = 0; i < c.chunks.size() && i + 1 < ids->size(); ++i) {
      chunks.push_back(
          {{"id", (*ids)[i + 1].ToString()}, {"chunk_index", c.chunks[i].chunk_index}});
    }
    body["chunks"] = std::move(chunks);
    return {201, std::move(body), std::nullopt};
  }
  ExecOutcome operator()(const ListDocumentsCall& c) const {
    return Render(client.ListDocuments(user, c.options), 200, [&](const mc::DocumentPage& p) {
      nlohmann::json items = nlohmann::json::array();
      for (const auto& d : p.items) items.push_back(DocumentJson(d, /*include_content=*/false));
      return PageJson(std::move(items), p.total, c.options.skip, c.options.limit, p.next_cursor);
    });
  }
  ExecOutcome operator()(const CountDocumentsCall& c) const {
    if (c.exists)
      return Render(client.DocumentsExist(user, c.filter, c.include_deleted), 200, ExistsJson);
    return Render(client.CountDocuments(user, c.filter, c.include_deleted), 200, CountJson);
  }
  ExecOutcome operator()(const UpdateDocumentCall& c) const {
    return Render(client.UpdateDocument(user, c.id, c.update), 200,
                  [](const mc::Document& d) { return DocumentJson(d, /*include_content=*/true); });
  }
  ExecOutcome operator()(const RestoreDocumentCall& c) const {
    return Render(client.RestoreDocument(user, c.id), 200,
                  [](const mc::Document& d) { return DocumentJson(d, /*include_content=*/true); });
  }
  ExecOutcome operator()(const SearchDocumentsBatchCall& c) const {
    return Render(client.SearchBatch(user, c.requests), 200,
                  [&](const std::vector<mc::SearchResponse>& responses) {
                    nlohmann::json results = nlohmann::json::array();
                    for (size_t i = 0; i < responses.size(); ++i)
                      results.push_back(SearchResponseJson(responses[i], c.requests[i].top_k));
                    return nlohmann::json{{"results", std::move(results)}};
                  });
  }
  ExecOutcome operator()(const ListChunksCall& c) const {
    return Render(client.ListChunks(user, c.document_id, c.options), 200,
                  [&](const mc::ChunkPage& page) {
                    return PageJson(ChunksJson(page.items), page.total, c.options.skip,
                                    c.options.limit, page.next_cursor);
                  });
  }
  ExecOutcome operator()(const WriteChunksCall& c) const {
    const auto written = c.replace ? client.ReplaceChunks(user, c.document_id, c.chunks)
                                   : client.AddChunks(user, c.chunks);
    return Render(written, c.replace ? 200 : 201, [](const std::vector<mc::Chunk>& chunks) {
      nlohmann::json items = nlohmann::json::array();
      for (const auto& chunk : chunks)
        items.push_back({{"id", chunk.id.ToString()}, {"chunk_index", chunk.chunk_index}});
      return nlohmann::json{{"items", std::move(items)}, {"total", chunks.size()}};
    });
  }
  ExecOutcome operator()(const GetChunkCall& c) const {
    return Render(client.GetChunk(user, c.id, c.include_deleted), 200, ChunkJson);
  }
  ExecOutcome operator()(const DeleteChunkCall& c) const {
    const auto result =
        c.hard ? client.DeleteChunk(user, c.id) : client.SoftDeleteChunk(user, c.id);
    return result.ok() ? ExecOutcome{204, std::nullopt, std::nullopt} : Fail(result.error());
  }
  ExecOutcome operator()(const RestoreChunkCall& c) const {
    return Render(client.RestoreChunk(user, c.id), 200, ChunkJson);
  }
  ExecOutcome operator()(const GetDocumentCall& c) const {
    return Render(client.GetDocument(user, c.id, c.include_deleted), 200,
                  [](const mc::Document& d) { return DocumentJson(d, /*include_content=*/true); });
  }
  ExecOutcome operator()(const DeleteDocumentCall& c) const {
    if (c.hard) return NoContent(client.HardDeleteDocument(user, c.id));
    const auto result = client.SoftDeleteDocument(user, c.id);
    return result.ok() ? ExecOutcome{204, std::nullopt, std::nullopt} : Fail(result.error());
  }
  ExecOutcome operator()(const SearchDocumentsCall& c) const {
    return Render(client.Search(user, c.request), 200, [&](const mc::SearchResponse& r) {
      return SearchResponseJson(r, c.request.top_k);
    });
  }
  ExecOutcome operator()(const TextSearchDocumentsCall& c) const {
    return Render(client.SearchText(user, c.request), 200, [&](const mc::RankedSearchResponse& r) {
      return RankedSearchResponseJson(r, c.request.top_k, /*hybrid=*/false);
    });
  }
  ExecOutcome operator()(const SearchMessagesCall& c) const {
    auto result = client.SearchMessages(user, c.request);
    // mnemod names the embedding `query` and the keyword query `query_text`; this route's body
    // calls them `embedding` and `query`.
    if (!result.ok() && (result.error().field == "query" || result.error().field == "query_text")) {
      mc::Error error = result.error();
      error.field = error.field == "query" ? "embedding" : "query";
      return Fail(error);
    }
    return Render(result, 200, [&](const mc::MessageSearchResponse& r) {
      return MessageSearchResponseJson(r, c.request.query_text.has_value(),
                                       !c.request.query.empty());
    });
  }
  ExecOutcome operator()(const AssembleContextCall& c) const {
    return Render(client.AssembleContext(user, c.request), 200, ContextResponseJson);
  }
  ExecOutcome operator()(const HybridSearchDocumentsCall& c) const {
    return Render(client.SearchHybrid(user, c.request), 200,
                  [&](const mc::RankedSearchResponse& r) {
                    return RankedSearchResponseJson(r, c.request.top_k, /*hybrid=*/true);
                  });
  }
};

}  // namespace

ExecOutcome Execute(mc::Client& client, std::string_view user_id, const ApiCall& call) {
  return std::visit(Visitor{client, user_id}, call);
}

}  // namespace mnemo::rest
