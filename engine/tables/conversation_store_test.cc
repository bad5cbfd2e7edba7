#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <thread>

#include "testing/engine_fixture.h"

namespace mnemo {
namespace {

using testing::EngineTest;
using testing::Unwrap;

class ConversationTest : public EngineTest {};

TEST_F(ConversationTest, CreateAppliesDefaultsAndGetReturnsIt) {
  NewConversation input;
  input.title = "Trip planning";
  const Conversation created = Unwrap(engine_->CreateConversation("alice", input));
  EXPECT_FALSE(created.id.IsNil());
  EXPECT_EQ(created.user_id, "alice");
  EXPECT_EQ(created.model, kDefaultModel);
  EXPECT_EQ(created.metadata, "{}");
  EXPECT_EQ(created.message_count, 0);
  EXPECT_EQ(created.total_tokens, 0);
  EXPECT_FALSE(created.last_message_at.has_value());
  EXPECT_FALSE(created.is_deleted);
  EXPECT_EQ(created.created_at, created.updated_at);

  const Conversation got = Unwrap(engine_->GetConversation("alice", created.id));
  EXPECT_EQ(got.title, "Trip planning");
  EXPECT_EQ(got.created_at, created.created_at);
}

TEST_F(ConversationTest, OtherUsersRowsAreNotFound) {
  const Conversation c = MakeConversation("alice");
  EXPECT_STATUS(engine_->GetConversation("bob", c.id), StatusCode::kNotFound, "");
  ConversationUpdate update;
  update.title = "stolen";
  EXPECT_STATUS(engine_->UpdateConversation("bob", c.id, update), StatusCode::kNotFound, "");
  EXPECT_STATUS(engine_->SoftDeleteConversation("bob", c.id), StatusCode::kNotFound, "");
  EXPECT_STATUS(engine_->HardDeleteConversation("bob", c.id), StatusCode::kNotFound, "");
  EXPECT_EQ(Unwrap(engine_->GetConversation("alice", c.id)).title, "A title");
  EXPECT_STATUS(engine_->GetConversation("alice", Uuid::Generate()), StatusCode::kNotFound, "");
}

TEST_F(ConversationTest, TitleRulesAtTheBoundaries) {
  NewConversation input;
  for (const std::string& bad :
       {std::string(""), std::string("   "), std::string(256, 'x'), std::string("\xC3\x28")}) {
    input.title = bad;
    EXPECT_STATUS(engine_->CreateConversation("alice", input), StatusCode::kValidationError,
                  "title");
  }
  input.title = std::string(255, 'x');
  EXPECT_TRUE(engine_->CreateConversation("alice", input).ok());
  std::string cjk;
  for (int i = 0; i < 255; ++i) cjk += "天";  // 255 characters, 765 bytes
  input.title = cjk;
  EXPECT_TRUE(engine_->CreateConversation("alice", input).ok());
  input.title = cjk + "天";
  EXPECT_STATUS(engine_->CreateConversation("alice", input), StatusCode::kValidationError, "title");
}

TEST_F(ConversationTest, OtherFieldRules) {
  NewConversation input;
  input.title = "ok";
  input.model = std::string(100, 'm');
  EXPECT_TRUE(engine_->CreateConversation("alice", input).ok());
  input.model = std::string(101, 'm');
  EXPECT_STATUS(engine_->CreateConversation("alice", input), StatusCode::kValidationError, "model");
  input.model = "";
  EXPECT_STATUS(engine_->CreateConversation("alice", input), StatusCode::kValidationError, "model");
  input.model.reset();
  for (const char* bad : {"{", "[1,2]", "\"text\"", "null", "{\"a\":}"}) {
    input.metadata = bad;
    EXPECT_STATUS(engine_->CreateConversation("alice", input), StatusCode::kValidationError,
                  "metadata");
  }
  input.metadata = std::string(100, '[') + std::string(100, ']');
  EXPECT_STATUS(engine_->CreateConversation("alice", input), StatusCode::kValidationError,
                "metadata");
  input.metadata = R"({"tags": ["a", "b"], "nested": {"x": 1}})";
  EXPECT_EQ(Unwrap(engine_->CreateConversation("alice", input)).metadata, *input.metadata);
  input.metadata.reset();
  input.summary = "\xFF";
  EXPECT_STATUS(engine_->CreateConversation("alice", input), StatusCode::kValidationError,
                "summary");
  input.summary.reset();
  input.id = Uuid();
  EXPECT_STATUS(engine_->CreateConversation("alice", input), StatusCode::kValidationError, "id");
}

TEST_F(ConversationTest, UserIdRules) {
  NewConversation input;
  input.title = "ok";
  EXPECT_STATUS(engine_->CreateConversation("", input), StatusCode::kValidationError, "user_id");
  EXPECT_STATUS(engine_->CreateConversation(std::string(256, 'u'), input),
                StatusCode::kValidationError, "user_id");
  EXPECT_TRUE(engine_->CreateConversation(std::string(255, 'u'), input).ok());
  EXPECT_STATUS(engine_->ListConversations("", {}), StatusCode::kValidationError, "user_id");
}

TEST_F(ConversationTest, ClientSuppliedIdIsIdempotentAndNeverShared) {
  NewConversation input;
  input.id = Uuid::Generate();
  input.title = "first";
  const Conversation first = Unwrap(engine_->CreateConversation("alice", input));
  EXPECT_EQ(first.id, *input.id);
  input.title = "retry";
  const Conversation retry = Unwrap(engine_->CreateConversation("alice", input));
  EXPECT_EQ(retry.title, "first");  // the existing row, unchanged
  EXPECT_EQ(Unwrap(engine_->GetUserStats("alice")).total, 1);
  EXPECT_STATUS(engine_->CreateConversation("bob", input), StatusCode::kDuplicateRecord, "");
}

TEST_F(ConversationTest, UpsertCreatesThenReplacesFieldsKeepingCounters) {
  NewConversation input;
  EXPECT_STATUS(engine_->UpsertConversation("alice", input), StatusCode::kValidationError, "id");
  input.id = Uuid::Generate();
  input.title = "v1";
  Unwrap(engine_->UpsertConversation("alice", input));
  Append("alice", *input.id, "user", "hello", 5);
  input.title = "v2";
  input.metadata = R"({"v":2})";
  const Conversation updated = Unwrap(engine_->UpsertConversation("alice", input));
  EXPECT_EQ(updated.title, "v2");
  EXPECT_EQ(updated.metadata, R"({"v":2})");
  EXPECT_EQ(updated.message_count, 1);
  EXPECT_EQ(updated.total_tokens, 5);
  EXPECT_EQ(Unwrap(engine_->GetUserStats("alice")).total, 1);
  EXPECT_STATUS(engine_->UpsertConversation("bob", input), StatusCode::kDuplicateRecord, "");
}

TEST_F(ConversationTest, UpdateChangesOnlyGivenFieldsAndMovesUpdatedAt) {
  const Conversation c = MakeConversation("alice", "Old title");
  ConversationUpdate update;
  update.summary = "a summary";
  const Conversation u1 = Unwrap(engine_->UpdateConversation("alice", c.id, update));
  EXPECT_EQ(u1.title, "Old title");
  EXPECT_EQ(u1.summary, "a summary");
  EXPECT_GT(u1.updated_at, c.updated_at);
  EXPECT_EQ(u1.created_at, c.created_at);

  ConversationUpdate bad;
  bad.title = "";
  EXPECT_STATUS(engine_->UpdateConversation("alice", c.id, bad), StatusCode::kValidationError,
                "title");
  bad.title.reset();
  bad.metadata = "[]";
  EXPECT_STATUS(engine_->UpdateConversation("alice", c.id, bad), StatusCode::kValidationError,
                "metadata");
  EXPECT_EQ(Unwrap(engine_->GetConversation("alice", c.id)).updated_at,
            u1.updated_at);  // unchanged

  update = {};
  update.title = "New title";
  update.metadata = R"({"pinned":true})";
  const Conversation u2 = Unwrap(engine_->UpdateConversation("alice", c.id, update));
  EXPECT_EQ(u2.title, "New title");
  EXPECT_EQ(u2.summary, "a summary");
  EXPECT_GT(u2.updated_at, u1.updated_at);
  // The title index follows the change.
  EXPECT_EQ(Unwrap(engine_->SearchConversationsByTitle("alice", "new", {})).total, 1);
  EXPECT_EQ(Unwrap(engine_->SearchConversationsByTitle("alice", "old", {})).total, 0);
}

TEST_F(ConversationTest, ListNewestFirstWithSkipLimitAndTotal) {
  std::vector<Uuid> ids;
  for (int i = 0; i < 25; ++i) ids.push_back(MakeConversation("alice", "c" + std::to_string(i)).id);
  MakeConversation("bob");
  ConversationListOptions options;
  options.limit = 10;
  ConversationPage page = Unwrap(engine_->ListConversations("alice", options));
  EXPECT_EQ(page.total, 25);
  ASSERT_EQ(page.items.size(), 10u);
  EXPECT_EQ(page.items[0].id, ids[24]);
  EXPECT_EQ(page.items[9].id, ids[15]);
  EXPECT_FALSE(page.next_cursor.empty());

  options.skip = 20;
  page = Unwrap(engine_->ListConversations("alice", options));
  ASSERT_EQ(page.items.size(), 5u);
  EXPECT_EQ(page.items[4].id, ids[0]);
  EXPECT_TRUE(page.next_cursor.empty());

  options.skip = 100;
  EXPECT_TRUE(Unwrap(engine_->ListConversations("alice", options)).items.empty());

  for (int64_t bad_limit : {0, -1, 101}) {
    options = {};
    options.limit = bad_limit;
    EXPECT_STATUS(engine_->ListConversations("alice", options), StatusCode::kValidationError,
                  "limit");
  }
  options = {};
  options.skip = -1;
  EXPECT_STATUS(engine_->ListConversations("alice", options), StatusCode::kValidationError, "skip");
  options.skip = 0;
  options.limit = 100;
  EXPECT_EQ(Unwrap(engine_->ListConversations("alice", options)).items.size(), 25u);
}

TEST_F(ConversationTest, CursorPagesAreStableWhileRowsAreAdded) {
  std::set<Uuid> expected;
  for (int i = 0; i < 23; ++i) expected.insert(MakeConversation("alice").id);
  ConversationListOptions options;
  options.limit = 5;
  std::set<Uuid> seen;
  int pages = 0;
  while (true) {
    ConversationPage page = Unwrap(engine_->ListConversations("alice", options));
    for (const auto& c : page.items) EXPECT_TRUE(seen.insert(c.id).second) << "row seen twice";
    MakeConversation("alice");  // newer rows land before the cursor: never seen, never shift
    ++pages;
    if (page.next_cursor.empty()) break;
    options.cursor = page.next_cursor;
    ASSERT_LT(pages, 10);
  }
  EXPECT_EQ(seen, expected);
  EXPECT_EQ(pages, 5);
}

TEST_F(ConversationTest, BadCursorsAreValidationErrors) {
  MakeConversation("alice");
  MakeConversation("alice");
  ConversationListOptions options;
  options.limit = 1;
  const std::string cursor = Unwrap(engine_->ListConversations("alice", options)).next_cursor;
  ASSERT_FALSE(cursor.empty());
  for (const std::string& bad : {std::string("zz"), std::string("abc"), std::string("00")}) {
    options.cursor = bad;
    EXPECT_STATUS(engine_->ListConversations("alice", options), StatusCode::kValidationError,
                  "cursor");
  }
  options.cursor = cursor;
  EXPECT_STATUS(engine_->ListConversations("bob", options), StatusCode::kValidationError, "cursor");
  options.order = ConversationOrder::kUpdatedDesc;
  EXPECT_STATUS(engine_->ListConversations("alice", options), StatusCode::kValidationError,
                "cursor");
}

TEST_F(ConversationTest, OrderByUpdatedFollowsNewMessages) {
  const Conversation a = MakeConversation("alice", "a");
  const Conversation b = MakeConversation("alice", "b");
  ConversationListOptions options;
  options.order = ConversationOrder::kUpdatedDesc;
  EXPECT_EQ(Unwrap(engine_->ListConversations("alice", options)).items[0].id, b.id);
  Append("alice", a.id, "user", "bump");
  ConversationPage page = Unwrap(engine_->ListConversations("alice", options));
  ASSERT_EQ(page.items.size(), 2u);
  EXPECT_EQ(page.items[0].id, a.id);
  EXPECT_EQ(page.items[1].id, b.id);
  // By creation time the order is unchanged.
  EXPECT_EQ(Unwrap(engine_->ListConversations("alice", {})).items[0].id, b.id);
}

// Random appends, updates, soft and hard deletes, restores and re-creates with flushes between
// them: the by-updated index (whose moved entries are SingleDeleted) must list exactly the live
// rows, newest first, before and after a reopen — no entry lost, none resurrected.
TEST_F(ConversationTest, RecentListStaysExactThroughChurnFlushesAndReopen) {
  std::mt19937 rng(20261124);
  std::vector<Uuid> ids;
  for (int i = 0; i < 6; ++i) ids.push_back(Uuid::Generate());
  std::map<Uuid, bool> exists;  // id -> soft-deleted?
  const auto create = [&](const Uuid& id) {
    NewConversation input;
    input.id = id;
    input.title = "t";
    Unwrap(engine_->CreateConversation("alice", input));
    exists[id] = false;
  };
  const auto check = [&] {
    for (bool include_deleted : {false, true}) {
      ConversationListOptions options;
      options.order = ConversationOrder::kUpdatedDesc;
      options.include_deleted = include_deleted;
      options.limit = 100;
      const ConversationPage page = Unwrap(engine_->ListConversations("alice", options));
      std::set<Uuid> want, seen;
      for (const auto& [id, deleted] : exists) {
        if (include_deleted || !deleted) want.insert(id);
      }
      for (size_t i = 0; i < page.items.size(); ++i) {
        const Conversation& c = page.items[i];
        EXPECT_TRUE(seen.insert(c.id).second) << "listed twice: " << c.id.ToString();
        // Every field as a point read finds it (listed rows may come from the row cache).
        const Conversation stored = Unwrap(engine_->GetConversation("alice", c.id, true));
        EXPECT_EQ(c.updated_at, stored.updated_at);
        EXPECT_EQ(c.title, stored.title);
        EXPECT_EQ(c.is_deleted, stored.is_deleted);
        EXPECT_EQ(c.deleted_at, stored.deleted_at);
        EXPECT_EQ(c.created_at, stored.created_at);
        EXPECT_EQ(c.message_count, stored.message_count);
        EXPECT_EQ(c.last_message_at, stored.last_message_at);
        if (i > 0) {
          EXPECT_GE(page.items[i - 1].updated_at, c.updated_at);
        }
      }
      EXPECT_EQ(seen, want);
      EXPECT_EQ(page.total, static_cast<int64_t>(want.size()));
    }
  };
  for (const Uuid& id : ids) create(id);
  for (int step = 0; step < 400; ++step) {
    const Uuid& id = ids[rng() % ids.size()];
    const bool present = exists.contains(id);
    switch (rng() % 10) {
      case 0:
        if (present) {
          ASSERT_TRUE(engine_->HardDeleteConversation("alice", id).ok());
          exists.erase(id);
        } else {
          create(id);
        }
        break;
      case 1:
        if (present) exists[id] = Unwrap(engine_->SoftDeleteConversation("alice", id)).is_deleted;
        break;
      case 2:
        if (present) exists[id] = Unwrap(engine_->UndeleteConversation("alice", id)).is_deleted;
        break;
      case 3:
        if (present && !exists[id]) {  // deleted conversations take no updates
          ConversationUpdate update;
          update.title = "title " + std::to_string(step);
          Unwrap(engine_->UpdateConversation("alice", id, update));
        }
        break;
      default:
        if (present && !exists[id]) Append("alice", id, "user", "m" + std::to_string(step));
        break;
    }
    if (step % 50 == 49) {
      ASSERT_TRUE(engine_->Flush().ok());
      check();
    }
  }
  check();
  Reopen();
  check();
}

TEST_F(ConversationTest, SoftDeleteUndeleteAndStats) {
  const Conversation keep = MakeConversation("alice", "keep");
  const Conversation gone = MakeConversation("alice", "gone");
  const Conversation deleted = Unwrap(engine_->SoftDeleteConversation("alice", gone.id));
  EXPECT_TRUE(deleted.is_deleted);
  ASSERT_TRUE(deleted.deleted_at.has_value());
  EXPECT_GT(deleted.updated_at, gone.updated_at);

  EXPECT_STATUS(engine_->GetConversation("alice", gone.id), StatusCode::kNotFound, "");
  EXPECT_TRUE(Unwrap(engine_->GetConversation("alice", gone.id, true)).is_deleted);
  ConversationPage active = Unwrap(engine_->ListConversations("alice", {}));
  ASSERT_EQ(active.items.size(), 1u);
  EXPECT_EQ(active.items[0].id, keep.id);
  EXPECT_EQ(active.total, 1);
  ConversationListOptions all;
  all.include_deleted = true;
  EXPECT_EQ(Unwrap(engine_->ListConversations("alice", all)).total, 2);
  EXPECT_EQ(Unwrap(engine_->SearchConversationsByTitle("alice", "gone", {})).total, 0);
  EXPECT_EQ(Unwrap(engine_->SearchConversationsByTitle("alice", "gone", all)).total, 1);

  UserStats stats = Unwrap(engine_->GetUserStats("alice"));
  EXPECT_EQ(stats.total, 2);
  EXPECT_EQ(stats.active, 1);
  EXPECT_EQ(stats.deleted, 1);
  // Deleting is not activity: the newest change among active conversations is.
  EXPECT_EQ(stats.last_activity, keep.updated_at);

  // Deleted conversations take no messages.
  NewMessage m;
  m.conversation_id = gone.id;
  m.role = "user";
  m.content = "hello?";
  EXPECT_STATUS(engine_->AppendMessage("alice", m), StatusCode::kNotFound, "");
  // Deleting twice is a no-op.
  EXPECT_TRUE(engine_->SoftDeleteConversation("alice", gone.id).ok());
  EXPECT_EQ(Unwrap(engine_->GetUserStats("alice")).deleted, 1);

  const Conversation restored = Unwrap(engine_->UndeleteConversation("alice", gone.id));
  EXPECT_FALSE(restored.is_deleted);
  EXPECT_FALSE(restored.deleted_at.has_value());
  stats = Unwrap(engine_->GetUserStats("alice"));
  EXPECT_EQ(stats.active, 2);
  EXPECT_EQ(stats.deleted, 0);
  EXPECT_EQ(Unwrap(engine_->ListConversations("alice", {})).total, 2);
}

TEST_F(ConversationTest, HardDeleteCascadesToMessages) {
  const Conversation c = MakeConversation("alice");
  const Message m1 = Append("alice", c.id, "user", "one", 3);
  Append("alice", c.id, "assistant", "two", 4);
  const Conversation other = MakeConversation("alice");
  const Message kept = Append("alice", other.id, "user", "kept");

  ASSERT_TRUE(engine_->HardDeleteConversation("alice", c.id).ok());
  EXPECT_STATUS(engine_->GetConversation("alice", c.id, true), StatusCode::kNotFound, "");
  EXPECT_STATUS(engine_->GetMessage("alice", m1.id), StatusCode::kNotFound, "");
  EXPECT_TRUE(engine_->GetMessage("alice", kept.id).ok());
  const UserStats stats = Unwrap(engine_->GetUserStats("alice"));
  EXPECT_EQ(stats.total, 1);
  EXPECT_EQ(stats.active, 1);
  ConversationListOptions all;
  all.include_deleted = true;
  EXPECT_EQ(Unwrap(engine_->ListConversations("alice", all)).items.size(), 1u);
  EXPECT_STATUS(engine_->HardDeleteConversation("alice", c.id), StatusCode::kNotFound, "");
}

TEST_F(ConversationTest, TitleSearchIsCaseInsensitiveAndUtf8Safe) {
  MakeConversation("alice", "Trip to MÜNCHEN");
  MakeConversation("alice", "关于天气的对话");
  MakeConversation("alice", "Python tips");
  MakeConversation("alice", "PYTHON async");
  MakeConversation("bob", "python for bob");

  ConversationPage page = Unwrap(engine_->SearchConversationsByTitle("alice", "python", {}));
  EXPECT_EQ(page.total, 2);
  ASSERT_EQ(page.items.size(), 2u);
  EXPECT_EQ(page.items[0].title, "PYTHON async");  // newest first
  EXPECT_EQ(Unwrap(engine_->SearchConversationsByTitle("alice", "münchen", {})).total, 1);
  EXPECT_EQ(Unwrap(engine_->SearchConversationsByTitle("alice", "天气", {})).total, 1);
  EXPECT_EQ(Unwrap(engine_->SearchConversationsByTitle("alice", "weather", {})).total, 0);
  EXPECT_EQ(Unwrap(engine_->SearchConversationsByTitle("alice", "", {})).total, 4);

  ConversationListOptions options;
  options.limit = 1;
  page = Unwrap(engine_->SearchConversationsByTitle("alice", "PYTHON", options));
  EXPECT_EQ(page.total, 2);
  ASSERT_EQ(page.items.size(), 1u);
  options.cursor = page.next_cursor;
  page = Unwrap(engine_->SearchConversationsByTitle("alice", "PYTHON", options));
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0].title, "Python tips");
  EXPECT_TRUE(page.next_cursor.empty());
  EXPECT_STATUS(engine_->SearchConversationsByTitle("alice", "\xC3", {}),
                StatusCode::kValidationError, "query");
}

TEST_F(ConversationTest, EmptyUserHasZeroStats) {
  const UserStats stats = Unwrap(engine_->GetUserStats("nobody"));
  EXPECT_EQ(stats.total, 0);
  EXPECT_FALSE(stats.last_activity.has_value());
  EXPECT_TRUE(Unwrap(engine_->ListConversations("nobody", {})).items.empty());
}

TEST_F(ConversationTest, ConcurrentCreatesKeepCountsExact) {
  constexpr int kThreads = 4;
  constexpr int kEach = 50;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        NewConversation input;
        input.title = "concurrent";
        EXPECT_TRUE(engine_->CreateConversation("alice", input).ok());
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(Unwrap(engine_->GetUserStats("alice")).total, kThreads * kEach);
  ConversationListOptions options;
  options.limit = 100;
  int64_t listed = 0;
  while (true) {
    ConversationPage page = Unwrap(engine_->ListConversations("alice", options));
    listed += static_cast<int64_t>(page.items.size());
    if (page.next_cursor.empty()) break;
    options.cursor = page.next_cursor;
  }
  EXPECT_EQ(listed, kThreads * kEach);
}

}  // namespace
}  // namespace mnemo
