// MapRequest for message embeddings, POST /api/v1/messages/search and the memory fields of the
// context route: full bodies become the right client requests, absent fields their defaults,
// and every bad value a 422 naming its field.
#include <gtest/gtest.h>

#include "request_mapper.h"
#include "routes.h"

namespace mnemo::rest {
namespace {

namespace mc = mnemo::client;

constexpr char kId[] = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
constexpr char kOther[] = "11111111-2222-7333-8444-555555555555";
constexpr char kSearch[] = "/api/v1/messages/search";
const std::string kMessages = std::string("/api/v1/conversations/") + kId + "/messages";
const std::string kContext = std::string("/api/v1/conversations/") + kId + "/context";

std::variant<MappedCall, ApiError> Map(const std::string& target, std::string_view body,
                                       uint32_t dimension = 0) {
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

template <typename Call>
Call CallOf(const std::variant<MappedCall, ApiError>& result, RouteId route) {
  if (const auto* e = std::get_if<ApiError>(&result)) {
    ADD_FAILURE() << e->status << " " << e->message;
    return {};
  }
  const auto& mapped = std::get<MappedCall>(result);
  EXPECT_EQ(mapped.route->id, route);
  const auto* call = std::get_if<Call>(&mapped.call);
  EXPECT_NE(call, nullptr);
  return call ? *call : Call{};
}

TEST(MapMessageSearch, TheRouteIsAPostBesideTheMessageRoutes) {
  const RouteLookup lookup = FindRoute("POST", kSearch);
  ASSERT_NE(lookup.route, nullptr);
  EXPECT_EQ(lookup.route->id, RouteId::kSearchMessages);
  EXPECT_EQ(lookup.route->success_status, 200);
  EXPECT_TRUE(lookup.route->needs_user);
  // The message routes by id still find their ids.
  const RouteLookup by_id = FindRoute("GET", std::string("/api/v1/messages/") + kId);
  ASSERT_NE(by_id.route, nullptr);
  EXPECT_EQ(by_id.route->id, RouteId::kGetMessage);
}

TEST(MapMessageSearch, AppendCarriesTheEmbedding) {
  const auto with = CallOf<AppendMessageCall>(
      Map(kMessages, R"({"role": "user", "content": "hi", "embedding": [1, 0.5, -2]})", 3),
      RouteId::kAppendMessage);
  EXPECT_EQ(with.input.embedding, (std::vector<float>{1, 0.5f, -2}));
  const auto without = CallOf<AppendMessageCall>(
      Map(kMessages, R"({"role": "user", "content": "hi"})", 3), RouteId::kAppendMessage);
  EXPECT_TRUE(without.input.embedding.empty());
  // Unknown dimension (mnemod not reached yet): any length passes, mnemod checks it.
  const auto unchecked = CallOf<AppendMessageCall>(
      Map(kMessages, R"({"role": "user", "content": "hi", "embedding": [1, 2]})"),
      RouteId::kAppendMessage);
  EXPECT_EQ(unchecked.input.embedding.size(), 2u);

  for (const char* body : {
           R"({"role": "user", "content": "hi", "embedding": [1, 2]})",         // dimension
           R"({"role": "user", "content": "hi", "embedding": [1, "a", 3]})",    // not numeric
           R"({"role": "user", "content": "hi", "embedding": [1, null, 3]})",   // not numeric
           R"({"role": "user", "content": "hi", "embedding": "1,2,3"})",        // not an array
           R"({"role": "user", "content": "hi", "embedding": []})",             // empty
           R"({"role": "user", "content": "hi", "embedding": [1, 1e300, 3]})",  // not float32
       }) {
    EXPECT_EQ(FieldOf(Map(kMessages, body, 3)), "embedding") << body;
  }
}

TEST(MapMessageSearch, EverySearchFieldReachesTheRequest) {
  const auto call = CallOf<SearchMessagesCall>(
      Map(kSearch,
          R"({"embedding": [1, 0, 0], "top_k": 7, "min_similarity": -0.5, "ef": 64,
              "filters": {"conversation_ids": [")" +
              std::string(kId) + R"(", ")" + kOther +
              R"("], "roles": ["user", "tool"],
                          "created_from": "2026-01-01T00:00:00Z",
                          "created_until": "2026-02-01T00:00:00Z"}})",
          3),
      RouteId::kSearchMessages);
  const mc::MessageSearchRequest& request = call.request;
  EXPECT_EQ(request.query, (std::vector<float>{1, 0, 0}));
  EXPECT_EQ(request.top_k, 7);
  EXPECT_EQ(request.min_similarity, -0.5f);
  EXPECT_EQ(request.ef, 64);
  ASSERT_EQ(request.filters.conversation_ids.size(), 2u);
  EXPECT_EQ(request.filters.conversation_ids[0].ToString(), kId);
  EXPECT_EQ(request.filters.conversation_ids[1].ToString(), kOther);
  EXPECT_EQ(request.filters.roles, (std::vector<std::string>{"user", "tool"}));
  EXPECT_EQ(request.filters.created_from, INT64_C(1767225600000000));
  EXPECT_EQ(request.filters.created_until, INT64_C(1769904000000000));
}

TEST(MapMessageSearch, AbsentFieldsTakeTheirDefaults) {
  const auto call = CallOf<SearchMessagesCall>(Map(kSearch, R"({"embedding": [1, 0]})"),
                                               RouteId::kSearchMessages);
  EXPECT_EQ(call.request.top_k, kDefaultTopK);
  EXPECT_FALSE(call.request.min_similarity.has_value());
  EXPECT_FALSE(call.request.ef.has_value());
  EXPECT_TRUE(call.request.filters.conversation_ids.empty());
  EXPECT_TRUE(call.request.filters.roles.empty());
  EXPECT_FALSE(call.request.filters.created_from.has_value());
}

TEST(MapMessageSearch, QueryAloneIsAKeywordSearchAndBothAHybrid) {
  const auto keyword = CallOf<SearchMessagesCall>(
      Map(kSearch, R"({"query": "kyoto temples", "top_k": 3, "filters": {"roles": ["user"]}})", 3),
      RouteId::kSearchMessages);
  EXPECT_EQ(keyword.request.query_text, "kyoto temples");
  EXPECT_TRUE(keyword.request.query.empty());
  EXPECT_EQ(keyword.request.top_k, 3);
  EXPECT_EQ(keyword.request.filters.roles, (std::vector<std::string>{"user"}));
  // A blank text is mnemod's to refuse (422 naming query), so it travels as given.
  const auto blank =
      CallOf<SearchMessagesCall>(Map(kSearch, R"({"query": "  "})", 3), RouteId::kSearchMessages);
  EXPECT_EQ(blank.request.query_text, "  ");

  const auto hybrid = CallOf<SearchMessagesCall>(
      Map(kSearch,
          R"({"query": "kyoto", "embedding": [1, 0, 0], "fusion": "weighted",
              "text_weight": 0.25, "rrf_k": 30, "candidates": 80, "top_k": 5})",
          3),
      RouteId::kSearchMessages);
  EXPECT_EQ(hybrid.request.query_text, "kyoto");
  EXPECT_EQ(hybrid.request.query, (std::vector<float>{1, 0, 0}));
  EXPECT_EQ(hybrid.request.fusion, mc::Fusion::kWeighted);
  EXPECT_EQ(hybrid.request.text_weight, 0.25);
  EXPECT_EQ(hybrid.request.rrf_k, 30);
  EXPECT_EQ(hybrid.request.candidates, 80);
  const auto plain = CallOf<SearchMessagesCall>(Map(kSearch, R"({"embedding": [1, 0, 0]})", 3),
                                                RouteId::kSearchMessages);
  EXPECT_FALSE(plain.request.query_text.has_value());
  EXPECT_EQ(plain.request.fusion, mc::Fusion::kRrf);
}

TEST(MapMessageSearch, BadSearchValuesNameTheirField) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({})", "embedding"},
      {R"({"embedding": [1, 2]})", "embedding"},
      {R"({"embedding": [1, "x", 3]})", "embedding"},
      {R"({"embedding": [1, 0, 0], "top_k": 0})", "top_k"},
      {R"({"embedding": [1, 0, 0], "top_k": 1001})", "top_k"},
      {R"({"embedding": [1, 0, 0], "top_k": "5"})", "top_k"},
      {R"({"embedding": [1, 0, 0], "min_similarity": 1.5})", "min_similarity"},
      {R"({"embedding": [1, 0, 0], "ef": 0})", "ef"},
      {R"({"embedding": [1, 0, 0], "filters": []})", "filters"},
      {R"({"embedding": [1, 0, 0], "filters": {"roles": ["robot"]}})", "filters.roles"},
      {R"({"embedding": [1, 0, 0], "filters": {"roles": "user"}})", "filters.roles"},
      {R"({"embedding": [1, 0, 0], "filters": {"conversation_ids": ["nope"]}})",
       "filters.conversation_ids[0]"},
      {R"({"embedding": [1, 0, 0], "filters": {"created_from": "yesterday"}})",
       "filters.created_from"},
      {R"({"query": 5})", "query"},
      {R"({"query": "x", "embedding": [1, 0]})", "embedding"},
      {R"({"query": "x", "embedding": [1, 0, 0], "fusion": "max"})", "fusion"},
      {R"({"query": "x", "embedding": [1, 0, 0], "text_weight": 2})", "text_weight"},
      {R"({"query": "x", "embedding": [1, 0, 0], "rrf_k": 0})", "rrf_k"},
      {R"({"query": "x", "embedding": [1, 0, 0], "top_k": 10, "candidates": 5})", "candidates"},
  };
  for (const auto& [body, field] : cases) EXPECT_EQ(FieldOf(Map(kSearch, body, 3)), field) << body;
}

TEST(MapMessageSearch, ContextMemoryFieldsReachTheRequest) {
  const auto call = CallOf<AssembleContextCall>(
      Map(kContext,
          R"({"token_budget": 100, "query_embedding": [1, 0, 0], "k_memories": 3,
              "memory_filters": {"roles": ["assistant"], "conversation_ids": [")" +
              std::string(kOther) + R"("]}})",
          3),
      RouteId::kAssembleContext);
  EXPECT_EQ(call.request.k_memories, 3);
  EXPECT_EQ(call.request.memory_filters.roles, (std::vector<std::string>{"assistant"}));
  ASSERT_EQ(call.request.memory_filters.conversation_ids.size(), 1u);
  EXPECT_EQ(call.request.memory_filters.conversation_ids[0].ToString(), kOther);

  const auto defaults = CallOf<AssembleContextCall>(Map(kContext, R"({"token_budget": 100})"),
                                                    RouteId::kAssembleContext);
  EXPECT_EQ(defaults.request.k_memories, kDefaultContextMemories);
  EXPECT_TRUE(defaults.request.memory_filters.roles.empty());

  for (const char* body : {R"({"token_budget": 100, "k_memories": -1})",
                           R"({"token_budget": 100, "k_memories": 1001})",
                           R"({"token_budget": 100, "k_memories": 1.5})"}) {
    EXPECT_EQ(FieldOf(Map(kContext, body)), "k_memories") << body;
  }
  EXPECT_EQ(FieldOf(Map(kContext, R"({"token_budget": 100, "memory_filters": {"roles": ["x"]}})")),
            "memory_filters.roles");
}

}  // namespace
}  // namespace mnemo::rest
