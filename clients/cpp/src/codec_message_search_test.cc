// Message embeddings, message search and context memories against the schema: each new request
// field reaches the wire (and stays absent when unset, so an older server sees the old request),
// and replies built as mnemod builds them decode field by field, including replies from a server
// that predates these fields.
#include <gtest/gtest.h>

#include "codec.h"
#include "codec_test_util.h"
#include "protocol/verify.h"

namespace mnemo::client::internal {
namespace {

namespace fb = flatbuffers;
using testing::kIdA;
using testing::kIdB;
using testing::S;
using testing::Verify;

std::vector<float> Floats(const fb::Vector<float>* values) {
  std::vector<float> out;
  if (values != nullptr) out.assign(values->begin(), values->end());
  return out;
}

NewMessage Message(std::vector<float> embedding) {
  NewMessage message;
  message.id = kIdB;
  message.conversation_id = kIdA;
  message.content = "hello";
  message.embedding = std::move(embedding);
  return message;
}

// ---- requests ---------------------------------------------------------------------------------

TEST(CodecMessageSearchTest, AppendAndUpsertCarryTheEmbedding) {
  const NewMessage message = Message({0.5f, -1.0f, 2.0f});
  auto append = Verify(EncodeAppendMessage(1, "alice", message));
  ASSERT_EQ(append.request->body_type(), wire::RequestBody::AppendMessageRequest);
  EXPECT_EQ(Floats(append.request->body_as_AppendMessageRequest()->message()->embedding()),
            message.embedding);
  auto upsert = Verify(EncodeUpsertMessage(2, "alice", message));
  ASSERT_EQ(upsert.request->body_type(), wire::RequestBody::UpsertMessageRequest);
  EXPECT_EQ(Floats(upsert.request->body_as_UpsertMessageRequest()->message()->embedding()),
            message.embedding);
}

TEST(CodecMessageSearchTest, NoEmbeddingIsSentAbsent) {
  auto d = Verify(EncodeAppendMessage(3, "alice", Message({})));
  EXPECT_EQ(d.request->body_as_AppendMessageRequest()->message()->embedding(), nullptr);
  // An empty view is "none" too, whatever the input holds.
  const std::vector<float> none;
  auto v = Verify(EncodeUpsertMessage(4, "alice", Message({1, 2}), {none}));
  EXPECT_EQ(v.request->body_as_UpsertMessageRequest()->message()->embedding(), nullptr);
}

TEST(CodecMessageSearchTest, TheEmbeddingViewReplacesTheMessagesOwnVector) {
  const std::vector<float> view = {1, 2, 3, 4};
  auto d = Verify(EncodeAppendMessage(5, "alice", Message({9, 9}), {view}));
  EXPECT_EQ(Floats(d.request->body_as_AppendMessageRequest()->message()->embedding()), view);
}

TEST(CodecMessageSearchTest, BatchMessageOpsCarryEmbeddingsFromTheirOwnViews) {
  Batch batch;
  batch.AppendMessage(Message({1, 0}));
  NewChunk chunk;
  chunk.document_id = kIdB;
  chunk.chunk_text = "text";
  chunk.embedding = {0, 1};
  batch.AddChunk(chunk);
  batch.UpsertMessage(Message({}));
  auto own = Verify(EncodeApplyBatch(6, "alice", batch));
  const auto* ops = own.request->body_as_ApplyBatchRequest()->ops();
  ASSERT_EQ(ops->size(), 3u);
  EXPECT_EQ(Floats(ops->Get(0)->append_message()->embedding()), (std::vector<float>{1, 0}));
  EXPECT_EQ(Floats(ops->Get(1)->add_chunk()->embedding()), (std::vector<float>{0, 1}));
  EXPECT_EQ(ops->Get(2)->upsert_message()->embedding(), nullptr);

  // Chunk views go to the add-chunk ops, message views to the message ops, each in op order.
  const std::vector<float> chunk_view = {5, 5}, first = {6, 6}, second = {7, 7};
  auto viewed = Verify(EncodeApplyBatch(7, "alice", batch, {chunk_view}, {first, second}));
  const auto* viewed_ops = viewed.request->body_as_ApplyBatchRequest()->ops();
  EXPECT_EQ(Floats(viewed_ops->Get(0)->append_message()->embedding()), first);
  EXPECT_EQ(Floats(viewed_ops->Get(1)->add_chunk()->embedding()), chunk_view);
  EXPECT_EQ(Floats(viewed_ops->Get(2)->upsert_message()->embedding()), second);
  // Chunk views alone leave the messages their own embeddings.
  auto chunks_only = Verify(EncodeApplyBatch(8, "alice", batch, {chunk_view}));
  const auto* chunk_ops = chunks_only.request->body_as_ApplyBatchRequest()->ops();
  EXPECT_EQ(Floats(chunk_ops->Get(0)->append_message()->embedding()), (std::vector<float>{1, 0}));
}

TEST(CodecMessageSearchTest, EverySearchFieldReachesTheWire) {
  MessageSearchRequest request;
  request.query = {0.25f, 0.5f};
  request.top_k = 7;
  request.min_similarity = 0.1f;
  request.ef = 64;
  request.filters.conversation_ids = {kIdA, kIdB};
  request.filters.roles = {"user", "tool"};
  request.filters.created_from = 100;
  request.filters.created_until = 200;
  auto d = Verify(EncodeSearchMessages(8, "alice", request));
  EXPECT_EQ(d.request->id(), 8u);
  EXPECT_EQ(S(d.request->user_id()), "alice");
  ASSERT_EQ(d.request->body_type(), wire::RequestBody::SearchMessagesRequest);
  const auto* in = d.request->body_as_SearchMessagesRequest();
  EXPECT_EQ(Floats(in->query()), request.query);
  EXPECT_EQ(in->top_k(), 7);
  ASSERT_TRUE(in->min_similarity().has_value());
  EXPECT_FLOAT_EQ(*in->min_similarity(), 0.1f);
  ASSERT_TRUE(in->ef().has_value());
  EXPECT_EQ(*in->ef(), 64);
  const wire::MessageSearchFilters* filters = in->filters();
  ASSERT_NE(filters, nullptr);
  ASSERT_EQ(filters->conversation_ids()->size(), 2u);
  EXPECT_EQ(UuidFromWire(*filters->conversation_ids()->Get(0)), kIdA);
  EXPECT_EQ(UuidFromWire(*filters->conversation_ids()->Get(1)), kIdB);
  ASSERT_EQ(filters->roles()->size(), 2u);
  EXPECT_EQ(S(filters->roles()->Get(0)), "user");
  EXPECT_EQ(S(filters->roles()->Get(1)), "tool");
  EXPECT_EQ(filters->created_from(), 100);
  EXPECT_EQ(filters->created_until(), 200);
}

TEST(CodecMessageSearchTest, KeywordAndFusionFieldsReachTheWire) {
  MessageSearchRequest request;
  request.query_text = "kyoto temples";
  request.fusion = Fusion::kWeighted;
  request.rrf_k = 30;
  request.text_weight = 0.25;
  request.candidates = 80;
  auto d = Verify(EncodeSearchMessages(12, "alice", request));
  const auto* in = d.request->body_as_SearchMessagesRequest();
  EXPECT_EQ(S(in->query_text()), "kyoto temples");
  EXPECT_EQ(in->query(), nullptr);  // text only: no embedding
  EXPECT_EQ(in->fusion(), wire::Fusion::weighted);
  EXPECT_DOUBLE_EQ(*in->rrf_k(), 30);
  EXPECT_DOUBLE_EQ(*in->text_weight(), 0.25);
  EXPECT_EQ(*in->candidates(), 80);
  // An empty text is sent (the server refuses it as blank), not dropped.
  request.query_text = "";
  auto e = Verify(EncodeSearchMessages(13, "alice", request));
  ASSERT_NE(e.request->body_as_SearchMessagesRequest()->query_text(), nullptr);
}

TEST(CodecMessageSearchTest, SearchDefaultsStayAbsentAndRolesAreSentAsGiven) {
  MessageSearchRequest request;
  request.query = {1};
  auto d = Verify(EncodeSearchMessages(9, "bob", request));
  const auto* in = d.request->body_as_SearchMessagesRequest();
  EXPECT_EQ(in->top_k(), kDefaultTopK);
  EXPECT_FALSE(in->min_similarity().has_value());
  EXPECT_FALSE(in->ef().has_value());
  EXPECT_EQ(in->filters(), nullptr);
  EXPECT_EQ(in->query_text(), nullptr);
  EXPECT_EQ(in->fusion(), wire::Fusion::rrf);
  EXPECT_FALSE(in->rrf_k().has_value());
  EXPECT_FALSE(in->text_weight().has_value());
  EXPECT_FALSE(in->candidates().has_value());
  // An unknown role is the server's to refuse (filters.roles), so it travels unchanged.
  request.filters.roles = {"robot"};
  request.top_k = 0;
  auto r = Verify(EncodeSearchMessages(10, "bob", request));
  const auto* rin = r.request->body_as_SearchMessagesRequest();
  EXPECT_EQ(S(rin->filters()->roles()->Get(0)), "robot");
  EXPECT_EQ(rin->top_k(), 0);
  // The query view replaces the request's own vector.
  const std::vector<float> view = {3, 4};
  auto v = Verify(EncodeSearchMessages(11, "bob", request, {view}));
  EXPECT_EQ(Floats(v.request->body_as_SearchMessagesRequest()->query()), view);
}

TEST(CodecMessageSearchTest, ContextMemoryFieldsReachTheWire) {
  ContextRequest request;
  request.conversation_id = kIdA;
  request.token_budget = 100;
  auto defaults = Verify(EncodeAssembleContext(12, "alice", request));
  const auto* din = defaults.request->body_as_AssembleContextRequest();
  EXPECT_EQ(din->k_memories(), kDefaultContextMemories);
  EXPECT_EQ(din->memory_filters(), nullptr);

  request.k_memories = 0;
  request.memory_filters.roles = {"assistant"};
  request.memory_filters.conversation_ids = {kIdB};
  request.memory_filters.created_until = 300;
  auto d = Verify(EncodeAssembleContext(13, "alice", request));
  const auto* in = d.request->body_as_AssembleContextRequest();
  EXPECT_EQ(in->k_memories(), 0);
  ASSERT_NE(in->memory_filters(), nullptr);
  EXPECT_EQ(S(in->memory_filters()->roles()->Get(0)), "assistant");
  EXPECT_EQ(UuidFromWire(*in->memory_filters()->conversation_ids()->Get(0)), kIdB);
  EXPECT_FALSE(in->memory_filters()->created_from().has_value());
  EXPECT_EQ(in->memory_filters()->created_until(), 300);
  EXPECT_EQ(in->filters(), nullptr);  // the chunks' filters are separate
}

// ---- replies ----------------------------------------------------------------------------------

const wire::Response& VerifiedResponse(const std::string& payload) {
  std::string why;
  const wire::Response* response = protocol::VerifyResponse(payload, &why);
  EXPECT_NE(response, nullptr) << why;
  return *response;
}

std::string Finish(fb::FlatBufferBuilder& fbb, wire::ResponseBody type, fb::Offset<void> body) {
  fbb.Finish(wire::CreateResponse(fbb, 7, 0, type, body), wire::RequestIdentifier());
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
}

// A message as mnemod builds it; has_embedding absent when `has_embedding` is nullopt (an older
// server).
fb::Offset<wire::Message> WireMessage(fb::FlatBufferBuilder& fbb, const Uuid& id,
                                      const std::string& content,
                                      std::optional<bool> has_embedding) {
  const wire::Id wire_id = UuidToWire(id);
  const wire::Id conversation_id = UuidToWire(kIdA);
  const auto text = fbb.CreateString(content);
  const auto metadata = fbb.CreateString("{}");
  wire::MessageBuilder builder(fbb);
  builder.add_id(&wire_id);
  builder.add_conversation_id(&conversation_id);
  builder.add_role(wire::Role::assistant);
  builder.add_content(text);
  builder.add_metadata(metadata);
  builder.add_created_at(42);
  if (has_embedding) builder.add_has_embedding(*has_embedding);
  return builder.Finish();
}

TEST(CodecMessageSearchTest, MessagesSayWhetherTheyHaveAnEmbedding) {
  for (const std::optional<bool> stored :
       {std::optional<bool>(true), std::optional<bool>(false), std::optional<bool>()}) {
    fb::FlatBufferBuilder fbb;
    const auto message = WireMessage(fbb, kIdB, "hi", stored);
    const std::string payload = Finish(fbb, wire::ResponseBody::MessageReply,
                                       wire::CreateMessageReply(fbb, message).Union());
    const Result<client::Message> decoded = DecodeMessage(VerifiedResponse(payload));
    ASSERT_TRUE(decoded.ok()) << decoded.error().message;
    EXPECT_EQ(decoded.value().has_embedding, stored.value_or(false));
    EXPECT_EQ(decoded.value().content, "hi");
  }
}

TEST(CodecMessageSearchTest, SearchReplyDecodesFieldByField) {
  fb::FlatBufferBuilder fbb;
  std::vector<fb::Offset<wire::MessageHit>> hits;
  hits.push_back(wire::CreateMessageHit(fbb, WireMessage(fbb, kIdB, "nearest", true), 0.9f));
  hits.push_back(wire::CreateMessageHit(fbb, WireMessage(fbb, kIdA, "next", true), -0.25f));
  const auto hit_vector = fbb.CreateVector(hits);
  const std::string payload =
      Finish(fbb, wire::ResponseBody::MessageSearchReply,
             wire::CreateMessageSearchReply(fbb, hit_vector, false, 80, true).Union());
  const Result<MessageSearchResponse> decoded = DecodeMessageSearch(VerifiedResponse(payload));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  const MessageSearchResponse& out = decoded.value();
  ASSERT_EQ(out.hits.size(), 2u);
  EXPECT_EQ(out.hits[0].message.id, kIdB);  // order kept: best first
  EXPECT_EQ(out.hits[0].message.content, "nearest");
  EXPECT_EQ(out.hits[0].message.role, Role::kAssistant);
  EXPECT_TRUE(out.hits[0].message.has_embedding);
  EXPECT_FLOAT_EQ(out.hits[0].similarity, 0.9f);
  EXPECT_EQ(out.hits[1].message.id, kIdA);
  EXPECT_FLOAT_EQ(out.hits[1].similarity, -0.25f);
  EXPECT_FALSE(out.exact);
  EXPECT_EQ(out.ef_used, 80u);
  EXPECT_TRUE(out.fewer_than_top_k);
  // A reply without leg info (an older server) was a vector search.
  EXPECT_TRUE(out.vector.ran);
  EXPECT_FALSE(out.vector.exact);
  EXPECT_EQ(out.vector.candidates, 2);
  EXPECT_FALSE(out.text.ran);
  EXPECT_FALSE(out.hits[0].bm25.has_value());
}

TEST(CodecMessageSearchTest, HybridReplyDecodesRanksScoresAndLegs) {
  fb::FlatBufferBuilder fbb;
  std::vector<fb::Offset<wire::MessageHit>> hits;
  hits.push_back(
      wire::CreateMessageHit(fbb, WireMessage(fbb, kIdB, "both", true), 0.9f, 0.032, 4.5, 1, 2));
  hits.push_back(wire::CreateMessageHit(fbb, WireMessage(fbb, kIdA, "text only", false), 0.0f,
                                        0.016, 2.25, 2, 0));
  const auto hit_vector = fbb.CreateVector(hits);
  const auto terms = fbb.CreateVectorOfStrings({"kyoto"});
  const auto unknown = fbb.CreateVectorOfStrings({"zzz"});
  const auto text = wire::CreateTextLegInfo(fbb, true, terms, 1, unknown, 2, 40, 7, 5, true);
  const auto vector = wire::CreateVectorLegInfo(fbb, true, true, 0, 0, 3);
  const std::string payload =
      Finish(fbb, wire::ResponseBody::MessageSearchReply,
             wire::CreateMessageSearchReply(fbb, hit_vector, true, 0, false, wire::Fusion::weighted,
                                            text, vector)
                 .Union());
  const Result<MessageSearchResponse> decoded = DecodeMessageSearch(VerifiedResponse(payload));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  const MessageSearchResponse& out = decoded.value();
  ASSERT_EQ(out.hits.size(), 2u);
  EXPECT_DOUBLE_EQ(out.hits[0].score, 0.032);
  EXPECT_DOUBLE_EQ(*out.hits[0].bm25, 4.5);
  EXPECT_EQ(out.hits[0].text_rank, 1);
  EXPECT_EQ(out.hits[0].vector_rank, 2);
  EXPECT_EQ(out.hits[1].vector_rank, 0);
  EXPECT_FLOAT_EQ(out.hits[1].similarity, 0.0f);
  EXPECT_EQ(out.fusion, Fusion::kWeighted);
  EXPECT_TRUE(out.text.ran);
  EXPECT_EQ(out.text.terms, (std::vector<std::string>{"kyoto"}));
  EXPECT_EQ(out.text.unknown_terms, (std::vector<std::string>{"zzz"}));
  EXPECT_EQ(out.text.stopwords_ignored, 1);
  EXPECT_EQ(out.text.candidates, 2);
  EXPECT_EQ(out.text.rows, 40);
  EXPECT_EQ(out.text.postings, 7);
  EXPECT_EQ(out.text.rows_scored, 5);
  EXPECT_TRUE(out.vector.ran);
  EXPECT_EQ(out.vector.candidates, 3);
}

TEST(CodecMessageSearchTest, SearchRefusalsKeepTheirFieldAndOtherBodiesAreErrors) {
  fb::FlatBufferBuilder fbb;
  const auto error = wire::CreateError(fbb, wire::StatusCode::VALIDATION_ERROR,
                                       fbb.CreateString("roles must each be one of ..."),
                                       fbb.CreateString("filters.roles"));
  fbb.Finish(wire::CreateResponse(fbb, 7, error), wire::RequestIdentifier());
  const std::string failed(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
  const Result<MessageSearchResponse> refused = DecodeMessageSearch(VerifiedResponse(failed));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Code::kValidationError);
  EXPECT_EQ(refused.error().field, "filters.roles");

  fb::FlatBufferBuilder other;
  const std::string done = Finish(other, wire::ResponseBody::Done, wire::CreateDone(other).Union());
  const Result<MessageSearchResponse> wrong = DecodeMessageSearch(VerifiedResponse(done));
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, Code::kInternalError);
}

// A ContextReply with memories and the memory budget fields, or (old_server) without them.
std::string ContextReply(bool old_server) {
  fb::FlatBufferBuilder fbb;
  const wire::Id conversation_id = UuidToWire(kIdA);
  const auto conversation = wire::CreateConversation(
      fbb, &conversation_id, fbb.CreateString("alice"), fbb.CreateString("Trip"), 0,
      fbb.CreateString("m"), fbb.CreateString(""), fbb.CreateString("{}"), false, fb::nullopt, 1, 2,
      0, 0);
  fb::Offset<fb::Vector<fb::Offset<wire::ContextMemory>>> memories;
  fb::Offset<wire::ContextBudget> budget;
  if (old_server) {
    budget = wire::CreateContextBudget(fbb, 100, 0, 0, 0, 100, 0, 0);
  } else {
    std::vector<fb::Offset<wire::ContextMemory>> items;
    items.push_back(wire::CreateContextMemory(fbb, WireMessage(fbb, kIdB, "we chose Kyoto", true),
                                              0.8f, 12, wire::TokenSource::measured, 0.031, 3.5));
    items.push_back(wire::CreateContextMemory(fbb, WireMessage(fbb, kIdA, "temples", true), 0.5f, 2,
                                              wire::TokenSource::estimated));
    memories = fbb.CreateVector(items);
    budget = wire::CreateContextBudget(fbb, 100, 0, 0, 0, 86, 0, 0, 14, 3);
  }
  const auto body = wire::CreateContextReply(fbb, conversation, 0, 0, wire::ContextRetrieval::none,
                                             budget, memories);
  return Finish(fbb, wire::ResponseBody::ContextReply, body.Union());
}

TEST(CodecMessageSearchTest, ContextMemoriesAndTheirBudgetDecode) {
  const std::string payload = ContextReply(false);
  const Result<ContextResponse> decoded = DecodeContext(VerifiedResponse(payload));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  const ContextResponse& out = decoded.value();
  ASSERT_EQ(out.memories.size(), 2u);
  EXPECT_EQ(out.memories[0].message.id, kIdB);  // order kept: best first
  EXPECT_EQ(out.memories[0].message.content, "we chose Kyoto");
  EXPECT_TRUE(out.memories[0].message.has_embedding);
  EXPECT_FLOAT_EQ(out.memories[0].similarity, 0.8f);
  EXPECT_EQ(out.memories[0].tokens, 12);
  EXPECT_EQ(out.memories[0].token_source, TokenSource::kMeasured);
  EXPECT_DOUBLE_EQ(out.memories[0].score, 0.031);
  EXPECT_DOUBLE_EQ(*out.memories[0].bm25, 3.5);
  EXPECT_FALSE(out.memories[1].bm25.has_value());
  EXPECT_EQ(out.memories[1].message.id, kIdA);
  EXPECT_FLOAT_EQ(out.memories[1].similarity, 0.5f);
  EXPECT_EQ(out.memories[1].tokens, 2);
  EXPECT_EQ(out.memories[1].token_source, TokenSource::kEstimated);
  EXPECT_EQ(out.budget.memory_tokens, 14);
  EXPECT_EQ(out.budget.memories_left_out, 3);
  EXPECT_EQ(out.budget.remaining, 86);
}

TEST(CodecMessageSearchTest, AContextFromAnOlderServerHasNoMemories) {
  const std::string payload = ContextReply(true);
  const Result<ContextResponse> decoded = DecodeContext(VerifiedResponse(payload));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_TRUE(decoded.value().memories.empty());
  EXPECT_EQ(decoded.value().budget.memory_tokens, 0);
  EXPECT_EQ(decoded.value().budget.memories_left_out, 0);
  EXPECT_EQ(decoded.value().budget.remaining, 100);
}

}  // namespace
}  // namespace mnemo::client::internal
