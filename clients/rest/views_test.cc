// Tests for the JSON views (json_view.h), the error mapping (api_error.h) and metrics text.
#include <gtest/gtest.h>

#include "api_error.h"
#include "json_view.h"
#include "metrics.h"

namespace mnemo::rest {
namespace {

namespace mc = mnemo::client;

TEST(JsonView, ConversationShape) {
  mc::Conversation c;
  c.id = mc::Uuid::FromHalves(0x0190a1b2c3d47e5fULL, 0x8a9b0c1d2e3f4a5bULL);
  c.user_id = "alice";
  c.title = "Trip";
  c.metadata = R"({"k":1})";
  c.created_at = 1'700'000'000'000'000;
  c.updated_at = 1'700'000'000'000'001;
  const nlohmann::json j = ConversationJson(c);
  EXPECT_EQ(j["id"], "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b");
  EXPECT_EQ(j["metadata"]["k"], 1);
  EXPECT_TRUE(j["summary"].is_null());
  EXPECT_TRUE(j["deleted_at"].is_null());
  EXPECT_EQ(j["created_at"], "2023-11-14T22:13:20.000000Z");
  EXPECT_EQ(j["updated_at"], "2023-11-14T22:13:20.000001Z");
}

TEST(JsonView, PageAndSearchShapes) {
  const nlohmann::json page = PageJson(nlohmann::json::array({1, 2}), 7, 2, 2, "");
  EXPECT_EQ(page["total"], 7);
  EXPECT_EQ(page["skip"], 2);
  EXPECT_EQ(page["limit"], 2);
  EXPECT_TRUE(page["next_cursor"].is_null());
  mc::SearchResponse r;
  r.hits.push_back(mc::SearchHit{mc::Uuid::FromHalves(1, 2), mc::Uuid::FromHalves(3, 4), 0, "text", "a.md", 0.5f, 0});
  r.exact = true;
  const nlohmann::json s = SearchResponseJson(r, 10);
  EXPECT_EQ(s["items"].size(), 1u);
  EXPECT_EQ(s["items"][0]["filename"], "a.md");
  EXPECT_EQ(s["top_k"], 10);
  EXPECT_EQ(s["exact"], true);
}

TEST(JsonView, RankedSearchShapes) {
  mc::RankedSearchResponse r;
  mc::RankedHit text_only;
  text_only.hit = mc::SearchHit{mc::Uuid::FromHalves(1, 2), mc::Uuid::FromHalves(3, 4), 2, "text", "a.md", 0, 0};
  text_only.score = 1.5;
  text_only.bm25 = 1.5;
  text_only.text_rank = 1;
  r.hits.push_back(text_only);
  r.text.ran = true;
  r.text.terms = {"rocksdb"};
  r.text.unknown_terms = {"zebra"};
  r.text.rows_scored = 3;
  const nlohmann::json keyword = RankedSearchResponseJson(r, 10, /*hybrid=*/false);
  EXPECT_EQ(keyword["mode"], "keyword");
  EXPECT_EQ(keyword["items"][0]["score"], 1.5);
  EXPECT_EQ(keyword["items"][0]["bm25"], 1.5);
  EXPECT_TRUE(keyword["items"][0]["similarity"].is_null());
  EXPECT_EQ(keyword["items"][0]["text_rank"], 1);
  EXPECT_EQ(keyword["items"][0]["vector_rank"], 0);
  EXPECT_EQ(keyword["text"]["terms"], nlohmann::json::array({"rocksdb"}));
  EXPECT_EQ(keyword["text"]["unknown_terms"], nlohmann::json::array({"zebra"}));
  EXPECT_EQ(keyword["text"]["rows_scored"], 3);
  EXPECT_FALSE(keyword.contains("vector"));
  EXPECT_FALSE(keyword.contains("fusion"));
  r.fusion = mc::Fusion::kWeighted;
  r.vector.ran = true;
  r.vector.candidates = 4;
  r.hits[0].similarity = 0.25f;
  const nlohmann::json hybrid = RankedSearchResponseJson(r, 10, /*hybrid=*/true);
  EXPECT_EQ(hybrid["mode"], "hybrid");
  EXPECT_EQ(hybrid["fusion"], "weighted");
  EXPECT_EQ(hybrid["vector"]["candidates"], 4);
  EXPECT_EQ(hybrid["items"][0]["similarity"], 0.25);
}

TEST(JsonView, EmbeddedJsonSurvivesBadText) {
  EXPECT_EQ(EmbeddedJson("[1,2]"), nlohmann::json::array({1, 2}));
  EXPECT_EQ(EmbeddedJson("not json"), "not json");
  EXPECT_TRUE(EmbeddedJson("").is_null());
}

TEST(ApiError, MapsEveryClientCode) {
  // The statuses themselves are mnemo_base's table (error_codes_test.cc); the body carries them.
  for (size_t value = 1; value < kStatusCodeCount; ++value) {
    const auto code = static_cast<mc::Code>(value);
    const ApiError error = FromClientError(mc::Error{code, "m", ""});
    EXPECT_EQ(error.status, HttpStatusOf(code));
    EXPECT_EQ(error.code, StatusCodeName(code));
  }
  const ApiError e = FromClientError(mc::Error{mc::Code::kValidationError, "bad title", "title"});
  const nlohmann::json body = ErrorBody(e, "rid-1");
  EXPECT_EQ(body["error"]["code"], "VALIDATION_ERROR");
  EXPECT_EQ(body["error"]["request_id"], "rid-1");
  EXPECT_EQ(body["error"]["details"]["field"], "title");
  // details is always an object, even when the error was built with {} (JSON null).
  EXPECT_TRUE(ErrorBody(ApiError{404, "NOT_FOUND", "gone", {}}, "r")["error"]["details"].is_object());
}

TEST(Metrics, RendersCountersAndHistograms) {
  Metrics m;
  m.RecordRequest("/api/v1/conversations/{id}", "GET", 200, 0.002);
  m.RecordRequest("/api/v1/conversations/{id}", "GET", 200, 0.2);
  m.RecordUpstream("/api/v1/conversations/{id}", "ok", 0.001);
  const std::string text = m.RenderPrometheus();
  EXPECT_NE(text.find(R"(mnemo_rest_requests_total{route="/api/v1/conversations/{id}",method="GET",status="200"} 2)"),
            std::string::npos);
  EXPECT_NE(text.find(R"(le="0.0025"} 1)"), std::string::npos);
  EXPECT_NE(text.find(R"(le="+Inf"} 2)"), std::string::npos);
  EXPECT_NE(text.find(R"(mnemo_rest_upstream_duration_seconds_count{route="/api/v1/conversations/{id}",outcome="ok"} 1)"),
            std::string::npos);
}

}  // namespace
}  // namespace mnemo::rest
