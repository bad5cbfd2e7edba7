// LabelIndex against std::unordered_map under random inserts, updates and erases (erase's
// backward shift is where an open-addressing map goes wrong).
#include "vector/hnsw/label_index.h"

#include <gtest/gtest.h>

#include <random>
#include <unordered_map>

namespace mnemo::hnsw {
namespace {

TEST(LabelIndexTest, MatchesAReferenceMapUnderRandomOperations) {
  std::mt19937_64 rng(17);
  LabelIndex index;
  std::unordered_map<uint64_t, uint32_t> reference;
  for (int step = 0; step < 200000; ++step) {
    // Labels from a small range collide often; sequential ones exercise the hash spread.
    // Label 0 and the largest label are kept aside and at the table's edge.
    const uint64_t label = step % 3 == 0 ? rng() % 5000
                           : step % 7 == 0 ? UINT64_MAX - rng() % 3
                                           : static_cast<uint64_t>(step);
    switch (rng() % 4) {
      case 0:
      case 1: {
        const uint32_t value = static_cast<uint32_t>(rng());
        index.Upsert(label, value);
        reference[label] = value;
        break;
      }
      case 2:
        EXPECT_EQ(index.Erase(label), reference.erase(label) == 1);
        break;
      default: {
        auto it = reference.find(label);
        EXPECT_EQ(index.Find(label), it == reference.end() ? LabelIndex::kMissing : it->second);
      }
    }
    ASSERT_EQ(index.size(), reference.size());
  }
  size_t seen = 0;
  index.ForEach([&](uint64_t label, uint32_t value) {
    ++seen;
    EXPECT_EQ(reference.at(label), value);
  });
  EXPECT_EQ(seen, reference.size());
  for (const auto& [label, value] : reference) EXPECT_EQ(index.Find(label), value);
}

TEST(LabelIndexTest, EmptyClearedAndReserved) {
  LabelIndex index;
  EXPECT_EQ(index.Find(42), LabelIndex::kMissing);
  EXPECT_FALSE(index.Erase(42));
  index.Reserve(1000);
  for (uint64_t label = 1; label <= 1000; ++label) index.Upsert(label, static_cast<uint32_t>(label * 2));
  EXPECT_EQ(index.size(), 1000u);
  EXPECT_EQ(index.Find(500), 1000u);
  index.Clear();
  EXPECT_EQ(index.size(), 0u);
  EXPECT_EQ(index.Find(500), LabelIndex::kMissing);
  index.Upsert(7, 1);
  EXPECT_EQ(index.Find(7), 1u);
}

}  // namespace
}  // namespace mnemo::hnsw
