// RecencyIndex: the in-memory recent list answers exactly what the by-updated index scan answers,
// through random histories, abandoned transactions, concurrent writers, and its memory limits.
#include "tables/recency_index.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "storage/lock_table.h"
#include "tables/conversation_store.h"
#include "tables/message_store.h"
#include "testing/temp_dir.h"

namespace mnemo::tables {
namespace {

using keys::IndexTag;
using keys::Scope;
using mnemo::testing::TempDir;

class RecencyIndexTest : public ::testing::Test {
 protected:
  void SetUp() override { Open({}); }

  void Open(RecencyIndex::Limits limits) {
    messages_.reset();
    store_.reset();
    db_.reset();
    storage::DbOptions options;
    options.path = dir_.Sub("data");
    options.sync_writes = false;
    auto opened = storage::Db::Open(options);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    db_ = std::move(opened).value();
    store_ = std::make_unique<ConversationStore>(*db_, limits);
    messages_ = std::make_unique<MessageStore>(*db_, *store_);
  }

  // Runs fn(txn) under the user's lock and commits; returns fn's result.
  template <typename Fn>
  auto Write(const std::string& user, Fn&& fn) {
    auto guard = locks_.LockUser(user);
    storage::WriteTxn txn(*db_);
    auto result = fn(txn);
    if (result.ok()) {
      EXPECT_TRUE(txn.Commit().ok());
    }
    return result;
  }

  Uuid Create(const std::string& user) {
    NewConversation input;
    input.title = "t";
    auto created =
        Write(user, [&](storage::WriteTxn& txn) { return store_->Create(txn, user, input); });
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created->id;
  }

  void Append(const std::string& user, const Uuid& id) {
    NewMessage input;
    input.conversation_id = id;
    input.role = "user";
    input.content = "hello";
    auto appended =
        Write(user, [&](storage::WriteTxn& txn) { return messages_->Append(txn, user, input); });
    EXPECT_TRUE(appended.ok()) << appended.status().ToString();
  }

  // The ids and cursor of one page as the index scan finds them.
  struct Expected {
    std::vector<Uuid> ids;
    std::string next_cursor;
    int64_t total = 0;
  };
  Expected Scan(const std::string& user, const ConversationListOptions& options) {
    PageRequest request;
    request.prefix = keys::UserScopePrefix(IndexTag::kConversationByUpdated, user,
                                           options.include_deleted ? Scope::kAll : Scope::kActive);
    request.cursor = options.cursor;
    request.skip = options.skip;
    request.limit = options.limit;
    const storage::ReadView view = db_->Snapshot();
    auto page = ScanPage(view, storage::Cf::kIndex, request);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    Expected expected;
    for (const auto& [key, value] : page->entries) expected.ids.push_back(TrailingId(key));
    expected.next_cursor = page->next_cursor;
    auto stats = store_->Stats(user);
    expected.total = options.include_deleted ? stats->total : stats->active;
    return expected;
  }

  // Every field of a row, as text.
  static std::string RowText(const Conversation& c) {
    return c.id.ToString() + "|" + c.user_id + "|" + c.title + "|" + c.summary.value_or("-") + "|" +
           c.model + "|" + c.system_prompt + "|" + c.metadata + "|" + std::to_string(c.is_deleted) +
           "|" + std::to_string(c.deleted_at.value_or(-1)) + "|" + std::to_string(c.created_at) +
           "|" + std::to_string(c.updated_at) + "|" + std::to_string(c.message_count) + "|" +
           std::to_string(c.total_tokens) + "|" + std::to_string(c.last_message_at.value_or(-1));
  }

  // Every page shape of the user's recent list (both scopes) equals the scan's, and every listed
  // row equals the stored row, field by field (the rows may come from the row cache).
  void ExpectSameAsScan(const std::string& user) {
    for (bool include_deleted : {false, true}) {
      for (int64_t limit : {1, 3, 100}) {
        for (int64_t skip : {0, 2}) {
          ConversationListOptions options;
          options.order = ConversationOrder::kUpdatedDesc;
          options.include_deleted = include_deleted;
          options.limit = limit;
          options.skip = skip;
          // Walk every page by cursor.
          for (int page_number = 0; page_number < 50; ++page_number) {
            const Expected expected = Scan(user, options);
            auto listed = store_->List(user, options);
            ASSERT_TRUE(listed.ok()) << listed.status().ToString();
            std::vector<Uuid> ids;
            for (const Conversation& c : listed->items) {
              ids.push_back(c.id);
              auto stored = store_->Get(user, c.id, /*include_deleted=*/true);
              ASSERT_TRUE(stored.ok()) << stored.status().ToString();
              ASSERT_EQ(RowText(c), RowText(*stored));
            }
            ASSERT_EQ(ids, expected.ids)
                << user << " deleted=" << include_deleted << " limit=" << limit << " skip=" << skip
                << " page=" << page_number;
            ASSERT_EQ(listed->next_cursor, expected.next_cursor);
            ASSERT_EQ(listed->total, expected.total);
            if (listed->next_cursor.empty()) break;
            options.cursor = listed->next_cursor;
            options.skip = 0;
          }
        }
      }
    }
  }

  TempDir dir_;
  std::unique_ptr<storage::Db> db_;
  std::unique_ptr<ConversationStore> store_;
  std::unique_ptr<MessageStore> messages_;
  storage::LockTable locks_;
};

TEST_F(RecencyIndexTest, RandomHistoryListsExactlyWhatTheIndexScanFinds) {
  std::mt19937 rng(20261202);
  const std::vector<std::string> users = {"ann", "bob", "cy"};
  std::map<std::string, std::vector<Uuid>> ids;
  for (const auto& user : users) {
    for (int i = 0; i < 5; ++i) ids[user].push_back(Create(user));
  }
  for (int step = 0; step < 600; ++step) {
    const std::string& user = users[rng() % users.size()];
    std::vector<Uuid>& mine = ids[user];
    const Uuid id = mine[rng() % mine.size()];
    switch (rng() % 12) {
      case 0: mine.push_back(Create(user)); break;
      case 1:  // hard delete (NOT_FOUND when already gone)
        Write(user, [&](storage::WriteTxn& txn) -> Result<bool> {
          MNEMO_RETURN_IF_ERROR(store_->HardDelete(txn, user, id));
          return true;
        });
        break;
      case 2:
        Write(user, [&](storage::WriteTxn& txn) { return store_->SoftDelete(txn, user, id); });
        break;
      case 3:
        Write(user, [&](storage::WriteTxn& txn) { return store_->Undelete(txn, user, id); });
        break;
      case 4: {  // staged, then abandoned: nothing may change
        auto guard = locks_.LockUser(user);
        storage::WriteTxn txn(*db_);
        ConversationUpdate update;
        update.title = "never committed";
        store_->Update(txn, user, id, update).status().IgnoreError();
        break;
      }
      case 5: {  // a batch: a new conversation with messages, and an update of another
        auto guard = locks_.LockUser(user);
        storage::WriteTxn txn(*db_);
        NewConversation input;
        input.title = "batch";
        auto created = store_->Create(txn, user, input);
        ASSERT_TRUE(created.ok());
        for (int m = 0; m < 3; ++m) {
          NewMessage message;
          message.conversation_id = created->id;
          message.role = "assistant";
          message.content = "m";
          ASSERT_TRUE(messages_->Append(txn, user, message).ok());
        }
        ConversationUpdate update;
        update.summary = "s";
        store_->Update(txn, user, id, update).status().IgnoreError();
        ASSERT_TRUE(txn.Commit().ok());
        mine.push_back(created->id);
        break;
      }
      case 6:
        if (rng() % 4 == 0) {
          ASSERT_TRUE(db_->Flush().ok());
        }
        break;
      default: {
        NewMessage message;
        message.conversation_id = id;
        message.role = "user";
        message.content = "hi";
        Write(user, [&](storage::WriteTxn& txn) { return messages_->Append(txn, user, message); });
        break;
      }
    }
    if (step % 20 == 19) {
      for (const auto& each : users) ExpectSameAsScan(each);
    }
  }
  for (const auto& user : users) ExpectSameAsScan(user);
  EXPECT_GT(store_->TEST_recency().cached_keys(), 0u);  // the lists came from memory
}

TEST_F(RecencyIndexTest, ListedRowsFollowUpdatesDeletesAndReCreatesOfCachedRows) {
  const Uuid id = Create("ann");
  const Uuid other = Create("ann");
  ExpectSameAsScan("ann");  // caches both rows
  EXPECT_GE(store_->TEST_rows().rows(), 2u);
  ConversationUpdate update;
  update.title = "renamed";
  update.metadata = R"({"k":1})";
  ASSERT_TRUE(Write("ann", [&](storage::WriteTxn& txn) {
                return store_->Update(txn, "ann", id, update);
              }).ok());
  Append("ann", other);
  ExpectSameAsScan("ann");
  ConversationListOptions options;
  options.order = ConversationOrder::kUpdatedDesc;
  auto listed = store_->List("ann", options);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->items.size(), 2u);
  EXPECT_EQ(listed->items[0].id, other);
  EXPECT_EQ(listed->items[0].message_count, 1);
  EXPECT_EQ(listed->items[1].title, "renamed");
  // Hard delete, then the same id again with another title: the old row never comes back.
  ASSERT_TRUE(Write("ann", [&](storage::WriteTxn& txn) -> Result<bool> {
                MNEMO_RETURN_IF_ERROR(store_->HardDelete(txn, "ann", id));
                return true;
              }).ok());
  ExpectSameAsScan("ann");
  NewConversation again;
  again.id = id;
  again.title = "again";
  ASSERT_TRUE(
      Write("ann", [&](storage::WriteTxn& txn) { return store_->Create(txn, "ann", again); }).ok());
  ExpectSameAsScan("ann");
  listed = store_->List("ann", options);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->items.size(), 2u);
  EXPECT_EQ(listed->items[0].title, "again");
  EXPECT_EQ(listed->total, 2);
}

TEST_F(RecencyIndexTest, WritesLoadTheMirrorAndCacheTheRowsTheyCommit) {
  const Uuid first = Create("ann");
  const Uuid second = Create("ann");
  // Nothing was listed: the writes loaded ann's entry and cached both rows.
  EXPECT_EQ(store_->TEST_recency().cached_keys(), 4u);  // two conversations, two scopes
  EXPECT_EQ(store_->TEST_rows().rows(), 2u);
  Append("ann", first);
  ExpectSameAsScan("ann");
  // Reopened, the first write of a user loads what was committed before it.
  Open({});
  EXPECT_EQ(store_->TEST_recency().cached_keys(), 0u);
  Append("ann", second);
  EXPECT_EQ(store_->TEST_recency().cached_keys(), 4u);
  EXPECT_EQ(store_->TEST_rows().rows(), 1u);
  ExpectSameAsScan("ann");
}

TEST_F(RecencyIndexTest, AReadDuringAWriteOfTheSameUserFallsBackToTheScan) {
  const Uuid older = Create("ann");
  const Uuid newer = Create("ann");
  ConversationListOptions options;
  options.order = ConversationOrder::kUpdatedDesc;
  ASSERT_EQ(store_->List("ann", options)->items.front().id, newer);  // loads the entry

  std::atomic<int> stage{0};
  std::thread writer([&] {
    auto guard = locks_.LockUser("ann");
    storage::WriteTxn txn(*db_);
    ConversationUpdate update;
    update.title = "moved to the top";
    ASSERT_TRUE(store_->Update(txn, "ann", older, update).ok());  // holds ann's entry now
    stage = 1;
    while (stage != 2) std::this_thread::yield();
    ASSERT_TRUE(txn.Commit().ok());
  });
  while (stage != 1) std::this_thread::yield();
  // Not blocked by the writer: answered from the index, without the uncommitted move.
  auto during = store_->List("ann", options);
  ASSERT_TRUE(during.ok());
  EXPECT_EQ(during->items.front().id, newer);
  stage = 2;
  writer.join();
  EXPECT_EQ(store_->List("ann", options)->items.front().id, older);
  ExpectSameAsScan("ann");
}

TEST_F(RecencyIndexTest, ConcurrentReadersGetPagesOfTheSnapshotTheyReadRowsFrom) {
  constexpr int kConversations = 8;
  constexpr int kAppendsPerWriter = 400;
  std::vector<Uuid> ids;
  for (int i = 0; i < kConversations; ++i) ids.push_back(Create("ann"));
  std::atomic<int> writers_left{2};
  std::vector<std::thread> threads;
  for (int w = 0; w < 2; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < kAppendsPerWriter; ++i) Append("ann", ids[(i * 3 + w) % kConversations]);
      --writers_left;
    });
  }
  std::atomic<int> pages{0};
  const std::string prefix =
      keys::UserScopePrefix(IndexTag::kConversationByUpdated, "ann", Scope::kActive);
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&] {
      PageRequest request;
      request.prefix = prefix;
      request.limit = kConversations;
      while (writers_left > 0) {
        auto cached = store_->TEST_recency().Page("ann", Scope::kActive, request, "");
        if (!cached) continue;  // a writer holds the entry
        ASSERT_EQ(cached->page.entries.size(), static_cast<size_t>(kConversations));
        for (const auto& [key, value] : cached->page.entries) {
          // Each entry's updated_at is the row's updated_at in the snapshot returned with it.
          keys::KeyReader reader(std::string_view(key).substr(prefix.size()));
          Timestamp listed_at = 0;
          ASSERT_TRUE(reader.I64Desc(&listed_at));
          const Uuid id = TrailingId(key);
          std::string row_bytes;
          ASSERT_TRUE(
              cached->view->Get(storage::Cf::kConversations, keys::ConversationKey(id), &row_bytes)
                  .ok());
          ConversationRow row;
          ASSERT_TRUE(DecodeConversation(row_bytes, id, &row).ok());
          ASSERT_EQ(row.conversation.updated_at, listed_at) << "page and snapshot differ";
        }
        ++pages;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_GT(pages.load(), 0);
  ExpectSameAsScan("ann");
}

TEST_F(RecencyIndexTest, ConcurrentListsShowOneStatePerRowVersion) {
  constexpr int kConversations = 8;
  constexpr int kAppendsPerWriter = 300;
  std::vector<Uuid> ids;
  for (int i = 0; i < kConversations; ++i) ids.push_back(Create("ann"));
  std::atomic<int> writers_left{2};
  std::vector<std::thread> threads;
  for (int w = 0; w < 2; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < kAppendsPerWriter; ++i) Append("ann", ids[(i * 3 + w) % kConversations]);
      --writers_left;
    });
  }
  // (id, updated_at) -> message_count, as every reader saw it.
  std::mutex seen_mutex;
  std::map<std::pair<Uuid, Timestamp>, int64_t> seen;
  std::atomic<int> pages{0};
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&] {
      ConversationListOptions options;
      options.order = ConversationOrder::kUpdatedDesc;
      while (writers_left > 0) {
        auto listed = store_->List("ann", options);
        ASSERT_TRUE(listed.ok()) << listed.status().ToString();
        ASSERT_EQ(listed->items.size(), static_cast<size_t>(kConversations));
        ASSERT_EQ(listed->total, kConversations);
        std::lock_guard lock(seen_mutex);
        for (size_t i = 0; i < listed->items.size(); ++i) {
          const Conversation& c = listed->items[i];
          if (i > 0) {
            ASSERT_GT(listed->items[i - 1].updated_at, c.updated_at) << "not newest first";
          }
          auto [at, inserted] = seen.try_emplace({c.id, c.updated_at}, c.message_count);
          ASSERT_EQ(at->second, c.message_count) << "two states under one version";
        }
        ++pages;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_GT(pages.load(), 0);
  EXPECT_GT(store_->TEST_rows().rows(), 0u);
  ExpectSameAsScan("ann");
}

TEST_F(RecencyIndexTest, UsersBeyondTheLimitsAreScannedAndIdleUsersEvicted) {
  RecencyIndex::Limits limits;
  limits.max_user_keys = 4;
  limits.max_users = 16;  // one per shard
  Open(limits);
  for (int i = 0; i < 6; ++i) Create("big");  // 6 keys in each scope: never cached
  ExpectSameAsScan("big");
  for (int i = 0; i < 6; ++i) Append("big", Create("big"));
  ExpectSameAsScan("big");
  EXPECT_EQ(store_->TEST_recency().cached_keys(), 0u);

  for (int u = 0; u < 60; ++u) {
    const std::string user = "small" + std::to_string(u);
    Append(user, Create(user));
    ExpectSameAsScan(user);
  }
  EXPECT_LE(store_->TEST_recency().cached_users(), 16u);
  EXPECT_LE(store_->TEST_recency().cached_keys(), 16u * 2);
  // A user that grows past the limit while cached drops out and is still listed exactly.
  Open(limits);
  for (int i = 0; i < 3; ++i) Create("grows");
  ExpectSameAsScan("grows");
  EXPECT_EQ(store_->TEST_recency().cached_keys(), 6u);
  for (int i = 0; i < 3; ++i) Create("grows");
  ExpectSameAsScan("grows");
  EXPECT_EQ(store_->TEST_recency().cached_keys(), 0u);
}

}  // namespace
}  // namespace mnemo::tables
