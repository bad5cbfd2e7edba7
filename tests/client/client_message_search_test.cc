// Message embeddings through the C++ client against a real mnemod: appends, upserts and batches
// store the embedding (has_embedding says so), SearchMessages finds the messages nearest first,
// by keyword (every message) or both fused, AssembleContext returns memories, and refusals come
// back with the field the server chose.
#include <gtest/gtest.h>

#include <random>

#include "mnemo/client/batch.h"
#include "mnemo/client/client.h"
#include "mnemod_process.h"
#include "test_util.h"

namespace mnemo::client::testing {
namespace {

class MessageSearchClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<MnemodProcess>(dir_.path());
    std::string error;
    ASSERT_TRUE(server_->Start(0, &error)) << error;
    auto client = Client::Connect(LocalOptions(server_->port()));
    ASSERT_TRUE(client.ok()) << client.error().ToString();
    client_ = std::move(client).value();
    for (Uuid* id : {&trip_, &food_}) {
      NewConversation conversation;
      conversation.title = "c";
      MNEMO_ASSERT_OK_AND_ASSIGN(const Conversation created,
                                 client_->CreateConversation("u", conversation));
      *id = created.id;
    }
  }
  void TearDown() override {
    client_.reset();
    if (server_ && server_->running()) {
      EXPECT_EQ(server_->Stop(), 0);
    }
  }
  NewMessage Message(const Uuid& conversation, const std::string& role, const std::string& content,
                     std::vector<float> embedding) const {
    NewMessage message;
    message.conversation_id = conversation;
    message.role = role;
    message.content = content;
    message.embedding = std::move(embedding);
    return message;
  }

  TempDir dir_;
  std::unique_ptr<MnemodProcess> server_;
  std::unique_ptr<Client> client_;
  std::mt19937_64 rng_{23};
  Uuid trip_, food_;
};

TEST_F(MessageSearchClientTest, AppendedEmbeddingsAreFoundNearestFirst) {
  const std::vector<float> kyoto_vector = RandomVector(rng_);
  const std::vector<float> ramen_vector = RandomVector(rng_);
  MNEMO_ASSERT_OK_AND_ASSIGN(
      const client::Message kyoto,
      client_->AppendMessage("u", Message(trip_, "user", "Kyoto", kyoto_vector)));
  MNEMO_ASSERT_OK_AND_ASSIGN(
      const client::Message ramen,
      client_->AppendMessage("u", Message(food_, "assistant", "ramen", ramen_vector)));
  MNEMO_ASSERT_OK_AND_ASSIGN(const client::Message plain,
                             client_->AppendMessage("u", Message(trip_, "user", "plain", {})));
  EXPECT_TRUE(kyoto.has_embedding);
  EXPECT_FALSE(plain.has_embedding);

  MessageSearchRequest request;
  request.query = kyoto_vector;
  MNEMO_ASSERT_OK_AND_ASSIGN(const MessageSearchResponse found,
                             client_->SearchMessages("u", request));
  ASSERT_EQ(found.hits.size(), 2u);
  EXPECT_EQ(found.hits[0].message.id, kyoto.id);
  EXPECT_EQ(found.hits[0].message.content, "Kyoto");
  EXPECT_TRUE(found.hits[0].message.has_embedding);
  EXPECT_NEAR(found.hits[0].similarity, 1.0f, 1e-4f);
  EXPECT_EQ(found.hits[1].message.id, ramen.id);
  EXPECT_TRUE(found.fewer_than_top_k);

  request.filters.roles = {"assistant"};
  MNEMO_ASSERT_OK_AND_ASSIGN(const MessageSearchResponse assistants,
                             client_->SearchMessages("u", request));
  ASSERT_EQ(assistants.hits.size(), 1u);
  EXPECT_EQ(assistants.hits[0].message.id, ramen.id);
  MNEMO_ASSERT_OK_AND_ASSIGN(const MessageSearchResponse others,
                             client_->SearchMessages("someone-else", request));
  EXPECT_TRUE(others.hits.empty());
}

TEST_F(MessageSearchClientTest, UpsertsAndBatchesCarryTheEmbedding) {
  const std::vector<float> vector = RandomVector(rng_);
  NewMessage upserted = Message(trip_, "user", "v1", vector);
  upserted.id = Uuid::Generate();
  MNEMO_ASSERT_OK_AND_ASSIGN(const client::Message stored, client_->UpsertMessage("u", upserted));
  EXPECT_TRUE(stored.has_embedding);
  upserted.embedding.clear();
  MNEMO_ASSERT_OK_AND_ASSIGN(const client::Message cleared, client_->UpsertMessage("u", upserted));
  EXPECT_FALSE(cleared.has_embedding);

  Batch batch;
  batch.AppendMessage(Message(food_, "user", "batched", vector));
  MNEMO_ASSERT_OK(client_->ApplyBatch("u", batch));
  MessageSearchRequest request;
  request.query = vector;
  MNEMO_ASSERT_OK_AND_ASSIGN(const MessageSearchResponse found,
                             client_->SearchMessages("u", request));
  ASSERT_EQ(found.hits.size(), 1u);
  EXPECT_EQ(found.hits[0].message.content, "batched");
}

TEST_F(MessageSearchClientTest, ContextsCarryMemories) {
  const std::vector<float> vector = RandomVector(rng_);
  MNEMO_ASSERT_OK_AND_ASSIGN(const client::Message memory,
                             client_->AppendMessage("u", Message(food_, "user", "ramen", vector)));
  ContextRequest request;
  request.conversation_id = trip_;
  request.token_budget = 1000;
  request.query_embedding = vector;
  MNEMO_ASSERT_OK_AND_ASSIGN(const ContextResponse context, client_->AssembleContext("u", request));
  ASSERT_EQ(context.memories.size(), 1u);
  EXPECT_EQ(context.memories[0].message.id, memory.id);
  EXPECT_NEAR(context.memories[0].similarity, 1.0f, 1e-4f);
  EXPECT_GT(context.memories[0].tokens, 0);
  EXPECT_EQ(context.budget.memory_tokens, context.memories[0].tokens);
  request.k_memories = 0;
  MNEMO_ASSERT_OK_AND_ASSIGN(const ContextResponse none, client_->AssembleContext("u", request));
  EXPECT_TRUE(none.memories.empty());
}

TEST_F(MessageSearchClientTest, KeywordAndHybridSearchFindEveryMessage) {
  const std::vector<float> kyoto_vector = RandomVector(rng_);
  MNEMO_ASSERT_OK_AND_ASSIGN(
      const client::Message kyoto,
      client_->AppendMessage("u", Message(trip_, "user", "Temples of Kyoto", kyoto_vector)));
  MNEMO_ASSERT_OK_AND_ASSIGN(
      const client::Message plain,
      client_->AppendMessage("u", Message(food_, "user", "Kyoto tofu, 京都の豆腐", {})));
  MessageSearchRequest request;
  request.query_text = "kyoto";
  MNEMO_ASSERT_OK_AND_ASSIGN(const MessageSearchResponse by_text,
                             client_->SearchMessages("u", request));
  ASSERT_EQ(by_text.hits.size(), 2u);  // with or without an embedding
  EXPECT_TRUE(by_text.text.ran);
  EXPECT_FALSE(by_text.vector.ran);
  EXPECT_TRUE(by_text.hits[0].bm25.has_value());
  request.query_text = "豆腐";
  MNEMO_ASSERT_OK_AND_ASSIGN(const MessageSearchResponse chinese,
                             client_->SearchMessages("u", request));
  ASSERT_EQ(chinese.hits.size(), 1u);
  EXPECT_EQ(chinese.hits[0].message.id, plain.id);

  request.query_text = "kyoto";
  request.query = kyoto_vector;
  MNEMO_ASSERT_OK_AND_ASSIGN(const MessageSearchResponse hybrid,
                             client_->SearchMessages("u", request));
  EXPECT_TRUE(hybrid.text.ran);
  EXPECT_TRUE(hybrid.vector.ran);
  EXPECT_EQ(hybrid.fusion, Fusion::kRrf);
  ASSERT_EQ(hybrid.hits.size(), 2u);
  EXPECT_EQ(hybrid.hits[0].message.id, kyoto.id);  // in both legs
  EXPECT_GT(hybrid.hits[0].vector_rank, 0);
  EXPECT_GT(hybrid.hits[0].text_rank, 0);

  MNEMO_ASSERT_OK_AND_ASSIGN(const ServerStats stats, client_->GetStats());
  ASSERT_TRUE(stats.text.has_value());
  EXPECT_EQ(stats.text->message_rows, 2);
}

TEST_F(MessageSearchClientTest, RefusalsNameTheField) {
  const auto field_of = [](const auto& result) {
    EXPECT_FALSE(result.ok());
    if (result.ok()) return std::string();
    EXPECT_EQ(result.error().code, Code::kValidationError);
    return result.error().field;
  };
  EXPECT_EQ(field_of(client_->AppendMessage("u", Message(trip_, "user", "x", {1, 2}))),
            "embedding");
  MessageSearchRequest request;
  request.query = RandomVector(rng_);
  request.top_k = 0;
  EXPECT_EQ(field_of(client_->SearchMessages("u", request)), "top_k");
  request.top_k = 10;
  request.filters.roles = {"robot"};
  EXPECT_EQ(field_of(client_->SearchMessages("u", request)), "filters.roles");
  request.filters.roles.clear();
  request.query = {1, 2};
  EXPECT_EQ(field_of(client_->SearchMessages("u", request)), "query");
  request.query.clear();
  EXPECT_EQ(field_of(client_->SearchMessages("u", request)), "query");  // neither query
  request.query_text = " ";
  EXPECT_EQ(field_of(client_->SearchMessages("u", request)), "query_text");
  request.query_text = std::string(kMaxTextQueryBytes + 1, 'x');
  EXPECT_EQ(field_of(client_->SearchMessages("u", request)), "query_text");
  ContextRequest context;
  context.conversation_id = trip_;
  context.token_budget = 100;
  context.k_memories = kMaxTopK + 1;
  EXPECT_EQ(field_of(client_->AssembleContext("u", context)), "k_memories");
  context.k_memories = 5;
  context.query_embedding = RandomVector(rng_);
  context.memory_filters.roles = {"robot"};
  EXPECT_EQ(field_of(client_->AssembleContext("u", context)), "memory_filters.roles");
}

}  // namespace
}  // namespace mnemo::client::testing
