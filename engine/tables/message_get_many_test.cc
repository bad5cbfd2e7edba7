// MessageStore::GetMany answers, for each id, what Get answers: the message, or nothing for a
// missing one, another user's, or one of a soft-deleted conversation.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "storage/lock_table.h"
#include "tables/conversation_store.h"
#include "tables/message_store.h"
#include "testing/temp_dir.h"

namespace mnemo::tables {
namespace {

class GetManyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::DbOptions options;
    options.path = dir_.Sub("data");
    options.sync_writes = false;
    db_ = std::move(storage::Db::Open(options)).value();
    conversations_ = std::make_unique<ConversationStore>(*db_);
    messages_ = std::make_unique<MessageStore>(*db_, *conversations_);
  }

  template <typename Fn>
  auto Write(const std::string& user, Fn&& fn) {
    auto guard = locks_.LockUser(user);
    storage::WriteTxn txn(*db_);
    auto result = fn(txn);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_TRUE(txn.Commit().ok());
    return std::move(result).value();
  }

  Uuid Conversation(const std::string& user) {
    NewConversation input;
    input.title = "t";
    return Write(user,
                 [&](storage::WriteTxn& txn) { return conversations_->Create(txn, user, input); })
        .id;
  }

  Uuid Append(const std::string& user, const Uuid& conversation, const std::string& content) {
    NewMessage input;
    input.conversation_id = conversation;
    input.role = "user";
    input.content = content;
    return Write(user, [&](storage::WriteTxn& txn) { return messages_->Append(txn, user, input); })
        .id;
  }

  mnemo::testing::TempDir dir_;
  storage::LockTable locks_;
  std::unique_ptr<storage::Db> db_;
  std::unique_ptr<ConversationStore> conversations_;
  std::unique_ptr<MessageStore> messages_;
};

TEST_F(GetManyTest, AnswersWhatGetAnswersForEachId) {
  const Uuid a = Conversation("alice");
  const Uuid hidden = Conversation("alice");
  const Uuid theirs = Conversation("bob");
  const Uuid a1 = Append("alice", a, "a1");
  const Uuid a2 = Append("alice", a, "a2");
  const Uuid h1 = Append("alice", hidden, "h1");
  const Uuid b1 = Append("bob", theirs, "b1");
  Write("alice",
        [&](storage::WriteTxn& txn) { return conversations_->SoftDelete(txn, "alice", hidden); });

  const std::vector<Uuid> ids{a2, Uuid::Generate(), h1, b1, a1, a2};
  std::vector<std::optional<Message>> got;
  ASSERT_TRUE(messages_->GetMany("alice", ids, &got).ok());
  ASSERT_EQ(got.size(), ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    auto one = messages_->Get("alice", ids[i]);
    ASSERT_EQ(got[i].has_value(), one.ok()) << "id " << i;
    if (one.ok()) {
      EXPECT_EQ(got[i]->id, one->id);
      EXPECT_EQ(got[i]->content, one->content);
      EXPECT_EQ(got[i]->conversation_id, one->conversation_id);
      EXPECT_EQ(got[i]->created_at, one->created_at);
    }
  }
  EXPECT_EQ(got[0]->content, "a2");
  EXPECT_FALSE(got[1].has_value());  // missing
  EXPECT_FALSE(got[2].has_value());  // its conversation is soft-deleted
  EXPECT_FALSE(got[3].has_value());  // bob's
  EXPECT_EQ(got[4]->content, "a1");

  EXPECT_TRUE(messages_->GetMany("alice", {}, &got).ok());
  EXPECT_TRUE(got.empty());
  EXPECT_TRUE(messages_->GetMany("", ids, &got).IsValidationError());
}

}  // namespace
}  // namespace mnemo::tables
