#include "storage/db.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/perf_context.h>
#include <rocksdb/perf_level.h>
#include <rocksdb/table.h>
#include <rocksdb/table_properties.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "common/coding.h"
#include "storage/key_codec.h"
#include "testing/temp_dir.h"

namespace mnemo::storage {
namespace {

using mnemo::testing::TempDir;

Result<std::unique_ptr<Db>> OpenAt(const std::string& path,
                                   std::optional<uint32_t> dimension = std::nullopt,
                                   bool create = true) {
  DbOptions options;
  options.path = path;
  options.dimension = dimension;
  options.create_if_missing = create;
  return Db::Open(options);
}

TEST(DbTest, CreatesWithDefaultDimensionAndReopens) {
  TempDir dir;
  const std::string path = dir.Sub("data");
  {
    auto db = OpenAt(path);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    EXPECT_EQ((*db)->dimension(), kDefaultDimension);
  }
  auto again = OpenAt(path);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ((*again)->dimension(), kDefaultDimension);
}

TEST(DbTest, DimensionIsFixedAtCreation) {
  TempDir dir;
  const std::string path = dir.Sub("data");
  ASSERT_TRUE(OpenAt(path, 768).ok());
  auto implicit = OpenAt(path);
  ASSERT_TRUE(implicit.ok());
  EXPECT_EQ((*implicit)->dimension(), 768u);
  implicit = Status::NotFound("closed");  // release the lock

  auto mismatch = OpenAt(path, 1536);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_EQ(mismatch.status().code(), StatusCode::kValidationError);
  EXPECT_EQ(mismatch.status().field(), "dimension");
  EXPECT_NE(mismatch.status().message().find("768"), std::string_view::npos);
}

TEST(DbTest, RejectsInvalidDimension) {
  TempDir dir;
  EXPECT_EQ(OpenAt(dir.Sub("a"), 0).status().field(), "dimension");
  EXPECT_EQ(OpenAt(dir.Sub("b"), kMaxDimension + 1).status().field(), "dimension");
}

TEST(DbTest, RefusesForeignDirectory) {
  TempDir dir;
  std::ofstream(dir.path() / "notes.txt") << "not a database";
  auto db = OpenAt(dir.path().string());
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), StatusCode::kValidationError);
  EXPECT_NE(db.status().message().find("not a mnemo data directory"), std::string_view::npos);
}

TEST(DbTest, CreatesBesideForeignEntriesOnlyWhenDeclared) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "auth");
  std::ofstream(dir.path() / "auth" / "keys.json") << "{}";
  DbOptions options;
  options.path = dir.path().string();
  EXPECT_EQ(Db::Open(options).status().code(), StatusCode::kValidationError);  // undeclared

  options.foreign_entries = {"auth"};
  {
    auto db = Db::Open(options);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
  }
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "auth" / "keys.json"));  // left untouched
  auto again = Db::Open(options);
  ASSERT_TRUE(again.ok()) << again.status().ToString();

  again = Status::NotFound("closed");  // release the lock

  TempDir mixed;  // a declared entry does not excuse an undeclared one
  std::filesystem::create_directories(mixed.path() / "auth");
  std::ofstream(mixed.path() / "notes.txt") << "x";
  options.path = mixed.path().string();
  EXPECT_EQ(Db::Open(options).status().code(), StatusCode::kValidationError);
}

TEST(DbTest, RefusesPlainFileAndMissingDirWithoutCreate) {
  TempDir dir;
  std::ofstream(dir.path() / "file") << "x";
  EXPECT_EQ(OpenAt(dir.Sub("file")).status().code(), StatusCode::kValidationError);
  EXPECT_EQ(OpenAt(dir.Sub("missing"), std::nullopt, /*create=*/false).status().code(),
            StatusCode::kNotFound);
}

TEST(DbTest, RefusesRocksDbWithoutFormatRecord) {
  TempDir dir;
  const std::string path = dir.Sub("plain-rocks");
  {
    rocksdb::Options options;
    options.create_if_missing = true;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(options, path, &raw).ok());
    delete raw;
  }
  auto db = OpenAt(path);
  ASSERT_FALSE(db.ok());
  EXPECT_NE(db.status().message().find("no format record"), std::string_view::npos)
      << db.status().ToString();
}

TEST(DbTest, RefusesOtherSchemaVersion) {
  TempDir dir;
  const std::string path = dir.Sub("data");
  {
    auto db = OpenAt(path);
    ASSERT_TRUE(db.ok());
    std::string record("MNEMO\x01", 6);
    coding::PutFixed32(&record, kSchemaVersion + 1);
    coding::PutFixed32(&record, 1536);
    rocksdb::WriteBatch batch;
    batch.Put((*db)->handle(Cf::kMeta), "format", record);
    ASSERT_TRUE((*db)->Write(&batch).ok());
  }
  auto db = OpenAt(path);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), StatusCode::kValidationError);
  EXPECT_NE(db.status().message().find("schema version"), std::string_view::npos)
      << db.status().ToString();
}

TEST(DbTest, CorruptManifestIsReportedNotCrashed) {
  TempDir dir;
  const std::string path = dir.Sub("data");
  ASSERT_TRUE(OpenAt(path).ok());
  // Point CURRENT at a manifest that does not exist.
  std::ofstream(std::filesystem::path(path) / "CURRENT", std::ios::trunc) << "MANIFEST-999999\n";
  auto db = OpenAt(path);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), StatusCode::kUnavailable) << db.status().ToString();
}

TEST(DbTest, SecondOpenOfSameDirectoryFailsCleanly) {
  TempDir dir;
  const std::string path = dir.Sub("data");
  auto first = OpenAt(path);
  ASSERT_TRUE(first.ok());
  auto second = OpenAt(path);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable) << second.status().ToString();
}

TEST(DbTest, ScanHonoursPrefixDirectionAndStart) {
  TempDir dir;
  auto db = OpenAt(dir.Sub("data"));
  ASSERT_TRUE(db.ok());
  rocksdb::WriteBatch batch;
  for (const char* key : {"a1", "b1", "b2", "b3", "c1"})
    batch.Put((*db)->handle(Cf::kIndex), key, key);
  ASSERT_TRUE((*db)->Write(&batch).ok());

  const auto collect = [&](ScanRange range) {
    std::vector<std::string> seen;
    EXPECT_TRUE((*db)
                    ->Scan(Cf::kIndex, range,
                           [&](std::string_view k, std::string_view) {
                             seen.emplace_back(k);
                             return true;
                           })
                    .ok());
    return seen;
  };
  EXPECT_EQ(collect({"b", "", false, false}), (std::vector<std::string>{"b1", "b2", "b3"}));
  EXPECT_EQ(collect({"b", "", true, false}), (std::vector<std::string>{"b3", "b2", "b1"}));
  EXPECT_EQ(collect({"b", "b2", false, true}), (std::vector<std::string>{"b3"}));
  EXPECT_EQ(collect({"b", "b2", true, true}), (std::vector<std::string>{"b1"}));
  EXPECT_EQ(collect({"d", "", true, false}), (std::vector<std::string>{}));
}

TEST(DbTest, MultiGetAnswersEveryKeyInOrderFromItsSnapshot) {
  TempDir dir;
  auto db = OpenAt(dir.Sub("data"));
  ASSERT_TRUE(db.ok());
  rocksdb::WriteBatch batch;
  for (const char* key : {"k1", "k2", "k3"})
    batch.Put((*db)->handle(Cf::kIndex), key, std::string("v") + key);
  ASSERT_TRUE((*db)->Write(&batch).ok());
  const ReadView before = (*db)->Snapshot();
  rocksdb::WriteBatch later;
  later.Put((*db)->handle(Cf::kIndex), "k2", "changed");
  later.Put((*db)->handle(Cf::kIndex), "k4", "new");
  ASSERT_TRUE((*db)->Write(&later).ok());

  std::vector<std::optional<std::string>> values;
  const std::vector<std::string> keys = {"k3", "missing", "k2", "k4", "k1", "k3"};
  ASSERT_TRUE(before.MultiGet(Cf::kIndex, keys, &values).ok());
  EXPECT_EQ(values, (std::vector<std::optional<std::string>>{"vk3", std::nullopt, "vk2",
                                                             std::nullopt, "vk1", "vk3"}));
  ASSERT_TRUE((*db)->Snapshot().MultiGet(Cf::kIndex, keys, &values).ok());
  EXPECT_EQ(values, (std::vector<std::optional<std::string>>{"vk3", std::nullopt, "changed", "new",
                                                             "vk1", "vk3"}));
  ASSERT_TRUE(before.MultiGet(Cf::kIndex, {}, &values).ok());
  EXPECT_TRUE(values.empty());
}

// Key i of the many-key tests below: fixed width, so they sort by i.
std::string ManyKey(int i) { return "key" + std::to_string(1000000 + i); }

// Writes ManyKey(0 .. count) with value "v" into `family`, 50k keys per batch.
void PutManyKeys(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* family, int count) {
  constexpr int kPerBatch = 50000;
  for (int start = 0; start < count; start += kPerBatch) {
    rocksdb::WriteBatch batch;
    for (int i = start; i < std::min(count, start + kPerBatch); ++i)
      batch.Put(family, ManyKey(i), "v");
    ASSERT_TRUE(db.Write(rocksdb::WriteOptions(), &batch).ok());
  }
}

// A point read must not re-read a table's whole Bloom filter from the file: a filter larger
// than one block-cache shard is never kept, and then every read of the table copied it (4.5 MB
// per read for a 3.6M-key table under the default 256 MiB cache, a third of a chat turn's CPU).
// A 1 MiB cache has 512 KiB shards; 600k keys make a ~750 KB filter.
TEST(DbTest, ReadsOfALargeTableDoNotRereadItsFilter) {
  TempDir dir;
  DbOptions options;
  options.path = dir.Sub("data");
  options.create_if_missing = true;
  options.block_cache_bytes = size_t{1} << 20;
  auto db = Db::Open(options);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  constexpr int kKeys = 600000;
  PutManyKeys(*(*db)->raw(), (*db)->handle(Cf::kIndex), kKeys);
  ASSERT_TRUE((*db)->Flush().ok());
  rocksdb::CompactRangeOptions compact;
  compact.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  ASSERT_TRUE(
      (*db)->raw()->CompactRange(compact, (*db)->handle(Cf::kIndex), nullptr, nullptr).ok());

  std::string value;
  ASSERT_TRUE((*db)->Get(Cf::kIndex, ManyKey(7), &value).ok());  // warms the cache
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kEnableCount);
  rocksdb::get_perf_context()->Reset();
  constexpr int kReads = 50;
  for (int i = 0; i < kReads; ++i) {
    ASSERT_TRUE((*db)->Get(Cf::kIndex, ManyKey(7 + i * 11000), &value).ok());
    ASSERT_TRUE((*db)->Get(Cf::kIndex, "absent" + std::to_string(i), &value).IsNotFound());
  }
  const uint64_t read_bytes = rocksdb::get_perf_context()->block_read_byte;
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
  // Each read may fetch a data block, an index and a filter partition (a few KB each).
  EXPECT_LT(read_bytes, uint64_t{2 * kReads} * 64 * 1024);
}

// The tables of the index family, by whether their index (and filter) is partitioned.
struct TableLayouts {
  int whole = 0;
  int partitioned = 0;
};
TableLayouts IndexFamilyTables(const Db& db) {
  rocksdb::TablePropertiesCollection tables;
  EXPECT_TRUE(db.raw()->GetPropertiesOfAllTables(db.handle(Cf::kIndex), &tables).ok());
  TableLayouts layouts;
  for (const auto& [path, table] : tables) {
    ++(table->index_partitions > 0 ? layouts.partitioned : layouts.whole);
  }
  return layouts;
}

// A directory written before filters were partitioned: opening it has its large whole-filter
// tables rewritten in the background, and their rows stay readable throughout.
TEST(DbTest, OpeningRewritesOldTablesWithALargeWholeFilter) {
  TempDir dir;
  const std::string path = dir.Sub("data");
  ASSERT_TRUE(OpenAt(path).ok());  // a mnemo directory, then closed
  constexpr int kKeys = 500000;    // a ~600 KB filter at 10 bits per key
  {
    rocksdb::DBOptions db_options;
    std::vector<std::string> names;
    ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(db_options, path, &names).ok());
    rocksdb::BlockBasedTableOptions old_layout;  // one filter and one index per table
    old_layout.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (const std::string& name : names) {
      rocksdb::ColumnFamilyOptions family;
      family.table_factory.reset(rocksdb::NewBlockBasedTableFactory(old_layout));
      families.emplace_back(name, family);
    }
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(db_options, path, families, &handles, &raw).ok());
    rocksdb::ColumnFamilyHandle* index = nullptr;
    for (auto* handle : handles) {
      if (handle->GetName() == "index") index = handle;
    }
    ASSERT_NE(index, nullptr);
    PutManyKeys(*raw, index, kKeys);
    ASSERT_TRUE(raw->Flush(rocksdb::FlushOptions(), index).ok());
    for (auto* handle : handles) raw->DestroyColumnFamilyHandle(handle);
    ASSERT_TRUE(raw->Close().ok());
    delete raw;
  }

  auto db = OpenAt(path);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  const TableLayouts before = IndexFamilyTables(**db);
  EXPECT_EQ(before.whole, 1);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  TableLayouts now = before;
  while (now.whole > 0 && std::chrono::steady_clock::now() < deadline) {
    std::string value;
    ASSERT_TRUE((*db)->Get(Cf::kIndex, ManyKey(kKeys / 2), &value).ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    now = IndexFamilyTables(**db);
  }
  EXPECT_EQ(now.whole, 0) << "the old table was not rewritten within 60 s";
  EXPECT_GE(now.partitioned, 1);
  for (int i = 0; i < kKeys; i += 49999) {
    std::string value;
    ASSERT_TRUE((*db)->Get(Cf::kIndex, ManyKey(i), &value).ok()) << i;
    EXPECT_EQ(value, "v");
  }
}

TEST(DbTest, LoggedWritesTakeDenseSequencesInCommitOrder) {
  TempDir dir;
  const std::string path = dir.Sub("data");
  constexpr int kThreads = 4;
  constexpr int kWritesEach = 50;
  {
    auto db = OpenAt(path);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    EXPECT_EQ((*db)->last_log_seq(), 0u);
    std::vector<std::thread> writers;
    for (int t = 0; t < kThreads; ++t) {
      writers.emplace_back([&, t] {
        for (int i = 0; i < kWritesEach; ++i) {
          rocksdb::WriteBatch batch;
          const std::string key = "k" + std::to_string(t) + "-" + std::to_string(i);
          ASSERT_TRUE(batch.Put((*db)->handle(Cf::kIndex), key, "v").ok());
          auto seq = (*db)->WriteLogged(&batch, key, std::nullopt);
          ASSERT_TRUE(seq.ok()) << seq.status().ToString();
        }
      });
    }
    for (auto& writer : writers) writer.join();
    EXPECT_EQ((*db)->last_log_seq(), uint64_t{kThreads * kWritesEach});

    // A sequence that does not follow the last is refused, and nothing of its batch is written.
    rocksdb::WriteBatch batch;
    ASSERT_TRUE(batch.Put((*db)->handle(Cf::kIndex), "gap", "v").ok());
    auto gap = (*db)->WriteLogged(&batch, "gap", uint64_t{kThreads * kWritesEach + 2});
    EXPECT_EQ(gap.status().code(), StatusCode::kValidationError);
    EXPECT_EQ(gap.status().field(), "seq");
    std::string value;
    EXPECT_TRUE((*db)->Get(Cf::kIndex, "gap", &value).IsNotFound());
  }
  auto db = OpenAt(path);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  EXPECT_EQ((*db)->last_log_seq(), uint64_t{kThreads * kWritesEach});
  // Every sequence holds the record of a write that committed with it.
  uint64_t expected = 1;
  ASSERT_TRUE((*db)
                  ->Scan(Cf::kReplog, {},
                         [&](std::string_view key, std::string_view record) {
                           uint64_t seq = 0;
                           EXPECT_TRUE(keys::ParseLogKey(key, &seq));
                           EXPECT_EQ(seq, expected++);
                           std::string value;
                           EXPECT_TRUE((*db)->Get(Cf::kIndex, record, &value).ok()) << record;
                           return true;
                         })
                  .ok());
  EXPECT_EQ(expected, uint64_t{kThreads * kWritesEach + 1});
}

}  // namespace
}  // namespace mnemo::storage
