// Concurrent inserts, deletes and searches.  Run under ThreadSanitizer as well when available.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "vector/hnsw/hnsw_index.h"
#include "vector/hnsw/test_data.h"

namespace mnemo::hnsw {
namespace {

using testing::TestData;

TEST(HnswConcurrencyTest, TwoWritersTwoReaders) {
  const TestData data = testing::MakeClustered(6000, 50, 48, 60, 41);
  HnswParams params;
  params.dim = static_cast<uint32_t>(data.dim);
  auto index = std::move(HnswIndex::Create(params)).value();

  std::atomic<size_t> next{0};
  std::atomic<int> writers_left{2};
  std::atomic<size_t> searches{0};
  auto writer = [&] {
    for (size_t i = next.fetch_add(1); i < data.size(); i = next.fetch_add(1)) {
      EXPECT_TRUE(index->Add(i, data.Row(i)).ok());
    }
    writers_left.fetch_sub(1);
  };
  auto reader = [&] {
    SearchResult result;
    SearchOptions options;
    options.k = 10;
    options.ef = 32;
    size_t q = 0;
    while (writers_left.load() > 0) {
      const size_t before = index->size();
      ASSERT_TRUE(index->Search(data.Query(q++ % data.query_count()), options, &result).ok());
      // Every node added before the search started is eligible, so the answer is full once the
      // index held k nodes.
      if (before >= options.k + 2) {  // at most 2 nodes are mid-insert
        EXPECT_EQ(result.hits.size(), options.k);
      }
      for (size_t i = 1; i < result.hits.size(); ++i) {
        EXPECT_GE(result.hits[i - 1].similarity, result.hits[i].similarity);
      }
      searches.fetch_add(1);
    }
  };
  std::vector<std::thread> threads;
  threads.emplace_back(writer);
  threads.emplace_back(writer);
  threads.emplace_back(reader);
  threads.emplace_back(reader);
  for (std::thread& thread : threads) thread.join();
  EXPECT_GT(searches.load(), 0u);

  // Everything is present and findable by its own vector.
  ASSERT_EQ(index->size(), data.size());
  size_t self_found = 0;
  for (size_t i = 0; i < data.size(); ++i) {
    ASSERT_TRUE(index->Contains(i));
    auto result = index->Search(data.Row(i), 1, 64);
    ASSERT_TRUE(result.ok());
    ASSERT_EQ(result->hits.size(), 1u);
    self_found += result->hits[0].label == i ? 1 : 0;
  }
  EXPECT_GE(self_found, data.size() * 99 / 100);
}

TEST(HnswConcurrencyTest, DeletesRacingSearchesAreNeverReturnedAfterwards) {
  const TestData data = testing::MakeClustered(3000, 20, 32, 30, 43);
  auto index = testing::BuildIndex(data, HnswParams{});
  std::atomic<bool> done{false};
  std::vector<std::atomic<bool>> deleted(data.size());
  auto reader = [&] {
    SearchResult result;
    SearchOptions options;
    options.k = 20;
    size_t q = 0;
    while (!done.load()) {
      // Snapshot deletions that completed before the search began.
      std::vector<size_t> gone;
      for (size_t i = 0; i < data.size(); i += 7) {
        if (deleted[i].load()) gone.push_back(i);
      }
      ASSERT_TRUE(index->Search(data.Query(q++ % data.query_count()), options, &result).ok());
      for (const SearchHit& hit : result.hits) {
        for (size_t label : gone) ASSERT_NE(hit.label, label);
      }
    }
  };
  std::thread r1(reader);
  std::thread r2(reader);
  for (size_t i = 0; i < data.size(); i += 7) {
    ASSERT_TRUE(index->MarkDeleted(i).ok());
    deleted[i].store(true);
  }
  done.store(true);
  r1.join();
  r2.join();
}

TEST(HnswConcurrencyTest, SaveAndCompactWaitForWriters) {
  const TestData data = testing::MakeClustered(2000, 1, 16, 10, 47);
  HnswParams params;
  params.dim = static_cast<uint32_t>(data.dim);
  auto index = std::move(HnswIndex::Create(params)).value();
  std::atomic<size_t> next{0};
  auto writer = [&] {
    for (size_t i = next.fetch_add(1); i < data.size(); i = next.fetch_add(1)) {
      EXPECT_TRUE(index->Add(i, data.Row(i)).ok());
    }
  };
  std::thread w1(writer);
  std::thread w2(writer);
  // Snapshots taken mid-stream are self-consistent: every live label in them is searchable.
  for (int round = 0; round < 3; ++round) {
    auto copy = index->Compact();
    ASSERT_TRUE(copy.ok());
    EXPECT_EQ((*copy)->deleted_count(), 0u);
  }
  w1.join();
  w2.join();
  auto copy = index->Compact(2);
  ASSERT_TRUE(copy.ok());
  EXPECT_EQ((*copy)->size(), data.size());
}

}  // namespace
}  // namespace mnemo::hnsw
