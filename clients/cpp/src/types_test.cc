#include "mnemo/client/types.h"

#include <gtest/gtest.h>

#include <set>

#include "mnemo/client/batch.h"
#include "mnemo/client/error.h"

namespace mnemo::client {
namespace {

TEST(UuidTest, ParseAndFormatRoundTrip) {
  const auto id = Uuid::Parse("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b");
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(id->hi(), 0x0190a1b2c3d47e5fULL);
  EXPECT_EQ(id->lo(), 0x8a9b0c1d2e3f4a5bULL);
  EXPECT_EQ(id->ToString(), "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b");
}

TEST(UuidTest, ParseIsCaseInsensitiveAndFormatsLowerCase) {
  const auto id = Uuid::Parse("ABCDEF01-2345-6789-ABCD-EF0123456789");
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(id->ToString(), "abcdef01-2345-6789-abcd-ef0123456789");
}

TEST(UuidTest, NilAndMax) {
  EXPECT_TRUE(Uuid().IsNil());
  EXPECT_EQ(Uuid().ToString(), "00000000-0000-0000-0000-000000000000");
  const auto max = Uuid::Parse("ffffffff-ffff-ffff-ffff-ffffffffffff");
  ASSERT_TRUE(max.has_value());
  EXPECT_EQ(max->hi(), ~0ULL);
  EXPECT_EQ(max->lo(), ~0ULL);
  EXPECT_FALSE(max->IsNil());
}

TEST(UuidTest, RejectsMalformedText) {
  for (const char* bad : {
           "",
           "0190a1b2c3d47e5f8a9b0c1d2e3f4a5b",        // no dashes
           "{0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b}",  // braces
           "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5",     // short
           "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b0",   // long
           "0190a1b2-c3d4-7e5f-8a9b_0c1d2e3f4a5b",    // wrong separator
           "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5g",    // non-hex
           "0190a1b-2c3d4-7e5f-8a9b-0c1d2e3f4a5b",    // dash misplaced
           " 190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
       }) {
    EXPECT_FALSE(Uuid::Parse(bad).has_value()) << bad;
  }
}

TEST(UuidTest, GenerateIsVersion7UniqueAndTimeOrdered) {
  std::set<Uuid> seen;
  Uuid previous = Uuid::Generate();
  for (int i = 0; i < 1000; ++i) {
    const Uuid id = Uuid::Generate();
    EXPECT_EQ((id.hi() >> 12) & 0xf, 7u);           // version
    EXPECT_EQ(id.lo() >> 62, 0x2u);                 // RFC 4122 variant
    EXPECT_GE(id.hi() >> 16, previous.hi() >> 16);  // millisecond timestamps never go back
    EXPECT_TRUE(seen.insert(id).second);
    const auto parsed = Uuid::Parse(id.ToString());
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(*parsed, id);
    previous = id;
  }
}

TEST(UuidTest, OrderingFollowsTheCanonicalBytes) {
  const Uuid a = *Uuid::Parse("00000000-0000-0001-ffff-ffffffffffff");
  const Uuid b = *Uuid::Parse("00000000-0000-0002-0000-000000000000");
  EXPECT_LT(a, b);
  EXPECT_NE(UuidHash()(a), UuidHash()(b));
}

TEST(RoleTest, NamesRoundTrip) {
  for (Role role : {Role::kUser, Role::kAssistant, Role::kSystem, Role::kTool}) {
    EXPECT_EQ(ParseRole(RoleName(role)), role);
  }
  EXPECT_EQ(RoleName(Role::kAssistant), "assistant");
  EXPECT_FALSE(ParseRole("User").has_value());
  EXPECT_FALSE(ParseRole("").has_value());
}

TEST(ErrorTest, CodeNamesFollowTheSpec) {
  EXPECT_EQ(CodeName(Code::kOk), "OK");
  EXPECT_EQ(CodeName(Code::kValidationError), "VALIDATION_ERROR");
  EXPECT_EQ(CodeName(Code::kNotFound), "NOT_FOUND");
  EXPECT_EQ(CodeName(Code::kDuplicateRecord), "DUPLICATE_RECORD");
  EXPECT_EQ(CodeName(Code::kConflict), "CONFLICT");
  EXPECT_EQ(CodeName(Code::kTransactionError), "TRANSACTION_ERROR");
  EXPECT_EQ(CodeName(Code::kAuthenticationError), "AUTHENTICATION_ERROR");
  EXPECT_EQ(CodeName(Code::kAuthorizationError), "AUTHORIZATION_ERROR");
  EXPECT_EQ(CodeName(Code::kRateLimited), "RATE_LIMITED");
  EXPECT_EQ(CodeName(Code::kPayloadTooLarge), "PAYLOAD_TOO_LARGE");
  EXPECT_EQ(CodeName(Code::kUnavailable), "UNAVAILABLE");
  EXPECT_EQ(CodeName(Code::kInternalError), "INTERNAL_ERROR");
  EXPECT_EQ(CodeName(static_cast<Code>(200)), "UNKNOWN");
}

TEST(ErrorTest, ToStringNamesCodeMessageAndField) {
  EXPECT_EQ((Error{Code::kValidationError, "title is blank", "title"}).ToString(),
            "VALIDATION_ERROR: title is blank [title]");
  EXPECT_EQ((Error{Code::kNotFound, "", ""}).ToString(), "NOT_FOUND");
}

TEST(ResultTest, HoldsValueOrError) {
  Result<int> ok = 5;
  EXPECT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 5);
  EXPECT_EQ(ok.code(), Code::kOk);

  Result<int> failed = Error{Code::kNotFound, "gone", ""};
  EXPECT_FALSE(failed.ok());
  EXPECT_FALSE(static_cast<bool>(failed));
  EXPECT_EQ(failed.code(), Code::kNotFound);
  EXPECT_EQ(failed.error().message, "gone");

  Result<std::string> moved = std::string("abc");
  const std::string taken = std::move(moved).value();
  EXPECT_EQ(taken, "abc");

  Result<void> done;
  EXPECT_TRUE(done.ok());
  Result<void> not_done = Error{Code::kUnavailable, "down", ""};
  EXPECT_EQ(not_done.code(), Code::kUnavailable);
}

TEST(BatchTest, KeepsOpsInOrder) {
  Batch batch;
  NewConversation conversation;
  conversation.id = Uuid::Generate();
  conversation.title = "t";
  NewMessage message;
  message.conversation_id = *conversation.id;
  message.content = "hi";
  NewDocument document;
  document.filename = "a.md";
  document.file_type = "md";
  NewChunk chunk;
  chunk.chunk_text = "x";
  chunk.embedding = {1, 0};
  batch.CreateConversation(conversation)
      .AppendMessage(message)
      .CreateDocument(document)
      .AddChunk(chunk);
  ASSERT_EQ(batch.size(), 4u);
  EXPECT_TRUE(std::holds_alternative<Batch::CreateConversationOp>(batch.ops()[0]));
  EXPECT_TRUE(std::holds_alternative<Batch::AppendMessageOp>(batch.ops()[1]));
  EXPECT_TRUE(std::holds_alternative<Batch::CreateDocumentOp>(batch.ops()[2]));
  EXPECT_TRUE(std::holds_alternative<Batch::AddChunkOp>(batch.ops()[3]));
  batch.Clear();
  EXPECT_TRUE(batch.empty());
}

}  // namespace
}  // namespace mnemo::client
