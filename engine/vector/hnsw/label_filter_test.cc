#include "vector/hnsw/label_filter.h"

#include <gtest/gtest.h>

#include <vector>

namespace mnemo::hnsw {
namespace {

TEST(LabelSetFilterTest, AllowsExactlyTheListedLabelsOnce) {
  const std::vector<uint64_t> labels{5, 9, 5, 1ull << 40};
  LabelSetFilter filter(labels);
  EXPECT_TRUE(filter.Allows(5));
  EXPECT_TRUE(filter.Allows(9));
  EXPECT_TRUE(filter.Allows(1ull << 40));
  EXPECT_FALSE(filter.Allows(6));
  EXPECT_EQ(filter.CountHint(), 3u);
  ASSERT_NE(filter.AllowedLabels(), nullptr);
  EXPECT_EQ(*filter.AllowedLabels(), (std::vector<uint64_t>{5, 9, 1ull << 40}));
}

TEST(LabelBitsetFilterTest, MembershipAndCount) {
  LabelBitsetFilter filter(130);
  filter.Add(0);
  filter.Add(63);
  filter.Add(64);
  filter.Add(129);
  filter.Add(64);   // counted once
  filter.Add(130);  // outside the universe: ignored
  EXPECT_TRUE(filter.Allows(0));
  EXPECT_TRUE(filter.Allows(63));
  EXPECT_TRUE(filter.Allows(64));
  EXPECT_TRUE(filter.Allows(129));
  EXPECT_FALSE(filter.Allows(1));
  EXPECT_FALSE(filter.Allows(130));
  EXPECT_FALSE(filter.Allows(~uint64_t{0}));
  EXPECT_EQ(filter.CountHint(), 4u);
  EXPECT_EQ(filter.AllowedLabels(), nullptr);
}

}  // namespace
}  // namespace mnemo::hnsw
