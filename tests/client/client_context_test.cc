// Context assembly through the C++ client against a real mnemod: one round trip returns the
// conversation, the messages that fit the budget (oldest first) and the retrieved chunks with
// their token counts; refusals come back with the code and field the engine chose.
#include <gtest/gtest.h>

#include <random>

#include "mnemo/client/client.h"
#include "mnemod_process.h"
#include "test_util.h"

namespace mnemo::client::testing {
namespace {

class ContextClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<MnemodProcess>(dir_.path());
    std::string error;
    ASSERT_TRUE(server_->Start(0, &error)) << error;
    auto client = Client::Connect(LocalOptions(server_->port()));
    ASSERT_TRUE(client.ok()) << client.error().ToString();
    client_ = std::move(client).value();

    NewConversation conversation;
    conversation.title = "Trip";
    conversation.system_prompt = "You plan trips.";  // 15 ASCII bytes: 4 estimated tokens
    MNEMO_ASSERT_OK_AND_ASSIGN(const Conversation created,
                               client_->CreateConversation("u", conversation));
    conversation_ = created.id;
    for (const auto& [content, tokens] : std::vector<std::pair<std::string, int64_t>>{
             {"first question", 50}, {"second question", 6}, {"third question", 5}}) {
      NewMessage message;
      message.conversation_id = conversation_;
      message.content = content;
      message.tokens_used = tokens;
      MNEMO_ASSERT_OK_AND_ASSIGN(const Message appended, client_->AppendMessage("u", message));
      messages_.push_back(appended.id);
    }
    NewDocument document;
    document.filename = "guide.md";
    document.file_type = "md";
    MNEMO_ASSERT_OK_AND_ASSIGN(const Document created_document,
                               client_->CreateDocument("u", document));
    std::vector<NewChunk> chunks;
    for (const char* text : {"Kyoto in spring", "Osaka street food"}) {
      NewChunk chunk;
      chunk.document_id = created_document.id;
      chunk.chunk_index = static_cast<int64_t>(chunks.size());
      chunk.chunk_text = text;
      chunk.embedding = RandomVector(rng_);
      chunks.push_back(std::move(chunk));
    }
    query_ = chunks[0].embedding;
    MNEMO_ASSERT_OK_AND_ASSIGN(const std::vector<Chunk> added, client_->AddChunks("u", chunks));
    for (const Chunk& chunk : added) chunks_.push_back(chunk.id);
  }
  void TearDown() override {
    client_.reset();
    if (server_ && server_->running()) {
      EXPECT_EQ(server_->Stop(), 0);
    }
  }
  ContextRequest Request() const {
    ContextRequest request;
    request.conversation_id = conversation_;
    request.token_budget = 20;
    return request;
  }

  TempDir dir_;
  std::unique_ptr<MnemodProcess> server_;
  std::unique_ptr<Client> client_;
  std::mt19937_64 rng_{11};
  Uuid conversation_;
  std::vector<Uuid> messages_, chunks_;
  std::vector<float> query_;
};

TEST_F(ContextClientTest, OneRoundTripCarriesMessagesChunksAndTheBudget) {
  ContextRequest request = Request();  // 4 prompt + 5 + 6 = 15 of 20; the 50-token one is out
  request.query_embedding = query_;
  request.k_chunks = 2;
  MNEMO_ASSERT_OK_AND_ASSIGN(const ContextResponse context, client_->AssembleContext("u", request));
  EXPECT_EQ(context.conversation.id, conversation_);
  EXPECT_EQ(context.conversation.system_prompt, "You plan trips.");
  ASSERT_EQ(context.messages.size(), 2u);
  EXPECT_EQ(context.messages[0].message.id, messages_[1]);  // chronological
  EXPECT_EQ(context.messages[0].message.content, "second question");
  EXPECT_EQ(context.messages[0].tokens, 6);
  EXPECT_EQ(context.messages[0].token_source, TokenSource::kMeasured);
  EXPECT_EQ(context.messages[1].message.id, messages_[2]);
  EXPECT_EQ(context.retrieval, ContextRetrieval::kVector);
  // "Kyoto in spring" (4 tokens) fits the 5 left; "Osaka street food" (5) does not.
  ASSERT_EQ(context.chunks.size(), 1u);
  EXPECT_EQ(context.chunks[0].hit.hit.chunk_id, chunks_[0]);
  EXPECT_EQ(context.chunks[0].hit.hit.filename, "guide.md");
  EXPECT_EQ(context.chunks[0].tokens, 4);
  EXPECT_EQ(context.chunks[0].hit.vector_rank, 1);
  EXPECT_NEAR(context.chunks[0].hit.hit.similarity, 1.0f, 1e-4);
  EXPECT_EQ(context.budget.budget, 20);
  EXPECT_EQ(context.budget.system_prompt_tokens, 4);
  EXPECT_EQ(context.budget.message_tokens, 11);
  EXPECT_EQ(context.budget.chunk_tokens, 4);
  EXPECT_EQ(context.budget.remaining, 1);
  EXPECT_EQ(context.budget.messages_left_out, 1);
  EXPECT_EQ(context.budget.chunks_left_out, 1);

  ContextRequest keyword = Request();
  keyword.query_text = "osaka";
  keyword.token_budget = 100;
  MNEMO_ASSERT_OK_AND_ASSIGN(const ContextResponse by_text, client_->AssembleContext("u", keyword));
  EXPECT_EQ(by_text.retrieval, ContextRetrieval::kKeyword);
  ASSERT_EQ(by_text.chunks.size(), 1u);
  EXPECT_EQ(by_text.chunks[0].hit.hit.chunk_id, chunks_[1]);
  EXPECT_TRUE(by_text.chunks[0].hit.bm25.has_value());
  EXPECT_EQ(by_text.messages.size(), 3u);
}

TEST_F(ContextClientTest, RefusalsCarryTheCodeAndField) {
  // Another user's conversation is not found, never revealed.
  const Result<ContextResponse> other = client_->AssembleContext("someone-else", Request());
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code, Code::kNotFound);

  ContextRequest wrong_dimension = Request();
  wrong_dimension.query_embedding = {1, 2, 3};
  const auto dimension = client_->AssembleContext("u", wrong_dimension);
  ASSERT_FALSE(dimension.ok());
  EXPECT_EQ(dimension.error().code, Code::kValidationError);
  EXPECT_EQ(dimension.error().field, "query_embedding");

  ContextRequest below_prompt = Request();
  below_prompt.token_budget = 3;  // the prompt needs 4
  const auto small = client_->AssembleContext("u", below_prompt);
  ASSERT_FALSE(small.ok());
  EXPECT_EQ(small.error().code, Code::kValidationError);
  EXPECT_EQ(small.error().field, "token_budget");

  ContextRequest negative = Request();
  negative.k_chunks = -1;
  const auto k = client_->AssembleContext("u", negative);
  ASSERT_FALSE(k.ok());
  EXPECT_EQ(k.error().field, "k_chunks");
  ContextRequest zero = Request();
  zero.token_budget = 0;
  const auto budget = client_->AssembleContext("u", zero);
  ASSERT_FALSE(budget.ok());
  EXPECT_EQ(budget.error().code, Code::kValidationError);
  EXPECT_EQ(budget.error().field, "token_budget");
}

// mnemod's --token-* flags reach the engine's estimate: 2 bytes per token and 3 tokens of
// framing per estimated text.
TEST(ContextClientFlagsTest, TheServersTokenEstimateCountsTexts) {
  TempDir dir;
  MnemodProcess server(dir.path());
  server.set_extra_args({"--token-ascii-bytes", "2", "--token-overhead", "3"});
  std::string error;
  ASSERT_TRUE(server.Start(0, &error)) << error;
  auto connected = Client::Connect(LocalOptions(server.port()));
  ASSERT_TRUE(connected.ok()) << connected.error().ToString();
  std::unique_ptr<Client> client = std::move(connected).value();
  NewConversation conversation;
  conversation.title = "t";
  conversation.system_prompt = "12345678";  // 8 bytes: 4 + 3
  MNEMO_ASSERT_OK_AND_ASSIGN(const Conversation created,
                             client->CreateConversation("u", conversation));
  NewMessage message;
  message.conversation_id = created.id;
  message.content = "abcd";  // 4 bytes: 2 + 3
  MNEMO_ASSERT_OK(client->AppendMessage("u", message));
  ContextRequest request;
  request.conversation_id = created.id;
  request.token_budget = 100;
  MNEMO_ASSERT_OK_AND_ASSIGN(const ContextResponse context, client->AssembleContext("u", request));
  EXPECT_EQ(context.budget.system_prompt_tokens, 7);
  ASSERT_EQ(context.messages.size(), 1u);
  EXPECT_EQ(context.messages[0].tokens, 5);
  EXPECT_EQ(context.messages[0].token_source, TokenSource::kEstimated);
  client.reset();
  EXPECT_EQ(server.Stop(), 0);
}

}  // namespace
}  // namespace mnemo::client::testing
