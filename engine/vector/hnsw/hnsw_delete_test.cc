// Tombstone deletes and compaction.
#include <gtest/gtest.h>

#include <random>
#include <unordered_set>
#include <vector>

#include "vector/hnsw/hnsw_index.h"
#include "vector/hnsw/label_filter.h"
#include "vector/hnsw/test_data.h"

namespace mnemo::hnsw {
namespace {

using testing::BruteForceTopK;
using testing::Recall;
using testing::TestData;

constexpr size_t kK = 10;

TEST(HnswDeleteTest, MarkDeletedReportsUnknownAndIsIdempotent) {
  HnswParams params;
  params.dim = 2;
  auto index = std::move(HnswIndex::Create(params)).value();
  ASSERT_TRUE(index->Add(1, std::vector<float>{1, 0}).ok());
  ASSERT_TRUE(index->Add(2, std::vector<float>{0, 1}).ok());
  EXPECT_TRUE(index->MarkDeleted(99).IsNotFound());
  EXPECT_TRUE(index->MarkDeleted(1).ok());
  EXPECT_TRUE(index->MarkDeleted(1).ok());
  EXPECT_FALSE(index->Contains(1));
  EXPECT_TRUE(index->Contains(2));
  EXPECT_EQ(index->size(), 1u);
  EXPECT_EQ(index->deleted_count(), 1u);
  auto result = index->Search(std::vector<float>{1, 0}, 5, 10);
  ASSERT_EQ(result->hits.size(), 1u);
  EXPECT_EQ(result->hits[0].label, 2u);
}

TEST(HnswDeleteTest, DeletedNeverReturnedAndCompactionRecovers) {
  const TestData data = testing::MakeClustered(8000, 100, 64, 80, 31);
  auto index = testing::BuildIndex(data, HnswParams{});
  const size_t memory_before = index->memory_bytes();

  // Delete 30%, favouring the rows nearest the queries so deletions really hit the answers.
  std::mt19937_64 rng(5);
  std::unordered_set<uint64_t> deleted;
  for (size_t q = 0; q < data.query_count(); ++q) {
    for (uint64_t label : BruteForceTopK(data, data.Query(q), 5)) deleted.insert(label);
  }
  std::uniform_int_distribution<uint64_t> pick(0, data.size() - 1);
  while (deleted.size() < data.size() * 3 / 10) deleted.insert(pick(rng));
  for (uint64_t label : deleted) ASSERT_TRUE(index->MarkDeleted(label).ok());
  EXPECT_EQ(index->size(), data.size() - deleted.size());
  EXPECT_EQ(index->deleted_count(), deleted.size());

  auto live = [&](uint64_t label) { return !deleted.contains(label); };
  auto mean_recall = [&](const HnswIndex& idx, const LabelFilter* filter) {
    double total = 0;
    for (size_t q = 0; q < data.query_count(); ++q) {
      auto result = idx.Search(data.Query(q), kK, 64, filter);
      EXPECT_TRUE(result.ok());
      EXPECT_EQ(result->hits.size(), kK);
      for (const SearchHit& hit : result->hits) EXPECT_FALSE(deleted.contains(hit.label));
      auto allow = [&](uint64_t label) {
        return live(label) && (!filter || filter->Allows(label));
      };
      total += Recall(result->hits, BruteForceTopK(data, data.Query(q), kK, allow));
    }
    return total / static_cast<double>(data.query_count());
  };

  // Tombstones still route the walk, so recall holds up before compaction.
  EXPECT_GE(mean_recall(*index, nullptr), 0.9);
  // An allow-list that includes deleted labels never resurrects them.
  std::vector<uint64_t> mixed;
  for (uint64_t label = 0; label < data.size(); label += 3) mixed.push_back(label);
  LabelSetFilter mixed_filter(mixed);
  mean_recall(*index, &mixed_filter);
  SearchResult exact;
  ASSERT_TRUE(index->ExactSearch(data.Query(0), 100, nullptr, &exact).ok());
  for (const SearchHit& hit : exact.hits) EXPECT_FALSE(deleted.contains(hit.label));

  auto compacted = index->Compact(2);
  ASSERT_TRUE(compacted.ok()) << compacted.status().ToString();
  HnswIndex& fresh = **compacted;
  EXPECT_EQ(fresh.size(), data.size() - deleted.size());
  EXPECT_EQ(fresh.deleted_count(), 0u);
  for (uint64_t label = 0; label < data.size(); ++label) {
    EXPECT_EQ(fresh.Contains(label), !deleted.contains(label)) << label;
  }
  EXPECT_GE(mean_recall(fresh, nullptr), 0.95);
  // Memory follows the live count (vectors + links dominate).
  EXPECT_LE(fresh.memory_bytes(), memory_before * 8 / 10);
  // The original is untouched and still usable.
  EXPECT_EQ(index->deleted_count(), deleted.size());
  EXPECT_FALSE(index->Compact(0).ok());
}

TEST(HnswDeleteTest, DeleteEverythingThenAddAgain) {
  const TestData data = testing::MakeClustered(300, 5, 16, 5, 2);
  auto index = testing::BuildIndex(data, HnswParams{});
  for (uint64_t label = 0; label < data.size(); ++label)
    ASSERT_TRUE(index->MarkDeleted(label).ok());
  auto result = index->Search(data.Query(0), kK, 32);
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(result->hits.empty());
  EXPECT_TRUE(result->stats.fewer_than_k);
  ASSERT_TRUE(index->Add(5, data.Row(5)).ok());
  result = index->Search(data.Row(5), kK, 32);
  ASSERT_EQ(result->hits.size(), 1u);
  EXPECT_EQ(result->hits[0].label, 5u);
  auto compacted = index->Compact();
  ASSERT_TRUE(compacted.ok());
  EXPECT_EQ((*compacted)->size(), 1u);
}

}  // namespace
}  // namespace mnemo::hnsw
