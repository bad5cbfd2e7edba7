// Filtered search: allow-lists of ~20%, ~2% and ~0.1% of the labels, through the planner and with
// each strategy forced, with enumerable (set) and non-enumerable (bitset) filters.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
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
constexpr size_t kEf = 64;

class FilteredSearchTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    data_ = new TestData(testing::MakeClustered(10000, 60, 64, 100, 21));
    index_ = testing::BuildIndex(*data_, HnswParams{}).release();
  }
  static void TearDownTestSuite() {
    delete index_;
    delete data_;
  }

  // A random `fraction` of the labels [0, n) (fixed seed).
  static std::vector<uint64_t> Sample(double fraction, uint64_t seed) {
    std::vector<uint64_t> labels(data_->size());
    for (size_t i = 0; i < labels.size(); ++i) labels[i] = i;
    std::shuffle(labels.begin(), labels.end(), std::mt19937_64(seed));
    labels.resize(static_cast<size_t>(std::ceil(fraction * static_cast<double>(labels.size()))));
    return labels;
  }

  // Mean recall@k over the queries; also checks the result count and that every hit is allowed.
  static double Check(const LabelFilter& filter, const std::vector<uint64_t>& allowed,
                      SearchStrategy strategy, bool* any_exact, bool* any_graph) {
    std::vector<bool> is_allowed(data_->size(), false);
    for (uint64_t label : allowed) is_allowed[label] = true;
    double total = 0;
    for (size_t q = 0; q < data_->query_count(); ++q) {
      SearchOptions options;
      options.k = kK;
      options.ef = kEf;
      options.filter = &filter;
      options.strategy = strategy;
      SearchResult result;
      EXPECT_TRUE(index_->Search(data_->Query(q), options, &result).ok());
      EXPECT_EQ(result.hits.size(), std::min(kK, allowed.size()));
      EXPECT_EQ(result.stats.fewer_than_k, allowed.size() < kK);
      for (const SearchHit& hit : result.hits) EXPECT_TRUE(is_allowed[hit.label]) << hit.label;
      *any_exact = *any_exact || result.stats.exact;
      *any_graph = *any_graph || !result.stats.exact;
      const auto truth = BruteForceTopK(*data_, data_->Query(q), kK,
                                        [&](uint64_t label) { return is_allowed[label]; });
      total += Recall(result.hits, truth);
    }
    return total / static_cast<double>(data_->query_count());
  }

  static TestData* data_;
  static HnswIndex* index_;
};

TestData* FilteredSearchTest::data_ = nullptr;
HnswIndex* FilteredSearchTest::index_ = nullptr;

TEST_F(FilteredSearchTest, RecallAndCountAtEverySelectivity) {
  for (double fraction : {0.2, 0.02, 0.001}) {
    const std::vector<uint64_t> allowed =
        Sample(fraction, 100 + static_cast<uint64_t>(fraction * 1000));
    ASSERT_GE(allowed.size(), kK) << fraction;
    LabelSetFilter set_filter(allowed);
    LabelBitsetFilter bitset_filter(data_->size());
    for (uint64_t label : allowed) bitset_filter.Add(label);
    for (const LabelFilter* filter : {static_cast<const LabelFilter*>(&set_filter),
                                      static_cast<const LabelFilter*>(&bitset_filter)}) {
      for (SearchStrategy strategy :
           {SearchStrategy::kAuto, SearchStrategy::kGraph, SearchStrategy::kExact}) {
        bool any_exact = false;
        bool any_graph = false;
        const double recall = Check(*filter, allowed, strategy, &any_exact, &any_graph);
        EXPECT_GE(recall, 0.95) << "fraction " << fraction << " strategy "
                                << static_cast<int>(strategy);
        if (strategy == SearchStrategy::kExact) {
          EXPECT_TRUE(any_exact && !any_graph);
        }
        if (strategy == SearchStrategy::kAuto && fraction == 0.001) {
          EXPECT_TRUE(any_exact);
        }
      }
    }
  }
}

TEST_F(FilteredSearchTest, FewerAllowedThanKReturnsAllOfThem) {
  const std::vector<uint64_t> allowed{17, 4242, 9999};
  LabelSetFilter filter(allowed);
  for (SearchStrategy strategy : {SearchStrategy::kGraph, SearchStrategy::kExact}) {
    bool any_exact = false;
    bool any_graph = false;
    EXPECT_DOUBLE_EQ(Check(filter, allowed, strategy, &any_exact, &any_graph), 1.0);
  }
}

TEST_F(FilteredSearchTest, EmptyAndUnknownAllowListsYieldNothing) {
  LabelSetFilter empty(std::vector<uint64_t>{});
  LabelSetFilter unknown(std::vector<uint64_t>{1u << 30, (1u << 30) + 1});
  for (const LabelFilter* filter :
       {static_cast<const LabelFilter*>(&empty), static_cast<const LabelFilter*>(&unknown)}) {
    auto result = index_->Search(data_->Query(0), kK, kEf, filter);
    ASSERT_TRUE(result.ok());
    EXPECT_TRUE(result->hits.empty());
    EXPECT_TRUE(result->stats.fewer_than_k);
  }
}

// A filter with no count hint and no label list: the planner cannot choose exact up front, so a
// selective one exercises the walk's keep-going rule and the exact fallback.
class ModuloFilter final : public LabelFilter {
 public:
  explicit ModuloFilter(uint64_t modulus) : modulus_(modulus) {}
  bool Allows(uint64_t label) const override { return label % modulus_ == 0; }

 private:
  uint64_t modulus_;
};

TEST_F(FilteredSearchTest, OpaqueFilterStillReturnsK) {
  for (uint64_t modulus : {5u, 50u, 1000u}) {
    ModuloFilter filter(modulus);
    std::vector<uint64_t> allowed;
    for (uint64_t label = 0; label < data_->size(); label += modulus) allowed.push_back(label);
    bool any_exact = false;
    bool any_graph = false;
    EXPECT_GE(Check(filter, allowed, SearchStrategy::kAuto, &any_exact, &any_graph), 0.95)
        << modulus;
  }
}

}  // namespace
}  // namespace mnemo::hnsw
