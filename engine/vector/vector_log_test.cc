// VectorLog: records survive reopening, are released with their rows, and a damaged or torn
// record is never taken for a vector; appends wait for no more of the zero-fill ahead of them
// than the piece they reach, and zeros never land on a record.
#include "vector/vector_log.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "kernels/distance.h"
#include "storage/key_codec.h"
#include "testing/temp_dir.h"
#include "testing/vectors.h"
#include "vector/chunk_rows.h"

namespace mnemo::vector {
namespace {

using storage::Cf;
using testing::TempDir;

constexpr uint32_t kDim = 8;
// How long a test waits for something that must happen before it gives up (never what it
// asserts: a correct log gets there at once).
constexpr auto kPatience = std::chrono::seconds(20);

// Polls `done` until it holds, at most for kPatience; its final value.
template <typename Fn>
bool Eventually(Fn done) {
  constexpr auto kPoll = std::chrono::milliseconds(1);
  for (int i = 0; i < kPatience / kPoll && !done(); ++i) std::this_thread::sleep_for(kPoll);
  return done();
}

// The POSIX file system, watching the segments' writes.  A write of zeros (the background fill;
// no record is all zeros) can be held until Release(), and every collision of zeros with a
// record is counted: zeros over bytes a record was written to before, or a record written while
// zeros are being written to the same bytes.
class WatchedFileSystem final : public FileSystem {
 public:
  // Holds the next write of zeros to file `name` that reaches past byte `past`, until Release().
  void Hold(const std::string& name, uint64_t past) {
    std::lock_guard lock(mu_);
    hold_name_ = name;
    hold_past_ = past;
    holding_ = true;
    held_ = false;
  }
  // True once the held write is waiting; false when none came within kPatience.
  bool WaitUntilHeld() {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, kPatience, [&] { return held_; });
  }
  // Lets the held write, and every later one, through.  Idempotent.
  void Release() {
    {
      std::lock_guard lock(mu_);
      holding_ = false;
    }
    changed_.notify_all();
  }
  int64_t collisions() const {
    std::lock_guard lock(mu_);
    return collisions_;
  }
  int64_t zero_writes() const {
    std::lock_guard lock(mu_);
    return zero_writes_;
  }
  int64_t syncs() const {
    std::lock_guard lock(mu_);
    return syncs_;
  }

  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override {
    return real().NewWritableFile(path);
  }
  Result<std::unique_ptr<SequentialFile>> NewSequentialFile(const std::string& path) override {
    return real().NewSequentialFile(path);
  }
  Result<std::unique_ptr<RandomRWFile>> OpenRandomRWFile(const std::string& path,
                                                         bool create) override {
    MNEMO_ASSIGN_OR_RETURN(std::unique_ptr<RandomRWFile> file,
                           real().OpenRandomRWFile(path, create));
    return std::unique_ptr<RandomRWFile>(
        new WatchedFile(*this, std::move(file), std::filesystem::path(path).filename()));
  }
  Status Rename(const std::string& from, const std::string& to) override {
    return real().Rename(from, to);
  }
  Status Remove(const std::string& path) override {
    std::lock_guard lock(mu_);
    ranges_.erase(std::filesystem::path(path).filename());
    return real().Remove(path);
  }
  Status CreateDir(const std::string& path) override { return real().CreateDir(path); }
  Status SyncDir(const std::string& path) override { return real().SyncDir(path); }
  Result<std::vector<std::string>> ListDir(const std::string& path) override {
    return real().ListDir(path);
  }

 private:
  static FileSystem& real() { return PosixFileSystem(); }

  struct Range {
    uint64_t begin;
    uint64_t end;
    bool zeros;
    bool done;  // the write finished
  };
  // The writes to one file so far (a new file of the same name starts afresh).
  using Ranges = std::vector<Range>;

  class WatchedFile final : public RandomRWFile {
   public:
    WatchedFile(WatchedFileSystem& fs, std::unique_ptr<RandomRWFile> file, std::string name)
        : fs_(fs), file_(std::move(file)), name_(std::move(name)) {}
    Status Write(uint64_t offset, std::string_view data) override {
      const size_t at = fs_.Begin(name_, offset, data);
      Status status = file_->Write(offset, data);
      fs_.End(name_, at);
      return status;
    }
    Status Read(uint64_t offset, size_t n, char* out) const override {
      return file_->Read(offset, n, out);
    }
    Status Sync() override {
      fs_.CountSync();
      return file_->Sync();
    }
    Result<uint64_t> Size() const override { return file_->Size(); }

   private:
    WatchedFileSystem& fs_;
    const std::unique_ptr<RandomRWFile> file_;
    const std::string name_;
  };

  // Checks a write about to start against the others, holds it when asked to; its index.
  size_t Begin(const std::string& name, uint64_t offset, std::string_view data) {
    const bool zeros = std::all_of(data.begin(), data.end(), [](char c) { return c == '\0'; });
    const Range range{offset, offset + data.size(), zeros, false};
    std::unique_lock lock(mu_);
    Ranges& ranges = ranges_[name];
    for (const Range& other : ranges) {
      const bool overlap = other.begin < range.end && range.begin < other.end;
      // Zeros over a record, or a record over zeros still being written.
      if (overlap && ((zeros && !other.zeros) || (!zeros && other.zeros && !other.done)))
        ++collisions_;
    }
    ranges.push_back(range);
    if (zeros) ++zero_writes_;
    if (zeros && holding_ && !held_ && name == hold_name_ && range.end > hold_past_) {
      held_ = true;
      changed_.notify_all();
      // Bounded (well past any test's patience), so that a failing test cannot hang in the log's
      // destructor.
      changed_.wait_for(lock, 3 * kPatience, [&] { return !holding_; });
    }
    return ranges.size() - 1;
  }
  void CountSync() {
    std::lock_guard lock(mu_);
    ++syncs_;
  }
  void End(const std::string& name, size_t at) {
    std::lock_guard lock(mu_);
    auto it = ranges_.find(name);
    if (it != ranges_.end() && at < it->second.size()) it->second[at].done = true;
  }

  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::map<std::string, Ranges> ranges_;
  std::string hold_name_;
  uint64_t hold_past_ = 0;
  bool holding_ = false;
  bool held_ = false;
  int64_t collisions_ = 0;
  int64_t zero_writes_ = 0;
  int64_t syncs_ = 0;  // of segment files
};

std::vector<float> UnitVector(uint64_t seed) {
  std::mt19937_64 rng(seed);
  return testing::RandomUnitVector(kDim, rng);
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

  void TearDown() override {
    fs_.Release();
    log_.reset();
  }

  // record_bytes is 64 at dim 8: four records per 256-byte segment.  Zeros go ahead one record
  // at a time unless told otherwise.  Every vector goes to the segments unless told otherwise.
  void Reopen(uint64_t segment_bytes = 256, uint64_t fill_ahead_bytes = 128,
              uint64_t fill_piece_bytes = 64, uint64_t inline_max_bytes = 0,
              uint64_t spill_min_vectors = 0) {
    log_.reset();
    VectorLogOptions options;
    options.dir = dir_.Sub("vectors");
    options.dim = kDim;
    options.segment_bytes = segment_bytes;
    options.fill_ahead_bytes = fill_ahead_bytes;
    options.fill_piece_bytes = fill_piece_bytes;
    options.inline_max_bytes = inline_max_bytes;
    options.spill_min_vectors = spill_min_vectors;
    options.file_system = &fs_;
    options.on_move = [this](uint32_t month, uint64_t label, const float* unit) {
      std::lock_guard lock(moves_mutex_);
      moves_[label] = {month, unit};
    };
    options.on_copied = [this] {
      std::function<void()> once;
      {
        std::lock_guard lock(moves_mutex_);
        once = std::move(on_copied_once_);
        on_copied_once_ = nullptr;
      }
      if (once) once();
    };
    options.start_background = start_background_;
    auto opened = VectorLog::Open(*db_, options, visit_);
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

  // Where label's vector reads in place (null when it does not).
  const float* AddressOf(uint64_t label, bool check_record = true) {
    std::string value;
    if (!db_->Get(Cf::kVectors, keys::VectorKey(1, label), &value).ok()) return nullptr;
    return log_->Address(value, 1, label, check_record);
  }

  TempDir dir_;
  WatchedFileSystem fs_;
  std::unique_ptr<storage::Db> db_;
  std::unique_ptr<VectorLog> log_;
  std::mutex moves_mutex_;
  std::map<uint64_t, std::pair<uint32_t, const float*>> moves_;  // by label, from on_move
  std::function<void()> on_copied_once_;  // run by the next move, between copy and rewrite
  // How Reopen() opens the log.
  bool start_background_ = true;
  VectorLog::OpenVisitor visit_;
};

std::vector<float> ReadAt(const float* unit) { return std::vector<float>(unit, unit + kDim); }

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

TEST_F(VectorLogTest, RecordsAreSyncedWhileTheirTransactionIsStillOpen) {
  Reopen(256, /*fill_ahead_bytes=*/0);  // no zeros ahead: every sync is one of records
  const int64_t syncs_before = fs_.syncs();
  const std::vector<float> a = UnitVector(1);
  const std::vector<float> b = UnitVector(2);
  const VectorLog::NewVector vectors[] = {{1, 1, a.data()}, {1, 2, b.data()}};
  storage::WriteTxn txn(*db_);
  ASSERT_TRUE(log_->StagePut(txn, vectors).ok());
  log_->WaitForBackground();
  EXPECT_EQ(fs_.syncs() - syncs_before, 1) << "the records were not synced before the commit";
  EXPECT_EQ(log_->Stats().early_syncs, 1);
  ASSERT_TRUE(txn.Commit().ok());
  EXPECT_EQ(fs_.syncs() - syncs_before, 1) << "the commit synced the same records again";
  ExpectStored(1);
  ExpectStored(2);
}

TEST_F(VectorLogTest, ScaledVectorsAreStoredAsNormalizeMakesThem) {
  // Raw vectors with their UnitScale: the log stores exactly what Normalize gives, in a
  // segment record (read in place and through Get) and inline.
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  std::vector<std::vector<float>> raw(4, std::vector<float>(kDim));
  for (auto& v : raw)
    for (float& x : v) x = normal(rng);
  const auto expected = [&](size_t i) {
    std::vector<float> unit = raw[i];
    EXPECT_TRUE(kernels::Normalize(unit.data(), unit.size()));
    return unit;
  };
  const auto put = [&](uint64_t label, size_t i) {
    const VectorLog::NewVector vector{1, label, raw[i].data(),
                                      kernels::UnitScale(raw[i].data(), kDim)};
    ASSERT_NE(vector.scale, 0.0f);
    storage::WriteTxn txn(*db_);
    ASSERT_TRUE(log_->StagePut(txn, std::span(&vector, 1)).ok());
    ASSERT_TRUE(txn.Commit().ok());
  };
  put(1, 0);
  put(2, 1);
  for (uint64_t label : {1, 2}) {
    std::vector<float> unit;
    ASSERT_TRUE(Read(label, &unit).ok());
    EXPECT_EQ(unit, expected(label - 1));
    ASSERT_NE(AddressOf(label), nullptr);
    EXPECT_EQ(ReadAt(AddressOf(label)), expected(label - 1));  // the record's checksum held
  }
  Reopen(256, 128, 64, /*inline_max_bytes=*/1 << 20);
  put(3, 2);
  std::string value;
  ASSERT_TRUE(db_->Get(Cf::kVectors, keys::VectorKey(1, 3), &value).ok());
  EXPECT_EQ(value.size(), sizeof(float) * kDim);  // inline
  std::vector<float> unit;
  ASSERT_TRUE(Read(3, &unit).ok());
  EXPECT_EQ(unit, expected(2));
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

TEST_F(VectorLogTest, OpenTellsWhereEachVectorReadsAndMovesNothingUntilStarted) {
  Put(1, 12);  // segments 1-3, four records each
  log_->WaitForBackground();
  log_.reset();
  {
    // Rows deleted while the log is closed leave segments 1 and 2 sparse at the next open.
    storage::WriteTxn txn(*db_);
    for (uint64_t label : {1, 2, 3, 6, 7, 8}) txn.Delete(Cf::kVectors, keys::VectorKey(1, label));
    ASSERT_TRUE(txn.Commit().ok());
  }
  std::map<uint64_t, const float*> visited;
  visit_ = [&](uint32_t month, uint64_t label, const float* unit) {
    EXPECT_EQ(month, 1u);
    EXPECT_TRUE(visited.emplace(label, unit).second) << label << " told twice";
  };
  start_background_ = false;
  Reopen();
  ASSERT_EQ(visited.size(), 6u);
  for (uint64_t label : {4, 5, 9, 10, 11, 12}) {
    ASSERT_TRUE(visited.contains(label)) << label;
    EXPECT_EQ(visited[label], AddressOf(label)) << label;
    EXPECT_EQ(ReadAt(visited[label]), UnitVector(label)) << label;
  }
  // Compaction is due (two segments a quarter live), but it runs on the background thread: the
  // addresses told stay where they are until StartBackground().  (A started thread compacts
  // within milliseconds; 200 ms without a move is no proof, but a regression shows here.)
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(log_->Stats().moved_records, 0) << "moved before StartBackground";
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (uint64_t label : {4, 5}) EXPECT_EQ(AddressOf(label), visited[label]) << label;
  log_->StartBackground();
  log_->WaitForBackground();
  EXPECT_EQ(log_->Stats().moved_records, 2);
  EXPECT_EQ(log_->Stats().removed_segments, 2);
  {
    std::lock_guard lock(moves_mutex_);
    for (uint64_t label : {4, 5}) {
      ASSERT_TRUE(moves_.contains(label)) << label;
      EXPECT_EQ(moves_[label].second, AddressOf(label)) << label;
    }
  }
  for (uint64_t label : {4, 5, 9, 10, 11, 12}) ExpectStored(label);
}

// Its owner stops the thread before it goes: after StopBackground() no move is made (on_move reads
// the owner's state), waits for the background return, and writes still work.
TEST_F(VectorLogTest, StoppedBackgroundMovesNothingAndWritesStillWork) {
  Put(1, 12);
  log_->WaitForBackground();
  log_.reset();
  {
    storage::WriteTxn txn(*db_);
    for (uint64_t label : {1, 2, 3, 6, 7, 8}) txn.Delete(Cf::kVectors, keys::VectorKey(1, label));
    ASSERT_TRUE(txn.Commit().ok());
  }
  start_background_ = false;
  Reopen();  // compaction is due, as in the test above
  log_->StopBackground();
  log_->StartBackground();  // a stopped log stays stopped
  log_->WaitForBackground();
  Put(13, 4);
  log_->WaitForBackground();
  EXPECT_EQ(log_->Stats().moved_records, 0);
  EXPECT_EQ(log_->Stats().removed_segments, 0);
  {
    std::lock_guard lock(moves_mutex_);
    EXPECT_TRUE(moves_.empty());
  }
  for (uint64_t label : {4, 5, 9, 10, 11, 12, 13, 14, 15, 16}) ExpectStored(label);
  log_->StopBackground();  // idempotent
}

TEST_F(VectorLogTest, VectorsReadInPlaceFollowMovesAndRemovedSegmentsReadZeros) {
  Put(1, 12);  // segments 1-3, four records each
  log_->WaitForBackground();
  std::map<uint64_t, const float*> before;
  for (uint64_t label = 1; label <= 12; ++label) {
    before[label] = AddressOf(label);
    ASSERT_NE(before[label], nullptr) << label;
    EXPECT_EQ(ReadAt(before[label]), UnitVector(label)) << label;
  }
  // The record's header must name the row asked for; an inline vector has no address.
  std::string value;
  ASSERT_TRUE(db_->Get(Cf::kVectors, keys::VectorKey(1, 1), &value).ok());
  EXPECT_EQ(log_->Address(value, 1, 2, /*check_record=*/true), nullptr);
  EXPECT_EQ(log_->Address(value, 2, 1, /*check_record=*/true), nullptr);
  EXPECT_EQ(log_->Address(EncodeVector(UnitVector(1).data(), kDim), 1, 1, true), nullptr);

  Delete(1, 3);  // segment 1 keeps label 4
  Delete(6, 3);  // segment 2 keeps label 5
  log_->WaitForBackground();
  ASSERT_EQ(log_->Stats().moved_records, 2);
  ASSERT_EQ(log_->Stats().removed_segments, 2);
  std::map<uint64_t, std::pair<uint32_t, const float*>> moves;
  {
    std::lock_guard lock(moves_mutex_);
    moves = moves_;
  }
  ASSERT_EQ(moves.size(), 2u);
  for (uint64_t label : {4, 5}) {
    ASSERT_TRUE(moves.contains(label)) << label;
    EXPECT_EQ(moves[label].first, 1u);
    EXPECT_EQ(moves[label].second, AddressOf(label)) << label;  // where the row points now
    EXPECT_EQ(ReadAt(moves[label].second), UnitVector(label)) << label;
    // The removed segment's old address still reads, as zeros.
    EXPECT_EQ(ReadAt(before[label]), std::vector<float>(kDim, 0.0f)) << label;
  }
  // Records that did not move read where they were.
  for (uint64_t label = 9; label <= 12; ++label) EXPECT_EQ(AddressOf(label), before[label]);
}

TEST_F(VectorLogTest, InlineVectorsMoveToTheSegmentsOnceEnoughHaveCommitted) {
  Reopen(256, 128, 64, /*inline_max_bytes=*/1024, /*spill_min_vectors=*/4);
  const auto value_of = [&](uint64_t label) {
    std::string value;
    EXPECT_TRUE(db_->Get(Cf::kVectors, keys::VectorKey(1, label), &value).ok()) << label;
    return value;
  };
  Put(1, 2);
  Put(3, 1);
  log_->WaitForBackground();
  EXPECT_EQ(log_->Stats().spilled, 0);  // three: below the threshold
  EXPECT_EQ(value_of(1).size(), sizeof(float) * kDim);
  EXPECT_EQ(AddressOf(1), nullptr);
  Put(4, 1);
  log_->WaitForBackground();
  EXPECT_EQ(log_->Stats().spilled, 4);
  std::map<uint64_t, std::pair<uint32_t, const float*>> moves;
  {
    std::lock_guard lock(moves_mutex_);
    moves = moves_;
  }
  ASSERT_EQ(moves.size(), 4u);
  for (uint64_t label = 1; label <= 4; ++label) {
    EXPECT_EQ(value_of(label).size(), kVectorPointerBytes) << label;
    ASSERT_NE(AddressOf(label), nullptr) << label;
    EXPECT_EQ(moves[label].second, AddressOf(label)) << label;
    EXPECT_EQ(ReadAt(AddressOf(label)), UnitVector(label)) << label;
    ExpectStored(label);
  }
  EXPECT_EQ(log_->Stats().live_records, 4);

  // Written inline while nothing moves them, they move at the next open that may.
  Reopen(256, 128, 64, 1024, /*spill_min_vectors=*/0);
  Put(5, 2);
  log_->WaitForBackground();
  EXPECT_EQ(value_of(5).size(), sizeof(float) * kDim);
  Reopen(256, 128, 64, 1024, /*spill_min_vectors=*/100);
  log_->WaitForBackground();
  EXPECT_EQ(log_->Stats().spilled, 2);
  for (uint64_t label = 1; label <= 6; ++label) ExpectStored(label);
  EXPECT_EQ(value_of(6).size(), kVectorPointerBytes);
  // A row deleted before its move is not moved.
  Put(7, 1);
  Delete(7, 1);
  ASSERT_TRUE(log_->SpillInline().ok());
  EXPECT_EQ(log_->Stats().spilled, 2);
}

TEST_F(VectorLogTest, RowsWrittenWhileASpillCopiesThemKeepTheirNewValues) {
  Reopen(256, 128, 64, /*inline_max_bytes=*/1024, /*spill_min_vectors=*/100);
  Put(1, 4);  // inline, not moved yet (below the threshold)
  const std::vector<float> newer = UnitVector(102);
  {
    std::lock_guard lock(moves_mutex_);
    on_copied_once_ = [&] {  // the spill has copied labels 1-4; then 2 is rewritten, 3 deleted
      const VectorLog::NewVector vector{1, 2, newer.data()};
      storage::WriteTxn txn(*db_);
      ASSERT_TRUE(log_->StagePut(txn, std::span(&vector, 1)).ok());
      ASSERT_TRUE(txn.Commit().ok());
      Delete(3, 1);
    };
  }
  ASSERT_TRUE(log_->SpillInline().ok());
  std::vector<float> unit;
  ASSERT_TRUE(Read(2, &unit).ok());
  EXPECT_EQ(unit, newer);  // not the copy of the old value
  EXPECT_TRUE(Read(3, &unit).IsNotFound());
  ExpectStored(1);
  ExpectStored(4);
  // 1 and 4 moved in the first round, 2's newer value in the next; the copies of the old 2
  // and of 3 are dead.
  EXPECT_EQ(log_->Stats().spilled, 3);
  log_->WaitForBackground();
  EXPECT_EQ(log_->Stats().live_records, 3);
  ASSERT_NE(AddressOf(2), nullptr);
  EXPECT_EQ(ReadAt(AddressOf(2)), newer);
  Reopen();
  ASSERT_TRUE(Read(2, &unit).ok());
  EXPECT_EQ(unit, newer);
  EXPECT_TRUE(Read(3, &unit).IsNotFound());
  log_->WaitForBackground();  // the compaction at open moves records: counts settle after it
  EXPECT_EQ(log_->Stats().live_records, 3);
}

TEST_F(VectorLogTest, RowsWrittenWhileCompactionCopiesThemKeepTheirNewValues) {
  Put(1, 8);  // segments 1-2, four records each
  log_->WaitForBackground();
  {
    std::lock_guard lock(moves_mutex_);
    on_copied_once_ = [&] { Delete(4, 1); };  // copied with label 3; deleted before the rewrite
  }
  {
    const std::shared_ptr<void> pin = log_->Pin();
    Delete(1, 2);  // segment 1 keeps labels 3 and 4: half live, compacted once unpinned
  }
  log_->WaitForBackground();
  ASSERT_TRUE(log_->Compact().ok());
  EXPECT_EQ(log_->Stats().moved_records, 1);  // label 3; the copy of 4 is dead
  std::vector<float> unit;
  EXPECT_TRUE(Read(4, &unit).IsNotFound());
  ExpectStored(3);
  for (uint64_t label = 5; label <= 8; ++label) ExpectStored(label);
  log_->WaitForBackground();
  EXPECT_EQ(log_->Stats().live_records, 5);
  Reopen();
  EXPECT_TRUE(Read(4, &unit).IsNotFound());
  ExpectStored(3);
  log_->WaitForBackground();
  EXPECT_EQ(log_->Stats().live_records, 5);
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

// The value stored under (month 1, label): its size tells a vector from a pointer.
size_t StoredValueBytes(storage::Db& db, uint64_t label) {
  std::string value;
  Status status = db.Get(Cf::kVectors, keys::VectorKey(1, label), &value);
  return status.ok() ? value.size() : 0;
}

TEST_F(VectorLogTest, SmallTransactionsKeepTheirVectorsInTheBatchWithoutASync) {
  // Three vectors' bytes inline per transaction; no zeros ahead, so every sync is one of records.
  Reopen(256, /*fill_ahead_bytes=*/0, 64, /*inline_max_bytes=*/3 * 4 * kDim);
  const int64_t syncs_before = fs_.syncs();
  Put(1, 1);
  Put(2, 3);
  log_->WaitForBackground();
  EXPECT_EQ(fs_.syncs() - syncs_before, 0) << "an inline write synced the segments";
  EXPECT_EQ(log_->Stats().live_records, 0);
  for (uint64_t label = 1; label <= 4; ++label) {
    EXPECT_EQ(StoredValueBytes(*db_, label), 4 * kDim) << label;
    ExpectStored(label);
  }
  Reopen(256, 0, 64, 3 * 4 * kDim);
  for (uint64_t label = 1; label <= 4; ++label) ExpectStored(label);
  Delete(1, 2);
  std::vector<float> read;
  EXPECT_TRUE(Read(1, &read).IsNotFound());
  EXPECT_TRUE(Read(2, &read).IsNotFound());
  ExpectStored(3);
  EXPECT_EQ(log_->Stats().live_records, 0);
}

TEST_F(VectorLogTest, VectorsPastATransactionsInlineBudgetGoToTheSegments) {
  Reopen(256, /*fill_ahead_bytes=*/0, 64, /*inline_max_bytes=*/3 * 4 * kDim);
  std::vector<std::vector<float>> units;
  for (uint64_t label = 1; label <= 6; ++label) units.push_back(UnitVector(label));
  const int64_t syncs_before = fs_.syncs();
  {
    storage::WriteTxn txn(*db_);
    // Two fit the budget, the next two would pass it, and so would the last two.
    for (uint64_t first : {1, 3, 5}) {
      const VectorLog::NewVector vectors[] = {{1, first, units[first - 1].data()},
                                              {1, first + 1, units[first].data()}};
      ASSERT_TRUE(log_->StagePut(txn, vectors).ok());
    }
    ASSERT_TRUE(txn.Commit().ok());
  }
  EXPECT_GE(fs_.syncs() - syncs_before, 1) << "records were committed without a sync";
  for (uint64_t label = 1; label <= 6; ++label) {
    EXPECT_EQ(StoredValueBytes(*db_, label), label <= 2 ? 4 * kDim : kVectorPointerBytes) << label;
    ExpectStored(label);
  }
  EXPECT_EQ(log_->Stats().live_records, 4);
  // A batch larger than the whole budget goes to the segments at once.
  Put(7, 4);
  for (uint64_t label = 7; label <= 10; ++label)
    EXPECT_EQ(StoredValueBytes(*db_, label), kVectorPointerBytes) << label;
  EXPECT_EQ(log_->Stats().live_records, 8);
}

TEST_F(VectorLogTest, MissingSegmentFailsOpenWithItsName) {
  Put(1, 6);
  log_.reset();
  std::filesystem::remove(dir_.Sub("vectors") + "/00000001.vseg");
  VectorLogOptions options;
  options.dir = dir_.Sub("vectors");
  options.dim = kDim;
  options.segment_bytes = 256;
  options.inline_max_bytes = 0;
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

// The fill ahead of the records, held in its second piece: an append inside the fill but before
// that piece goes ahead, however long the piece takes.  (A fill that excluded appends from all of
// its region until it finished made every such batch wait for the whole region's write and sync.)
TEST_F(VectorLogTest, AppendBeforeThePieceBeingZeroedDoesNotWaitForIt) {
  fs_.Hold("00000001.vseg", /*past=*/192);
  ASSERT_NO_FATAL_FAILURE(
      Reopen(/*segment_bytes=*/4096, /*fill_ahead_bytes=*/1024, /*fill_piece_bytes=*/128));
  Put(1, 1);  // [0, 64); zeros then go to [64, 192), and are held at [192, 320)
  ASSERT_TRUE(fs_.WaitUntilHeld());
  std::atomic<bool> done{false};
  std::thread writer([&] {
    Put(2, 2);  // [64, 192)
    done = true;
  });
  const bool finished = Eventually([&] { return done.load(); });
  fs_.Release();
  writer.join();
  EXPECT_TRUE(finished) << "the append waited for zeros past its records";
  EXPECT_EQ(log_->Stats().fill_waits, 0);
  log_->WaitForBackground();
  EXPECT_EQ(fs_.collisions(), 0);
  for (uint64_t label = 1; label <= 3; ++label) ExpectStored(label);
}

// An append reaching the piece being zeroed waits for that write, and the fill resumes after
// its records instead of overwriting them.
TEST_F(VectorLogTest, AppendIntoThePieceBeingZeroedWaitsForThatPieceAlone) {
  fs_.Hold("00000001.vseg", /*past=*/192);
  ASSERT_NO_FATAL_FAILURE(
      Reopen(/*segment_bytes=*/4096, /*fill_ahead_bytes=*/1024, /*fill_piece_bytes=*/128));
  Put(1, 1);
  ASSERT_TRUE(fs_.WaitUntilHeld());  // zeros being written to [192, 320)
  std::atomic<bool> done{false};
  std::thread writer([&] {
    Put(2, 8);  // [64, 576): through the held piece and past it
    done = true;
  });
  const bool waiting = Eventually([&] { return log_->Stats().fill_waits == 1 || done.load(); }) &&
                       log_->Stats().fill_waits == 1;
  const bool finished_early = done.load();
  fs_.Release();
  writer.join();
  EXPECT_TRUE(waiting) << "the append did not wait for the zeros under its records";
  EXPECT_FALSE(finished_early);
  EXPECT_TRUE(done.load());
  EXPECT_EQ(log_->Stats().fill_waits, 1);
  log_->WaitForBackground();
  EXPECT_EQ(fs_.collisions(), 0) << "zeros and records met";
  for (uint64_t label = 1; label <= 9; ++label) ExpectStored(label);
  ASSERT_NO_FATAL_FAILURE(Reopen(4096, 1024, 128));
  for (uint64_t label = 1; label <= 9; ++label) ExpectStored(label);
}

// The next segment, prepared while the active one fills, gets its zeros in pieces too: a roll into
// it waits for none of them but the one its records reach.
TEST_F(VectorLogTest, RollDoesNotWaitForTheNextSegmentsZeros) {
  fs_.Hold("00000002.vseg", /*past=*/128);
  ASSERT_NO_FATAL_FAILURE(
      Reopen(/*segment_bytes=*/1024, /*fill_ahead_bytes=*/512, /*fill_piece_bytes=*/128));
  Put(1, 12);  // three quarters of segment 1: segment 2 is prepared, its zeros held at [128, 256)
  ASSERT_TRUE(fs_.WaitUntilHeld());
  std::atomic<bool> done{false};
  std::thread writer([&] {
    Put(13, 6);  // the rest of segment 1, then [0, 128) of segment 2
    done = true;
  });
  const bool finished = Eventually([&] { return done.load(); });
  fs_.Release();
  writer.join();
  EXPECT_TRUE(finished) << "the roll waited for the next segment's zeros";
  EXPECT_EQ(log_->Stats().fill_waits, 0);
  log_->WaitForBackground();
  EXPECT_EQ(fs_.collisions(), 0) << "zeros and records met";
  for (uint64_t label = 1; label <= 18; ++label) ExpectStored(label);
  ASSERT_NO_FATAL_FAILURE(Reopen(1024, 512, 128));
  for (uint64_t label = 1; label <= 18; ++label) ExpectStored(label);
}

// Writers racing the fill (in pieces of one record, so that they reach the piece being written
// and run ahead of the zeros often) lose no byte to it: every record reads back, the segments hold
// records and then zeros only, which is what recovery takes for their end, and a reopen finds every
// record.
TEST_F(VectorLogTest, ZerosAheadNeverLandOnRecords) {
  constexpr uint64_t kSegmentBytes = 8192;  // 128 records
  ASSERT_NO_FATAL_FAILURE(Reopen(kSegmentBytes, /*fill_ahead_bytes=*/256, /*fill_piece_bytes=*/64));
  constexpr int kThreads = 4;
  constexpr int kBatches = 40;
  constexpr uint64_t kMaxBatch = 9;
  std::vector<uint64_t> counts(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(static_cast<uint32_t>(t));
      uint64_t next = 1 + static_cast<uint64_t>(t) * kBatches * kMaxBatch;
      for (int b = 0; b < kBatches; ++b) {
        const uint64_t n = 1 + rng() % kMaxBatch;
        Put(next, n);
        next += n;
        counts[t] += n;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  int64_t total = 0;
  for (uint64_t count : counts) total += static_cast<int64_t>(count);
  log_->WaitForBackground();
  EXPECT_EQ(fs_.collisions(), 0) << "zeros and records met";
  EXPECT_GT(fs_.zero_writes(), 0);
  auto expect_all = [&] {
    for (int t = 0; t < kThreads; ++t) {
      const uint64_t first = 1 + static_cast<uint64_t>(t) * kBatches * kMaxBatch;
      for (uint64_t label = first; label < first + counts[t]; ++label) ExpectStored(label);
    }
  };
  expect_all();
  for (const std::string& name : SegmentFiles()) {
    std::ifstream file(dir_.Sub("vectors") + "/" + name, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(file)),
                            std::istreambuf_iterator<char>());
    size_t end = 0;
    while (end + 64 <= bytes.size() && bytes.compare(end, 4, "MVEC") == 0) end += 64;
    EXPECT_EQ(bytes.find_first_not_of('\0', end), std::string::npos)
        << name << ": bytes other than zeros after the records, from offset " << end;
  }
  EXPECT_EQ(log_->Stats().live_records, total);
  ASSERT_NO_FATAL_FAILURE(Reopen(kSegmentBytes, 256, 64));
  expect_all();
  EXPECT_EQ(log_->Stats().live_records, total);
}

}  // namespace
}  // namespace mnemo::vector
