// RowVersionCache: a row is found only at the version it was cached at, newer versions win,
// fills that may predate a hard delete are ignored, and memory stays within the budget.
#include "tables/row_version_cache.h"

#include <gtest/gtest.h>

#include <string>

namespace mnemo::tables {
namespace {

Conversation Row(const Uuid& id, Timestamp updated_at, const std::string& title = "t") {
  Conversation row;
  row.id = id;
  row.user_id = "ann";
  row.title = title;
  row.model = "m";
  row.created_at = 1;
  row.updated_at = updated_at;
  row.message_count = updated_at;
  return row;
}

constexpr size_t kBudget = size_t{1} << 20;

TEST(RowVersionCacheTest, FindsARowOnlyAtTheVersionItWasCachedAt) {
  RowVersionCache cache(kBudget);
  const Uuid id = Uuid::Generate();
  cache.Fill(Row(id, 5, "five"), cache.epoch());
  Conversation found;
  ASSERT_TRUE(cache.Find(id, 5, &found));
  EXPECT_EQ(found.id, id);
  EXPECT_EQ(found.title, "five");
  EXPECT_EQ(found.message_count, 5);
  EXPECT_FALSE(cache.Find(id, 6, &found));
  EXPECT_FALSE(cache.Find(id, 4, &found));
  EXPECT_FALSE(cache.Find(Uuid::Generate(), 5, &found));
  EXPECT_EQ(cache.rows(), 1u);
}

TEST(RowVersionCacheTest, ANewerVersionReplacesAnOlderOneAndIsNotReplacedByIt) {
  RowVersionCache cache(kBudget);
  const Uuid id = Uuid::Generate();
  cache.Fill(Row(id, 6, "six"), cache.epoch());
  cache.Fill(Row(id, 5, "five"), cache.epoch());  // a reader of an older snapshot, late
  Conversation found;
  EXPECT_FALSE(cache.Find(id, 5, &found));
  ASSERT_TRUE(cache.Find(id, 6, &found));
  EXPECT_EQ(found.title, "six");
  cache.Fill(Row(id, 7, "seven"), cache.epoch());
  EXPECT_FALSE(cache.Find(id, 6, &found));
  ASSERT_TRUE(cache.Find(id, 7, &found));
  EXPECT_EQ(found.title, "seven");
  EXPECT_EQ(cache.rows(), 1u);
}

TEST(RowVersionCacheTest, FillsThatMayPredateAForgetAreIgnored) {
  RowVersionCache cache(kBudget);
  const Uuid id = Uuid::Generate();
  cache.Fill(Row(id, 5), cache.epoch());
  const uint64_t before = cache.epoch();
  cache.Forget(id);  // a hard delete committed
  Conversation found;
  EXPECT_FALSE(cache.Find(id, 5, &found));
  // A reader whose snapshot may hold the deleted row: its fill must not bring the row back.
  cache.Fill(Row(id, 5, "deleted"), before);
  EXPECT_FALSE(cache.Find(id, 5, &found));
  EXPECT_EQ(cache.rows(), 0u);
  // A re-created row of the same id and version, read after the delete, is cached.
  cache.Fill(Row(id, 5, "recreated"), cache.epoch());
  ASSERT_TRUE(cache.Find(id, 5, &found));
  EXPECT_EQ(found.title, "recreated");
}

TEST(RowVersionCacheTest, StaysWithinItsBudgetAndKeepsTheLatestRows) {
  constexpr size_t kSmall = 64 << 10;
  RowVersionCache cache(kSmall);
  const std::string title(300, 'x');
  Uuid last;
  for (int i = 0; i < 2000; ++i) {
    last = Uuid::Generate();
    cache.Fill(Row(last, 1, title), cache.epoch());
    ASSERT_LE(cache.bytes(), kSmall);
  }
  EXPECT_GT(cache.rows(), 0u);
  EXPECT_LT(cache.rows(), 2000u);
  Conversation found;
  EXPECT_TRUE(cache.Find(last, 1, &found));
  // A row larger than a shard's share is not cached at all.
  const Uuid huge = Uuid::Generate();
  cache.Fill(Row(huge, 1, std::string(kSmall, 'y')), cache.epoch());
  EXPECT_FALSE(cache.Find(huge, 1, &found));
  // A zero budget caches nothing.
  RowVersionCache off(0);
  off.Fill(Row(last, 1), off.epoch());
  EXPECT_FALSE(off.Find(last, 1, &found));
  EXPECT_EQ(off.rows(), 0u);
}

TEST(RowVersionCacheTest, ARowFoundSinceItWasFilledOutlivesALaterUnusedOne) {
  // Rows of ~1.4 KB with 4 KB per shard: a shard holds two.  The three ids share a shard (the
  // cache spreads rows over 16 shards by UuidHash).
  constexpr size_t kShards = 16;
  RowVersionCache cache(kShards * 4096);
  const auto same_shard_as = [&](const Uuid& id) {
    for (;;) {
      const Uuid other = Uuid::Generate();
      if (UuidHash()(other) % kShards == UuidHash()(id) % kShards) return other;
    }
  };
  const std::string title(1000, 'x');
  const Uuid used = Uuid::Generate();
  const Uuid unused = same_shard_as(used);
  const Uuid last = same_shard_as(used);
  Conversation found;
  cache.Fill(Row(used, 1, title), cache.epoch());
  ASSERT_TRUE(cache.Find(used, 1, &found));
  cache.Fill(Row(unused, 1, title), cache.epoch());
  ASSERT_EQ(cache.rows(), 2u);
  cache.Fill(Row(last, 1, title), cache.epoch());  // one must go: not the one found
  EXPECT_EQ(cache.rows(), 2u);
  EXPECT_TRUE(cache.Find(used, 1, &found));
  EXPECT_FALSE(cache.Find(unused, 1, &found));
  EXPECT_TRUE(cache.Find(last, 1, &found));
}

}  // namespace
}  // namespace mnemo::tables
