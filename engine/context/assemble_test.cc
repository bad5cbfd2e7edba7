// Engine::AssembleContext: the token estimate, the recent-message window and its budget edges,
// chunk retrieval (vector, keyword, hybrid) within the rest of the budget, isolation, deletes and
// bad input.
#include "context/assemble.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "testing/engine_fixture.h"

namespace mnemo {
namespace {

using testing::Unwrap;

constexpr uint32_t kDim = 8;

std::vector<float> Basis(int i) { return testing::BasisVector(kDim, i); }

TEST(TokenEstimateTest, CountsAsciiBytesAndOtherCharacters) {
  const TokenEstimate defaults;
  EXPECT_EQ(context::EstimateTokens("", defaults), 0);
  EXPECT_EQ(context::EstimateTokens("abcd", defaults), 1);
  EXPECT_EQ(context::EstimateTokens("abcde", defaults), 2);     // rounded up
  EXPECT_EQ(context::EstimateTokens("你好世界", defaults), 4);  // one per CJK character
  EXPECT_EQ(context::EstimateTokens("ab你好", defaults), 3);    // 2/4 + 2, rounded up
  TokenEstimate custom;
  custom.ascii_bytes_per_token = 2;
  custom.tokens_per_other_char = 1.5;
  custom.per_text_overhead = 4;
  EXPECT_EQ(context::EstimateTokens("abcd你好", custom), 2 + 3 + 4);
  EXPECT_EQ(context::EstimateTokens("", custom), 0);  // an empty text costs nothing
  // A stray continuation byte is not a character of its own; a stray lead byte is.
  EXPECT_EQ(context::EstimateTokens("\x80\x80", defaults), 0);
  EXPECT_EQ(context::EstimateTokens("\xC3", defaults), 1);
}

TEST(TokenEstimateTest, MeasuredCountsWinOverTheEstimate) {
  const TokenEstimate defaults;
  Message message;
  message.content = std::string(400, 'x');
  TokenSource source = TokenSource::kMeasured;
  EXPECT_EQ(context::MessageTokens(message, defaults, &source), 100);
  EXPECT_EQ(source, TokenSource::kEstimated);
  message.tool_calls = std::string(40, 'y');
  EXPECT_EQ(context::MessageTokens(message, defaults, &source), 110);
  message.tokens_used = 7;
  EXPECT_EQ(context::MessageTokens(message, defaults, &source), 7);
  EXPECT_EQ(source, TokenSource::kMeasured);
}

TEST(TokenEstimateTest, BadParametersAreRefusedAtOpen) {
  testing::TempDir dir;
  EngineOptions options;
  options.data_dir = dir.Sub("data");
  options.dimension = kDim;
  options.token_estimate.ascii_bytes_per_token = 0;
  auto opened = Engine::Open(options);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().field(), "token_estimate");
  options.token_estimate = {};
  options.token_estimate.tokens_per_other_char = -1;
  EXPECT_EQ(Engine::Open(options).status().field(), "token_estimate");
}

class AssembleContextTest : public testing::EngineTest {
 protected:
  void SetUp() override {
    EngineOptions options;
    options.dimension = kDim;
    Reopen(options);
  }

  // A conversation whose system prompt is `prompt_tokens` tokens (by the default estimate).
  Conversation WithPrompt(const std::string& user, int64_t prompt_tokens) {
    NewConversation input;
    input.title = "chat";
    input.system_prompt = std::string(static_cast<size_t>(prompt_tokens) * 4, 'p');
    return Unwrap(engine_->CreateConversation(user, input));
  }

  // Appends messages costing `tokens[i]` (measured), oldest first; returns them.
  std::vector<Message> AppendAll(const std::string& user, const Uuid& conversation,
                                 const std::vector<int64_t>& tokens) {
    std::vector<Message> out;
    for (size_t i = 0; i < tokens.size(); ++i)
      out.push_back(Append(user, conversation, i % 2 ? "assistant" : "user",
                           "message " + std::to_string(i), tokens[i]));
    return out;
  }

  // Adds a document with one chunk per text; chunk i has embedding Basis(i).
  Document DocumentWith(const std::string& user, const std::vector<std::string>& texts) {
    const Document doc = MakeDocument(user);
    std::vector<NewChunk> chunks;
    for (size_t i = 0; i < texts.size(); ++i) {
      NewChunk chunk;
      chunk.document_id = doc.id;
      chunk.chunk_index = static_cast<int64_t>(i);
      chunk.chunk_text = texts[i];
      chunk.embedding = Basis(static_cast<int>(i));
      chunks.push_back(std::move(chunk));
    }
    Unwrap(engine_->AddChunks(user, chunks));
    return doc;
  }

  static std::vector<std::string> Contents(const ContextResponse& context) {
    std::vector<std::string> out;
    for (const ContextMessage& m : context.messages) out.push_back(m.message.content);
    return out;
  }

  ContextRequest Request(const Uuid& conversation, int64_t budget) {
    ContextRequest request;
    request.conversation_id = conversation;
    request.token_budget = budget;
    return request;
  }
};

TEST_F(AssembleContextTest, KeepsTheNewestMessagesThatFitInChronologicalOrder) {
  const Conversation conv = WithPrompt("alice", 10);
  AppendAll("alice", conv.id, std::vector<int64_t>(10, 10));
  const ContextResponse context =
      Unwrap(engine_->AssembleContext("alice", Request(conv.id, 10 + 35)));
  EXPECT_EQ(context.conversation.id, conv.id);
  EXPECT_EQ(Contents(context), (std::vector<std::string>{"message 7", "message 8", "message 9"}));
  EXPECT_EQ(context.budget.budget, 45);
  EXPECT_EQ(context.budget.system_prompt_tokens, 10);
  EXPECT_EQ(context.budget.message_tokens, 30);
  EXPECT_EQ(context.budget.remaining, 5);
  EXPECT_EQ(context.budget.messages_left_out, 7);
  EXPECT_EQ(context.retrieval, ContextRetrieval::kNone);
  for (const ContextMessage& m : context.messages) {
    EXPECT_EQ(m.tokens, 10);
    EXPECT_EQ(m.token_source, TokenSource::kMeasured);
  }
}

TEST_F(AssembleContextTest, TheWindowIsAnUnbrokenTail) {
  const Conversation conv = WithPrompt("alice", 0);
  AppendAll("alice", conv.id, {1, 1, 1000, 1});
  const ContextResponse context = Unwrap(engine_->AssembleContext("alice", Request(conv.id, 50)));
  // The third message does not fit; the two older ones would, but a gap is never left.
  EXPECT_EQ(Contents(context), (std::vector<std::string>{"message 3"}));
  EXPECT_EQ(context.budget.messages_left_out, 3);
  EXPECT_EQ(context.budget.remaining, 49);
}

TEST_F(AssembleContextTest, BudgetEdges) {
  const Conversation conv = WithPrompt("alice", 10);
  AppendAll("alice", conv.id, {5, 5});
  // Exactly enough for everything.
  ContextResponse context = Unwrap(engine_->AssembleContext("alice", Request(conv.id, 20)));
  EXPECT_EQ(context.messages.size(), 2u);
  EXPECT_EQ(context.budget.remaining, 0);
  EXPECT_EQ(context.budget.messages_left_out, 0);
  // One token short: the older message goes.
  context = Unwrap(engine_->AssembleContext("alice", Request(conv.id, 19)));
  EXPECT_EQ(Contents(context), (std::vector<std::string>{"message 1"}));
  // Exactly the system prompt: no message fits, which is an answer, not an error.
  context = Unwrap(engine_->AssembleContext("alice", Request(conv.id, 10)));
  EXPECT_TRUE(context.messages.empty());
  EXPECT_EQ(context.budget.remaining, 0);
  EXPECT_EQ(context.budget.messages_left_out, 2);
  // Smaller than the system prompt: an error naming the budget, never a silent truncation.
  auto too_small = engine_->AssembleContext("alice", Request(conv.id, 9));
  ASSERT_FALSE(too_small.ok());
  EXPECT_TRUE(too_small.status().IsValidationError());
  EXPECT_EQ(too_small.status().field(), "token_budget");
  EXPECT_NE(too_small.status().message().find("needs 10"), std::string::npos);
}

TEST_F(AssembleContextTest, MessageBudgetLeavesRoomForChunks) {
  const Conversation conv = WithPrompt("alice", 10);
  AppendAll("alice", conv.id, std::vector<int64_t>(10, 100));
  DocumentWith("alice", {std::string(200, 'c'), std::string(200, 'd')});  // 50 tokens each
  ContextRequest request = Request(conv.id, 1000);
  request.query_embedding = Basis(0);
  request.k_chunks = 2;
  // Without a message budget the messages take everything the prompt leaves.
  ContextResponse context = Unwrap(engine_->AssembleContext("alice", request));
  EXPECT_EQ(context.messages.size(), 9u);
  EXPECT_EQ(context.chunks.size(), 1u);  // 90 tokens left: one 50-token chunk fits
  EXPECT_EQ(context.budget.chunks_left_out, 1);
  // With one, the newest messages stop at it and the chunks get the rest.
  request.message_budget = 850;
  context = Unwrap(engine_->AssembleContext("alice", request));
  EXPECT_EQ(context.messages.size(), 8u);
  EXPECT_EQ(context.budget.message_tokens, 800);
  EXPECT_EQ(context.messages.back().message.content, "message 9");
  EXPECT_EQ(context.chunks.size(), 2u);
  EXPECT_EQ(context.budget.chunk_tokens, 100);
  EXPECT_EQ(context.budget.remaining, 1000 - 10 - 800 - 100);
  EXPECT_EQ(context.budget.messages_left_out, 2);
  // A message budget larger than what the prompt leaves changes nothing.
  request.message_budget = 5000;
  context = Unwrap(engine_->AssembleContext("alice", request));
  EXPECT_EQ(context.messages.size(), 9u);
  // Zero: no messages, all the room for chunks.
  request.message_budget = 0;
  context = Unwrap(engine_->AssembleContext("alice", request));
  EXPECT_TRUE(context.messages.empty());
  EXPECT_EQ(context.chunks.size(), 2u);
  request.message_budget = -1;
  auto bad = engine_->AssembleContext("alice", request);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().field(), "message_budget");
}

TEST_F(AssembleContextTest, MaxMessagesBoundsTheWindow) {
  const Conversation conv = WithPrompt("alice", 0);
  AppendAll("alice", conv.id, std::vector<int64_t>(30, 1));
  ContextRequest request = Request(conv.id, 1000);
  ContextResponse context = Unwrap(engine_->AssembleContext("alice", request));
  EXPECT_EQ(context.messages.size(), 20u);  // the default
  EXPECT_EQ(context.messages.front().message.content, "message 10");
  EXPECT_EQ(context.budget.messages_left_out, 0);
  request.max_messages = 0;
  context = Unwrap(engine_->AssembleContext("alice", request));
  EXPECT_TRUE(context.messages.empty());
  EXPECT_EQ(context.budget.messages_left_out, 0);
  request.max_messages = 1000;
  context = Unwrap(engine_->AssembleContext("alice", request));
  EXPECT_EQ(context.messages.size(), 30u);
}

TEST_F(AssembleContextTest, EstimatesMessagesWithoutTokensUsed) {
  const Conversation conv = WithPrompt("alice", 0);
  Append("alice", conv.id, "user", std::string(40, 'a'));  // 10 tokens by estimate
  Append("alice", conv.id, "assistant", "ok", 3);
  const ContextResponse context = Unwrap(engine_->AssembleContext("alice", Request(conv.id, 100)));
  ASSERT_EQ(context.messages.size(), 2u);
  EXPECT_EQ(context.messages[0].tokens, 10);
  EXPECT_EQ(context.messages[0].token_source, TokenSource::kEstimated);
  EXPECT_EQ(context.messages[1].tokens, 3);
  EXPECT_EQ(context.messages[1].token_source, TokenSource::kMeasured);
  EXPECT_EQ(context.budget.message_tokens, 13);
}

TEST_F(AssembleContextTest, RetrievesChunksBestFirstWithinTheRestOfTheBudget) {
  const Conversation conv = WithPrompt("alice", 0);
  AppendAll("alice", conv.id, {10});
  // Chunk 0 matches the query best but is too large; chunk 1 is next and fits.
  const std::string large(400, 'l');  // 100 tokens
  DocumentWith("alice", {large, "small one", "another"});
  ContextRequest request = Request(conv.id, 30);
  std::vector<float> query(kDim, 0.0f);
  query[0] = 1.0f;
  query[1] = 0.5f;
  query[2] = 0.1f;
  request.query_embedding = query;
  request.k_chunks = 2;
  const ContextResponse context = Unwrap(engine_->AssembleContext("alice", request));
  EXPECT_EQ(context.retrieval, ContextRetrieval::kVector);
  ASSERT_EQ(context.chunks.size(), 1u);
  EXPECT_EQ(context.chunks[0].hit.hit.chunk_text, "small one");
  EXPECT_EQ(context.chunks[0].hit.vector_rank, 2);
  EXPECT_GT(context.chunks[0].hit.similarity.value_or(0), 0.0f);
  EXPECT_EQ(context.chunks[0].tokens, 3);
  EXPECT_EQ(context.budget.chunks_left_out, 1);
  EXPECT_EQ(context.budget.chunk_tokens, 3);
  EXPECT_EQ(context.budget.remaining, 30 - 10 - 3);
  EXPECT_EQ(context.messages.size(), 1u);
}

TEST_F(AssembleContextTest, KeywordAndHybridRetrieval) {
  const Conversation conv = WithPrompt("alice", 0);
  DocumentWith("alice", {"the quarterly invoice total", "a recipe for bread", "invoice dates"});
  ContextRequest request = Request(conv.id, 1000);
  request.query_text = "invoice";
  ContextResponse context = Unwrap(engine_->AssembleContext("alice", request));
  EXPECT_EQ(context.retrieval, ContextRetrieval::kKeyword);
  ASSERT_EQ(context.chunks.size(), 2u);
  for (const ContextChunk& chunk : context.chunks) {
    EXPECT_NE(chunk.hit.hit.chunk_text.find("invoice"), std::string::npos);
    EXPECT_TRUE(chunk.hit.bm25.has_value());
  }
  request.query_embedding = Basis(1);
  context = Unwrap(engine_->AssembleContext("alice", request));
  EXPECT_EQ(context.retrieval, ContextRetrieval::kHybrid);
  ASSERT_FALSE(context.chunks.empty());
  bool bread = false;
  for (const ContextChunk& chunk : context.chunks)
    bread |= chunk.hit.hit.chunk_text == "a recipe for bread";
  EXPECT_TRUE(bread) << "the vector leg's best row is fused in";
  request.k_chunks = 0;
  context = Unwrap(engine_->AssembleContext("alice", request));
  EXPECT_EQ(context.retrieval, ContextRetrieval::kNone);
  EXPECT_TRUE(context.chunks.empty());
}

TEST_F(AssembleContextTest, AnotherUsersRowsStayHidden) {
  const Conversation mine = WithPrompt("alice", 0);
  const Conversation theirs = WithPrompt("bob", 0);
  AppendAll("bob", theirs.id, {1});
  DocumentWith("bob", {"bob's secret"});
  auto other = engine_->AssembleContext("alice", Request(theirs.id, 100));
  ASSERT_FALSE(other.ok());
  EXPECT_TRUE(other.status().IsNotFound());
  ContextRequest request = Request(mine.id, 100);
  request.query_embedding = Basis(0);
  request.query_text = "secret";
  const ContextResponse context = Unwrap(engine_->AssembleContext("alice", request));
  EXPECT_TRUE(context.chunks.empty());
  EXPECT_TRUE(context.messages.empty());
}

TEST_F(AssembleContextTest, DeletedRowsAreLeftOut) {
  const Conversation conv = WithPrompt("alice", 0);
  const std::vector<Message> messages = AppendAll("alice", conv.id, {1, 1, 1});
  Unwrap(engine_->DeleteMessage("alice", messages[1].id));
  const Document doc = DocumentWith("alice", {"kept"});
  const Document gone = DocumentWith("alice", {"deleted doc"});
  Unwrap(engine_->SoftDeleteDocument("alice", gone.id));
  ContextRequest request = Request(conv.id, 100);
  request.query_embedding = Basis(0);
  const ContextResponse context = Unwrap(engine_->AssembleContext("alice", request));
  EXPECT_EQ(Contents(context), (std::vector<std::string>{"message 0", "message 2"}));
  ASSERT_EQ(context.chunks.size(), 1u);
  EXPECT_EQ(context.chunks[0].hit.hit.document_id, doc.id);

  Unwrap(engine_->SoftDeleteConversation("alice", conv.id));
  auto deleted = engine_->AssembleContext("alice", Request(conv.id, 100));
  ASSERT_FALSE(deleted.ok());
  EXPECT_TRUE(deleted.status().IsNotFound());
}

TEST_F(AssembleContextTest, BadInputNamesTheField) {
  const Conversation conv = WithPrompt("alice", 0);
  const auto field_of = [&](const ContextRequest& request) {
    auto result = engine_->AssembleContext("alice", request);
    EXPECT_FALSE(result.ok());
    EXPECT_TRUE(result.status().IsValidationError()) << result.status().ToString();
    return std::string(result.status().field());
  };
  ContextRequest request = Request(conv.id, 0);
  EXPECT_EQ(field_of(request), "token_budget");
  request.token_budget = -5;
  EXPECT_EQ(field_of(request), "token_budget");
  request.token_budget = kMaxContextTokens + 1;
  EXPECT_EQ(field_of(request), "token_budget");
  request = Request(conv.id, 100);
  request.max_messages = -1;
  EXPECT_EQ(field_of(request), "max_messages");
  request.max_messages = kMaxContextMessages + 1;
  EXPECT_EQ(field_of(request), "max_messages");
  request = Request(conv.id, 100);
  request.k_chunks = -1;
  EXPECT_EQ(field_of(request), "k_chunks");
  request.k_chunks = kMaxTopK + 1;
  EXPECT_EQ(field_of(request), "k_chunks");
  request = Request(conv.id, 100);
  request.query_embedding = {1.0f, 2.0f};
  EXPECT_EQ(field_of(request), "query_embedding");
  request.query_embedding = std::vector<float>(kDim, 0.0f);
  EXPECT_EQ(field_of(request), "query_embedding");
  request.query_embedding = {};
  request.query_text = "   ";
  EXPECT_EQ(field_of(request), "query_text");
  request.query_text = "invoice";
  request.min_similarity = 0.5f;
  EXPECT_EQ(field_of(request), "min_similarity");
  request = Request(conv.id, 100);
  request.query_embedding = Basis(0);
  request.min_similarity = 2.0f;
  EXPECT_EQ(field_of(request), "min_similarity");
  request.min_similarity.reset();
  request.chunk_filters.file_types = {"exe"};
  EXPECT_FALSE(field_of(request).empty());
  EXPECT_TRUE(engine_->AssembleContext("alice", Request(conv.id, 100)).ok());
}

// Appends a message costing `tokens` (measured) with an embedding.
Message AppendEmbedded(Engine& engine, const std::string& user, const Uuid& conversation,
                       const std::string& content, int64_t tokens, std::vector<float> embedding) {
  NewMessage input;
  input.conversation_id = conversation;
  input.role = "user";
  input.content = content;
  input.tokens_used = tokens;
  input.embedding = std::move(embedding);
  return Unwrap(engine.AppendMessage(user, input));
}

TEST_F(AssembleContextTest, MemoriesComeFromOutsideTheRecentWindow) {
  const Conversation conv = WithPrompt("alice", 0);
  const Conversation other = WithPrompt("alice", 0);
  // The window's turns are the nearest to the query, so only leaving them out lets others in.
  std::vector<float> near = Basis(0);
  near[1] = 0.2f;
  for (int i = 0; i < 6; ++i) {
    AppendEmbedded(*engine_, "alice", conv.id, "turn " + std::to_string(i), 10,
                   i < 3 ? near : Basis(0));
  }
  AppendEmbedded(*engine_, "alice", other.id, "elsewhere", 10, near);
  AppendEmbedded(*engine_, "alice", other.id, "unrelated", 10, Basis(5));
  AppendEmbedded(*engine_, "bob", WithPrompt("bob", 0).id, "bob's", 10, Basis(0));
  ContextRequest request = Request(conv.id, 1000);
  request.message_budget = 30;  // the window: turns 3, 4 and 5
  request.query_embedding = Basis(0);
  request.k_chunks = 0;
  request.k_memories = 3;
  const ContextResponse context = Unwrap(engine_->AssembleContext("alice", request));
  EXPECT_EQ(Contents(context), (std::vector<std::string>{"turn 3", "turn 4", "turn 5"}));
  ASSERT_EQ(context.memories.size(), 3u);
  std::vector<std::string> memories;
  for (const ContextMemory& memory : context.memories) {
    memories.push_back(memory.message.content);
    EXPECT_LT(memory.similarity, 0.99f);
    EXPECT_EQ(memory.tokens, 10);
    EXPECT_EQ(memory.token_source, TokenSource::kMeasured);
  }
  // Never a message of the window, nor another user's: three of the four others, all as near.
  for (const std::string& content : memories) {
    EXPECT_TRUE(content == "elsewhere" || content == "turn 0" || content == "turn 1" ||
                content == "turn 2")
        << content;
  }
  EXPECT_EQ(context.budget.memory_tokens, 30);
  EXPECT_EQ(context.budget.remaining, 1000 - 30 - 30);

  // Filters narrow the memories; a soft-deleted conversation gives none.
  request.memory_filters.conversation_ids = {other.id};
  ContextResponse filtered = Unwrap(engine_->AssembleContext("alice", request));
  ASSERT_EQ(filtered.memories.size(), 2u);
  EXPECT_EQ(filtered.memories[0].message.content, "elsewhere");
  EXPECT_EQ(filtered.memories[1].message.content, "unrelated");
  Unwrap(engine_->SoftDeleteConversation("alice", other.id));
  filtered = Unwrap(engine_->AssembleContext("alice", request));
  EXPECT_TRUE(filtered.memories.empty());
}

TEST_F(AssembleContextTest, MemoriesFitTheRestOfTheBudget) {
  const Conversation conv = WithPrompt("alice", 10);
  const Conversation old = WithPrompt("alice", 0);
  AppendEmbedded(*engine_, "alice", conv.id, "now", 10, Basis(7));
  AppendEmbedded(*engine_, "alice", old.id, "big", 50, Basis(0));
  std::vector<float> near = Basis(0);
  near[1] = 0.3f;
  AppendEmbedded(*engine_, "alice", old.id, "small", 5, near);
  DocumentWith("alice", {std::string(80, 'c')});  // a 20-token chunk on Basis(0)
  ContextRequest request = Request(conv.id, 10 + 10 + 20 + 5);
  request.query_embedding = Basis(0);
  request.k_chunks = 1;
  request.k_memories = 2;
  const ContextResponse context = Unwrap(engine_->AssembleContext("alice", request));
  // Prompt, window and chunk first; the big memory does not fit, the next one does.
  EXPECT_EQ(context.chunks.size(), 1u);
  ASSERT_EQ(context.memories.size(), 1u);
  EXPECT_EQ(context.memories[0].message.content, "small");
  EXPECT_EQ(context.budget.memories_left_out, 1);
  EXPECT_EQ(context.budget.memory_tokens, 5);
  EXPECT_EQ(context.budget.remaining, 0);

  // Without an embedding, or with k_memories 0, there are no memories.
  request.query_embedding.clear();
  request.query_text = "cccc";
  EXPECT_TRUE(Unwrap(engine_->AssembleContext("alice", request)).memories.empty());
  request.query_text.clear();
  request.query_embedding = Basis(0);
  request.k_memories = 0;
  EXPECT_TRUE(Unwrap(engine_->AssembleContext("alice", request)).memories.empty());
}

TEST_F(AssembleContextTest, BadMemoryFieldsAreNamed) {
  const Conversation conv = WithPrompt("alice", 0);
  ContextRequest request = Request(conv.id, 100);
  request.k_memories = -1;
  EXPECT_EQ(engine_->AssembleContext("alice", request).status().field(), "k_memories");
  request.k_memories = kMaxTopK + 1;
  EXPECT_EQ(engine_->AssembleContext("alice", request).status().field(), "k_memories");
  request.k_memories = 5;
  request.k_chunks = 0;
  request.query_embedding = Basis(0);
  request.memory_filters.roles = {static_cast<Role>(9)};
  EXPECT_EQ(engine_->AssembleContext("alice", request).status().field(), "memory_filters.roles");
  request.memory_filters.roles.clear();
  request.query_embedding = std::vector<float>(kDim, 0.0f);
  EXPECT_EQ(engine_->AssembleContext("alice", request).status().field(), "query_embedding");
}

}  // namespace
}  // namespace mnemo
