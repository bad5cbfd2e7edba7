#include "protocol/verify.h"

#include <gtest/gtest.h>

#include <random>

namespace mnemo::protocol {
namespace {

std::string BuildRequest(uint64_t id) {
  flatbuffers::FlatBufferBuilder builder;
  auto title = builder.CreateString("hello");
  wire::NewConversationBuilder conversation(builder);
  conversation.add_title(title);
  auto conversation_offset = conversation.Finish();
  auto body = wire::CreateCreateConversationRequest(builder, conversation_offset);
  auto user = builder.CreateString("alice");
  auto request = wire::CreateRequest(builder, id, user,
                                     wire::RequestBody::CreateConversationRequest, body.Union());
  builder.Finish(request, wire::RequestIdentifier());
  return std::string(reinterpret_cast<const char*>(builder.GetBufferPointer()), builder.GetSize());
}

TEST(VerifyTest, AcceptsAWellFormedRequest) {
  const std::string payload = BuildRequest(42);
  std::string error;
  const wire::Request* request = VerifyRequest(payload, &error);
  ASSERT_NE(request, nullptr) << error;
  EXPECT_EQ(request->id(), 42u);
  EXPECT_EQ(request->user_id()->str(), "alice");
  ASSERT_EQ(request->body_type(), wire::RequestBody::CreateConversationRequest);
  EXPECT_EQ(request->body_as_CreateConversationRequest()->conversation()->title()->str(), "hello");
}

TEST(VerifyTest, RejectsGarbageTruncationAndBitFlips) {
  std::string error;
  EXPECT_EQ(VerifyRequest(std::string(), &error), nullptr);
  EXPECT_EQ(VerifyRequest(std::string("garbage!garbage!"), &error), nullptr);
  const std::string payload = BuildRequest(7);
  // Cutting into the referenced data fails; the last bytes may be alignment padding, whose loss
  // is harmless, so only cuts before the final 8 bytes must fail.
  for (size_t cut = 0; cut + 8 < payload.size(); ++cut) {
    const std::string truncated = payload.substr(0, cut);
    EXPECT_EQ(VerifyRequest(truncated, &error), nullptr) << cut;
  }
  // Bit flips either fail verification or yield a buffer that is safe to read.
  std::mt19937 rng(11);
  for (int round = 0; round < 5000; ++round) {
    std::string mutated = payload;
    mutated[rng() % mutated.size()] ^= static_cast<char>(1u << (rng() % 8));
    const wire::Request* request = VerifyRequest(mutated, &error);
    if (request != nullptr && request->user_id() != nullptr) {
      EXPECT_LE(request->user_id()->size(), mutated.size());
    }
  }
}

TEST(VerifyTest, RejectsMisalignedPayloads) {
  const std::string payload = BuildRequest(1);
  std::string shifted = " " + payload;
  std::string error;
  EXPECT_EQ(VerifyRequest(std::string_view(shifted).substr(1), &error), nullptr);
  EXPECT_NE(error.find("aligned"), std::string::npos);
}

TEST(VerifyTest, ResponsesVerifyToo) {
  flatbuffers::FlatBufferBuilder builder;
  auto message = builder.CreateString("no such conversation");
  auto error_offset = wire::CreateError(builder, wire::StatusCode::NOT_FOUND, message);
  auto response = wire::CreateResponse(builder, 9, error_offset);
  builder.Finish(response, wire::RequestIdentifier());
  const std::string payload(reinterpret_cast<const char*>(builder.GetBufferPointer()),
                            builder.GetSize());
  std::string error;
  const wire::Response* verified = VerifyResponse(payload, &error);
  ASSERT_NE(verified, nullptr) << error;
  EXPECT_EQ(verified->error()->code(), wire::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace mnemo::protocol
