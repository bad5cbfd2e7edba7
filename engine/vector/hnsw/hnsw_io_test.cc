// Save/Load round trips and rejection of damaged files.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "mnemo/base/crc32c.h"
#include "vector/hnsw/hnsw_index.h"
#include "vector/hnsw/test_data.h"

namespace mnemo::hnsw {
namespace {

using testing::TestData;

class HnswIoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("mnemo_hnsw_io_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string PathOf(const std::string& name) const { return (dir_ / name).string(); }

  static std::string ReadAll(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  static void WriteAll(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }

  std::filesystem::path dir_;
};

void ExpectSameResults(const HnswIndex& a, const HnswIndex& b, const TestData& data) {
  for (size_t q = 0; q < data.query_count(); ++q) {
    auto ra = a.Search(data.Query(q), 10, 40);
    auto rb = b.Search(data.Query(q), 10, 40);
    ASSERT_TRUE(ra.ok() && rb.ok());
    ASSERT_EQ(ra->hits.size(), rb->hits.size());
    for (size_t i = 0; i < ra->hits.size(); ++i) {
      EXPECT_EQ(ra->hits[i].label, rb->hits[i].label);
      EXPECT_EQ(ra->hits[i].similarity, rb->hits[i].similarity);
    }
    EXPECT_EQ(ra->stats.distance_computations, rb->stats.distance_computations);
  }
}

TEST_F(HnswIoTest, RoundTripGivesIdenticalResults) {
  const TestData data = testing::MakeClustered(3000, 30, 40, 30, 51);
  HnswParams params;
  params.m = 12;
  params.ef_construction = 50;
  params.seed = 1234;
  auto index = testing::BuildIndex(data, params);
  for (uint64_t label = 0; label < data.size(); label += 10) ASSERT_TRUE(index->MarkDeleted(label).ok());
  ASSERT_TRUE(index->MarkDeleted(11).ok());
  ASSERT_TRUE(index->Add(11, data.Row(12)).ok());  // a re-added label: tombstone + live node

  const std::string path = PathOf("index.hnsw");
  ASSERT_TRUE(index->Save(path, 987654321).ok());
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  auto loaded = HnswIndex::Load(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->applied_seqno, 987654321u);
  const HnswIndex& copy = *loaded->index;
  EXPECT_EQ(copy.params().dim, data.dim);
  EXPECT_EQ(copy.params().m, 12u);
  EXPECT_EQ(copy.params().ef_construction, 50u);
  EXPECT_EQ(copy.params().seed, 1234u);
  EXPECT_EQ(copy.size(), index->size());
  EXPECT_EQ(copy.deleted_count(), index->deleted_count());
  EXPECT_TRUE(copy.Contains(11));
  EXPECT_FALSE(copy.Contains(20));
  ExpectSameResults(*index, copy, data);

  // The loaded index keeps working: deletes, re-adds and a second round trip.
  EXPECT_TRUE(loaded->index->MarkDeleted(20).ok());
  EXPECT_TRUE(loaded->index->Add(20, data.Row(20)).ok());
  EXPECT_EQ(loaded->index->Add(21, data.Row(21)).code(), StatusCode::kDuplicateRecord);
  ASSERT_TRUE(loaded->index->Save(path, 5).ok());
  auto again = HnswIndex::Load(path);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->applied_seqno, 5u);
  ExpectSameResults(*loaded->index, *again->index, data);
}

TEST_F(HnswIoTest, EmptyIndexRoundTrip) {
  HnswParams params;
  params.dim = 7;
  auto index = std::move(HnswIndex::Create(params)).value();
  const std::string path = PathOf("empty.hnsw");
  ASSERT_TRUE(index->Save(path, 0).ok());
  auto loaded = HnswIndex::Load(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->index->size(), 0u);
  ASSERT_TRUE(loaded->index->Add(1, std::vector<float>(7, 1.0f)).ok());
  EXPECT_EQ(loaded->index->Search(std::vector<float>(7, 1.0f), 1, 1)->hits.size(), 1u);
}

TEST_F(HnswIoTest, MissingFileIsNotFound) {
  auto loaded = HnswIndex::Load(PathOf("absent.hnsw"));
  ASSERT_FALSE(loaded.ok());
  EXPECT_TRUE(loaded.status().IsNotFound());
}

TEST_F(HnswIoTest, SaveToMissingDirectoryFails) {
  HnswParams params;
  params.dim = 2;
  auto index = std::move(HnswIndex::Create(params)).value();
  EXPECT_FALSE(index->Save(PathOf("no/such/dir/x.hnsw"), 0).ok());
}

class DamagedFileTest : public HnswIoTest {
 protected:
  void SetUp() override {
    HnswIoTest::SetUp();
    data_ = testing::MakeClustered(60, 1, 4, 5, 61);
    auto index = testing::BuildIndex(data_, HnswParams{});
    ASSERT_TRUE(index->MarkDeleted(3).ok());
    path_ = PathOf("good.hnsw");
    ASSERT_TRUE(index->Save(path_, 42).ok());
    good_ = ReadAll(path_);
    ASSERT_GT(good_.size(), 64u);
  }

  Status LoadBytes(const std::string& bytes) {
    const std::string path = PathOf("damaged.hnsw");
    WriteAll(path, bytes);
    auto loaded = HnswIndex::Load(path);
    return loaded.ok() ? Status::Ok() : loaded.status();
  }

  TestData data_;
  std::string path_;
  std::string good_;
};

TEST_F(DamagedFileTest, GoodFileLoads) { EXPECT_TRUE(LoadBytes(good_).ok()); }

TEST_F(DamagedFileTest, EveryTruncationIsRejected) {
  for (size_t length = 0; length < good_.size(); length += length < 128 ? 1 : 3) {
    const Status status = LoadBytes(good_.substr(0, length));
    ASSERT_FALSE(status.ok()) << "length " << length;
    EXPECT_EQ(status.code(), StatusCode::kInternalError);
  }
  EXPECT_NE(LoadBytes(good_.substr(0, 70)).message().find("truncated"), std::string::npos);
}

TEST_F(DamagedFileTest, TrailingBytesAreRejected) {
  EXPECT_FALSE(LoadBytes(good_ + "x").ok());
}

TEST_F(DamagedFileTest, EveryBitFlipIsRejected) {
  // Every bit of the header, then every 11th bit of the rest.
  for (size_t bit = 0; bit < good_.size() * 8; bit += bit < 64 * 8 ? 1 : 11) {
    std::string bytes = good_;
    bytes[bit / 8] = static_cast<char>(bytes[bit / 8] ^ (1 << (bit % 8)));
    ASSERT_FALSE(LoadBytes(bytes).ok()) << "bit " << bit;
  }
}

TEST_F(DamagedFileTest, ClearMessages) {
  std::string bytes = good_;
  bytes[0] = 'X';
  EXPECT_NE(LoadBytes(bytes).message().find("bad magic"), std::string::npos);

  bytes = good_;
  bytes[8] = 9;  // format version 9
  EXPECT_NE(LoadBytes(bytes).message().find("unsupported format version 9"), std::string::npos);

  bytes = good_;
  bytes[bytes.size() / 2] ^= 0x10;
  EXPECT_FALSE(LoadBytes(bytes).ok());

  // A flip in a vector component passes every structural check; only the checksum catches it.
  bytes = good_;
  bytes[good_.size() - 4 - 1] ^= 0x01;  // last byte of the last vector
  EXPECT_NE(LoadBytes(bytes).message().find("checksum mismatch"), std::string::npos);
}

TEST_F(DamagedFileTest, ValidChecksumButBrokenStructureIsRejected) {
  // Re-sign a structurally broken file, as a buggy writer would: the structural checks catch it.
  std::string bytes = good_;
  // node_count (offset 40) claims one node more than the file holds.
  uint32_t node_count;
  std::memcpy(&node_count, bytes.data() + 40, 4);
  ++node_count;
  std::memcpy(bytes.data() + 40, &node_count, 4);
  const uint32_t crc = Crc32c(bytes.data(), bytes.size() - 4);
  std::memcpy(bytes.data() + bytes.size() - 4, &crc, 4);
  EXPECT_FALSE(LoadBytes(bytes).ok());

  // Entry point beyond the node count.
  bytes = good_;
  const uint32_t bad_entry = 100000;
  std::memcpy(bytes.data() + 48, &bad_entry, 4);
  const uint32_t crc2 = Crc32c(bytes.data(), bytes.size() - 4);
  std::memcpy(bytes.data() + bytes.size() - 4, &crc2, 4);
  EXPECT_NE(LoadBytes(bytes).message().find("inconsistent header"), std::string::npos);
}

TEST_F(DamagedFileTest, FailedSaveKeepsThePreviousFile) {
  // A directory squatting on the temp name makes the save fail before the rename.
  std::filesystem::create_directory(path_ + ".tmp");
  HnswParams params;
  params.dim = 8;
  auto other = std::move(HnswIndex::Create(params)).value();
  EXPECT_FALSE(other->Save(path_, 1).ok());
  EXPECT_EQ(ReadAll(path_), good_);
}

}  // namespace
}  // namespace mnemo::hnsw
