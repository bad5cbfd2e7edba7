// Single-row edits: update and delete one message, update one document.
#include <gtest/gtest.h>

#include "testing/engine_fixture.h"

namespace mnemo {
namespace {

using testing::EngineTest;
using testing::Unwrap;

class RowEditTest : public EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    conversation_ = MakeConversation("alice").id;
  }
  Uuid conversation_;
};

TEST_F(RowEditTest, UpdateMessageChangesFieldsAndTokenTotal) {
  const Message first = Append("alice", conversation_, "user", "hi", 10);
  const Message second = Append("alice", conversation_, "assistant", "hello", 5);
  const Conversation before = Unwrap(engine_->GetConversation("alice", conversation_));

  MessageUpdate update;
  update.content = "hello, edited";
  update.tokens_used = 7;
  update.tool_calls = R"([{"id":"c1"}])";
  update.metadata = R"({"edited":true})";
  const Message edited = Unwrap(engine_->UpdateMessage("alice", second.id, update));
  EXPECT_EQ(edited.content, "hello, edited");
  EXPECT_EQ(edited.tokens_used, 7);
  EXPECT_EQ(edited.tool_calls, R"([{"id":"c1"}])");
  EXPECT_EQ(edited.role, Role::kAssistant);         // unchanged
  EXPECT_EQ(edited.created_at, second.created_at);  // unchanged
  EXPECT_EQ(Unwrap(engine_->GetMessage("alice", second.id)).metadata, R"({"edited":true})");

  const Conversation after = Unwrap(engine_->GetConversation("alice", conversation_));
  EXPECT_EQ(after.total_tokens, 17);
  EXPECT_EQ(after.message_count, 2);
  EXPECT_GT(after.updated_at, before.updated_at);

  // "null" clears a JSON field; clear_tokens_used clears the count.
  MessageUpdate clear;
  clear.tool_calls = "null";
  clear.clear_tokens_used = true;
  const Message cleared = Unwrap(engine_->UpdateMessage("alice", second.id, clear));
  EXPECT_FALSE(cleared.tool_calls.has_value());
  EXPECT_FALSE(cleared.tokens_used.has_value());
  EXPECT_EQ(Unwrap(engine_->GetConversation("alice", conversation_)).total_tokens, 10);
  EXPECT_EQ(Unwrap(engine_->GetMessage("alice", first.id)).content, "hi");
}

TEST_F(RowEditTest, UpdateMessageRejectsBadInputAndKeepsTheRow) {
  const Message m = Append("alice", conversation_, "user", "hi", 3);
  MessageUpdate update;
  EXPECT_STATUS(engine_->UpdateMessage("alice", m.id, update), StatusCode::kValidationError,
                "update");
  update.role = "robot";
  EXPECT_STATUS(engine_->UpdateMessage("alice", m.id, update), StatusCode::kValidationError,
                "role");
  update = {};
  update.content = "";  // no parts either: a message needs content
  EXPECT_STATUS(engine_->UpdateMessage("alice", m.id, update), StatusCode::kValidationError,
                "content");
  update = {};
  update.tokens_used = -1;
  EXPECT_STATUS(engine_->UpdateMessage("alice", m.id, update), StatusCode::kValidationError,
                "tokens_used");
  update.tokens_used = 5;
  update.clear_tokens_used = true;
  EXPECT_STATUS(engine_->UpdateMessage("alice", m.id, update), StatusCode::kValidationError,
                "tokens_used");
  update = {};
  update.tool_results = "{nope";
  EXPECT_STATUS(engine_->UpdateMessage("alice", m.id, update), StatusCode::kValidationError,
                "tool_results");
  update = {};
  update.metadata = "[]";
  EXPECT_STATUS(engine_->UpdateMessage("alice", m.id, update), StatusCode::kValidationError,
                "metadata");
  update = {};
  update.parts = "{}";
  EXPECT_STATUS(engine_->UpdateMessage("alice", m.id, update), StatusCode::kValidationError,
                "parts");
  update = {};
  update.content = "x";
  EXPECT_STATUS(engine_->UpdateMessage("bob", m.id, update), StatusCode::kNotFound, "");
  EXPECT_STATUS(engine_->UpdateMessage("alice", Uuid::Generate(), update), StatusCode::kNotFound,
                "");
  // Nothing stored changed.
  const Message stored = Unwrap(engine_->GetMessage("alice", m.id));
  EXPECT_EQ(stored.content, "hi");
  EXPECT_EQ(stored.tokens_used, 3);
  EXPECT_EQ(Unwrap(engine_->GetConversation("alice", conversation_)).total_tokens, 3);
  // Content may go empty when parts carry the message.
  update = {};
  update.content = "";
  update.parts = R"([{"type":"text","text":"hi"}])";
  EXPECT_EQ(Unwrap(engine_->UpdateMessage("alice", m.id, update)).content, "");
}

TEST_F(RowEditTest, DeleteMessageMovesTheConversationCounters) {
  const Message a = Append("alice", conversation_, "user", "a", 4);
  const Message b = Append("alice", conversation_, "assistant", "b", 6);
  const Message c = Append("alice", conversation_, "user", "c");
  // Deleting the newest message: last_message_at falls back to the one before.
  const Message deleted = Unwrap(engine_->DeleteMessage("alice", c.id));
  EXPECT_EQ(deleted.content, "c");
  Conversation conversation = Unwrap(engine_->GetConversation("alice", conversation_));
  EXPECT_EQ(conversation.message_count, 2);
  EXPECT_EQ(conversation.total_tokens, 10);
  EXPECT_EQ(conversation.last_message_at, b.created_at);
  EXPECT_STATUS(engine_->GetMessage("alice", c.id), StatusCode::kNotFound, "");
  EXPECT_STATUS(engine_->DeleteMessage("alice", c.id), StatusCode::kNotFound, "");

  // Deleting from the middle keeps last_message_at.
  Unwrap(engine_->DeleteMessage("alice", a.id));
  conversation = Unwrap(engine_->GetConversation("alice", conversation_));
  EXPECT_EQ(conversation.message_count, 1);
  EXPECT_EQ(conversation.total_tokens, 6);
  EXPECT_EQ(conversation.last_message_at, b.created_at);
  const MessagePage page = Unwrap(engine_->ListMessages("alice", conversation_, {}));
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0].id, b.id);
  EXPECT_EQ(page.total, 1);

  // Another user cannot delete it; the last one leaves no last_message_at.
  EXPECT_STATUS(engine_->DeleteMessage("bob", b.id), StatusCode::kNotFound, "");
  Unwrap(engine_->DeleteMessage("alice", b.id));
  conversation = Unwrap(engine_->GetConversation("alice", conversation_));
  EXPECT_EQ(conversation.message_count, 0);
  EXPECT_EQ(conversation.total_tokens, 0);
  EXPECT_FALSE(conversation.last_message_at.has_value());
  // The id is free again for an idempotent append.
  NewMessage again;
  again.id = b.id;
  again.conversation_id = conversation_;
  again.role = "user";
  again.content = "back";
  EXPECT_EQ(Unwrap(engine_->AppendMessage("alice", again)).content, "back");
}

TEST_F(RowEditTest, UpdateDocumentRenamesAndValidates) {
  const Document d = MakeDocument("alice", "draft.md");
  DocumentUpdate update;
  update.filename = "Final Report.pdf";
  update.file_type = "pdf";
  update.content = "new body";
  update.metadata = R"({"v":2})";
  const Document updated = Unwrap(engine_->UpdateDocument("alice", d.id, update));
  EXPECT_EQ(updated.filename, "Final Report.pdf");
  EXPECT_EQ(updated.file_type, "pdf");
  EXPECT_GT(updated.updated_at, d.updated_at);
  EXPECT_EQ(updated.created_at, d.created_at);
  // The filename index follows the rename.
  EXPECT_EQ(Unwrap(engine_->SearchDocumentsByFilename("alice", "report", {})).total, 1);
  EXPECT_EQ(Unwrap(engine_->SearchDocumentsByFilename("alice", "draft", {})).total, 0);
  EXPECT_EQ(Unwrap(engine_->ListDocuments("alice", {})).total, 1);

  DocumentUpdate bad;
  EXPECT_STATUS(engine_->UpdateDocument("alice", d.id, bad), StatusCode::kValidationError,
                "update");
  bad.file_type = "exe";
  EXPECT_STATUS(engine_->UpdateDocument("alice", d.id, bad), StatusCode::kValidationError,
                "file_type");
  bad = {};
  bad.filename = "  ";
  EXPECT_STATUS(engine_->UpdateDocument("alice", d.id, bad), StatusCode::kValidationError,
                "filename");
  bad = {};
  bad.metadata = "1";
  EXPECT_STATUS(engine_->UpdateDocument("alice", d.id, bad), StatusCode::kValidationError,
                "metadata");
  update = {};
  update.content = "x";
  EXPECT_STATUS(engine_->UpdateDocument("bob", d.id, update), StatusCode::kNotFound, "");
  Unwrap(engine_->SoftDeleteDocument("alice", d.id));
  EXPECT_STATUS(engine_->UpdateDocument("alice", d.id, update), StatusCode::kNotFound, "");
  const Document stored = Unwrap(engine_->GetDocument("alice", d.id, true));
  EXPECT_EQ(stored.content, "new body");
  EXPECT_EQ(stored.metadata, R"({"v":2})");
}

}  // namespace
}  // namespace mnemo
