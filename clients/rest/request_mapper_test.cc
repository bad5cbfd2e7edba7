// Tests for MapRequest (request_mapper.h): routes, query parameters and JSON bodies, good and bad.
#include "request_mapper.h"

#include <gtest/gtest.h>

namespace mnemo::rest {
namespace {

constexpr char kId[] = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";

std::variant<MappedCall, ApiError> Map(std::string_view method, std::string_view target,
                                       std::string_view body = "", uint32_t dimension = 0,
                                       std::string_view content_type = "application/json") {
  return MapRequest(method, target, content_type, body, MapContext{dimension});
}

// The error of a mapping that must fail.
ApiError Error(const std::variant<MappedCall, ApiError>& result) {
  EXPECT_TRUE(std::holds_alternative<ApiError>(result));
  return std::holds_alternative<ApiError>(result) ? std::get<ApiError>(result) : ApiError{};
}

template <typename Call>
Call CallOf(const std::variant<MappedCall, ApiError>& result) {
  if (auto* e = std::get_if<ApiError>(&result)) {
    ADD_FAILURE() << e->status << " " << e->message;
    return Call{};
  }
  const auto* call = std::get_if<Call>(&std::get<MappedCall>(result).call);
  EXPECT_NE(call, nullptr);
  return call ? *call : Call{};
}

std::string Field(const ApiError& e) { return e.details.value("field", ""); }

std::string Vector(size_t n) {
  std::string out = "[";
  for (size_t i = 0; i < n; ++i) out += i ? ",0.5" : "0.5";
  return out + "]";
}

TEST(MapRequest, CreateConversation) {
  const auto call = CallOf<CreateConversationCall>(
      Map("POST", "/api/v1/conversations",
          R"({"title":"Trip","system_prompt":"be nice","metadata":{"k":1},"model":null,"extra":true})"));
  EXPECT_EQ(call.input.title, "Trip");
  EXPECT_EQ(call.input.system_prompt, "be nice");
  EXPECT_EQ(call.input.metadata, R"({"k":1})");
  EXPECT_FALSE(call.input.model.has_value());
  EXPECT_FALSE(call.input.id.has_value());
}

TEST(MapRequest, BodyErrorsNameTheField) {
  auto e = Error(Map("POST", "/api/v1/conversations", "{not json"));
  EXPECT_EQ(e.status, 422);
  EXPECT_EQ(e.code, "VALIDATION_ERROR");
  EXPECT_EQ(Field(e), "body");
  EXPECT_EQ(Field(Error(Map("POST", "/api/v1/conversations", ""))), "body");
  EXPECT_EQ(Field(Error(Map("POST", "/api/v1/conversations", "[1,2]"))), "body");
  EXPECT_EQ(Field(Error(Map("POST", "/api/v1/conversations", "{}"))), "title");
  EXPECT_EQ(Field(Error(Map("POST", "/api/v1/conversations", R"({"title":5})"))), "title");
  EXPECT_EQ(Field(Error(Map("POST", "/api/v1/conversations", R"({"title":"t","metadata":[1]})"))), "metadata");
  EXPECT_EQ(Field(Error(Map("POST", "/api/v1/conversations", R"({"title":"t","id":"nope"})"))), "id");
  EXPECT_EQ(Error(Map("POST", "/api/v1/conversations", R"({"title":"t"})", 0, "text/plain")).status, 415);
  // No Content-Type at all is accepted (curl -d sends form type; that one is refused above).
  EXPECT_TRUE(std::holds_alternative<MappedCall>(Map("POST", "/api/v1/conversations", R"({"title":"t"})", 0, "")));
}

TEST(MapRequest, ListQueryParameters) {
  auto call = CallOf<ListConversationsCall>(
      Map("GET", "/api/v1/conversations?skip=5&limit=100&include_deleted=true&order=updated"));
  EXPECT_EQ(call.options.skip, 5);
  EXPECT_EQ(call.options.limit, 100);
  EXPECT_TRUE(call.options.include_deleted);
  EXPECT_EQ(call.options.order, mnemo::client::ConversationOrder::kUpdatedDesc);
  call = CallOf<ListConversationsCall>(Map("GET", "/api/v1/conversations"));
  EXPECT_EQ(call.options.skip, 0);
  EXPECT_EQ(call.options.limit, 10);

  EXPECT_EQ(Field(Error(Map("GET", "/api/v1/conversations?limit=101"))), "limit");
  EXPECT_EQ(Field(Error(Map("GET", "/api/v1/conversations?limit=0"))), "limit");
  EXPECT_EQ(Field(Error(Map("GET", "/api/v1/conversations?limit=ten"))), "limit");
  EXPECT_EQ(Field(Error(Map("GET", "/api/v1/conversations?skip=-1"))), "skip");
  EXPECT_EQ(Field(Error(Map("GET", "/api/v1/conversations?skip=99999999999999999999"))), "skip");
  EXPECT_EQ(Field(Error(Map("GET", "/api/v1/conversations?include_deleted=maybe"))), "include_deleted");
  EXPECT_EQ(Field(Error(Map("GET", "/api/v1/conversations?order=sideways"))), "order");
  EXPECT_EQ(Field(Error(Map("GET", "/api/v1/conversations?x=%zz"))), "query");
}

TEST(MapRequest, TitleSearchNeedsQueryText) {
  const auto call = CallOf<SearchConversationsCall>(Map("GET", "/api/v1/conversations/search?q=trip%20plan"));
  EXPECT_EQ(call.query, "trip plan");
  EXPECT_EQ(Field(Error(Map("GET", "/api/v1/conversations/search"))), "q");
}

TEST(MapRequest, PathIdsMustBeUuids) {
  const auto call = CallOf<GetConversationCall>(Map("GET", std::string("/api/v1/conversations/") + kId));
  EXPECT_EQ(call.id.ToString(), kId);
  auto e = Error(Map("GET", "/api/v1/conversations/not-a-uuid"));
  EXPECT_EQ(e.status, 422);
  EXPECT_EQ(Field(e), "id");
  EXPECT_EQ(Field(Error(Map("POST", "/api/v1/conversations/123/messages", R"({"role":"user","content":"x"})"))), "id");
}

TEST(MapRequest, UnknownPathsAndMethods) {
  auto e = Error(Map("GET", "/api/v1/unknown"));
  EXPECT_EQ(e.status, 404);
  e = Error(Map("PUT", "/api/v1/conversations"));
  EXPECT_EQ(e.status, 405);
  EXPECT_EQ(e.code, "METHOD_NOT_ALLOWED");
}

TEST(MapRequest, UpdateConversationNeedsAField) {
  const std::string target = std::string("/api/v1/conversations/") + kId;
  const auto call = CallOf<UpdateConversationCall>(Map("PATCH", target, R"({"title":"New"})"));
  EXPECT_EQ(call.update.title, "New");
  EXPECT_FALSE(call.update.summary.has_value());
  EXPECT_EQ(Field(Error(Map("PATCH", target, R"({"unknown":1})"))), "body");
  EXPECT_EQ(Field(Error(Map("PATCH", target, R"({"summary":false})"))), "summary");
}

TEST(MapRequest, DeleteIsSoftUnlessHard) {
  const std::string target = std::string("/api/v1/conversations/") + kId;
  EXPECT_FALSE(CallOf<DeleteConversationCall>(Map("DELETE", target)).hard);
  EXPECT_TRUE(CallOf<DeleteConversationCall>(Map("DELETE", target + "?hard=true")).hard);
  EXPECT_TRUE(CallOf<DeleteDocumentCall>(Map("DELETE", std::string("/api/v1/documents/") + kId + "?hard=1")).hard);
}

TEST(MapRequest, AppendMessage) {
  const std::string target = std::string("/api/v1/conversations/") + kId + "/messages";
  const auto call = CallOf<AppendMessageCall>(Map(
      "POST", target,
      R"({"role":"assistant","content":"hi","tokens_used":12,"parts":[{"type":"text","text":"hi"}],"tool_calls":[{"id":"c1"}]})"));
  EXPECT_EQ(call.input.conversation_id.ToString(), kId);
  EXPECT_EQ(call.input.role, "assistant");
  EXPECT_EQ(call.input.tokens_used, 12);
  EXPECT_EQ(call.input.parts, R"([{"text":"hi","type":"text"}])");
  EXPECT_EQ(call.input.tool_calls, R"([{"id":"c1"}])");

  EXPECT_EQ(Field(Error(Map("POST", target, R"({"content":"x"})"))), "role");
  EXPECT_EQ(Field(Error(Map("POST", target, R"({"role":"robot","content":"x"})"))), "role");
  EXPECT_EQ(Field(Error(Map("POST", target, R"({"role":"user","content":"x","tokens_used":-1})"))), "tokens_used");
  EXPECT_EQ(Field(Error(Map("POST", target, R"({"role":"user","content":"x","tokens_used":1.5})"))), "tokens_used");
  EXPECT_EQ(Field(Error(Map("POST", target, R"({"role":"user","content":"x","tokens_used":"3"})"))), "tokens_used");
  EXPECT_EQ(Field(Error(Map("POST", target, R"({"role":"user","content":"x","tokens_used":2147483648})"))), "tokens_used");
  EXPECT_EQ(Field(Error(Map("POST", target, R"({"role":"user","parts":{}})"))), "parts");
}

TEST(MapRequest, ListMessagesQuery) {
  const std::string target = std::string("/api/v1/conversations/") + kId + "/messages";
  const auto call = CallOf<ListMessagesCall>(Map("GET", target + "?order=desc&limit=200&role=tool"));
  EXPECT_EQ(call.query.order, mnemo::client::SortOrder::kDescending);
  EXPECT_EQ(call.query.limit, 200);
  EXPECT_EQ(call.query.role, mnemo::client::Role::kTool);
  EXPECT_EQ(CallOf<ListMessagesCall>(Map("GET", target)).query.limit, 50);
  EXPECT_EQ(Field(Error(Map("GET", target + "?limit=201"))), "limit");
  EXPECT_EQ(Field(Error(Map("GET", target + "?role=bot"))), "role");
}

TEST(MapRequest, CreateDocumentWithChunks) {
  const std::string body = R"({"filename":"a.md","file_type":"md","content":"text","chunks":[)"
                           R"({"chunk_text":"one","embedding":)" + Vector(4) + R"(},)"
                           R"({"chunk_index":7,"chunk_text":"two","embedding":)" + Vector(4) +
                           R"(,"created_at":"2024-01-02T03:04:05Z"}]})";
  const auto call = CallOf<CreateDocumentCall>(Map("POST", "/api/v1/documents", body, 4));
  ASSERT_TRUE(call.document.id.has_value());
  ASSERT_EQ(call.chunks.size(), 2u);
  EXPECT_EQ(call.chunks[0].chunk_index, 0);
  EXPECT_EQ(call.chunks[1].chunk_index, 7);
  EXPECT_EQ(call.chunks[1].document_id, *call.document.id);
  EXPECT_EQ(call.chunks[1].created_at, 1'704'164'645'000'000);
  EXPECT_EQ(call.chunks[0].embedding.size(), 4u);
}

TEST(MapRequest, ChunkErrorsNameTheChunk) {
  const auto doc = [](const std::string& chunk) {
    return R"({"filename":"a.md","file_type":"md","chunks":[{"chunk_text":"ok","embedding":[1,0,0,0]},)" + chunk + "]}";
  };
  EXPECT_EQ(Field(Error(Map("POST", "/api/v1/documents", doc(R"({"chunk_text":"x","embedding":[1,0,0]})"), 4))),
            "chunks[1].embedding");
  EXPECT_EQ(Field(Error(Map("POST", "/api/v1/documents", doc(R"({"chunk_text":"x","embedding":[1,0,"a",0]})"), 4))),
            "chunks[1].embedding");
  EXPECT_EQ(Field(Error(Map("POST", "/api/v1/documents", doc(R"({"chunk_text":"x","embedding":[1e300,0,0,0]})"), 4))),
            "chunks[1].embedding");
  EXPECT_EQ(Field(Error(Map("POST", "/api/v1/documents", doc(R"({"embedding":[1,0,0,0]})"), 4))),
            "chunks[1].chunk_text");
  EXPECT_EQ(Field(Error(Map("POST", "/api/v1/documents", doc(R"("text")"), 4))), "chunks[1]");
  EXPECT_EQ(Field(Error(Map("POST", "/api/v1/documents",
                            doc(R"({"chunk_text":"x","embedding":[1,0,0,0],"created_at":"yesterday"})"), 4))),
            "chunks[1].created_at");
  EXPECT_EQ(Field(Error(Map("POST", "/api/v1/documents", R"({"file_type":"md"})"))), "filename");
  EXPECT_EQ(Field(Error(Map("POST", "/api/v1/documents", R"({"filename":"a","file_type":"md","chunks":{}})"))),
            "chunks");
}

TEST(MapRequest, SearchDocuments) {
  const std::string body = R"({"embedding":)" + Vector(4) +
                           R"(,"top_k":5,"threshold":0.25,"filters":{"document_ids":[")" + kId +
                           R"("],"file_types":["md"],"created_from":"2024-01-01T00:00:00Z","metadata":{"lang":"en"}}})";
  const auto call = CallOf<SearchDocumentsCall>(Map("POST", "/api/v1/documents/search", body, 4));
  EXPECT_EQ(call.request.top_k, 5);
  EXPECT_FLOAT_EQ(*call.request.min_similarity, 0.25f);
  ASSERT_EQ(call.request.filters.document_ids.size(), 1u);
  EXPECT_EQ(call.request.filters.file_types, std::vector<std::string>{"md"});
  EXPECT_EQ(call.request.filters.created_from, 1'704'067'200'000'000);
  ASSERT_EQ(call.request.filters.metadata_equals.size(), 1u);
  EXPECT_EQ(call.request.filters.metadata_equals[0].value, "\"en\"");
  EXPECT_EQ(CallOf<SearchDocumentsCall>(Map("POST", "/api/v1/documents/search", R"({"embedding":[1]})")).request.top_k, 10);
}

TEST(MapRequest, KeywordAndHybridSearch) {
  const std::string filters = R"("filters":{"file_types":["md"],"metadata":{"lang":"en"}})";
  const auto text = CallOf<TextSearchDocumentsCall>(
      Map("POST", "/api/v1/documents/search", R"({"query":"机器学习 rocksdb","top_k":7,)" + filters + "}", 4));
  EXPECT_EQ(text.request.query, "机器学习 rocksdb");
  EXPECT_EQ(text.request.top_k, 7);
  EXPECT_EQ(text.request.filters.file_types, std::vector<std::string>{"md"});
  ASSERT_EQ(text.request.filters.metadata_equals.size(), 1u);

  const auto hybrid = CallOf<HybridSearchDocumentsCall>(
      Map("POST", "/api/v1/documents/search",
          R"({"query":"rocksdb","embedding":)" + Vector(4) +
              R"(,"top_k":5,"threshold":0.1,"ef":40,"fusion":"weighted","text_weight":0.3,"rrf_k":10,"candidates":20,)" +
              filters + "}",
          4));
  EXPECT_EQ(hybrid.request.query_text, "rocksdb");
  EXPECT_EQ(hybrid.request.query_embedding.size(), 4u);
  EXPECT_EQ(hybrid.request.top_k, 5);
  EXPECT_EQ(hybrid.request.fusion, mc::Fusion::kWeighted);
  EXPECT_DOUBLE_EQ(*hybrid.request.text_weight, 0.3);
  EXPECT_DOUBLE_EQ(*hybrid.request.rrf_k, 10);
  EXPECT_EQ(*hybrid.request.candidates, 20);
  EXPECT_FLOAT_EQ(*hybrid.request.min_similarity, 0.1f);
  EXPECT_EQ(*hybrid.request.ef, 40);
  EXPECT_EQ(hybrid.request.filters.file_types, std::vector<std::string>{"md"});
  const auto defaults = CallOf<HybridSearchDocumentsCall>(
      Map("POST", "/api/v1/documents/search", R"({"query":"x","embedding":)" + Vector(4) + "}", 4));
  EXPECT_EQ(defaults.request.fusion, mc::Fusion::kRrf);
  EXPECT_FALSE(defaults.request.text_weight.has_value());
  EXPECT_FALSE(defaults.request.candidates.has_value());
}

TEST(MapRequest, KeywordAndHybridSearchErrors) {
  const auto search = [](const std::string& body) { return Map("POST", "/api/v1/documents/search", body, 4); };
  const std::string e = R"("embedding":)" + Vector(4);
  EXPECT_EQ(Field(Error(search(R"({"query":7})"))), "query");
  EXPECT_EQ(Field(Error(search(R"({"query":"x","top_k":0})"))), "top_k");
  EXPECT_EQ(Field(Error(search(R"({"query":"x","filters":{"created_from":"never"}})"))), "filters.created_from");
  EXPECT_EQ(Field(Error(search(R"({"query":"x","embedding":[1,2]})"))), "embedding");
  EXPECT_EQ(Field(Error(search(R"({"query":"x",)" + e + R"(,"fusion":"max"})"))), "fusion");
  EXPECT_EQ(Field(Error(search(R"({"query":"x",)" + e + R"(,"text_weight":2})"))), "text_weight");
  EXPECT_EQ(Field(Error(search(R"({"query":"x",)" + e + R"(,"rrf_k":0})"))), "rrf_k");
  EXPECT_EQ(Field(Error(search(R"({"query":"x",)" + e + R"(,"top_k":10,"candidates":5})"))), "candidates");
  EXPECT_EQ(Field(Error(search(R"({"query":"x",)" + e + R"(,"threshold":3})"))), "threshold");
}

TEST(MapRequest, SearchErrors) {
  const auto search = [](const std::string& body) { return Map("POST", "/api/v1/documents/search", body, 4); };
  EXPECT_EQ(Field(Error(search(R"({"top_k":3})"))), "embedding");
  EXPECT_EQ(Field(Error(search(R"({"embedding":[1,2]})"))), "embedding");
  EXPECT_EQ(Field(Error(search(R"({"embedding":[]})"))), "embedding");
  EXPECT_EQ(Field(Error(search(R"({"embedding":"1,2,3,4"})"))), "embedding");
  EXPECT_EQ(Field(Error(search(R"({"embedding":[1,2,3,4],"top_k":0})"))), "top_k");
  EXPECT_EQ(Field(Error(search(R"({"embedding":[1,2,3,4],"top_k":1001})"))), "top_k");
  EXPECT_EQ(Field(Error(search(R"({"embedding":[1,2,3,4],"top_k":"10"})"))), "top_k");
  EXPECT_EQ(Field(Error(search(R"({"embedding":[1,2,3,4],"top_k":18446744073709551615})"))), "top_k");
  EXPECT_EQ(Field(Error(search(R"({"embedding":[1,2,3,4],"threshold":1.5})"))), "threshold");
  EXPECT_EQ(Field(Error(search(R"({"embedding":[1,2,3,4],"threshold":"high"})"))), "threshold");
  EXPECT_EQ(Field(Error(search(R"({"embedding":[1,2,3,4],"filters":[]})"))), "filters");
  EXPECT_EQ(Field(Error(search(R"({"embedding":[1,2,3,4],"filters":{"document_ids":["x"]}})"))),
            "filters.document_ids[0]");
  EXPECT_EQ(Field(Error(search(R"({"embedding":[1,2,3,4],"filters":{"file_types":[1]}})"))),
            "filters.file_types[0]");
  EXPECT_EQ(Field(Error(search(R"({"embedding":[1,2,3,4],"filters":{"created_until":"2024"}})"))),
            "filters.created_until");
}

TEST(MapRequest, MetaRoutesNeedNoBody) {
  for (const char* path : {"/health", "/ready", "/metrics", "/api/openapi.json"}) {
    const auto result = Map("GET", path);
    ASSERT_TRUE(std::holds_alternative<MappedCall>(result)) << path;
    EXPECT_TRUE(std::holds_alternative<MetaCall>(std::get<MappedCall>(result).call));
  }
}

}  // namespace
}  // namespace mnemo::rest
