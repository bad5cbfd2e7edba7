// One client call per ApiCall alternative.
#include "executor.h"

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

nlohmann::json ConversationPageJson(const mc::ConversationPage& page, const mc::ConversationListOptions& o) {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& c : page.items) items.push_back(ConversationJson(c));
  return PageJson(std::move(items), page.total, o.skip, o.limit, page.next_cursor);
}

struct Visitor {
  mc::Client& client;
  std::string_view user;

  ExecOutcome operator()(const MetaCall&) const {
    return {0, std::nullopt, ErrorOf(StatusCode::kInternalError, "meta route reached the executor")};
  }
  ExecOutcome operator()(const CreateConversationCall& c) const {
    return Render(client.CreateConversation(user, c.input), 201, ConversationJson);
  }
  ExecOutcome operator()(const ListConversationsCall& c) const {
    return Render(client.ListConversations(user, c.options), 200,
                  [&](const mc::ConversationPage& p) { return ConversationPageJson(p, c.options); });
  }
  ExecOutcome operator()(const SearchConversationsCall& c) const {
    return Render(client.SearchConversationsByTitle(user, c.query, c.options), 200,
                  [&](const mc::ConversationPage& p) { return ConversationPageJson(p, c.options); });
  }
  ExecOutcome operator()(const ConversationStatsCall&) const {
    return Render(client.GetUserStats(user), 200, UserStatsJson);
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
      chunks.push_back({{"id", (*ids)[i + 1].ToString()}, {"chunk_index", c.chunks[i].chunk_index}});
    }
    body["chunks"] = std::move(chunks);
    return {201, std::move(body), std::nullopt};
  }
  ExecOutcome operator()(const ListDocumentsCall& c) const {
    const auto page = c.filename_query ? client.SearchDocumentsByFilename(user, *c.filename_query, c.options)
                                       : client.ListDocuments(user, c.options);
    return Render(page, 200, [&](const mc::DocumentPage& p) {
      nlohmann::json items = nlohmann::json::array();
      for (const auto& d : p.items) items.push_back(DocumentJson(d, /*include_content=*/false));
      return PageJson(std::move(items), p.total, c.options.skip, c.options.limit, p.next_cursor);
    });
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
  ExecOutcome operator()(const HybridSearchDocumentsCall& c) const {
    return Render(client.SearchHybrid(user, c.request), 200, [&](const mc::RankedSearchResponse& r) {
      return RankedSearchResponseJson(r, c.request.top_k, /*hybrid=*/true);
    });
  }
};

}  // namespace

ExecOutcome Execute(mc::Client& client, std::string_view user_id, const ApiCall& call) {
  return std::visit(Visitor{client, user_id}, call);
}

}  // namespace mnemo::rest
