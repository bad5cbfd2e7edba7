// AssembleContext at the wire level: a round trip with messages and chunks (every reply field
// checked against what the engine holds), isolation, and each way a request can be refused —
// the absent id only the wire can carry, and the engine's validation with the field it names.
#include <gtest/gtest.h>

#include "server/dispatcher.h"
#include "server/op_table.h"
#include "server/testing/wire_helpers.h"
#include "server/wire_in.h"
#include "server/wire_out.h"
#include "testing/temp_dir.h"

namespace mnemo::server {
namespace {

using testing::Body;
using testing::Builder;
using testing::BuildRequest;
using testing::ParsedResponse;
using B = wire::RequestBody;
using wire::StatusCode;

constexpr uint32_t kDim = 4;

// The fields of an AssembleContextRequest a test sets; the rest keep the schema's defaults.
struct ContextArgs {
  std::optional<Uuid> conversation_id;  // nullopt: absent on the wire
  int64_t token_budget = 1000;
  int64_t max_messages = 20;
  std::vector<float> embedding;  // empty: absent
  std::string text;              // empty: absent
  int64_t k_chunks = 5;
  std::vector<std::string> file_types;  // the chunk filter; empty: no filter
  std::optional<float> min_similarity;
  std::optional<int64_t> message_budget;
};

class DispatchContextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    EngineOptions options;
    options.data_dir = dir_.Sub("data");
    options.dimension = kDim;
    options.sync_writes = false;
    engine_ = std::move(Engine::Open(options)).value();
    dispatcher_ = std::make_unique<Dispatcher>(*engine_, stats_,
                                               DispatcherOptions{options.data_dir, 1u << 20});
    NewConversation conversation;
    conversation.title = "Trip";
    conversation.system_prompt = "Be brief and kind.";  // 18 ASCII bytes: 5 estimated tokens
    conversation_ = engine_->CreateConversation("alice", conversation)->id;
    // Oldest first: 100 measured tokens, then 7 measured, then 3 estimated ("hello there!").
    const std::vector<std::pair<std::string, std::optional<int64_t>>> messages = {
        {"a long preamble", 100}, {"where to go in spring?", 7}, {"hello there!", std::nullopt}};
    for (const auto& [content, tokens] : messages) {
      NewMessage message;
      message.conversation_id = conversation_;
      message.role = "user";
      message.content = content;
      message.tokens_used = tokens;
      messages_.push_back(engine_->AppendMessage("alice", message)->id);
    }
    NewDocument document;
    document.filename = "notes.md";
    document.file_type = "md";
    document_ = engine_->CreateDocument("alice", document)->id;
    const std::vector<std::pair<std::string, std::vector<float>>> chunks = {
        {"Kyoto temples in spring", {1, 0, 0, 0}},  // 6 tokens
        {"Osaka food guide", {0, 1, 0, 0}},         // 4 tokens
    };
    for (size_t i = 0; i < chunks.size(); ++i) {
      NewChunk chunk;
      chunk.document_id = document_;
      chunk.chunk_index = static_cast<int64_t>(i);
      chunk.chunk_text = chunks[i].first;
      chunk.embedding = chunks[i].second;
      chunks_.push_back(engine_->AddChunks("alice", {chunk})->front().id);
    }
  }

  std::string Request(const ContextArgs& args, std::string_view user = "alice") {
    return BuildRequest(7, user, [&](Builder& fbb) {
      const auto embedding = args.embedding.empty()
                                 ? flatbuffers::Offset<flatbuffers::Vector<float>>()
                                 : fbb.CreateVector(args.embedding);
      const auto text = args.text.empty() ? flatbuffers::Offset<flatbuffers::String>()
                                          : fbb.CreateString(args.text);
      flatbuffers::Offset<wire::SearchFilters> filters;
      if (!args.file_types.empty()) {
        filters = wire::CreateSearchFilters(fbb, 0, fbb.CreateVectorOfStrings(args.file_types));
      }
      flatbuffers::Optional<float> min_similarity = flatbuffers::nullopt;
      if (args.min_similarity) min_similarity = *args.min_similarity;
      flatbuffers::Optional<int64_t> message_budget = flatbuffers::nullopt;
      if (args.message_budget) message_budget = *args.message_budget;
      const wire::Id id = args.conversation_id ? ToWireId(*args.conversation_id) : wire::Id();
      return Body(B::AssembleContextRequest,
                  wire::CreateAssembleContextRequest(fbb, args.conversation_id ? &id : nullptr,
                                                     args.token_budget, args.max_messages,
                                                     embedding, text, args.k_chunks, filters,
                                                     min_similarity, message_budget));
    });
  }

  ParsedResponse Call(const std::string& payload) {
    std::string error;
    const wire::Request* request = protocol::VerifyRequest(payload, &error);
    EXPECT_NE(request, nullptr) << error;
    return ParsedResponse(dispatcher_->Handle(alice_, *request));
  }
  const wire::ContextReply* Ok(const ParsedResponse& response) {
    EXPECT_TRUE(response.ok()) << testing::CodeName(response.code()) << ": " << response.message();
    if (!response.ok()) return nullptr;
    EXPECT_EQ(response->body_type(), wire::ResponseBody::ContextReply);
    return response->body_as_ContextReply();
  }
  void ExpectError(const ContextArgs& args, StatusCode code, const std::string& field) {
    ParsedResponse response = Call(Request(args));
    EXPECT_EQ(response.code(), code) << response.message();
    EXPECT_EQ(response.field(), field) << response.message();
  }
  ContextArgs Args() {
    ContextArgs args;
    args.conversation_id = conversation_;
    return args;
  }

  mnemo::testing::TempDir dir_;
  ServerStats stats_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<Dispatcher> dispatcher_;
  Uuid conversation_, document_;
  std::vector<Uuid> messages_, chunks_;
  const Principal alice_{KeyKind::kUser, "alice", "alice00000000000"};
};

TEST_F(DispatchContextTest, RoundTripCarriesMessagesChunksAndTheBudget) {
  ContextArgs args = Args();
  args.token_budget = 30;  // 5 prompt + 3 + 7 messages = 15; the 100-token message does not fit
  args.embedding = {1, 0.1f, 0, 0};
  args.k_chunks = 2;
  ParsedResponse response = Call(Request(args));
  const wire::ContextReply* reply = Ok(response);
  ASSERT_NE(reply, nullptr);
  ASSERT_NE(reply->conversation(), nullptr);
  EXPECT_EQ(FromWireId(*reply->conversation()->id()), conversation_);
  EXPECT_EQ(reply->conversation()->system_prompt()->str(), "Be brief and kind.");

  // The unbroken tail, oldest first, each with how it was counted.
  ASSERT_NE(reply->messages(), nullptr);
  ASSERT_EQ(reply->messages()->size(), 2u);
  const wire::ContextMessage* first = reply->messages()->Get(0);
  const wire::ContextMessage* second = reply->messages()->Get(1);
  EXPECT_EQ(FromWireId(*first->message()->id()), messages_[1]);
  EXPECT_EQ(first->message()->content()->str(), "where to go in spring?");
  EXPECT_EQ(first->tokens(), 7);
  EXPECT_EQ(first->token_source(), wire::TokenSource::measured);
  EXPECT_EQ(FromWireId(*second->message()->id()), messages_[2]);
  EXPECT_EQ(second->tokens(), 3);
  EXPECT_EQ(second->token_source(), wire::TokenSource::estimated);

  // Vector retrieval: the nearer chunk first; 30 - 15 = 15 tokens leave room for both (6 + 4).
  EXPECT_EQ(reply->retrieval(), wire::ContextRetrieval::vector);
  ASSERT_NE(reply->chunks(), nullptr);
  ASSERT_EQ(reply->chunks()->size(), 2u);
  const wire::ContextChunk* best = reply->chunks()->Get(0);
  EXPECT_EQ(FromWireId(*best->hit()->hit()->chunk_id()), chunks_[0]);
  EXPECT_EQ(best->hit()->hit()->chunk_text()->str(), "Kyoto temples in spring");
  EXPECT_EQ(best->hit()->hit()->filename()->str(), "notes.md");
  EXPECT_EQ(best->tokens(), 6);
  EXPECT_EQ(best->hit()->vector_rank(), 1);
  ASSERT_TRUE(best->hit()->similarity().has_value());
  EXPECT_GT(*best->hit()->similarity(), 0.9f);
  EXPECT_EQ(FromWireId(*reply->chunks()->Get(1)->hit()->hit()->chunk_id()), chunks_[1]);
  EXPECT_EQ(reply->chunks()->Get(1)->tokens(), 4);

  const wire::ContextBudget* budget = reply->budget();
  ASSERT_NE(budget, nullptr);
  EXPECT_EQ(budget->budget(), 30);
  EXPECT_EQ(budget->system_prompt_tokens(), 5);
  EXPECT_EQ(budget->message_tokens(), 10);
  EXPECT_EQ(budget->chunk_tokens(), 10);
  EXPECT_EQ(budget->remaining(), 5);
  EXPECT_EQ(budget->messages_left_out(), 1);
  EXPECT_EQ(budget->chunks_left_out(), 0);
}

TEST_F(DispatchContextTest, MessageBudgetCapsTheWindow) {
  ContextArgs args = Args();
  args.token_budget = 1000;  // every message would fit without a message budget
  args.message_budget = 9;   // the newest (3) fits, the next (7) would make 10
  ParsedResponse response = Call(Request(args));
  const wire::ContextReply* reply = Ok(response);
  ASSERT_NE(reply, nullptr);
  ASSERT_NE(reply->messages(), nullptr);
  ASSERT_EQ(reply->messages()->size(), 1u);
  EXPECT_EQ(FromWireId(*reply->messages()->Get(0)->message()->id()), messages_[2]);
  EXPECT_EQ(reply->budget()->message_tokens(), 3);
  EXPECT_EQ(reply->budget()->messages_left_out(), 2);
  args.message_budget = 10;
  response = Call(Request(args));
  reply = Ok(response);
  ASSERT_NE(reply, nullptr);
  EXPECT_EQ(reply->messages()->size(), 2u);
  args.message_budget = -1;
  ExpectError(args, StatusCode::VALIDATION_ERROR, "message_budget");
}

TEST_F(DispatchContextTest, KeywordHybridAndNoRetrievalAreReported) {
  ContextArgs keyword = Args();
  keyword.text = "osaka";
  ParsedResponse by_text = Call(Request(keyword));
  const wire::ContextReply* text_reply = Ok(by_text);
  ASSERT_NE(text_reply, nullptr);
  EXPECT_EQ(text_reply->retrieval(), wire::ContextRetrieval::keyword);
  ASSERT_EQ(text_reply->chunks()->size(), 1u);
  EXPECT_EQ(FromWireId(*text_reply->chunks()->Get(0)->hit()->hit()->chunk_id()), chunks_[1]);
  EXPECT_EQ(text_reply->chunks()->Get(0)->hit()->text_rank(), 1);
  EXPECT_TRUE(text_reply->chunks()->Get(0)->hit()->bm25().has_value());

  ContextArgs hybrid = Args();
  hybrid.text = "kyoto";
  hybrid.embedding = {1, 0, 0, 0};
  ParsedResponse fused = Call(Request(hybrid));
  const wire::ContextReply* hybrid_reply = Ok(fused);
  ASSERT_NE(hybrid_reply, nullptr);
  EXPECT_EQ(hybrid_reply->retrieval(), wire::ContextRetrieval::hybrid);
  ASSERT_GE(hybrid_reply->chunks()->size(), 1u);
  EXPECT_EQ(FromWireId(*hybrid_reply->chunks()->Get(0)->hit()->hit()->chunk_id()), chunks_[0]);

  // A filter that admits nothing, and k_chunks 0: no chunks; max_messages 0: no messages.
  ContextArgs filtered = hybrid;
  filtered.file_types = {"pdf"};
  ParsedResponse none = Call(Request(filtered));
  ASSERT_NE(Ok(none), nullptr);
  EXPECT_EQ(none->body_as_ContextReply()->chunks()->size(), 0u);
  ContextArgs quiet = hybrid;
  quiet.k_chunks = 0;
  quiet.max_messages = 0;
  ParsedResponse empty = Call(Request(quiet));
  const wire::ContextReply* empty_reply = Ok(empty);
  ASSERT_NE(empty_reply, nullptr);
  EXPECT_EQ(empty_reply->retrieval(), wire::ContextRetrieval::none);
  EXPECT_EQ(empty_reply->chunks()->size(), 0u);
  EXPECT_EQ(empty_reply->messages()->size(), 0u);
  EXPECT_EQ(empty_reply->budget()->remaining(), 1000 - 5);
}

TEST_F(DispatchContextTest, AnotherUsersOrADeletedConversationIsNotFound) {
  ParsedResponse other = Call(Request(Args(), "bob"));
  // bob's principal is alice's key: authorization refuses before the engine is asked.
  EXPECT_EQ(other.code(), StatusCode::AUTHORIZATION_ERROR);

  NewConversation mine;
  mine.title = "bob's";
  const Uuid bobs = engine_->CreateConversation("bob", mine)->id;
  ContextArgs args = Args();
  args.conversation_id = bobs;
  ExpectError(args, StatusCode::NOT_FOUND, "");
  args.conversation_id = Uuid::Generate();
  ExpectError(args, StatusCode::NOT_FOUND, "");
  ASSERT_TRUE(engine_->SoftDeleteConversation("alice", conversation_).ok());
  ExpectError(Args(), StatusCode::NOT_FOUND, "");
}

TEST_F(DispatchContextTest, BadInputIsAValidationErrorNamingTheField) {
  ContextArgs absent = Args();
  absent.conversation_id.reset();
  ExpectError(absent, StatusCode::VALIDATION_ERROR, "conversation_id");

  ContextArgs wrong_dimension = Args();
  wrong_dimension.embedding = {1, 0, 0};
  ExpectError(wrong_dimension, StatusCode::VALIDATION_ERROR, "query_embedding");

  ContextArgs below_prompt = Args();
  below_prompt.token_budget = 4;  // the system prompt needs 5
  ExpectError(below_prompt, StatusCode::VALIDATION_ERROR, "token_budget");
  below_prompt.token_budget = 5;  // exactly the prompt: accepted, nothing else fits
  ParsedResponse exact = Call(Request(below_prompt));
  const wire::ContextReply* exact_reply = Ok(exact);
  ASSERT_NE(exact_reply, nullptr);
  EXPECT_EQ(exact_reply->messages()->size(), 0u);
  EXPECT_EQ(exact_reply->budget()->remaining(), 0);
  EXPECT_EQ(exact_reply->budget()->messages_left_out(), 3);

  for (const int64_t budget : {int64_t{0}, int64_t{-1}, kMaxContextTokens + 1}) {
    ContextArgs args = Args();
    args.token_budget = budget;
    ExpectError(args, StatusCode::VALIDATION_ERROR, "token_budget");
  }
  for (const int64_t k : {int64_t{-1}, kMaxTopK + 1}) {
    ContextArgs args = Args();
    args.k_chunks = k;
    ExpectError(args, StatusCode::VALIDATION_ERROR, "k_chunks");
  }
  for (const int64_t count : {int64_t{-1}, kMaxContextMessages + 1}) {
    ContextArgs args = Args();
    args.max_messages = count;
    ExpectError(args, StatusCode::VALIDATION_ERROR, "max_messages");
  }
  ContextArgs blank = Args();
  blank.text = "   ";
  ExpectError(blank, StatusCode::VALIDATION_ERROR, "query_text");
  ContextArgs similarity = Args();
  similarity.embedding = {1, 0, 0, 0};
  similarity.min_similarity = 2.0f;
  ExpectError(similarity, StatusCode::VALIDATION_ERROR, "min_similarity");
  ContextArgs keyword_only = Args();  // min_similarity applies to the vector leg alone
  keyword_only.text = "kyoto";
  keyword_only.min_similarity = 0.5f;
  ExpectError(keyword_only, StatusCode::VALIDATION_ERROR, "min_similarity");
}

TEST_F(DispatchContextTest, IsASearchGroupReadThatMayRunInline) {
  EXPECT_EQ(GroupOf(B::AssembleContextRequest), OpGroup::kSearch);
  EXPECT_EQ(OpName(B::AssembleContextRequest), "AssembleContext");
  const std::string payload = Request(Args());
  std::string error;
  const wire::Request* request = protocol::VerifyRequest(payload, &error);
  ASSERT_NE(request, nullptr) << error;
  EXPECT_TRUE(MayRunInline(*request));
  EXPECT_FALSE(RunsOnIoThread(*request));
  ASSERT_TRUE(Call(payload).ok());
  bool counted = false;
  for (const OpSnapshot& op : stats_.Snapshot()) counted |= op.name == "AssembleContext";
  EXPECT_TRUE(counted);
}

}  // namespace
}  // namespace mnemo::server
