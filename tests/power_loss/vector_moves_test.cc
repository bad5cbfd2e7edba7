// The vector log's moves on the power-cut model: a move (compaction, or inline vectors spilled to
// the segments) commits its new pointers without a sync, so a cut may undo it.  Every vector must
// then still read from where its row points, and a segment a move emptied must not be removed
// before the move is durable.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "power_cut.h"
#include "storage/db.h"
#include "storage/write_txn.h"
#include "testing/temp_dir.h"
#include "testing/vectors.h"
#include "vector/vector_log.h"

namespace mnemo::testing {
namespace {

namespace fs = std::filesystem;
using vector::VectorLog;

constexpr uint32_t kDim = 8;
constexpr uint32_t kMonth = 1;

// The vector stored under `label`: a random unit vector seeded by it.
std::vector<float> UnitVector(uint64_t label) {
  std::mt19937_64 rng(label);
  return RandomUnitVector(kDim, rng);
}

class VectorMovesTest : public ::testing::Test {
 protected:
  VectorMovesTest() : root_(dir_.Sub("root")) {
    fs::create_directories(root_ + "/vectors");
    cut_ = PowerCut::Create(root_);
    file_system_ = cut_->MnemoFileSystem();
  }

  // Opens the Db and the log on the power-cut file systems; four records per segment.
  void Open(uint64_t inline_max_bytes, uint64_t spill_min_vectors) {
    storage::DbOptions db_options;
    db_options.path = root_ + "/data";
    db_options.dimension = kDim;
    db_options.file_system = cut_->RocksDbFileSystem();
    auto db = storage::Db::Open(db_options);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    vector::VectorLogOptions options;
    options.dir = root_ + "/vectors";
    options.dim = kDim;
    options.segment_bytes = 256;
    options.fill_ahead_bytes = 128;
    options.fill_piece_bytes = 64;
    options.inline_max_bytes = inline_max_bytes;
    options.spill_min_vectors = spill_min_vectors;
    options.file_system = file_system_.get();
    auto log = VectorLog::Open(*db_, options, {});
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    log_ = std::move(log).value();
  }

  // The power fails now; the process stops; the disk keeps what was durable.
  void CutPower() {
    cut_->Freeze();
    log_.reset();
    db_.reset();
    cut_->Cut();
  }

  void Put(uint64_t first, size_t n) {
    std::vector<std::vector<float>> units;
    std::vector<VectorLog::NewVector> vectors;
    for (size_t i = 0; i < n; ++i) units.push_back(UnitVector(first + i));
    for (size_t i = 0; i < n; ++i) vectors.push_back({kMonth, first + i, units[i].data()});
    storage::WriteTxn txn(*db_);
    ASSERT_TRUE(log_->StagePut(txn, vectors).ok());
    ASSERT_TRUE(txn.Commit().ok());
  }

  void Delete(uint64_t first, size_t n) {
    storage::WriteTxn txn(*db_);
    for (size_t i = 0; i < n; ++i) ASSERT_TRUE(log_->StageDelete(txn, kMonth, first + i).ok());
    ASSERT_TRUE(txn.Commit().ok());
  }

  void ExpectStored(uint64_t label) {
    storage::WriteTxn txn(*db_);
    std::vector<float> unit;
    const Status status = log_->Get(txn, kMonth, label, &unit);
    ASSERT_TRUE(status.ok()) << label << ": " << status.ToString();
    EXPECT_EQ(unit, UnitVector(label)) << label;
  }

  TempDir dir_;
  const std::string root_;
  std::shared_ptr<PowerCut> cut_;
  std::shared_ptr<FileSystem> file_system_;
  std::unique_ptr<storage::Db> db_;
  std::unique_ptr<VectorLog> log_;
};

TEST_F(VectorMovesTest, ACutAfterCompactionRemovedASegmentKeepsEveryVector) {
  ASSERT_NO_FATAL_FAILURE(Open(/*inline_max_bytes=*/0, /*spill_min_vectors=*/0));
  Put(1, 12);  // segments 1-3, four records each
  log_->WaitForBackground();
  Delete(1, 3);  // segment 1 keeps label 4
  Delete(6, 3);  // segment 2 keeps label 5
  log_->WaitForBackground();
  auto moved = log_->Compact();
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  log_->WaitForBackground();
  ASSERT_EQ(log_->Stats().moved_records, 2);
  ASSERT_EQ(log_->Stats().removed_segments, 2);

  CutPower();
  ASSERT_NO_FATAL_FAILURE(Open(0, 0));
  for (uint64_t label : {4, 5, 9, 10, 11, 12}) ExpectStored(label);
  EXPECT_EQ(log_->Stats().live_records, 6);
}

TEST_F(VectorMovesTest, ACutAfterASpillKeepsEveryVectorAndSpillsAgain) {
  ASSERT_NO_FATAL_FAILURE(Open(/*inline_max_bytes=*/1 << 10, /*spill_min_vectors=*/4));
  // One transaction, all inline: its commit makes one spill of all 8 due.  (Separate
  // transactions could race the spill and leave fewer than 4 behind, never due.)
  Put(1, 8);
  log_->WaitForBackground();
  ASSERT_EQ(log_->Stats().spilled, 8);
  for (uint64_t label = 1; label <= 8; ++label) ExpectStored(label);

  CutPower();
  ASSERT_NO_FATAL_FAILURE(Open(1 << 10, 4));
  for (uint64_t label = 1; label <= 8; ++label) ExpectStored(label);
  // The spill's pointers were not synced, and nothing synced the WAL after them, so the cut left
  // every row inline; they are moved again.
  log_->WaitForBackground();
  EXPECT_EQ(log_->Stats().spilled, 8);
  EXPECT_EQ(log_->Stats().live_records, 8);
  for (uint64_t label = 1; label <= 8; ++label) ExpectStored(label);
}

}  // namespace
}  // namespace mnemo::testing
