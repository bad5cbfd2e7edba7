// External vectors: an index built with AddExternal() reads the caller's vectors in place (no
// copy in its memory), follows RepointVector(), keeps them external through Compact(), and saves
// and loads without them.
#include <gtest/gtest.h>

#include <filesystem>
#include <vector>

#include "testing/temp_dir.h"
#include "vector/hnsw/hnsw_index.h"
#include "vector/hnsw/test_data.h"

namespace mnemo::hnsw {
namespace {

using testing::MakeClustered;
using testing::TestData;

constexpr size_t kK = 10;
constexpr size_t kEf = 64;

class HnswExternalTest : public ::testing::Test {
 protected:
  static const TestData& Data() {
    // Enough rows for the index to fit its quantizer, so codes are saved and loaded too.
    static const TestData data = MakeClustered(3000, 20, 64, 30, 5);
    return data;
  }
  static HnswParams Params() {
    HnswParams params;
    params.dim = static_cast<uint32_t>(Data().dim);
    return params;
  }
  // The same rows as testing::BuildIndex adds, in the same order, pointed at instead of copied
  // (MakeClustered's rows are unit vectors already).
  static std::unique_ptr<HnswIndex> BuildExternal(const std::vector<float>& rows) {
    auto index = std::move(HnswIndex::Create(Params())).value();
    for (size_t i = 0; i < Data().size(); ++i)
      EXPECT_TRUE(index->AddExternal(i, rows.data() + i * Data().dim).ok());
    return index;
  }
  static void ExpectSameAnswers(const HnswIndex& a, const HnswIndex& b) {
    for (size_t q = 0; q < Data().query_count(); ++q) {
      auto x = a.Search(Data().Query(q), kK, kEf);
      auto y = b.Search(Data().Query(q), kK, kEf);
      ASSERT_TRUE(x.ok() && y.ok());
      ASSERT_EQ(x->hits.size(), y->hits.size());
      for (size_t i = 0; i < x->hits.size(); ++i) {
        EXPECT_EQ(x->hits[i].label, y->hits[i].label);
        // Add() normalises its copy again, which may change the last bit of a float.
        EXPECT_NEAR(x->hits[i].similarity, y->hits[i].similarity, 1e-6);
      }
    }
  }

  mnemo::testing::TempDir dir_;
};

TEST_F(HnswExternalTest, ExternalVectorsAreReadInPlaceNotCopied) {
  const std::vector<float> rows = Data().base;
  auto owned = testing::BuildIndex(Data(), Params());
  auto external = BuildExternal(rows);
  ASSERT_TRUE(owned->has_quantizer() && external->has_quantizer());
  EXPECT_EQ(owned->owned_vectors(), Data().size());
  EXPECT_EQ(external->owned_vectors(), 0u);
  const size_t vector_bytes = Data().size() * Data().dim * sizeof(float);
  EXPECT_LE(external->memory_bytes() + vector_bytes, owned->memory_bytes());
  ExpectSameAnswers(*owned, *external);
}

TEST_F(HnswExternalTest, RepointedVectorsAreTheOnesSearchesRead) {
  std::vector<float> rows = Data().base;
  auto index = BuildExternal(rows);
  auto reference = BuildExternal(Data().base);
  // Every vector moves to a copy; the old place is then overwritten.  Answers stay the same
  // only if every read follows the move.
  const std::vector<float> moved = rows;
  for (uint64_t label = 0; label < Data().size(); ++label)
    ASSERT_TRUE(index->RepointVector(label, moved.data() + label * Data().dim));
  std::fill(rows.begin(), rows.end(), 0.0f);
  ExpectSameAnswers(*reference, *index);
  SearchResult exact;
  ASSERT_TRUE(index->ExactSearch(Data().Row(7), 1, nullptr, &exact).ok());
  ASSERT_EQ(exact.hits.size(), 1u);
  EXPECT_EQ(exact.hits[0].label, 7u);
  EXPECT_NEAR(exact.hits[0].similarity, 1.0f, 1e-5);

  EXPECT_FALSE(index->RepointVector(Data().size() + 1, moved.data()));  // no such node
}

TEST_F(HnswExternalTest, ACopyMovedOutIsFreedForTheNextCopy) {
  auto index = testing::BuildIndex(Data(), Params(), 20);
  EXPECT_EQ(index->owned_vectors(), 20u);
  std::vector<float> row(Data().Row(3).begin(), Data().Row(3).end());
  ASSERT_TRUE(index->RepointVector(3, row.data()));
  EXPECT_EQ(index->owned_vectors(), 19u);
  SearchResult exact;
  ASSERT_TRUE(index->ExactSearch(Data().Row(3), 1, nullptr, &exact).ok());
  ASSERT_EQ(exact.hits.size(), 1u);
  EXPECT_EQ(exact.hits[0].label, 3u);
  // The next copy takes the freed slot, and node 3 reads the moved vector, not the slot's new
  // contents.
  ASSERT_TRUE(index->Add(20, Data().Row(20)).ok());
  EXPECT_EQ(index->owned_vectors(), 20u);
  std::fill(row.begin(), row.end(), 0.0f);
  row[0] = 1.0f;
  std::vector<float> axis(Data().dim, 0.0f);
  axis[0] = 1.0f;
  ASSERT_TRUE(index->ExactSearch(axis, 21, nullptr, &exact).ok());
  bool seen = false;
  for (const SearchHit& hit : exact.hits) {
    if (hit.label != 3) continue;
    seen = true;
    EXPECT_NEAR(hit.similarity, 1.0f, 1e-5);
  }
  EXPECT_TRUE(seen);
}

TEST_F(HnswExternalTest, CompactionKeepsVectorsExternal) {
  std::vector<float> rows = Data().base;
  auto index = BuildExternal(rows);
  for (uint64_t label = 0; label < Data().size(); label += 2)
    ASSERT_TRUE(index->MarkDeleted(label).ok());
  auto compacted = index->Compact(2);
  ASSERT_TRUE(compacted.ok()) << compacted.status().ToString();
  HnswIndex& copy = **compacted;
  EXPECT_EQ(copy.size(), Data().size() / 2);
  EXPECT_EQ(copy.owned_vectors(), 0u);
  // The copy reads the caller's vectors: moved, and the old place overwritten, they still answer.
  const std::vector<float> moved = rows;
  for (uint64_t label = 1; label < Data().size(); label += 2)
    ASSERT_TRUE(copy.RepointVector(label, moved.data() + label * Data().dim));
  std::fill(rows.begin(), rows.end(), 0.0f);
  SearchResult exact;
  ASSERT_TRUE(copy.ExactSearch(Data().Row(5), 1, nullptr, &exact).ok());
  ASSERT_EQ(exact.hits.size(), 1u);
  EXPECT_EQ(exact.hits[0].label, 5u);
  EXPECT_NEAR(exact.hits[0].similarity, 1.0f, 1e-5);
}

TEST_F(HnswExternalTest, SavedWithoutTheVectorsAndLoadedAgainstThem) {
  const std::vector<float> rows = Data().base;
  auto external = BuildExternal(rows);
  auto owned = testing::BuildIndex(Data(), Params());
  const std::string external_path = dir_.Sub("external.hnsw");
  const std::string owned_path = dir_.Sub("owned.hnsw");
  ASSERT_TRUE(external->Save(external_path, 3).ok());
  ASSERT_TRUE(owned->Save(owned_path, 3).ok());
  // The owned file holds the vectors, and a checksum for each further MiB they take.
  const uint64_t vector_bytes = Data().size() * Data().dim * sizeof(float);
  const uint64_t extra =
      std::filesystem::file_size(owned_path) - std::filesystem::file_size(external_path);
  EXPECT_GE(extra, vector_bytes);
  EXPECT_LE(extra, vector_bytes + 4 * (vector_bytes / (1 << 20) + 1));

  auto without = HnswIndex::Load(external_path);
  ASSERT_FALSE(without.ok());
  EXPECT_NE(without.status().message().find("external vector"), std::string::npos)
      << without.status().ToString();

  const HnswIndex::ExternalVectors find = [&](uint64_t label) -> const float* {
    return label < Data().size() ? rows.data() + label * Data().dim : nullptr;
  };
  auto loaded = HnswIndex::Load(external_path, {}, PosixFileSystem(), find);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->applied_seqno, 3u);
  EXPECT_TRUE(loaded->index->has_quantizer());
  EXPECT_EQ(loaded->index->owned_vectors(), 0u);
  ExpectSameAnswers(*external, *loaded->index);

  // A file that holds its vectors loads without copying those the caller keeps.
  auto adopted = HnswIndex::Load(owned_path, {}, PosixFileSystem(), find);
  ASSERT_TRUE(adopted.ok()) << adopted.status().ToString();
  EXPECT_EQ(adopted->index->owned_vectors(), 0u);
  ExpectSameAnswers(*owned, *adopted->index);

  // A vector that is gone (only a deleted row's can be) reads as zeros.
  const HnswIndex::ExternalVectors gone_seven = [&](uint64_t label) -> const float* {
    return label == 7 ? nullptr : find(label);
  };
  auto partial = HnswIndex::Load(external_path, {}, PosixFileSystem(), gone_seven);
  ASSERT_TRUE(partial.ok()) << partial.status().ToString();
  SearchResult exact;
  ASSERT_TRUE(partial->index->ExactSearch(Data().Row(7), Data().size(), nullptr, &exact).ok());
  bool seen = false;
  for (const SearchHit& hit : exact.hits) {
    if (hit.label != 7) continue;
    seen = true;
    EXPECT_EQ(hit.similarity, 0.0f);
  }
  EXPECT_TRUE(seen);
}

}  // namespace
}  // namespace mnemo::hnsw
