// Exact scans on codes: the answer must equal the float32 scan's exactly (same rows, same
// similarities), whatever the quantizer's fit (rows that clamp included), with filters and
// thresholds; and the resources several indexes share (scratch, one quantizer adopted later).
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <random>
#include <vector>

#include "vector/hnsw/hnsw_index.h"
#include "vector/hnsw/label_filter.h"
#include "vector/hnsw/test_data.h"

namespace mnemo::hnsw {
namespace {

using testing::TestData;

constexpr size_t kDim = 64;

HnswParams Params() {
  HnswParams params;
  params.dim = kDim;
  params.m = 8;
  params.ef_construction = 32;
  return params;
}

// Exact search on float32 vectors, the reference.
SearchResult FloatScan(const HnswIndex& index, std::span<const float> query, size_t k,
                       const LabelFilter* filter, float min_similarity) {
  SearchOptions options;
  options.k = k;
  options.filter = filter;
  options.min_similarity = min_similarity;
  options.strategy = SearchStrategy::kExact;
  options.compressed = false;
  SearchResult result;
  EXPECT_TRUE(index.Search(query, options, &result).ok());
  EXPECT_FALSE(result.stats.compressed);
  return result;
}

SearchResult CodeScan(const HnswIndex& index, std::span<const float> query, size_t k,
                      const LabelFilter* filter, float min_similarity) {
  SearchOptions options;
  options.k = k;
  options.filter = filter;
  options.min_similarity = min_similarity;
  options.strategy = SearchStrategy::kExact;
  SearchResult result;
  EXPECT_TRUE(index.Search(query, options, &result).ok());
  return result;
}

// Both scans over every query of `data` agree hit for hit; returns the rows re-ranked in all.
uint64_t ExpectSameAnswers(const HnswIndex& index, const TestData& data, size_t k,
                           const LabelFilter* filter, float min_similarity) {
  uint64_t reranked = 0;
  for (size_t q = 0; q < data.query_count(); ++q) {
    const SearchResult want = FloatScan(index, data.Query(q), k, filter, min_similarity);
    const SearchResult got = CodeScan(index, data.Query(q), k, filter, min_similarity);
    EXPECT_TRUE(got.stats.exact);
    EXPECT_TRUE(got.stats.compressed) << "the scan did not use the codes";
    reranked += got.stats.reranked;
    EXPECT_EQ(got.stats.fewer_than_k, want.stats.fewer_than_k);
    EXPECT_EQ(got.hits.size(), want.hits.size()) << "query " << q;
    for (size_t i = 0; i < std::min(got.hits.size(), want.hits.size()); ++i) {
      EXPECT_EQ(got.hits[i].label, want.hits[i].label) << "query " << q << " hit " << i;
      EXPECT_EQ(got.hits[i].similarity, want.hits[i].similarity) << "query " << q << " hit " << i;
    }
  }
  return reranked;
}

TEST(HnswCodeScanTest, SameAnswersAsTheFloatScanAndFewRowsReranked) {
  const TestData data = testing::MakeClustered(3000, 40, kDim, 30, 11);
  auto index = testing::BuildIndex(data, Params());
  ASSERT_TRUE(index->has_quantizer());
  for (const size_t k : {1, 10, 100}) {
    const uint64_t reranked = ExpectSameAnswers(*index, data, k, nullptr, -1.0f);
    // The bounds rule out most rows: far fewer float32 similarities than rows scanned.
    EXPECT_LT(reranked, data.query_count() * data.size() / 4) << "k " << k;
  }
}

TEST(HnswCodeScanTest, FiltersAndThresholdsGiveTheFloatScansAnswer) {
  const TestData data = testing::MakeClustered(3000, 40, kDim, 30, 12);
  auto index = testing::BuildIndex(data, Params());
  std::vector<uint64_t> labels;
  for (uint64_t label = 0; label < data.size(); label += 3) labels.push_back(label);
  const LabelSetFilter every_third(labels);
  ExpectSameAnswers(*index, data, 10, &every_third, -1.0f);
  ExpectSameAnswers(*index, data, 10, nullptr, 0.5f);
  ExpectSameAnswers(*index, data, 10, &every_third, 0.3f);
  // A threshold no row reaches: empty, and no float32 similarity was needed to know it.
  const SearchResult none = CodeScan(*index, data.Query(0), 10, nullptr, 0.9999f);
  EXPECT_TRUE(none.hits.empty() || none.hits[0].similarity >= 0.9999f);
}

TEST(HnswCodeScanTest, RowsThatClampStayExact) {
  // A quantizer fitted on a narrow slice of another distribution: most of this data falls outside
  // its ranges and clamps, so the codes are poor; the per-row error bounds must still hold.
  const TestData data = testing::MakeClustered(2000, 30, kDim, 20, 13);
  const TestData other = testing::MakeClustered(300, 1, kDim, 2, 99);
  auto quantizer = std::make_shared<const ScalarQuantizer>(ScalarQuantizer::Fit(
      kDim, 300, [&](size_t j) { return other.Row(j).data(); }));
  HnswResources resources;
  resources.quantizer = quantizer;
  resources.fit_own_quantizer = false;
  auto created = HnswIndex::Create(Params(), resources);
  ASSERT_TRUE(created.ok());
  auto index = std::move(created).value();
  for (size_t i = 0; i < data.size(); ++i) ASSERT_TRUE(index->Add(i, data.Row(i)).ok());
  ASSERT_EQ(index->quantizer(), quantizer.get());
  ExpectSameAnswers(*index, data, 10, nullptr, -1.0f);
}

TEST(HnswCodeScanTest, SharedResourcesAndAQuantizerAdoptedLater) {
  const TestData data = testing::MakeClustered(2600, 20, kDim, 20, 14);
  HnswResources resources;
  resources.scratch = std::make_shared<ScratchPool<internal::SearchScratch>>();
  resources.fit_own_quantizer = false;
  auto a = std::move(HnswIndex::Create(Params(), resources)).value();
  auto b = std::move(HnswIndex::Create(Params(), resources)).value();
  for (size_t i = 0; i < data.size(); ++i) {
    ASSERT_TRUE((i % 2 == 0 ? a : b)->Add(i, data.Row(i)).ok());
  }
  // Neither fitted a quantizer of its own, although a holds more than kQuantizerMinNodes / 2 and
  // together they hold more than kQuantizerMinNodes.
  EXPECT_FALSE(a->has_quantizer());
  EXPECT_FALSE(b->has_quantizer());
  auto shared = std::make_shared<const ScalarQuantizer>(ScalarQuantizer::Fit(
      kDim, data.size(), [&](size_t j) { return data.Row(j).data(); }));
  a->AdoptQuantizer(shared);
  b->AdoptQuantizer(shared);
  EXPECT_EQ(a->quantizer(), shared.get());
  EXPECT_EQ(b->quantizer(), shared.get());
  // Adopting again is a no-op.
  a->AdoptQuantizer(std::make_shared<const ScalarQuantizer>(*shared));
  EXPECT_EQ(a->quantizer(), shared.get());
  ExpectSameAnswers(*a, data, 10, nullptr, -1.0f);
  ExpectSameAnswers(*b, data, 10, nullptr, -1.0f);
  // Rows added after the adoption are encoded with the shared quantizer.
  ASSERT_TRUE(a->Add(100000, data.Row(1)).ok());
  const SearchResult self = CodeScan(*a, data.Row(1), 1, nullptr, -1.0f);
  ASSERT_EQ(self.hits.size(), 1u);
  EXPECT_NEAR(self.hits[0].similarity, 1.0f, 1e-5);
}

TEST(HnswCodeScanTest, LearningCostModelStaysPositiveAndPlansStayCorrect) {
  const TestData data = testing::MakeClustered(3000, 30, kDim, 20, 15);
  auto index = testing::BuildIndex(data, Params());
  CostModel costs(kDim);
  std::vector<uint64_t> few;
  for (uint64_t label = 0; label < 40; ++label) few.push_back(label * 7);
  const LabelSetFilter small(few);
  for (int round = 0; round < 50; ++round) {
    for (size_t q = 0; q < data.query_count(); ++q) {
      SearchOptions options;
      options.k = 10;
      options.ef = 32;
      options.costs = &costs;
      options.filter = round % 2 == 0 ? &small : nullptr;
      SearchResult result;
      ASSERT_TRUE(index->Search(data.Query(q), options, &result).ok());
      ASSERT_EQ(result.hits.size(), 10u);
      // A 40-row allow-list is always cheaper to scan than to walk at 1/75 selectivity.
      if (round % 2 == 0) {
        EXPECT_TRUE(result.stats.exact);
      }
    }
  }
  EXPECT_GT(costs.walk_step_ns(), 0);
  EXPECT_GT(costs.steps_per_effort(false), 0);
  EXPECT_GT(costs.steps_per_effort(true), 0);
  EXPECT_GT(costs.float_row_ns(), 0);
  EXPECT_GT(costs.code_row_ns(), 0);
}

}  // namespace
}  // namespace mnemo::hnsw
