// The context-assembly request and reply against the schema: every field of ContextRequest
// reaches the wire (and empty queries stay absent), and a ContextReply built as the server
// builds it decodes into ContextResponse field by field.
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

TEST(CodecContextTest, EveryRequestFieldReachesTheWire) {
  ContextRequest request;
  request.conversation_id = kIdA;
  request.token_budget = 4096;
  request.max_messages = 7;
  request.query_embedding = {0.5f, -1.0f, 2.0f};
  request.query_text = "kyoto spring";
  request.k_chunks = 3;
  request.chunk_filters.document_ids = {kIdB};
  request.chunk_filters.file_types = {"md"};
  request.chunk_filters.created_from = 100;
  request.min_similarity = 0.25f;
  request.message_budget = 300;
  auto d = Verify(EncodeAssembleContext(51, "alice", request));
  ASSERT_NE(d.request, nullptr);
  EXPECT_EQ(d.request->id(), 51u);
  EXPECT_EQ(S(d.request->user_id()), "alice");
  ASSERT_EQ(d.request->body_type(), wire::RequestBody::AssembleContextRequest);
  const auto* in = d.request->body_as_AssembleContextRequest();
  ASSERT_NE(in->conversation_id(), nullptr);
  EXPECT_EQ(UuidFromWire(*in->conversation_id()), kIdA);
  EXPECT_EQ(in->token_budget(), 4096);
  EXPECT_EQ(in->max_messages(), 7);
  EXPECT_EQ(Floats(in->query_embedding()), request.query_embedding);
  EXPECT_EQ(S(in->query_text()), "kyoto spring");
  EXPECT_EQ(in->k_chunks(), 3);
  ASSERT_NE(in->filters(), nullptr);
  ASSERT_EQ(in->filters()->document_ids()->size(), 1u);
  EXPECT_EQ(UuidFromWire(*in->filters()->document_ids()->Get(0)), kIdB);
  EXPECT_EQ(S(in->filters()->file_types()->Get(0)), "md");
  EXPECT_EQ(in->filters()->created_from(), 100);
  ASSERT_TRUE(in->min_similarity().has_value());
  EXPECT_FLOAT_EQ(*in->min_similarity(), 0.25f);
  ASSERT_TRUE(in->message_budget().has_value());
  EXPECT_EQ(*in->message_budget(), 300);
}

TEST(CodecContextTest, DefaultsAndEmptyQueriesStayAbsent) {
  ContextRequest request;
  request.conversation_id = kIdB;
  request.token_budget = 1;
  auto d = Verify(EncodeAssembleContext(52, "bob", request));
  const auto* in = d.request->body_as_AssembleContextRequest();
  EXPECT_EQ(in->max_messages(), kDefaultContextMessages);
  EXPECT_EQ(in->k_chunks(), kDefaultContextChunks);
  EXPECT_EQ(in->query_embedding(), nullptr);  // no vector leg
  EXPECT_EQ(in->query_text(), nullptr);       // no keyword leg
  EXPECT_EQ(in->filters(), nullptr);
  EXPECT_FALSE(in->min_similarity().has_value());
  EXPECT_FALSE(in->message_budget().has_value());

  // Zero and negative values are sent as given: the server validates them.
  request.max_messages = 0;
  request.k_chunks = -1;
  request.token_budget = 0;
  auto z = Verify(EncodeAssembleContext(53, "bob", request));
  const auto* zin = z.request->body_as_AssembleContextRequest();
  EXPECT_EQ(zin->max_messages(), 0);
  EXPECT_EQ(zin->k_chunks(), -1);
  EXPECT_EQ(zin->token_budget(), 0);
}

TEST(CodecContextTest, TheEmbeddingViewReplacesTheRequestsOwnVector) {
  ContextRequest request;
  request.conversation_id = kIdA;
  request.token_budget = 10;
  request.query_embedding = {9, 9};
  const std::vector<float> view = {1, 2, 3, 4};
  auto d = Verify(EncodeAssembleContext(54, "u", request, {view}));
  EXPECT_EQ(Floats(d.request->body_as_AssembleContextRequest()->query_embedding()), view);
}

// A ContextReply as mnemod builds it (server/wire_out.cc BuildContextReply).
std::string BuildReply(uint8_t retrieval) {
  fb::FlatBufferBuilder fbb;
  const wire::Id conversation_id = UuidToWire(kIdA);
  const auto conversation = wire::CreateConversation(
      fbb, &conversation_id, fbb.CreateString("alice"), fbb.CreateString("Trip"), 0,
      fbb.CreateString("m"), fbb.CreateString("Be brief."), fbb.CreateString("{}"), false,
      fb::nullopt, 1, 2, 2, 30);
  std::vector<fb::Offset<wire::ContextMessage>> messages;
  for (int i = 0; i < 2; ++i) {
    const wire::Id id = UuidToWire(i == 0 ? kIdA : kIdB);
    const auto message = wire::CreateMessage(
        fbb, &id, &conversation_id, i == 0 ? wire::Role::user : wire::Role::assistant,
        fbb.CreateString(i == 0 ? "hello" : "hi there"), 0, 0, 0, 0,
        i == 0 ? fb::Optional<int64_t>(11) : fb::nullopt, fbb.CreateString("{}"), 100 + i);
    messages.push_back(wire::CreateContextMessage(
        fbb, message, i == 0 ? 11 : 3,
        i == 0 ? wire::TokenSource::measured : wire::TokenSource::estimated));
  }
  const auto message_vector = fbb.CreateVector(messages);
  const wire::Id chunk_id = UuidToWire(kIdB);
  const wire::Id document_id = UuidToWire(kIdA);
  const auto hit =
      wire::CreateSearchHit(fbb, &chunk_id, &document_id, 4, fbb.CreateString("Kyoto in spring"),
                            fbb.CreateString("notes.md"), 0.75f, 55);
  const auto ranked = wire::CreateRankedHit(fbb, hit, 0.0328, 1.5, 0.75f, 1, 2);
  std::vector<fb::Offset<wire::ContextChunk>> chunks = {wire::CreateContextChunk(fbb, ranked, 4)};
  const auto chunk_vector = fbb.CreateVector(chunks);
  const auto budget = wire::CreateContextBudget(fbb, 100, 3, 14, 4, 79, 5, 1);
  const auto body =
      wire::CreateContextReply(fbb, conversation, message_vector, chunk_vector,
                               static_cast<wire::ContextRetrieval>(retrieval), budget);
  fbb.Finish(wire::CreateResponse(fbb, 7, 0, wire::ResponseBody::ContextReply, body.Union()),
             wire::RequestIdentifier());
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
}

const wire::Response& VerifiedResponse(const std::string& payload) {
  std::string why;
  const wire::Response* response = protocol::VerifyResponse(payload, &why);
  EXPECT_NE(response, nullptr) << why;
  return *response;
}

TEST(CodecContextTest, ReplyDecodesFieldByField) {
  const std::string payload = BuildReply(3);
  const Result<ContextResponse> decoded = DecodeContext(VerifiedResponse(payload));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  const ContextResponse& out = decoded.value();
  EXPECT_EQ(out.conversation.id, kIdA);
  EXPECT_EQ(out.conversation.system_prompt, "Be brief.");
  EXPECT_EQ(out.conversation.total_tokens, 30);
  ASSERT_EQ(out.messages.size(), 2u);
  EXPECT_EQ(out.messages[0].message.content, "hello");  // order kept: chronological
  EXPECT_EQ(out.messages[0].message.tokens_used, 11);
  EXPECT_EQ(out.messages[0].tokens, 11);
  EXPECT_EQ(out.messages[0].token_source, TokenSource::kMeasured);
  EXPECT_EQ(out.messages[1].message.role, Role::kAssistant);
  EXPECT_FALSE(out.messages[1].message.tokens_used.has_value());
  EXPECT_EQ(out.messages[1].tokens, 3);
  EXPECT_EQ(out.messages[1].token_source, TokenSource::kEstimated);
  ASSERT_EQ(out.chunks.size(), 1u);
  const ContextChunk& chunk = out.chunks[0];
  EXPECT_EQ(chunk.tokens, 4);
  EXPECT_EQ(chunk.hit.hit.chunk_id, kIdB);
  EXPECT_EQ(chunk.hit.hit.chunk_text, "Kyoto in spring");
  EXPECT_EQ(chunk.hit.hit.filename, "notes.md");
  EXPECT_DOUBLE_EQ(chunk.hit.score, 0.0328);
  EXPECT_EQ(chunk.hit.bm25, 1.5);
  EXPECT_EQ(chunk.hit.similarity, 0.75f);
  EXPECT_EQ(chunk.hit.text_rank, 1);
  EXPECT_EQ(chunk.hit.vector_rank, 2);
  EXPECT_EQ(out.retrieval, ContextRetrieval::kHybrid);
  EXPECT_EQ(out.budget.budget, 100);
  EXPECT_EQ(out.budget.system_prompt_tokens, 3);
  EXPECT_EQ(out.budget.message_tokens, 14);
  EXPECT_EQ(out.budget.chunk_tokens, 4);
  EXPECT_EQ(out.budget.remaining, 79);
  EXPECT_EQ(out.budget.messages_left_out, 5);
  EXPECT_EQ(out.budget.chunks_left_out, 1);
}

TEST(CodecContextTest, EveryRetrievalValueDecodesToTheSameNumber) {
  for (uint8_t value = 0; value <= 3; ++value) {
    const std::string payload = BuildReply(value);
    const Result<ContextResponse> decoded = DecodeContext(VerifiedResponse(payload));
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(static_cast<uint8_t>(decoded.value().retrieval), value);
  }
}

TEST(CodecContextTest, ErrorsAndOtherBodiesAreErrors) {
  fb::FlatBufferBuilder fbb;
  const auto error = wire::CreateError(fbb, wire::StatusCode::VALIDATION_ERROR,
                                       fbb.CreateString("token_budget: too small"),
                                       fbb.CreateString("token_budget"));
  fbb.Finish(wire::CreateResponse(fbb, 7, error), wire::RequestIdentifier());
  const std::string failed(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
  const Result<ContextResponse> refused = DecodeContext(VerifiedResponse(failed));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Code::kValidationError);
  EXPECT_EQ(refused.error().field, "token_budget");

  fb::FlatBufferBuilder other;
  other.Finish(
      wire::CreateResponse(other, 7, 0, wire::ResponseBody::Done, wire::CreateDone(other).Union()),
      wire::RequestIdentifier());
  const std::string done(reinterpret_cast<const char*>(other.GetBufferPointer()), other.GetSize());
  const Result<ContextResponse> wrong = DecodeContext(VerifiedResponse(done));
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, Code::kInternalError);
}

}  // namespace
}  // namespace mnemo::client::internal
