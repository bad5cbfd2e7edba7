// Keyword and hybrid search through the C++ client against a real mnemod started with its own
// BM25 parameters: every request and answer field crosses the wire, and bad input comes back
// as VALIDATION_ERROR naming the field.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "mnemo/client/client.h"
#include "mnemod_process.h"
#include "test_util.h"

namespace mnemo::client::testing {
namespace {

class TextSearchClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<MnemodProcess>(dir_.path());
    server_->set_extra_args({"--bm25-k1", "2.0", "--bm25-b", "0.5"});
    std::string error;
    ASSERT_TRUE(server_->Start(0, &error)) << error;
    auto client = Client::Connect(LocalOptions(server_->port()));
    ASSERT_TRUE(client.ok()) << client.error().ToString();
    client_ = std::move(client).value();
    NewDocument input;
    input.filename = "notes.md";
    input.file_type = "md";
    auto doc = client_->CreateDocument("u", input);
    ASSERT_TRUE(doc.ok()) << doc.error().ToString();
    document_ = doc->id;
    std::vector<NewChunk> chunks;
    for (const char* text : {"alpha beta", "gamma", "北京大学的机器学习课程"}) {
      NewChunk chunk;
      chunk.document_id = document_;
      chunk.chunk_index = static_cast<int64_t>(chunks.size());
      chunk.chunk_text = text;
      chunk.embedding = RandomVector(rng_);
      chunks.push_back(std::move(chunk));
    }
    auto added = client_->AddChunks("u", chunks);
    ASSERT_TRUE(added.ok()) << added.error().ToString();
    for (const Chunk& c : *added) ids_.push_back(c.id);
  }
  void TearDown() override {
    client_.reset();
    if (server_ && server_->running()) {
      EXPECT_EQ(server_->Stop(), 0);
    }
  }

  TempDir dir_;
  std::unique_ptr<MnemodProcess> server_;
  std::unique_ptr<Client> client_;
  std::mt19937_64 rng_{7};
  Uuid document_;
  std::vector<Uuid> ids_;
};

TEST_F(TextSearchClientTest, KeywordSearchCarriesScoresAndHowItRan) {
  TextSearchRequest request;
  request.query = "ALPHA zebra the";
  MNEMO_ASSERT_OK_AND_ASSIGN(const RankedSearchResponse response, client_->SearchText("u", request));
  ASSERT_EQ(response.hits.size(), 1u);
  const RankedHit& hit = response.hits[0];
  EXPECT_EQ(hit.hit.chunk_id, ids_[0]);
  EXPECT_EQ(hit.hit.document_id, document_);
  EXPECT_EQ(hit.hit.chunk_text, "alpha beta");
  EXPECT_EQ(hit.hit.filename, "notes.md");
  // BM25 with the server's k1 = 2, b = 0.5: N = 3, df = 1, dl = 2, avgdl = (2 + 1 + 5) / 3 (the
  // Chinese row: 北京 大学 机器 学习 课程; 的 is a stop word).
  const double w = (3 - 1 + 0.5) / (1 + 0.5);
  const double idf = std::log(w < 2 ? w / 2 + 1 : w);
  const double expected = idf * 3 * 1 / (1 + 2 * (0.5 + 0.5 * 2 / (8.0 / 3)));
  EXPECT_NEAR(hit.score, expected, 1e-9);
  ASSERT_TRUE(hit.bm25.has_value());
  EXPECT_EQ(*hit.bm25, hit.score);
  EXPECT_FALSE(hit.similarity.has_value());
  EXPECT_EQ(hit.text_rank, 1);
  EXPECT_EQ(hit.vector_rank, 0);
  EXPECT_TRUE(response.text.ran);
  EXPECT_EQ(response.text.terms, (std::vector<std::string>{"alpha", "zebra"}));
  EXPECT_EQ(response.text.unknown_terms, (std::vector<std::string>{"zebra"}));
  EXPECT_EQ(response.text.stopwords_ignored, 1);
  EXPECT_EQ(response.text.rows, 3);
  EXPECT_EQ(response.text.postings, 1);
  EXPECT_EQ(response.text.candidates, 1);
  EXPECT_TRUE(response.text.exact);
  EXPECT_TRUE(response.fewer_than_top_k);
  EXPECT_FALSE(response.vector.ran);

  MNEMO_ASSERT_OK_AND_ASSIGN(const ServerStats stats, client_->GetStats());
  ASSERT_TRUE(stats.text.has_value());
  EXPECT_EQ(stats.text->rows, 3);
  EXPECT_EQ(stats.text->postings, 8);  // alpha beta | gamma | 北京 大学 机器 学习 课程
  EXPECT_GT(stats.text->stored_bytes, 0);

  request.query = "机器学习";
  MNEMO_ASSERT_OK_AND_ASSIGN(const RankedSearchResponse chinese, client_->SearchText("u", request));
  ASSERT_EQ(chinese.hits.size(), 1u);
  EXPECT_EQ(chinese.hits[0].hit.chunk_id, ids_[2]);

  request.query = "alpha";
  request.filters.file_types = {"pdf"};
  MNEMO_ASSERT_OK_AND_ASSIGN(const RankedSearchResponse filtered, client_->SearchText("u", request));
  EXPECT_TRUE(filtered.hits.empty());
}

TEST_F(TextSearchClientTest, HybridSearchCarriesBothLegs) {
  HybridSearchRequest request;
  request.query_text = "gamma";
  request.query_embedding = RandomVector(rng_);
  request.top_k = 3;
  request.fusion = Fusion::kWeighted;
  request.text_weight = 0.25;
  request.candidates = 5;
  request.min_similarity = -1.0f;
  request.ef = 32;
  MNEMO_ASSERT_OK_AND_ASSIGN(const RankedSearchResponse response, client_->SearchHybrid("u", request));
  ASSERT_EQ(response.hits.size(), 3u);
  EXPECT_EQ(response.fusion, Fusion::kWeighted);
  EXPECT_TRUE(response.text.ran);
  EXPECT_TRUE(response.vector.ran);
  EXPECT_EQ(response.vector.candidates, 3);
  EXPECT_TRUE(response.vector.exact);
  bool saw_gamma = false;
  for (const RankedHit& hit : response.hits) {
    EXPECT_GT(hit.vector_rank, 0);
    ASSERT_TRUE(hit.similarity.has_value());
    EXPECT_EQ(*hit.similarity, hit.hit.similarity);
    if (hit.hit.chunk_id == ids_[1]) {
      saw_gamma = true;
      EXPECT_EQ(hit.text_rank, 1);
      EXPECT_TRUE(hit.bm25.has_value());
      // Weighted: 0.25 * 1 (the only text hit) + 0.75 * its normalised similarity.
      EXPECT_GE(hit.score, 0.25 - 1e-12);
    } else {
      EXPECT_EQ(hit.text_rank, 0);
      EXPECT_FALSE(hit.bm25.has_value());
    }
  }
  EXPECT_TRUE(saw_gamma);
}

TEST_F(TextSearchClientTest, BadInputNamesTheField) {
  TextSearchRequest text;
  text.query = "   ";
  auto blank = client_->SearchText("u", text);
  ASSERT_FALSE(blank.ok());
  EXPECT_EQ(blank.code(), Code::kValidationError);
  EXPECT_EQ(blank.error().field, "query");
  text.query = "bad \xff";
  auto invalid = client_->SearchText("u", text);
  ASSERT_FALSE(invalid.ok());
  EXPECT_EQ(invalid.error().field, "query");
  text.query = "alpha";
  text.top_k = 0;
  EXPECT_EQ(client_->SearchText("u", text).error().field, "top_k");

  HybridSearchRequest hybrid;
  hybrid.query_text = "alpha";
  hybrid.query_embedding = {1.0f, 2.0f};
  auto wrong_dimension = client_->SearchHybrid("u", hybrid);
  ASSERT_FALSE(wrong_dimension.ok());
  EXPECT_EQ(wrong_dimension.error().field, "query_embedding");
  hybrid.query_embedding = RandomVector(rng_);
  hybrid.text_weight = -0.5;
  EXPECT_EQ(client_->SearchHybrid("u", hybrid).error().field, "text_weight");
  // Nothing stored was lost.
  text.top_k = 10;
  MNEMO_ASSERT_OK_AND_ASSIGN(const RankedSearchResponse after, client_->SearchText("u", text));
  EXPECT_EQ(after.hits.size(), 1u);
}

}  // namespace
}  // namespace mnemo::client::testing
