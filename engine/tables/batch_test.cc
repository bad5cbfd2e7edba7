#include <gtest/gtest.h>

#include "testing/engine_fixture.h"

namespace mnemo {
namespace {

using testing::EngineTest;
using testing::Unwrap;

class BatchTest : public EngineTest {
 protected:
  static AppendMessageOp MessageOp(const Uuid& conversation, const std::string& role,
                                   const std::string& content, int64_t tokens) {
    AppendMessageOp op;
    op.message.conversation_id = conversation;
    op.message.role = role;
    op.message.content = content;
    op.message.tokens_used = tokens;
    return op;
  }
};

TEST_F(BatchTest, ConversationWithFirstMessagesCommitsTogether) {
  const Uuid id = Uuid::Generate();
  CreateConversationOp create;
  create.conversation.id = id;
  create.conversation.title = "batched";
  std::vector<WriteOp> ops = {create, MessageOp(id, "user", "hi", 3),
                              MessageOp(id, "assistant", "hello", 4)};
  const BatchResult result = Unwrap(engine_->ApplyBatch("alice", ops));
  ASSERT_EQ(result.ids.size(), 3u);
  EXPECT_EQ(result.ids[0], id);
  const Conversation c = Unwrap(engine_->GetConversation("alice", id));
  EXPECT_EQ(c.message_count, 2);
  EXPECT_EQ(c.total_tokens, 7);
  EXPECT_EQ(Unwrap(engine_->GetMessage("alice", result.ids[2])).content, "hello");
  EXPECT_EQ(Unwrap(engine_->LastMessages("alice", id, 10)).size(), 2u);
}

TEST_F(BatchTest, OneInvalidOpLeavesTheStoreUnchanged) {
  const Conversation existing = MakeConversation("alice");
  Append("alice", existing.id, "user", "before", 1);
  const Uuid id = Uuid::Generate();
  CreateConversationOp create;
  create.conversation.id = id;
  create.conversation.title = "never";
  NewDocument doc;
  doc.filename = "x.md";
  doc.file_type = "md";
  std::vector<WriteOp> ops = {create, MessageOp(id, "user", "hi", 3),
                              MessageOp(existing.id, "user", "more", 5), CreateDocumentOp{doc},
                              MessageOp(id, "robot", "bad role", 1)};
  auto result = engine_->ApplyBatch("alice", ops);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kValidationError);
  EXPECT_EQ(result.status().field(), "role");
  EXPECT_TRUE(result.status().message().starts_with("op 4: ")) << result.status().ToString();

  EXPECT_STATUS(engine_->GetConversation("alice", id, true), StatusCode::kNotFound, "");
  const Conversation after = Unwrap(engine_->GetConversation("alice", existing.id));
  EXPECT_EQ(after.message_count, 1);
  EXPECT_EQ(after.total_tokens, 1);
  EXPECT_EQ(after.updated_at, Unwrap(engine_->GetConversation("alice", existing.id)).updated_at);
  EXPECT_EQ(Unwrap(engine_->GetUserStats("alice")).total, 1);
  EXPECT_EQ(Unwrap(engine_->CountDocuments("alice")).total, 0);
}

TEST_F(BatchTest, BulkUpsertByIdCreatesAndUpdates) {
  const Uuid a = Uuid::Generate();
  const Uuid b = Uuid::Generate();
  UpsertConversationOp ua, ub;
  ua.conversation.id = a;
  ua.conversation.title = "a1";
  ub.conversation.id = b;
  ub.conversation.title = "b1";
  Unwrap(engine_->ApplyBatch("alice", {ua, ub}));
  ua.conversation.title = "a2";
  UpsertMessageOp m;
  m.message.id = Uuid::Generate();
  m.message.conversation_id = b;
  m.message.role = "user";
  m.message.content = "x";
  m.message.tokens_used = 2;
  Unwrap(engine_->ApplyBatch("alice", {ua, m, m}));  // the repeated upsert is a no-op change
  EXPECT_EQ(Unwrap(engine_->GetConversation("alice", a)).title, "a2");
  const Conversation cb = Unwrap(engine_->GetConversation("alice", b));
  EXPECT_EQ(cb.message_count, 1);
  EXPECT_EQ(cb.total_tokens, 2);
  EXPECT_EQ(Unwrap(engine_->GetUserStats("alice")).total, 2);
}

TEST_F(BatchTest, RejectsEmptyAndOversizedBatches) {
  EXPECT_STATUS(engine_->ApplyBatch("alice", {}), StatusCode::kValidationError, "ops");
  std::vector<WriteOp> many(kMaxBatchOps + 1, CreateConversationOp{});
  EXPECT_STATUS(engine_->ApplyBatch("alice", many), StatusCode::kValidationError, "ops");
  EXPECT_STATUS(engine_->ApplyBatch("", {CreateConversationOp{}}), StatusCode::kValidationError,
                "user_id");
}

TEST_F(BatchTest, CannotWriteIntoAnotherUsersConversation) {
  const Conversation bobs = MakeConversation("bob");
  auto result = engine_->ApplyBatch("alice", {MessageOp(bobs.id, "user", "sneaky", 1)});
  EXPECT_EQ(result.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Unwrap(engine_->GetConversation("bob", bobs.id)).message_count, 0);
}

}  // namespace
}  // namespace mnemo
