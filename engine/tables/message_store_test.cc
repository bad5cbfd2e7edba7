#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <set>
#include <thread>

#include "testing/engine_fixture.h"

namespace mnemo {
namespace {

using testing::EngineTest;
using testing::Unwrap;

class MessageTest : public EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    conversation_ = MakeConversation("alice").id;
  }
  NewMessage Input(const std::string& role, const std::string& content) const {
    NewMessage input;
    input.conversation_id = conversation_;
    input.role = role;
    input.content = content;
    return input;
  }
  Uuid conversation_;
};

TEST_F(MessageTest, AppendUpdatesConversationCounters) {
  const Conversation before = Unwrap(engine_->GetConversation("alice", conversation_));
  const Message m1 = Append("alice", conversation_, "user", "hi", 10);
  const Message m2 = Append("alice", conversation_, "assistant", "hello", std::nullopt);
  const Message m3 = Append("alice", conversation_, "assistant", "more", 7);
  const Conversation after = Unwrap(engine_->GetConversation("alice", conversation_));
  EXPECT_EQ(after.message_count, 3);
  EXPECT_EQ(after.total_tokens, 17);
  EXPECT_EQ(after.last_message_at, m3.created_at);
  EXPECT_GT(after.updated_at, before.updated_at);
  EXPECT_GE(after.updated_at, m3.created_at);
  EXPECT_LE(m1.created_at, m2.created_at);
  EXPECT_EQ(m1.metadata, "{}");
  EXPECT_EQ(Unwrap(engine_->GetMessage("alice", m2.id)).content, "hello");
}

TEST_F(MessageTest, LargestTokenCountsSumExactly) {
  Append("alice", conversation_, "user", "a", 2147483647);
  Append("alice", conversation_, "assistant", "b", 2147483647);
  EXPECT_EQ(Unwrap(engine_->GetConversation("alice", conversation_)).total_tokens, 4294967294);
}

TEST_F(MessageTest, FieldRules) {
  NewMessage input = Input("robot", "x");
  EXPECT_STATUS(engine_->AppendMessage("alice", input), StatusCode::kValidationError, "role");
  input = Input("User", "x");
  EXPECT_STATUS(engine_->AppendMessage("alice", input), StatusCode::kValidationError, "role");
  input = Input("user", "");
  EXPECT_STATUS(engine_->AppendMessage("alice", input), StatusCode::kValidationError, "content");
  input.parts = R"([{"type":"text","text":"from parts"}])";
  EXPECT_TRUE(engine_->AppendMessage("alice", input).ok());  // parts make content optional
  input.parts = R"({"type":"text"})";
  EXPECT_STATUS(engine_->AppendMessage("alice", input), StatusCode::kValidationError, "parts");
  input = Input("user", "x");
  input.tokens_used = -1;
  EXPECT_STATUS(engine_->AppendMessage("alice", input), StatusCode::kValidationError,
                "tokens_used");
  input.tokens_used = 0;
  EXPECT_TRUE(engine_->AppendMessage("alice", input).ok());
  // Found by the dispatch fuzzer: an unbounded count overflowed the conversation's total.
  input.tokens_used = std::numeric_limits<int64_t>::max();
  EXPECT_STATUS(engine_->AppendMessage("alice", input), StatusCode::kValidationError,
                "tokens_used");
  input.tokens_used = 2147483648;
  EXPECT_STATUS(engine_->AppendMessage("alice", input), StatusCode::kValidationError,
                "tokens_used");
  input = Input("assistant", "x");
  input.tool_calls = "[{";
  EXPECT_STATUS(engine_->AppendMessage("alice", input), StatusCode::kValidationError, "tool_calls");
  input.tool_calls.reset();
  input.tool_results = "nope";
  EXPECT_STATUS(engine_->AppendMessage("alice", input), StatusCode::kValidationError,
                "tool_results");
  input.tool_results.reset();
  input.attachments = "{";
  EXPECT_STATUS(engine_->AppendMessage("alice", input), StatusCode::kValidationError,
                "attachments");
  input.attachments.reset();
  input.metadata = "[]";
  EXPECT_STATUS(engine_->AppendMessage("alice", input), StatusCode::kValidationError, "metadata");
  input.metadata.reset();
  input.content = "\xC3\x28";
  EXPECT_STATUS(engine_->AppendMessage("alice", input), StatusCode::kValidationError, "content");
  // Nothing invalid was counted.
  EXPECT_EQ(Unwrap(engine_->GetConversation("alice", conversation_)).message_count, 2);
}

TEST_F(MessageTest, ConversationMustExistBelongToUserAndBeActive) {
  NewMessage input = Input("user", "x");
  input.conversation_id = Uuid::Generate();
  EXPECT_STATUS(engine_->AppendMessage("alice", input), StatusCode::kNotFound, "");
  input.conversation_id = conversation_;
  EXPECT_STATUS(engine_->AppendMessage("bob", input), StatusCode::kNotFound, "");
  const Message m = Append("alice", conversation_, "user", "mine");
  EXPECT_STATUS(engine_->GetMessage("bob", m.id), StatusCode::kNotFound, "");
  EXPECT_STATUS(engine_->ListMessages("bob", conversation_, {}), StatusCode::kNotFound, "");
  EXPECT_STATUS(engine_->SetToolResults("bob", m.id, "{}"), StatusCode::kNotFound, "");
  EXPECT_STATUS(engine_->GetTokenStats("bob", conversation_), StatusCode::kNotFound, "");
  EXPECT_STATUS(engine_->DeleteAllMessages("bob", conversation_), StatusCode::kNotFound, "");
  EXPECT_EQ(Unwrap(engine_->GetConversation("alice", conversation_)).message_count, 1);
}

TEST_F(MessageTest, PagingBothDirectionsWithSkipLimitAndCursor) {
  std::vector<Uuid> ids;
  for (int i = 0; i < 30; ++i)
    ids.push_back(
        Append("alice", conversation_, i % 2 ? "assistant" : "user", "m" + std::to_string(i)).id);
  MessageQuery query;
  query.limit = 10;
  MessagePage page = Unwrap(engine_->ListMessages("alice", conversation_, query));
  EXPECT_EQ(page.total, 30);
  ASSERT_EQ(page.items.size(), 10u);
  EXPECT_EQ(page.items[0].id, ids[0]);
  EXPECT_EQ(page.items[9].id, ids[9]);

  query.order = SortOrder::kDescending;
  query.skip = 5;
  page = Unwrap(engine_->ListMessages("alice", conversation_, query));
  ASSERT_EQ(page.items.size(), 10u);
  EXPECT_EQ(page.items[0].id, ids[24]);

  for (SortOrder order : {SortOrder::kAscending, SortOrder::kDescending}) {
    MessageQuery walk;
    walk.order = order;
    walk.limit = 7;
    std::vector<Uuid> seen;
    for (int pages = 0; pages < 10; ++pages) {
      page = Unwrap(engine_->ListMessages("alice", conversation_, walk));
      for (const auto& m : page.items) seen.push_back(m.id);
      if (page.next_cursor.empty()) break;
      walk.cursor = page.next_cursor;
    }
    std::vector<Uuid> expected = ids;
    if (order == SortOrder::kDescending) std::reverse(expected.begin(), expected.end());
    EXPECT_EQ(seen, expected);
  }
  query = {};
  query.limit = 201;
  EXPECT_STATUS(engine_->ListMessages("alice", conversation_, query), StatusCode::kValidationError,
                "limit");
  query.limit = 200;
  EXPECT_EQ(Unwrap(engine_->ListMessages("alice", conversation_, query)).items.size(), 30u);
  query.cursor = "not-hex";
  EXPECT_STATUS(engine_->ListMessages("alice", conversation_, query), StatusCode::kValidationError,
                "cursor");
}

TEST_F(MessageTest, DeepSkipIsAnsweredNotRefused) {
  for (int i = 0; i < 300; ++i) Append("alice", conversation_, "user", "m");
  MessageQuery query;
  query.skip = 10000;
  MessagePage page = Unwrap(engine_->ListMessages("alice", conversation_, query));
  EXPECT_TRUE(page.items.empty());
  EXPECT_EQ(page.total, 300);
}

TEST_F(MessageTest, RoleAndToolCallFilters) {
  Append("alice", conversation_, "user", "q1");
  NewMessage call = Input("assistant", "calling");
  call.tool_calls = R"([{"id":"c1","name":"search"}])";
  const Message with_call = Unwrap(engine_->AppendMessage("alice", call));
  NewMessage empty_calls = Input("assistant", "no calls");
  empty_calls.tool_calls = "[]";
  const Message without = Unwrap(engine_->AppendMessage("alice", empty_calls));
  // Stored as given (an empty array comes back as one), but it is not a tool call.
  EXPECT_EQ(without.tool_calls, "[]");
  EXPECT_EQ(Unwrap(engine_->GetMessage("alice", without.id)).tool_calls, "[]");
  NewMessage null_calls = Input("assistant", "null calls");
  null_calls.tool_calls = " null ";
  EXPECT_FALSE(Unwrap(engine_->AppendMessage("alice", null_calls)).tool_calls.has_value());
  Append("alice", conversation_, "tool", "result");
  Append("alice", conversation_, "user", "q2");

  MessageQuery query;
  query.role = Role::kUser;
  MessagePage page = Unwrap(engine_->ListMessages("alice", conversation_, query));
  EXPECT_EQ(page.total, 2);
  ASSERT_EQ(page.items.size(), 2u);
  EXPECT_EQ(page.items[1].content, "q2");

  query = {};
  query.only_with_tool_calls = true;
  page = Unwrap(engine_->ListMessages("alice", conversation_, query));
  EXPECT_EQ(page.total, 1);
  EXPECT_EQ(Unwrap(engine_->CountMessages("alice", conversation_, query)), 1);
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0].id, with_call.id);
}

// The tail is read forward from the sequence numbers it would hold without deletions, and
// backward for what deletions left missing: every count, before and after deletes (at the end, in
// the middle, a whole run), must equal the newest-first listing.
TEST_F(MessageTest, LastMessagesMatchTheListingAcrossDeletions) {
  std::vector<Message> appended;
  for (int i = 0; i < 40; ++i)
    appended.push_back(
        Unwrap(engine_->AppendMessage("alice", Input("user", "m" + std::to_string(i)))));
  const auto expect_tail = [&](const std::string& when) {
    MessageQuery query;
    query.order = SortOrder::kDescending;
    query.limit = kMaxMessagePageSize;
    std::vector<Message> listed =
        Unwrap(engine_->ListMessages("alice", conversation_, query)).items;
    std::reverse(listed.begin(), listed.end());
    for (int64_t count = 1; count <= 45; ++count) {
      const std::vector<Message> tail =
          Unwrap(engine_->LastMessages("alice", conversation_, count));
      const size_t expected = std::min<size_t>(static_cast<size_t>(count), listed.size());
      ASSERT_EQ(tail.size(), expected) << when << ", count " << count;
      for (size_t i = 0; i < expected; ++i)
        ASSERT_EQ(tail[i].id, listed[listed.size() - expected + i].id)
            << when << ", count " << count;
    }
  };
  expect_tail("no deletions");
  Unwrap(engine_->DeleteMessage("alice", appended[39].id));  // the newest
  expect_tail("newest deleted");
  for (int i : {30, 31, 32, 33, 20, 5}) Unwrap(engine_->DeleteMessage("alice", appended[i].id));
  expect_tail("gaps");
  Unwrap(engine_->AppendMessage("alice", Input("assistant", "after the gaps")));
  expect_tail("appended after the gaps");
  for (int i = 0; i < 39; ++i) {
    if (i == 5 || i == 20 || (i >= 30 && i <= 33)) continue;
    Unwrap(engine_->DeleteMessage("alice", appended[i].id));
  }
  expect_tail("one message left");
}

TEST_F(MessageTest, LastMessagesAndLastByRole) {
  EXPECT_FALSE(Unwrap(engine_->LastMessageByRole("alice", conversation_, Role::kUser)).has_value());
  for (int i = 0; i < 8; ++i)
    Append("alice", conversation_, i % 2 ? "assistant" : "user", "m" + std::to_string(i));
  const std::vector<Message> last = Unwrap(engine_->LastMessages("alice", conversation_, 3));
  ASSERT_EQ(last.size(), 3u);
  EXPECT_EQ(last[0].content, "m5");  // chronological
  EXPECT_EQ(last[2].content, "m7");
  EXPECT_EQ(Unwrap(engine_->LastMessages("alice", conversation_, 50)).size(), 8u);
  EXPECT_STATUS(engine_->LastMessages("alice", conversation_, 0), StatusCode::kValidationError,
                "limit");
  EXPECT_EQ(Unwrap(engine_->LastMessageByRole("alice", conversation_, Role::kUser))->content, "m6");
  EXPECT_EQ(Unwrap(engine_->LastMessageByRole("alice", conversation_, Role::kAssistant))->content,
            "m7");
  EXPECT_FALSE(Unwrap(engine_->LastMessageByRole("alice", conversation_, Role::kTool)).has_value());
}

TEST_F(MessageTest, SetToolResults) {
  const Message m = Append("alice", conversation_, "assistant", "calling");
  const Conversation before = Unwrap(engine_->GetConversation("alice", conversation_));
  const Message updated =
      Unwrap(engine_->SetToolResults("alice", m.id, R"([{"id":"c1","ok":true}])"));
  EXPECT_EQ(updated.tool_results, R"([{"id":"c1","ok":true}])");
  EXPECT_EQ(Unwrap(engine_->GetMessage("alice", m.id)).tool_results, updated.tool_results);
  EXPECT_GT(Unwrap(engine_->GetConversation("alice", conversation_)).updated_at, before.updated_at);
  EXPECT_STATUS(engine_->SetToolResults("alice", m.id, "{bad"), StatusCode::kValidationError,
                "tool_results");
  EXPECT_STATUS(engine_->SetToolResults("alice", Uuid::Generate(), "{}"), StatusCode::kNotFound,
                "");
}

TEST_F(MessageTest, TokenStats) {
  Append("alice", conversation_, "user", "a", 10);
  Append("alice", conversation_, "assistant", "b", 30);
  Append("alice", conversation_, "assistant", "c", 20);
  Append("alice", conversation_, "system", "d", std::nullopt);
  const TokenStats stats = Unwrap(engine_->GetTokenStats("alice", conversation_));
  EXPECT_EQ(stats.message_count, 4);
  EXPECT_EQ(stats.messages_with_tokens, 3);
  EXPECT_EQ(stats.total_tokens, 60);
  EXPECT_DOUBLE_EQ(stats.average_tokens, 20.0);
  EXPECT_EQ(stats.per_role[static_cast<int>(Role::kAssistant)].message_count, 2);
  EXPECT_EQ(stats.per_role[static_cast<int>(Role::kAssistant)].total_tokens, 50);
  EXPECT_EQ(stats.per_role[static_cast<int>(Role::kSystem)].total_tokens, 0);
  EXPECT_EQ(Unwrap(engine_->GetConversation("alice", conversation_)).total_tokens, 60);
}

TEST_F(MessageTest, DeleteAllResetsCounters) {
  const Message m = Append("alice", conversation_, "user", "a", 10);
  Append("alice", conversation_, "assistant", "b", 5);
  EXPECT_EQ(Unwrap(engine_->DeleteAllMessages("alice", conversation_)), 2);
  const Conversation c = Unwrap(engine_->GetConversation("alice", conversation_));
  EXPECT_EQ(c.message_count, 0);
  EXPECT_EQ(c.total_tokens, 0);
  EXPECT_FALSE(c.last_message_at.has_value());
  EXPECT_STATUS(engine_->GetMessage("alice", m.id), StatusCode::kNotFound, "");
  EXPECT_TRUE(Unwrap(engine_->ListMessages("alice", conversation_, {})).items.empty());
  const Message again = Append("alice", conversation_, "user", "fresh", 1);
  EXPECT_EQ(Unwrap(engine_->LastMessages("alice", conversation_, 5)).front().id, again.id);
  EXPECT_EQ(Unwrap(engine_->GetConversation("alice", conversation_)).message_count, 1);
}

TEST_F(MessageTest, ClientIdMakesAppendIdempotent) {
  NewMessage input = Input("user", "once");
  input.id = Uuid::Generate();
  input.tokens_used = 4;
  const Message first = Unwrap(engine_->AppendMessage("alice", input));
  const Message retry = Unwrap(engine_->AppendMessage("alice", input));
  EXPECT_EQ(first.id, retry.id);
  EXPECT_EQ(first.created_at, retry.created_at);
  const Conversation c = Unwrap(engine_->GetConversation("alice", conversation_));
  EXPECT_EQ(c.message_count, 1);
  EXPECT_EQ(c.total_tokens, 4);
  // The same id in another conversation is a duplicate.
  input.conversation_id = MakeConversation("alice").id;
  EXPECT_STATUS(engine_->AppendMessage("alice", input), StatusCode::kDuplicateRecord, "");
}

TEST_F(MessageTest, UpsertReplacesAndAdjustsTokens) {
  NewMessage input = Input("assistant", "draft");
  input.id = Uuid::Generate();
  input.tokens_used = 10;
  Unwrap(engine_->UpsertMessage("alice", input));
  input.content = "final";
  input.tokens_used = 25;
  const Message updated = Unwrap(engine_->UpsertMessage("alice", input));
  EXPECT_EQ(updated.content, "final");
  const Conversation c = Unwrap(engine_->GetConversation("alice", conversation_));
  EXPECT_EQ(c.message_count, 1);
  EXPECT_EQ(c.total_tokens, 25);
  input.conversation_id = MakeConversation("alice").id;
  EXPECT_STATUS(engine_->UpsertMessage("alice", input), StatusCode::kConflict, "");
  EXPECT_STATUS(engine_->UpsertMessage("bob", input), StatusCode::kDuplicateRecord, "");
}

TEST_F(MessageTest, OrderIsInsertionOrderEvenWithinOneMicrosecond) {
  std::vector<Uuid> ids;
  for (int i = 0; i < 200; ++i)
    ids.push_back(Append("alice", conversation_, "user", std::to_string(i)).id);
  MessageQuery query;
  query.limit = 200;
  const MessagePage page = Unwrap(engine_->ListMessages("alice", conversation_, query));
  ASSERT_EQ(page.items.size(), 200u);
  for (size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(page.items[i].id, ids[i]);
    if (i > 0) {
      EXPECT_LE(page.items[i - 1].created_at, page.items[i].created_at);
    }
  }
}

TEST_F(MessageTest, ConcurrentAppendsNeverLoseACounterUpdate) {
  constexpr int kThreads = 4;
  constexpr int kEach = 100;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        NewMessage input = Input(t % 2 ? "assistant" : "user", "t" + std::to_string(t));
        input.tokens_used = t + 1;
        EXPECT_TRUE(engine_->AppendMessage("alice", input).ok());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  const Conversation c = Unwrap(engine_->GetConversation("alice", conversation_));
  EXPECT_EQ(c.message_count, kThreads * kEach);
  EXPECT_EQ(c.total_tokens, kEach * (1 + 2 + 3 + 4));
  const TokenStats stats = Unwrap(engine_->GetTokenStats("alice", conversation_));
  EXPECT_EQ(stats.message_count, kThreads * kEach);
  EXPECT_EQ(stats.total_tokens, c.total_tokens);
  std::set<Uuid> ids;
  MessageQuery query;
  query.limit = 200;
  while (true) {
    MessagePage page = Unwrap(engine_->ListMessages("alice", conversation_, query));
    for (const auto& m : page.items) ids.insert(m.id);
    if (page.next_cursor.empty()) break;
    query.cursor = page.next_cursor;
  }
  EXPECT_EQ(ids.size(), static_cast<size_t>(kThreads * kEach));
}

}  // namespace
}  // namespace mnemo
