// MapRequest for the routes of single-row edits, counts, filters, chunks and batch search: good
// input becomes the right call, bad input a 422 naming the field.
#include <gtest/gtest.h>

#include "request_mapper.h"
#include "routes.h"

namespace mnemo::rest {
namespace {

namespace mc = mnemo::client;

constexpr char kId[] = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";

std::variant<MappedCall, ApiError> Map(std::string_view method, const std::string& target,
                                       std::string_view body = "", uint32_t dimension = 0) {
  return MapRequest(method, target, "application/json", body, MapContext{dimension});
}

std::string FieldOf(const std::variant<MappedCall, ApiError>& result) {
  const auto* error = std::get_if<ApiError>(&result);
  EXPECT_NE(error, nullptr) << "mapping succeeded";
  if (error == nullptr) return "";
  EXPECT_EQ(error->status, 422) << error->message;
  return error->details.value("field", "");
}

template <typename Call>
Call CallOf(const std::variant<MappedCall, ApiError>& result) {
  if (const auto* e = std::get_if<ApiError>(&result)) {
    ADD_FAILURE() << e->status << " " << e->message;
    return Call{};
  }
  const auto* call = std::get_if<Call>(&std::get<MappedCall>(result).call);
  EXPECT_NE(call, nullptr);
  return call ? *call : Call{};
}

const std::string kConversations = "/api/v1/conversations";
const std::string kMessages = std::string("/api/v1/conversations/") + kId + "/messages";

TEST(MapEdits, RoutesResolveLiteralSegmentsFirst) {
  EXPECT_EQ(FindRoute("GET", "/api/v1/conversations/count").route->id,
            RouteId::kCountConversations);
  EXPECT_EQ(FindRoute("GET", "/api/v1/documents/count").route->id, RouteId::kCountDocuments);
  EXPECT_EQ(FindRoute("POST", "/api/v1/documents/search/batch").route->id,
            RouteId::kSearchDocumentsBatch);
  EXPECT_EQ(FindRoute("GET", kMessages + "/last").route->id, RouteId::kLastMessages);
  EXPECT_EQ(FindRoute("GET", kMessages + "/count").route->id, RouteId::kCountMessages);
  EXPECT_EQ(FindRoute("DELETE", kMessages).route->id, RouteId::kDeleteMessages);
  EXPECT_EQ(FindRoute("PUT", std::string("/api/v1/messages/") + kId + "/tool_results").route->id,
            RouteId::kSetToolResults);
  EXPECT_EQ(FindRoute("PUT", std::string("/api/v1/documents/") + kId + "/chunks").route->id,
            RouteId::kReplaceChunks);
  EXPECT_EQ(FindRoute("POST", std::string("/api/v1/chunks/") + kId + "/restore").route->id,
            RouteId::kRestoreChunk);
  const auto allowed = FindRoute("PUT", std::string("/api/v1/chunks/") + kId).allowed_methods;
  EXPECT_EQ(allowed.size(), 2u);  // GET, DELETE
}

TEST(MapEdits, ConversationFiltersAndCounts) {
  auto list = CallOf<ListConversationsCall>(
      Map("GET", kConversations +
                     "?created_from=2025-01-01T00:00:00Z&updated_until=2025-02-01T00:00:00Z"
                     "&model=gpt-4o&metadata=%7B%22team%22%3A%22red%22%2C%22n%22%3A2%7D"));
  EXPECT_EQ(list.options.filter.created_from, 1735689600000000);
  EXPECT_EQ(list.options.filter.updated_until, 1738368000000000);
  EXPECT_EQ(list.options.filter.model, "gpt-4o");
  ASSERT_EQ(list.options.filter.metadata_equals.size(), 2u);
  EXPECT_EQ(list.options.filter.metadata_equals[0].key, "n");  // JSON object order
  EXPECT_EQ(list.options.filter.metadata_equals[0].value, "2");
  EXPECT_EQ(list.options.filter.metadata_equals[1].value, "\"red\"");
  auto count =
      CallOf<CountConversationsCall>(Map("GET", kConversations + "/count?model=x&exists=true"));
  EXPECT_TRUE(count.exists);
  EXPECT_EQ(count.filter.model, "x");
  EXPECT_EQ(FieldOf(Map("GET", kConversations + "?created_from=yesterday")), "created_from");
  EXPECT_EQ(FieldOf(Map("GET", kConversations + "/count?metadata=%5B1%5D")), "metadata");
  EXPECT_EQ(FieldOf(Map("GET", kConversations + "/count?exists=maybe")), "exists");
  EXPECT_EQ(FieldOf(Map("GET", kConversations + "/search?q=a&updated_from=1")), "updated_from");
}

TEST(MapEdits, MessageRoutes) {
  auto last = CallOf<LastMessagesCall>(Map("GET", kMessages + "/last?count=5&role=assistant"));
  EXPECT_EQ(last.count, 5);
  EXPECT_EQ(last.role, mc::Role::kAssistant);
  EXPECT_EQ(CallOf<LastMessagesCall>(Map("GET", kMessages + "/last")).count, 20);
  EXPECT_EQ(FieldOf(Map("GET", kMessages + "/last?count=0")), "count");
  EXPECT_EQ(FieldOf(Map("GET", kMessages + "/last?count=201")), "count");
  EXPECT_EQ(FieldOf(Map("GET", kMessages + "/last?role=bot")), "role");
  auto count = CallOf<CountMessagesCall>(
      Map("GET",
          kMessages + "/count?role=user&tool_calls_only=true&created_until=2026-01-01T00:00:00Z"));
  EXPECT_EQ(count.filter.role, mc::Role::kUser);
  EXPECT_TRUE(count.filter.only_with_tool_calls);
  EXPECT_TRUE(count.filter.created_until.has_value());
  auto listed =
      CallOf<ListMessagesCall>(Map("GET", kMessages + "?metadata=%7B%22lang%22%3A%22en%22%7D"));
  ASSERT_EQ(listed.query.metadata_equals.size(), 1u);
  EXPECT_EQ(CallOf<DeleteMessagesCall>(Map("DELETE", kMessages)).conversation_id.ToString(), kId);
  EXPECT_EQ(FieldOf(Map("DELETE", "/api/v1/conversations/nope/messages")), "id");

  const std::string message = std::string("/api/v1/messages/") + kId;
  EXPECT_EQ(CallOf<GetMessageCall>(Map("GET", message)).id.ToString(), kId);
  auto update = CallOf<UpdateMessageCall>(
      Map("PATCH", message,
          R"({"content":"x","tool_calls":null,"tokens_used":null,"tool_results":{"ok":1}})"));
  EXPECT_EQ(update.update.content, "x");
  EXPECT_EQ(update.update.tool_calls, "null");  // null clears
  EXPECT_TRUE(update.update.clear_tokens_used);
  EXPECT_FALSE(update.update.tokens_used.has_value());
  EXPECT_EQ(update.update.tool_results, R"({"ok":1})");
  EXPECT_FALSE(update.update.attachments.has_value());  // absent: unchanged
  EXPECT_EQ(FieldOf(Map("PATCH", message, "{}")), "body");
  EXPECT_EQ(FieldOf(Map("PATCH", message, R"({"role":"robot"})")), "role");
  EXPECT_EQ(FieldOf(Map("PATCH", message, R"({"tokens_used":-3})")), "tokens_used");
  EXPECT_EQ(FieldOf(Map("PATCH", message, R"({"parts":{"a":1}})")), "parts");
  EXPECT_EQ(FieldOf(Map("PATCH", message, R"({"metadata":"x"})")), "metadata");
  EXPECT_EQ(FieldOf(Map("PATCH", "/api/v1/messages/123", R"({"content":"x"})")), "id");
  EXPECT_EQ(CallOf<DeleteMessageCall>(Map("DELETE", message)).id.ToString(), kId);
  auto results = CallOf<SetToolResultsCall>(
      Map("PUT", message + "/tool_results", R"({"tool_results":[1,2]})"));
  EXPECT_EQ(results.tool_results, "[1,2]");
  EXPECT_EQ(
      CallOf<SetToolResultsCall>(Map("PUT", message + "/tool_results", R"({"tool_results":null})"))
          .tool_results,
      "null");
  EXPECT_EQ(FieldOf(Map("PUT", message + "/tool_results", R"({"other":1})")), "tool_results");
}

TEST(MapEdits, DocumentRoutes) {
  auto list = CallOf<ListDocumentsCall>(
      Map("GET", "/api/v1/documents?file_type=pdf,md&q=Report&created_from=2025-01-01T00:00:00Z"));
  EXPECT_EQ(list.options.filter.file_types, (std::vector<std::string>{"pdf", "md"}));
  EXPECT_EQ(list.options.filter.filename_contains, "Report");
  EXPECT_TRUE(list.options.filter.created_from.has_value());
  EXPECT_EQ(FieldOf(Map("GET", "/api/v1/documents?file_type=pdf,,md")), "file_type");
  auto count = CallOf<CountDocumentsCall>(
      Map("GET", "/api/v1/documents/count?file_type=pdf&include_deleted=1"));
  EXPECT_TRUE(count.include_deleted);
  EXPECT_EQ(count.filter.file_types.size(), 1u);

  const std::string document = std::string("/api/v1/documents/") + kId;
  auto update = CallOf<UpdateDocumentCall>(
      Map("PATCH", document, R"({"filename":"b.md","metadata":{"v":1}})"));
  EXPECT_EQ(update.update.filename, "b.md");
  EXPECT_FALSE(update.update.file_type.has_value());
  EXPECT_EQ(FieldOf(Map("PATCH", document, R"({"unknown":1})")), "body");
  EXPECT_EQ(FieldOf(Map("PATCH", document, R"({"filename":7})")), "filename");
  EXPECT_EQ(CallOf<RestoreDocumentCall>(Map("POST", document + "/restore")).id.ToString(), kId);
}

TEST(MapEdits, ChunkRoutesAndBatchSearch) {
  const std::string chunks = std::string("/api/v1/documents/") + kId + "/chunks";
  const std::string body =
      R"({"chunks":[{"chunk_text":"a","embedding":[1,0]},{"chunk_index":7,"chunk_text":"b","embedding":[0,1]}]})";
  auto add = CallOf<WriteChunksCall>(Map("POST", chunks, body, 2));
  EXPECT_FALSE(add.replace);
  ASSERT_EQ(add.chunks.size(), 2u);
  EXPECT_EQ(add.chunks[0].chunk_index, 0);
  EXPECT_EQ(add.chunks[1].chunk_index, 7);
  EXPECT_EQ(add.chunks[1].document_id.ToString(), kId);
  EXPECT_TRUE(CallOf<WriteChunksCall>(Map("PUT", chunks, body, 2)).replace);
  EXPECT_TRUE(CallOf<WriteChunksCall>(Map("PUT", chunks, R"({"chunks":[]})", 2)).chunks.empty());
  EXPECT_EQ(FieldOf(Map("POST", chunks, R"({"chunks":[]})", 2)), "chunks");
  EXPECT_EQ(FieldOf(Map("POST", chunks, "{}", 2)), "chunks");
  EXPECT_EQ(
      FieldOf(Map("POST", chunks, R"({"chunks":[{"chunk_text":"a","embedding":[1,0,0]}]})", 2)),
      "chunks[0].embedding");
  EXPECT_EQ(FieldOf(Map("POST", chunks, R"({"chunks":[{"embedding":[1,0]}]})", 2)),
            "chunks[0].chunk_text");
  auto page = CallOf<ListChunksCall>(Map("GET", chunks + "?limit=1000&include_deleted=true"));
  EXPECT_EQ(page.options.limit, 1000);
  EXPECT_TRUE(page.options.include_deleted);
  EXPECT_EQ(FieldOf(Map("GET", chunks + "?limit=1001")), "limit");

  const std::string chunk = std::string("/api/v1/chunks/") + kId;
  EXPECT_FALSE(CallOf<GetChunkCall>(Map("GET", chunk)).include_deleted);
  EXPECT_TRUE(CallOf<DeleteChunkCall>(Map("DELETE", chunk + "?hard=true")).hard);
  EXPECT_FALSE(CallOf<DeleteChunkCall>(Map("DELETE", chunk)).hard);
  EXPECT_EQ(CallOf<RestoreChunkCall>(Map("POST", chunk + "/restore")).id.ToString(), kId);
  EXPECT_EQ(FieldOf(Map("GET", "/api/v1/chunks/xyz")), "id");

  auto batch = CallOf<SearchDocumentsBatchCall>(
      Map("POST", "/api/v1/documents/search/batch",
          R"({"queries":[{"embedding":[1,0],"top_k":3},{"embedding":[0,1]}]})", 2));
  ASSERT_EQ(batch.requests.size(), 2u);
  EXPECT_EQ(batch.requests[0].top_k, 3);
  EXPECT_EQ(batch.requests[1].top_k, 10);
  EXPECT_EQ(FieldOf(Map("POST", "/api/v1/documents/search/batch", R"({"queries":[]})", 2)),
            "queries");
  EXPECT_EQ(FieldOf(Map("POST", "/api/v1/documents/search/batch",
                        R"({"queries":[{"embedding":[1]}]})", 2)),
            "queries[0].embedding");
  EXPECT_EQ(FieldOf(Map("POST", "/api/v1/documents/search/batch",
                        R"({"queries":[{"embedding":[1,0],"threshold":2}]})", 2)),
            "queries[0].threshold");
}

}  // namespace
}  // namespace mnemo::rest
