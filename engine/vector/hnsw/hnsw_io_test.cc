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
  for (uint64_t label = 0; label < data.size(); label += 10)
    ASSERT_TRUE(index->MarkDeleted(label).ok());
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

// A file system that forwards to the POSIX one, so that Load() reads the file into memory
// instead of mapping it (it maps only through PosixFileSystem()).
class ForwardingFileSystem : public FileSystem {
 public:
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override {
    return PosixFileSystem().NewWritableFile(path);
  }
  Result<std::unique_ptr<SequentialFile>> NewSequentialFile(const std::string& path) override {
    return PosixFileSystem().NewSequentialFile(path);
  }
  Result<std::unique_ptr<RandomRWFile>> OpenRandomRWFile(const std::string& path,
                                                         bool create) override {
    return PosixFileSystem().OpenRandomRWFile(path, create);
  }
  Status Rename(const std::string& from, const std::string& to) override {
    return PosixFileSystem().Rename(from, to);
  }
  Status Remove(const std::string& path) override { return PosixFileSystem().Remove(path); }
  Status CreateDir(const std::string& path) override { return PosixFileSystem().CreateDir(path); }
  Status SyncDir(const std::string& path) override { return PosixFileSystem().SyncDir(path); }
  Result<std::vector<std::string>> ListDir(const std::string& path) override {
    return PosixFileSystem().ListDir(path);
  }
};

HnswParams MappedParams(uint32_t dim) {
  HnswParams params;
  params.dim = dim;
  params.m = 8;
  params.ef_construction = 40;
  params.seed = 99;
  return params;
}

// Rows [from, to) of `data` added in order, then every 7th of them deleted.
void AddAndDelete(HnswIndex& index, const TestData& data, size_t from, size_t to) {
  for (size_t row = from; row < to; ++row) {
    const Status added = index.Add(row, data.Row(row));
    ASSERT_TRUE(added.ok()) << "row " << row << ": " << added.ToString();
  }
  for (size_t row = from; row < to; row += 7) ASSERT_TRUE(index.MarkDeleted(row).ok());
}

TEST_F(HnswIoTest, MappedGraphModifiedAndSavedAgainEqualsOneNeverSaved) {
  // Enough rows for the quantizer to be fitted before the save, and records spanning several
  // chunks of the store.
  const TestData data = testing::MakeClustered(4000, 30, 24, 20, 52);
  auto first = std::move(HnswIndex::Create(MappedParams(static_cast<uint32_t>(data.dim)))).value();
  AddAndDelete(*first, data, 0, 2500);
  const std::string path = PathOf("mapped.hnsw");
  ASSERT_TRUE(first->Save(path, 1).ok());
  first.reset();

  auto mapped = HnswIndex::Load(path);
  ASSERT_TRUE(mapped.ok()) << mapped.status().ToString();
  HnswIndex& graph = *mapped->index;
  // Writes after a mapped load: inserts that re-link mapped records, deletes, a re-added label.
  AddAndDelete(graph, data, 2500, 4000);
  ASSERT_TRUE(graph.MarkDeleted(3).ok());
  ASSERT_TRUE(graph.Add(3, data.Row(4)).ok());
  const std::string resaved = PathOf("resaved.hnsw");
  ASSERT_TRUE(graph.Save(resaved, 2).ok());

  auto never_saved =
      std::move(HnswIndex::Create(MappedParams(static_cast<uint32_t>(data.dim)))).value();
  AddAndDelete(*never_saved, data, 0, 2500);
  AddAndDelete(*never_saved, data, 2500, 4000);
  ASSERT_TRUE(never_saved->MarkDeleted(3).ok());
  ASSERT_TRUE(never_saved->Add(3, data.Row(4)).ok());
  ExpectSameResults(*never_saved, graph, data);

  // Byte for byte the file the never-saved graph writes, and it loads to the same answers.
  const std::string reference = PathOf("reference.hnsw");
  ASSERT_TRUE(never_saved->Save(reference, 2).ok());
  EXPECT_TRUE(ReadAll(resaved) == ReadAll(reference));
  auto reloaded = HnswIndex::Load(resaved);
  ASSERT_TRUE(reloaded.ok()) << reloaded.status().ToString();
  ExpectSameResults(*never_saved, *reloaded->index, data);
  // The file the mapped graph came from was replaced, never written in place.
  ASSERT_TRUE(graph.Save(path, 3).ok());
  ExpectSameResults(*never_saved, graph, data);
}

TEST_F(HnswIoTest, MappedAndReadLoadsAnswerAlike) {
  const TestData data = testing::MakeClustered(3000, 20, 16, 20, 53);
  auto index = testing::BuildIndex(data, MappedParams(static_cast<uint32_t>(data.dim)));
  const std::string path = PathOf("index.hnsw");
  ASSERT_TRUE(index->Save(path, 7).ok());
  ForwardingFileSystem other_fs;
  auto read = HnswIndex::Load(path, {}, other_fs, nullptr, {.defer_record_check = true});
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_FALSE(read->index->record_check_pending());  // read into memory: checked at once
  auto mapped = HnswIndex::Load(path);
  ASSERT_TRUE(mapped.ok()) << mapped.status().ToString();
  ExpectSameResults(*index, *read->index, data);
  ExpectSameResults(*index, *mapped->index, data);
  // Only the read copy holds the records in the index's own memory.
  EXPECT_GT(read->index->memory_bytes(), mapped->index->memory_bytes() + 3000 * 64);
}

TEST_F(HnswIoTest, FlippedRecordByteIsFoundAtLoadOrByTheDeferredCheck) {
  const TestData data = testing::MakeClustered(3000, 10, 16, 20, 54);
  auto index = testing::BuildIndex(data, MappedParams(static_cast<uint32_t>(data.dim)));
  const std::string path = PathOf("index.hnsw");
  ASSERT_TRUE(index->Save(path, 7).ok());
  std::string bytes = ReadAll(path);
  // A byte in the middle of the records: no structural check reads it.
  bytes[bytes.size() / 2] ^= 0x04;
  const std::string damaged = PathOf("damaged.hnsw");
  WriteAll(damaged, bytes);

  auto at_once = HnswIndex::Load(damaged);
  ASSERT_FALSE(at_once.ok());
  EXPECT_NE(at_once.status().message().find("checksum mismatch in bytes"), std::string::npos)
      << at_once.status().ToString();

  auto deferred =
      HnswIndex::Load(damaged, {}, PosixFileSystem(), nullptr, {.defer_record_check = true});
  ASSERT_TRUE(deferred.ok()) << deferred.status().ToString();
  EXPECT_TRUE(deferred->index->record_check_pending());
  // Searches are safe on the damaged records meanwhile.
  for (size_t q = 0; q < data.query_count(); ++q)
    EXPECT_TRUE(deferred->index->Search(data.Query(q), 10, 40).ok());
  const Status checked = deferred->index->CheckRecords();
  EXPECT_EQ(checked.code(), StatusCode::kInternalError);
  EXPECT_NE(checked.message().find(damaged), std::string::npos) << checked.ToString();
  EXPECT_NE(checked.message().find("checksum mismatch"), std::string::npos) << checked.ToString();
  EXPECT_FALSE(deferred->index->record_check_pending());
  EXPECT_TRUE(deferred->index->CheckRecords().ok());  // once only
  // Compact() gives a sound graph from the checked labels and vectors.
  auto rebuilt = deferred->index->Compact(1);
  ASSERT_TRUE(rebuilt.ok());
  ExpectSameResults(*index->Compact(1).value(), **rebuilt, data);
}

TEST_F(HnswIoTest, DeferredCheckReadsTheFileNotTheModifiedMemory) {
  const TestData data = testing::MakeClustered(3000, 10, 16, 20, 55);
  auto index = testing::BuildIndex(data, MappedParams(static_cast<uint32_t>(data.dim)), 2000);
  const std::string path = PathOf("index.hnsw");
  ASSERT_TRUE(index->Save(path, 7).ok());
  auto deferred =
      HnswIndex::Load(path, {}, PosixFileSystem(), nullptr, {.defer_record_check = true});
  ASSERT_TRUE(deferred.ok()) << deferred.status().ToString();
  // Inserts rewrite links of mapped records, and a save replaces the file meanwhile.
  for (size_t row = 2000; row < 3000; ++row)
    ASSERT_TRUE(deferred->index->Add(row, data.Row(row)).ok());
  ASSERT_TRUE(deferred->index->Save(path, 8).ok());
  EXPECT_TRUE(deferred->index->CheckRecords().ok());
}

TEST_F(HnswIoTest, VersionThreeFilesLoadAndSaveAsTheCurrentFormat) {
  const TestData data = testing::MakeClustered(3000, 20, 16, 20, 56);
  auto owned = testing::BuildIndex(data, MappedParams(static_cast<uint32_t>(data.dim)));
  ASSERT_TRUE(owned->MarkDeleted(5).ok());
  // And one whose vectors are the caller's, as the vector store saves them.
  auto external =
      std::move(HnswIndex::Create(MappedParams(static_cast<uint32_t>(data.dim)))).value();
  for (size_t row = 0; row < data.size(); ++row)
    ASSERT_TRUE(external->AddExternal(row, data.base.data() + row * data.dim).ok());
  const HnswIndex::ExternalVectors find = [&](uint64_t label) -> const float* {
    return data.base.data() + label * data.dim;
  };
  for (auto* index : {owned.get(), external.get()}) {
    const std::string path = PathOf("old.hnsw");
    ASSERT_TRUE(index->Save(path, 4).ok());
    WriteAll(path, testing::ToVersion3(ReadAll(path)));
    uint32_t version;
    std::memcpy(&version, ReadAll(path).data() + 8, 4);
    ASSERT_EQ(version, 3u);
    auto loaded =
        HnswIndex::Load(path, {}, PosixFileSystem(), index == external.get() ? find : nullptr);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    EXPECT_EQ(loaded->applied_seqno, 4u);
    ExpectSameResults(*index, *loaded->index, data);
    ASSERT_TRUE(loaded->index->Save(path, 4).ok());
    std::memcpy(&version, ReadAll(path).data() + 8, 4);
    EXPECT_EQ(version, HnswIndex::kFormatVersion);
    auto again =
        HnswIndex::Load(path, {}, PosixFileSystem(), index == external.get() ? find : nullptr);
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    ExpectSameResults(*index, *again->index, data);
  }
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

TEST_F(DamagedFileTest, TrailingBytesAreRejected) { EXPECT_FALSE(LoadBytes(good_ + "x").ok()); }

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
