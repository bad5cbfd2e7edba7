// MapRequest for POST /api/v1/conversations/{id}/context: a full body becomes the right
// ContextRequest, defaults fill an empty one, and every bad value is a 422 naming its field.
#include <gtest/gtest.h>

#include "request_mapper.h"
#include "routes.h"

namespace mnemo::rest {
namespace {

namespace mc = mnemo::client;

constexpr char kId[] = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
const std::string kContext = std::string("/api/v1/conversations/") + kId + "/context";

std::variant<MappedCall, ApiError> Map(std::string_view body, uint32_t dimension = 0,
                                       const std::string& target = kContext) {
  return MapRequest("POST", target, "application/json", body, MapContext{dimension});
}

std::string FieldOf(const std::variant<MappedCall, ApiError>& result) {
  const auto* error = std::get_if<ApiError>(&result);
  EXPECT_NE(error, nullptr) << "mapping succeeded";
  if (error == nullptr) return "";
  EXPECT_EQ(error->status, 422) << error->message;
  EXPECT_EQ(error->code, "VALIDATION_ERROR");
  return error->details.value("field", "");
}

mc::ContextRequest RequestOf(const std::variant<MappedCall, ApiError>& result) {
  if (const auto* e = std::get_if<ApiError>(&result)) {
    ADD_FAILURE() << e->status << " " << e->message;
    return {};
  }
  const auto& mapped = std::get<MappedCall>(result);
  EXPECT_EQ(mapped.route->id, RouteId::kAssembleContext);
  const auto* call = std::get_if<AssembleContextCall>(&mapped.call);
  EXPECT_NE(call, nullptr);
  return call ? call->request : mc::ContextRequest{};
}

TEST(MapContext, TheRouteIsAPostOnAConversation) {
  const RouteLookup lookup = FindRoute("POST", kContext);
  ASSERT_NE(lookup.route, nullptr);
  EXPECT_EQ(lookup.route->id, RouteId::kAssembleContext);
  EXPECT_EQ(lookup.path_id, kId);
  EXPECT_EQ(lookup.route->success_status, 200);
  EXPECT_TRUE(lookup.route->needs_user);
  EXPECT_EQ(FindRoute("GET", kContext).route, nullptr);  // 405: POST only
}

TEST(MapContext, EveryFieldReachesTheRequest) {
  const mc::ContextRequest request =
      RequestOf(Map(R"({"token_budget": 4096, "max_messages": 0, "query_embedding": [1, 0.5, 0],
              "query_text": "kyoto", "k_chunks": 3, "min_similarity": -0.25, "message_budget": 512,
              "filters": {"file_types": ["md"], "created_from": "2026-01-01T00:00:00Z"}})",
                    3));
  EXPECT_EQ(request.conversation_id.ToString(), kId);
  EXPECT_EQ(request.token_budget, 4096);
  EXPECT_EQ(request.max_messages, 0);
  EXPECT_EQ(request.query_embedding, (std::vector<float>{1, 0.5f, 0}));
  EXPECT_EQ(request.query_text, "kyoto");
  EXPECT_EQ(request.k_chunks, 3);
  EXPECT_EQ(request.min_similarity, -0.25f);
  EXPECT_EQ(request.message_budget, 512);
  EXPECT_EQ(request.chunk_filters.file_types, std::vector<std::string>{"md"});
  EXPECT_TRUE(request.chunk_filters.created_from.has_value());
}

TEST(MapContext, DefaultsAndNullsMeanAbsent) {
  const mc::ContextRequest request =
      RequestOf(Map(R"({"token_budget": 1, "query_embedding": null, "query_text": null})", 3));
  EXPECT_EQ(request.token_budget, 1);
  EXPECT_EQ(request.max_messages, kDefaultContextMessages);
  EXPECT_EQ(request.k_chunks, kDefaultContextChunks);
  EXPECT_TRUE(request.query_embedding.empty());
  EXPECT_TRUE(request.query_text.empty());
  EXPECT_FALSE(request.min_similarity.has_value());
  EXPECT_FALSE(request.message_budget.has_value());
}

TEST(MapContext, BadValuesNameTheirField) {
  EXPECT_EQ(FieldOf(Map("{}")), "token_budget");
  EXPECT_EQ(FieldOf(Map(R"({"token_budget": 0})")), "token_budget");
  EXPECT_EQ(FieldOf(Map(R"({"token_budget": -5})")), "token_budget");
  EXPECT_EQ(FieldOf(Map(R"({"token_budget": 10000001})")), "token_budget");
  EXPECT_EQ(FieldOf(Map(R"({"token_budget": 1.5})")), "token_budget");
  EXPECT_EQ(FieldOf(Map(R"({"token_budget": "100"})")), "token_budget");
  EXPECT_EQ(FieldOf(Map(R"({"token_budget": 100, "k_chunks": -1})")), "k_chunks");
  EXPECT_EQ(FieldOf(Map(R"({"token_budget": 100, "k_chunks": 1001})")), "k_chunks");
  EXPECT_EQ(FieldOf(Map(R"({"token_budget": 100, "max_messages": -1})")), "max_messages");
  EXPECT_EQ(FieldOf(Map(R"({"token_budget": 100, "max_messages": 1001})")), "max_messages");
  EXPECT_EQ(FieldOf(Map(R"({"token_budget": 100, "message_budget": -1})")), "message_budget");
  EXPECT_EQ(FieldOf(Map(R"({"token_budget": 100, "message_budget": 10000001})")), "message_budget");
  EXPECT_EQ(FieldOf(Map(R"({"token_budget": 100, "message_budget": "9"})")), "message_budget");
  EXPECT_EQ(FieldOf(Map(R"({"token_budget": 100, "query_embedding": [1, 2]})", 3)),
            "query_embedding");
  EXPECT_EQ(FieldOf(Map(R"({"token_budget": 100, "query_embedding": []})", 3)), "query_embedding");
  EXPECT_EQ(FieldOf(Map(R"({"token_budget": 100, "query_embedding": "x"})", 3)), "query_embedding");
  EXPECT_EQ(FieldOf(Map(R"({"token_budget": 100, "query_text": 7})")), "query_text");
  EXPECT_EQ(FieldOf(Map(R"({"token_budget": 100, "min_similarity": 1.5})")), "min_similarity");
  EXPECT_EQ(FieldOf(Map(R"({"token_budget": 100, "filters": {"document_ids": ["x"]}})")),
            "filters.document_ids[0]");
  EXPECT_EQ(FieldOf(Map("[]")), "body");
  EXPECT_EQ(FieldOf(Map(R"({"token_budget": 100})", 0, "/api/v1/conversations/not-a-uuid/context")),
            "id");
}

}  // namespace
}  // namespace mnemo::rest
