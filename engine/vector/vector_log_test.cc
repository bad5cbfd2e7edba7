// VectorLog: records survive reopening, are released with their rows, and a damaged or torn
// record is never taken for a vector.
#include "vector/vector_log.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "storage/key_codec.h"
#include "testing/temp_dir.h"
#include "vector/chunk_rows.h"

namespace mnemo::vector {
namespace {

using storage::Cf;
using testing::TempDir;

constexpr uint32_t kDim = 8;

std::vector<float> UnitVector(uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<float> v(kDim);
  float norm = 0;
  for (float& x : v) {
    x = normal(rng);
    norm += x * x;
  }
  for (float& x : v) x /= std::sqrt(norm);
  return v;
}

class VectorLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::DbOptions options;
    options.path = dir_.Sub("data");
    options.dimension = kDim;
    db_ = std::move(storage::Db::Open(options)).value();
    Reopen();
  }

  // record_bytes is 64 at dim 8: four records per 256-byte segment.
  void Reopen(uint64_t segment_bytes = 256) {
    log_.reset();
    VectorLogOptions options;
    options.dir = dir_.Sub("vectors");
    options.dim = kDim;
    options.segment_bytes = segment_bytes;
    options.fill_ahead_bytes = 128;
    auto opened = VectorLog::Open(*db_, options);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    log_ = std::move(opened).value();
  }

  // Stores vectors for labels [first, first + n) of month 1 in one transaction.
  void Put(uint64_t first, size_t n) {
    std::vector<std::vector<float>> units;
    std::vector<VectorLog::NewVector> vectors;
    for (size_t i = 0; i < n; ++i) units.push_back(UnitVector(first + i));
    for (size_t i = 0; i < n; ++i) vectors.push_back({1, first + i, units[i].data()});
    storage::WriteTxn txn(*db_);
    ASSERT_TRUE(log_->StagePut(txn, vectors).ok());
    ASSERT_TRUE(txn.Commit().ok());
  }

  void Delete(uint64_t first, size_t n) {
    storage::WriteTxn txn(*db_);
    for (size_t i = 0; i < n; ++i) ASSERT_TRUE(log_->StageDelete(txn, 1, first + i).ok());
    ASSERT_TRUE(txn.Commit().ok());
  }

  Status Read(uint64_t label, std::vector<float>* unit) {
    storage::WriteTxn txn(*db_);
    return log_->Get(txn, 1, label, unit);
  }

  void ExpectStored(uint64_t label) {
    std::vector<float> unit;
    Status status = Read(label, &unit);
    ASSERT_TRUE(status.ok()) << label << ": " << status.ToString();
    EXPECT_EQ(unit, UnitVector(label)) << label;
  }

  std::vector<std::string> SegmentFiles() const {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(dir_.Sub("vectors")))
      names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

  TempDir dir_;
  std::unique_ptr<storage::Db> db_;
  std::unique_ptr<VectorLog> log_;
};

TEST_F(VectorLogTest, VectorsReadBackAcrossSegmentsAndReopen) {
  Put(1, 3);
  Put(4, 7);  // rolls over two more segments
  for (uint64_t label = 1; label <= 10; ++label) ExpectStored(label);
  EXPECT_EQ(SegmentFiles().size(), 3u);
  EXPECT_EQ(log_->Stats().live_records, 10);
  Reopen();
  for (uint64_t label = 1; label <= 10; ++label) ExpectStored(label);
  EXPECT_EQ(log_->Stats().live_records, 10);
  // Appends resume after the last record, not over it.
  Put(11, 2);
  for (uint64_t label = 1; label <= 12; ++label) ExpectStored(label);
  std::string value;
  ASSERT_TRUE(db_->Get(Cf::kVectors, keys::VectorKey(1, 12), &value).ok());
  EXPECT_EQ(value.size(), kVectorPointerBytes);
}

TEST_F(VectorLogTest, AbandonedTransactionReleasesItsRecords) {
  {
    const std::vector<float> unit = UnitVector(1);
    const VectorLog::NewVector vector{1, 1, unit.data()};
    storage::WriteTxn txn(*db_);
    ASSERT_TRUE(log_->StagePut(txn, std::span(&vector, 1)).ok());
    EXPECT_EQ(log_->Stats().live_records, 1);
  }  // not committed
  EXPECT_EQ(log_->Stats().live_records, 0);
  std::vector<float> unit;
  EXPECT_TRUE(Read(1, &unit).IsNotFound());
}

TEST_F(VectorLogTest, EmptiedSegmentsAreRemovedUnlessPinned) {
  Put(1, 12);  // three full segments, and the next one prepared
  log_->WaitForBackground();
  const size_t with_prepared = SegmentFiles().size();
  ASSERT_EQ(with_prepared, 4u);
  {
    const std::shared_ptr<void> pin = log_->Pin();
    Delete(1, 8);  // the first two segments
    log_->WaitForBackground();
    EXPECT_EQ(SegmentFiles().size(), with_prepared) << "a pinned segment was removed";
  }
  log_->WaitForBackground();
  EXPECT_EQ(SegmentFiles().size(), with_prepared - 2);
  EXPECT_EQ(log_->Stats().removed_segments, 2);
  for (uint64_t label = 9; label <= 12; ++label) ExpectStored(label);
  Reopen();
  for (uint64_t label = 9; label <= 12; ++label) ExpectStored(label);
  EXPECT_EQ(log_->Stats().live_records, 4);
}

TEST_F(VectorLogTest, SparseSegmentsAreCompactedAway) {
  Put(1, 12);  // segments 1-3, four records each
  log_->WaitForBackground();
  {
    const std::shared_ptr<void> pin = log_->Pin();  // compaction waits for the pin too
    Delete(1, 3);                                   // segment 1 keeps label 4
    Delete(6, 3);                                   // segment 2 keeps label 5
    log_->WaitForBackground();
    EXPECT_EQ(log_->Stats().moved_records, 0);
    ASSERT_TRUE(log_->Compact().ok());
    EXPECT_EQ(log_->Stats().moved_records, 0);
  }
  log_->WaitForBackground();
  EXPECT_EQ(log_->Stats().moved_records, 2);
  EXPECT_EQ(log_->Stats().removed_segments, 2);
  EXPECT_EQ(log_->Stats().live_records, 6);
  for (uint64_t label : {4, 5, 9, 10, 11, 12}) ExpectStored(label);
  // The moved records carry their rows' keys: a later delete releases the new copy.
  Delete(4, 2);
  EXPECT_EQ(log_->Stats().live_records, 4);
  Reopen();
  for (uint64_t label : {9, 10, 11, 12}) ExpectStored(label);
  EXPECT_EQ(log_->Stats().live_records, 4);
  std::vector<float> unit;
  EXPECT_TRUE(Read(4, &unit).IsNotFound());
}

TEST_F(VectorLogTest, TornTailIsZeroedAndOverwritten) {
  Reopen(/*segment_bytes=*/1024);
  Put(1, 2);
  log_->WaitForBackground();
  log_.reset();
  // A crash mid-append: a record with a valid header but a torn body, and a whole record after
  // it whose transaction never committed.
  const std::string path = dir_.Sub("vectors") + "/00000001.vseg";
  {
    std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
    std::string record(64, '\0');
    file.seekg(0);
    file.read(record.data(), 64);  // label 1's record
    record[40] ^= 0x5A;            // torn: the body differs from its checksum
    file.seekp(128);
    file.write(record.data(), 64);
    file.seekg(64);
    file.read(record.data(), 64);  // label 2's record, whole
    file.seekp(192);
    file.write(record.data(), 64);
  }
  Reopen(1024);
  {
    std::ifstream file(path, std::ios::binary);
    std::string bytes(256, '\0');
    file.read(bytes.data(), 256);
    EXPECT_EQ(bytes.substr(128), std::string(128, '\0')) << "the tail after the end was kept";
  }
  Put(3, 1);  // lands where the torn record was
  ExpectStored(1);
  ExpectStored(2);
  ExpectStored(3);
  std::string value;
  ASSERT_TRUE(db_->Get(Cf::kVectors, keys::VectorKey(1, 3), &value).ok());
  VectorPointer pointer;
  ASSERT_TRUE(DecodeVectorPointer(value, &pointer));
  EXPECT_EQ(pointer, (VectorPointer{1, 128}));
}

TEST_F(VectorLogTest, DamagedRecordIsAnErrorNotAVector) {
  Put(1, 2);
  log_->WaitForBackground();
  {
    std::fstream file(dir_.Sub("vectors") + "/00000001.vseg",
                      std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(64 + 40);
    file.put('\x7f');
  }
  std::vector<float> unit;
  Status status = Read(2, &unit);
  EXPECT_EQ(status.code(), StatusCode::kInternalError);
  EXPECT_NE(status.message().find("checksum mismatch"), std::string::npos) << status.ToString();
  ExpectStored(1);
  // A pointer whose record belongs to another row is refused too.
  std::string value;
  ASSERT_TRUE(db_->Get(Cf::kVectors, keys::VectorKey(1, 1), &value).ok());
  status = log_->Decode(value, 1, 2, &unit);
  EXPECT_EQ(status.code(), StatusCode::kInternalError);
  EXPECT_NE(status.message().find("not 2"), std::string::npos) << status.ToString();
}

TEST_F(VectorLogTest, VectorsStoredBeforeTheLogStillRead) {
  const std::vector<float> unit = UnitVector(7);
  {
    storage::WriteTxn txn(*db_);
    txn.Put(Cf::kVectors, keys::VectorKey(1, 7), EncodeVector(unit.data(), kDim));
    ASSERT_TRUE(txn.Commit().ok());
  }
  Reopen();
  ExpectStored(7);
  EXPECT_EQ(log_->Stats().live_records, 0);
  Delete(7, 1);
  std::vector<float> read;
  EXPECT_TRUE(Read(7, &read).IsNotFound());
}

TEST_F(VectorLogTest, MissingSegmentFailsOpenWithItsName) {
  Put(1, 6);
  log_.reset();
  std::filesystem::remove(dir_.Sub("vectors") + "/00000001.vseg");
  VectorLogOptions options;
  options.dir = dir_.Sub("vectors");
  options.dim = kDim;
  options.segment_bytes = 256;
  auto opened = VectorLog::Open(*db_, options);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kInternalError);
  EXPECT_NE(opened.status().message().find("segment 1"), std::string::npos)
      << opened.status().ToString();
}

TEST_F(VectorLogTest, ConcurrentWritersWithBackgroundFilling) {
  Reopen(/*segment_bytes=*/4096);
  constexpr int kThreads = 3;
  constexpr uint64_t kPerThread = 200;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (uint64_t i = 0; i < kPerThread; i += 5) Put(1 + t * kPerThread + i, 5);
    });
  }
  for (auto& thread : threads) thread.join();
  for (uint64_t label = 1; label <= kThreads * kPerThread; ++label) ExpectStored(label);
  Reopen(4096);
  for (uint64_t label = 1; label <= kThreads * kPerThread; ++label) ExpectStored(label);
  EXPECT_EQ(log_->Stats().live_records, static_cast<int64_t>(kThreads * kPerThread));
}

}  // namespace
}  // namespace mnemo::vector
