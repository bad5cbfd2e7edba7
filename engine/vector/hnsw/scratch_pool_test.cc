#include "vector/hnsw/scratch_pool.h"

#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "vector/hnsw/visited_table.h"

namespace mnemo::hnsw {
namespace {

TEST(VisitedTableTest, ResetForgetsMarksAcrossEpochWrap) {
  VisitedTable table;
  table.Reset(10);
  EXPECT_TRUE(table.Visit(3));
  EXPECT_FALSE(table.Visit(3));
  EXPECT_TRUE(table.IsVisited(3));
  // Drive the 16-bit epoch through several wrap-arounds; a mark never survives a Reset.
  for (int walk = 0; walk < 200000; ++walk) {
    table.Reset(10);
    ASSERT_FALSE(table.IsVisited(3)) << walk;
    if (walk % 3 == 0) table.Visit(3);
  }
  table.Reset(1000);  // grows; new ids start unvisited
  EXPECT_FALSE(table.IsVisited(999));
  EXPECT_TRUE(table.Visit(999));
}

TEST(ScratchPoolTest, ReusesReleasedObjectsAndOverflows) {
  ScratchPool<std::vector<int>> pool;
  std::vector<int>* first;
  {
    auto lease = pool.Acquire();
    lease->push_back(1);
    first = &*lease;
  }
  {
    auto lease = pool.Acquire();
    EXPECT_EQ(&*lease, first);  // same thread gets its slot back
    EXPECT_EQ(lease->size(), 1u);
  }
  // More leases than slots: all distinct; the extra ones are temporary.
  std::vector<ScratchPool<std::vector<int>>::Lease> leases;
  std::set<std::vector<int>*> distinct;
  for (size_t i = 0; i < ScratchPool<std::vector<int>>::kSlots + 5; ++i) {
    leases.push_back(pool.Acquire());
    distinct.insert(&*leases.back());
  }
  EXPECT_EQ(distinct.size(), leases.size());
}

}  // namespace
}  // namespace mnemo::hnsw
