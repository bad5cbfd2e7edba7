#include "vector/hnsw/hnsw_index.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "kernels/distance.h"
#include "vector/hnsw/test_data.h"

namespace mnemo::hnsw {
namespace {

using testing::BruteForceTopK;
using testing::BuildIndex;
using testing::MakeClustered;
using testing::Recall;
using testing::TestData;

constexpr size_t kK = 10;

double MeanRecall(const HnswIndex& index, const TestData& data, size_t ef) {
  double total = 0;
  for (size_t q = 0; q < data.query_count(); ++q) {
    auto result = index.Search(data.Query(q), kK, ef);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    total += Recall(result->hits, BruteForceTopK(data, data.Query(q), kK));
  }
  return total / static_cast<double>(data.query_count());
}

TEST(HnswParamsTest, RejectsOutOfRangeValues) {
  HnswParams params;
  EXPECT_TRUE(params.Validate().IsValidationError());  // dim 0
  params.dim = 8;
  EXPECT_TRUE(params.Validate().ok());
  params.m = 1;
  EXPECT_EQ(params.Validate().field(), "m");
  params.m = 16;
  params.ef_construction = 0;
  EXPECT_EQ(params.Validate().field(), "ef_construction");
  EXPECT_FALSE(HnswIndex::Create(params).ok());
}

TEST(HnswIndexTest, RecallOnClusteredData) {
  const TestData data = MakeClustered(10000, 200, 96, 100, 7);
  auto index = BuildIndex(data, HnswParams{});
  ASSERT_NE(index, nullptr);
  EXPECT_EQ(index->size(), data.size());
  EXPECT_GE(MeanRecall(*index, data, 64), 0.95);
  // Larger beams never hurt much and usually help.
  EXPECT_GE(MeanRecall(*index, data, 200), 0.98);
}

TEST(HnswIndexTest, RecallAtEmbeddingDimension) {
  const TestData data = MakeClustered(2000, 40, 1536, 40, 11);
  auto index = BuildIndex(data, HnswParams{});
  ASSERT_NE(index, nullptr);
  EXPECT_GE(MeanRecall(*index, data, 64), 0.95);
}

TEST(HnswIndexTest, HitsAreSortedAndCarryExactSimilarities) {
  const TestData data = MakeClustered(2000, 20, 32, 20, 3);
  auto index = BuildIndex(data, HnswParams{});
  for (size_t q = 0; q < data.query_count(); ++q) {
    auto result = index->Search(data.Query(q), kK, 32);
    ASSERT_TRUE(result.ok());
    ASSERT_EQ(result->hits.size(), kK);
    EXPECT_FALSE(result->stats.fewer_than_k);
    EXPECT_FALSE(result->stats.exact);
    EXPECT_GT(result->stats.distance_computations, kK);
    EXPECT_GT(result->stats.nodes_visited, 0u);
    for (size_t i = 0; i < kK; ++i) {
      if (i > 0) {
        EXPECT_GE(result->hits[i - 1].similarity, result->hits[i].similarity);
      }
      const float expected =
          kernels::Dot(data.Query(q).data(), data.Row(result->hits[i].label).data(), data.dim);
      EXPECT_NEAR(result->hits[i].similarity, expected, 1e-4);
    }
  }
}

TEST(HnswIndexTest, ExactSearchMatchesBruteForce) {
  const TestData data = MakeClustered(3000, 20, 48, 30, 5);
  auto index = BuildIndex(data, HnswParams{});
  SearchResult result;
  for (size_t q = 0; q < data.query_count(); ++q) {
    ASSERT_TRUE(index->ExactSearch(data.Query(q), kK, nullptr, &result).ok());
    EXPECT_TRUE(result.stats.exact);
    EXPECT_EQ(result.stats.scanned, data.size());
    EXPECT_DOUBLE_EQ(Recall(result.hits, BruteForceTopK(data, data.Query(q), kK)), 1.0);
  }
}

TEST(HnswIndexTest, BuildIsDeterministic) {
  const TestData data = MakeClustered(1500, 10, 24, 15, 9);
  auto a = BuildIndex(data, HnswParams{});
  auto b = BuildIndex(data, HnswParams{});
  for (size_t q = 0; q < data.query_count(); ++q) {
    auto ra = a->Search(data.Query(q), kK, 16);
    auto rb = b->Search(data.Query(q), kK, 16);
    ASSERT_EQ(ra->hits.size(), rb->hits.size());
    for (size_t i = 0; i < ra->hits.size(); ++i) {
      EXPECT_EQ(ra->hits[i].label, rb->hits[i].label);
      EXPECT_EQ(ra->hits[i].similarity, rb->hits[i].similarity);
    }
  }
}

TEST(HnswIndexTest, EmptyIndexReturnsNoHits) {
  HnswParams params;
  params.dim = 4;
  auto index = std::move(HnswIndex::Create(params)).value();
  const std::vector<float> query{1, 0, 0, 0};
  auto result = index->Search(query, 5, 10);
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(result->hits.empty());
  EXPECT_TRUE(result->stats.fewer_than_k);
  SearchResult exact;
  ASSERT_TRUE(index->ExactSearch(query, 5, nullptr, &exact).ok());
  EXPECT_TRUE(exact.hits.empty());
  EXPECT_EQ(index->size(), 0u);
  EXPECT_EQ(index->deleted_count(), 0u);
}

TEST(HnswIndexTest, KLargerThanSizeReturnsEverything) {
  const TestData data = MakeClustered(7, 1, 8, 2, 1);
  auto index = BuildIndex(data, HnswParams{});
  auto result = index->Search(data.Query(0), 50, 10);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->hits.size(), 7u);
  EXPECT_TRUE(result->stats.fewer_than_k);
  EXPECT_TRUE(result->stats.exact);  // so small an index is scanned, not walked
}

TEST(HnswIndexTest, PlannerScansSmallIndexesAndWalksLargeOnes) {
  const TestData data = MakeClustered(3000, 1, 16, 10, 19);
  auto index = BuildIndex(data, HnswParams{}, 500);
  auto small = index->Search(data.Query(0), kK, 64);  // 500 nodes <= 16 * 64
  ASSERT_TRUE(small.ok());
  EXPECT_TRUE(small->stats.exact);
  EXPECT_DOUBLE_EQ(Recall(small->hits, BruteForceTopK(data, data.Query(0), kK,
                                                      [](uint64_t label) { return label < 500; })),
                   1.0);
  for (size_t i = 500; i < data.size(); ++i) ASSERT_TRUE(index->Add(i, data.Row(i)).ok());
  auto large = index->Search(data.Query(0), kK, 64);  // 3000 nodes > 16 * 64
  ASSERT_TRUE(large.ok());
  EXPECT_FALSE(large->stats.exact);
  EXPECT_EQ(large->stats.ef_used, 64u);
}

TEST(HnswIndexTest, ShortWalkFallsBackToExactUnlessThresholded) {
  const TestData data = MakeClustered(7, 1, 8, 2, 1);
  auto index = BuildIndex(data, HnswParams{});
  SearchOptions options;
  options.k = 50;
  options.strategy = SearchStrategy::kGraph;  // kAuto would scan so small an index up front
  SearchResult result;
  // -1 (the least possible cosine) sets no threshold: a short walk is completed exactly.
  for (float no_threshold : {-std::numeric_limits<float>::infinity(), -1.0f, -2.0f}) {
    options.min_similarity = no_threshold;
    ASSERT_TRUE(index->Search(data.Query(0), options, &result).ok());
    EXPECT_EQ(result.hits.size(), 7u);
    EXPECT_TRUE(result.stats.fell_back_to_exact);
    EXPECT_TRUE(result.stats.exact);
  }
  options.min_similarity = -0.5f;
  ASSERT_TRUE(index->Search(data.Query(0), options, &result).ok());
  EXPECT_FALSE(result.stats.fell_back_to_exact);
  EXPECT_TRUE(result.stats.fewer_than_k);
}

TEST(HnswIndexTest, SingleNode) {
  HnswParams params;
  params.dim = 3;
  auto index = std::move(HnswIndex::Create(params)).value();
  ASSERT_TRUE(index->Add(42, std::vector<float>{0, 3, 4}).ok());
  auto result = index->Search(std::vector<float>{0, 3, 4}, 1, 1);
  ASSERT_TRUE(result.ok());
  ASSERT_EQ(result->hits.size(), 1u);
  EXPECT_EQ(result->hits[0].label, 42u);
  EXPECT_NEAR(result->hits[0].similarity, 1.0f, 1e-6);  // stored normalised
}

TEST(HnswIndexTest, RejectsBadArguments) {
  HnswParams params;
  params.dim = 4;
  auto index = std::move(HnswIndex::Create(params)).value();
  const std::vector<float> good{1, 2, 3, 4};
  ASSERT_TRUE(index->Add(1, good).ok());

  EXPECT_TRUE(index->Add(2, std::vector<float>{1, 2, 3}).IsValidationError());
  EXPECT_TRUE(index->Add(2, std::vector<float>{0, 0, 0, 0}).IsValidationError());
  EXPECT_TRUE(index->Add(2, std::vector<float>{1, NAN, 0, 0}).IsValidationError());
  EXPECT_TRUE(index->Add(2, std::vector<float>{1, INFINITY, 0, 0}).IsValidationError());

  auto k_zero = index->Search(good, 0, 10);
  ASSERT_FALSE(k_zero.ok());
  EXPECT_EQ(k_zero.status().field(), "k");
  EXPECT_FALSE(index->Search(std::vector<float>{1, 2}, 1, 10).ok());
  EXPECT_FALSE(index->Search(std::vector<float>{0, 0, 0, 0}, 1, 10).ok());
  EXPECT_EQ(index->size(), 1u);
}

TEST(HnswIndexTest, DuplicateLiveLabelIsRejected) {
  HnswParams params;
  params.dim = 2;
  auto index = std::move(HnswIndex::Create(params)).value();
  ASSERT_TRUE(index->Add(7, std::vector<float>{1, 0}).ok());
  const Status dup = index->Add(7, std::vector<float>{0, 1});
  EXPECT_EQ(dup.code(), StatusCode::kDuplicateRecord);
  EXPECT_EQ(index->size(), 1u);
  // The original vector is untouched.
  auto result = index->Search(std::vector<float>{1, 0}, 1, 4);
  EXPECT_NEAR(result->hits[0].similarity, 1.0f, 1e-6);

  // A deleted label may be added again; the new vector replaces the old one.
  ASSERT_TRUE(index->MarkDeleted(7).ok());
  ASSERT_TRUE(index->Add(7, std::vector<float>{0, 1}).ok());
  EXPECT_TRUE(index->Contains(7));
  EXPECT_EQ(index->size(), 1u);
  EXPECT_EQ(index->deleted_count(), 1u);
  result = index->Search(std::vector<float>{0, 1}, 5, 4);
  ASSERT_EQ(result->hits.size(), 1u);
  EXPECT_EQ(result->hits[0].label, 7u);
  EXPECT_NEAR(result->hits[0].similarity, 1.0f, 1e-6);
}

TEST(HnswIndexTest, MinSimilarityDropsWeakHitsAndKeepsRecall) {
  const TestData data = MakeClustered(5000, 100, 32, 20, 13);
  auto index = BuildIndex(data, HnswParams{});
  for (float threshold : {0.5f, 0.8f, 0.9f, 0.99f}) {
    SearchOptions options;
    options.k = kK;
    options.ef = 64;
    options.min_similarity = threshold;
    size_t wanted = 0;
    size_t found = 0;
    for (size_t q = 0; q < data.query_count(); ++q) {
      SearchResult result;
      SearchResult exact;
      ASSERT_TRUE(index->Search(data.Query(q), options, &result).ok());
      ASSERT_TRUE(index->ExactSearch(data.Query(q), kK, nullptr, &exact).ok());
      for (const SearchHit& hit : result.hits) EXPECT_GE(hit.similarity, threshold);
      std::vector<uint64_t> passing;
      for (const SearchHit& hit : exact.hits) {
        if (hit.similarity >= threshold) passing.push_back(hit.label);
      }
      wanted += passing.size();
      found += static_cast<size_t>(Recall(result.hits, passing) * passing.size() + 0.5);
    }
    if (wanted > 0) {
      EXPECT_GE(static_cast<double>(found) / wanted, 0.95) << threshold;
    }
  }
  SearchOptions options;
  options.min_similarity = NAN;
  SearchResult result;
  EXPECT_TRUE(index->Search(data.Query(0), options, &result).IsValidationError());
}

TEST(HnswIndexTest, MemoryGrowsWithNodes) {
  const TestData data = MakeClustered(3000, 1, 64, 10, 17);
  auto index = BuildIndex(data, HnswParams{});
  const size_t bytes = index->memory_bytes();
  // At least the vectors and level-0 links, and not absurdly more (blocks are ~4 MiB).
  EXPECT_GE(bytes, data.size() * (64 * 4 + 32 * 4));
  EXPECT_LE(bytes, data.size() * (64 * 4 + 32 * 4) * 2 + (size_t{8} << 20));
}

}  // namespace
}  // namespace mnemo::hnsw
