// Power loss: the engine runs on file systems that remember only what was synced (power_cut.h),
// writers record every write and whether it was acknowledged (ledger.h), and at a random moment
// the power is cut: the process stops, the disk keeps only its durable state, and the engine is
// reopened from it.  Every acknowledged write must be there, every write all or nothing.
//
// The scenarios add, during the writes: a graph save, flushes and compaction, a backup; one
// rebuilds a replica from the replication log that survived.  The last test runs the same load
// with sync_writes = false and requires the check to catch losses, which shows the harness can
// fail.  MNEMO_POWER_LOSS_SEED replays a run.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <thread>

#include "ledger.h"
#include "mnemo/engine.h"
#include "power_cut.h"
#include "testing/temp_dir.h"
#include "vector/hnsw/hnsw_index.h"

namespace mnemo::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr int kWriters = 2;
constexpr uint32_t kDimension = 8;

uint64_t BaseSeed() {
  static const uint64_t seed = []() -> uint64_t {
    if (const char* text = std::getenv("MNEMO_POWER_LOSS_SEED"))
      return std::strtoull(text, nullptr, 10);
    std::random_device device;
    return static_cast<uint64_t>(device()) << 32 | device();
  }();
  return seed;
}

std::string Describe(const std::vector<std::string>& problems) {
  std::string text;
  for (size_t i = 0; i < problems.size() && i < 20; ++i) text += "\n  " + problems[i];
  if (problems.size() > 20) text += "\n  ... " + std::to_string(problems.size() - 20) + " more";
  return text;
}

class PowerLossTest : public ::testing::Test {
 protected:
  PowerLossTest() : root_(dir_.Sub("root")), data_(root_ + "/data") {
    fs::create_directories(root_);
    cut_ = PowerCut::Create(root_);
  }

  EngineOptions Options(const std::string& data_dir, bool sync_writes = true) {
    EngineOptions options;
    options.data_dir = data_dir;
    options.dimension = kDimension;
    options.sync_writes = sync_writes;
    options.block_cache_bytes = size_t{8} << 20;
    // 256 vectors per segment: cuts land during segment roll-overs and removals too.
    options.vector_segment_bytes = 16 << 10;
    options.rocksdb_file_system = cut_->RocksDbFileSystem();
    options.file_system = cut_->MnemoFileSystem();
    return options;
  }

  std::unique_ptr<Engine> Open(const EngineOptions& options) {
    auto engine = Engine::Open(options);
    EXPECT_TRUE(engine.ok()) << engine.status().ToString();
    return engine.ok() ? std::move(engine).value() : nullptr;
  }

  // Starts the writers (continuing their ledgers when they ran before); the seeds are drawn here,
  // before any thread runs.
  void StartWriters(Engine& engine, size_t max_writes = 400) {
    if (ledgers_.empty()) {
      ledgers_.resize(kWriters);
      for (int i = 0; i < kWriters; ++i) ledgers_[i].user = "user" + std::to_string(i);
    }
    for (int i = 0; i < kWriters; ++i) {
      const uint64_t seed = seeds_();
      WorkloadOptions options;
      options.dimension = kDimension;
      options.max_writes = ledgers_[i].writes.size() + max_writes;
      running_.fetch_add(1);
      threads_.emplace_back([this, &engine, i, seed, options] {
        RunWorkload(engine, ledgers_[i], seed, options, stop_, still_up_);
        running_.fetch_sub(1);
      });
    }
  }

  void StopWriters() {
    stop_ = true;
    for (auto& thread : threads_) thread.join();
    threads_.clear();
    stop_ = false;
  }

  // Waits until the writers have `count` acknowledged writes between them, or have finished
  // (bounded).
  void WaitForAcknowledged(size_t count) {
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (acknowledged_.load() < count && running_.load() > 0 &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(2ms);
    }
  }

  // The power cut: nothing more becomes durable; the writers stop; the process "dies" (the
  // engine is dropped, writing what it likes to a disk that forgets it); the disk is rewritten
  // to its durable state.
  void CutPower(std::unique_ptr<Engine>& engine) {
    cut_->Freeze();
    StopWriters();
    engine.reset();
    cut_->Cut();
  }

  // The saved graph files (*.hnsw) under a data directory.
  static std::vector<std::string> GraphFiles(const std::string& data_dir) {
    std::vector<std::string> paths;
    std::error_code ec;
    for (const auto& entry : fs::recursive_directory_iterator(data_dir + "/hnsw", ec)) {
      if (entry.path().extension() == ".hnsw") paths.push_back(entry.path().string());
    }
    return paths;
  }

  static void ExpectGraphFileLoads(const std::string& path) {
    // The file itself is checked; the vectors it points at are the segments' (checked by the
    // reopen), so every external one reads as zeros here.
    auto loaded = hnsw::HnswIndex::Load(path, {}, PosixFileSystem(),
                                        [](uint64_t) -> const float* { return nullptr; });
    EXPECT_TRUE(loaded.ok()) << path << ": " << loaded.status().ToString();
  }

  // Opens `data_dir` after a cut and checks it against the ledgers; null when it did not open.
  std::unique_ptr<Engine> ReopenAndCheck(const std::string& data_dir,
                                         const std::vector<size_t>& settled = {}) {
    std::unique_ptr<Engine> engine = Open(Options(data_dir));
    if (engine) ExpectEveryPromiseKept(*engine, settled);
    return engine;
  }

  void ExpectEveryPromiseKept(Engine& engine, const std::vector<size_t>& settled = {}) {
    const auto problems = CheckAgainstLedgers(engine, ledgers_, settled);
    EXPECT_TRUE(problems.empty()) << problems.size()
                                  << " problems (MNEMO_POWER_LOSS_SEED=" << BaseSeed()
                                  << "):" << Describe(problems);
  }

  // A test that stops at a failed assertion leaves its writers running: they are joined before
  // the engine they write to goes away.
  ~PowerLossTest() override {
    StopWriters();
    engine_.reset();
  }

  TempDir dir_;
  const std::string root_;
  const std::string data_;  // created by the engine: its entry must be made durable too
  std::shared_ptr<PowerCut> cut_;
  std::vector<Ledger> ledgers_;
  std::vector<std::thread> threads_;
  std::mt19937_64 seeds_{BaseSeed()};
  std::atomic<bool> stop_{false};
  std::atomic<int> running_{0};
  std::atomic<size_t> acknowledged_{0};
  // A writer counts a write as acknowledged only if the power was still on when it returned.
  const std::function<bool()> still_up_ = [this] {
    if (cut_->frozen()) return false;
    acknowledged_.fetch_add(1);
    return true;
  };
  std::unique_ptr<Engine> engine_;  // the tests' engine; declared last, so destroyed first
};

// Appends, atomic batches (a conversation with its messages, a document with its chunks), chunk
// batches, soft and hard deletes; the power fails at a random point.
TEST_F(PowerLossTest, AcknowledgedWritesSurviveACut) {
  std::unique_ptr<Engine>& engine = engine_;
  engine = Open(Options(data_));
  ASSERT_TRUE(engine);
  StartWriters(*engine);
  std::mt19937_64 rng(BaseSeed());
  WaitForAcknowledged(50 + rng() % 150);
  CutPower(engine);
  ASSERT_GE(AcknowledgedWrites(ledgers_), 50u);

  engine = ReopenAndCheck(data_);
  ASSERT_TRUE(engine);
  // A second cut right after recovery: what recovery wrote must be durable as well.
  cut_->Freeze();
  engine.reset();
  cut_->Cut();
  engine = ReopenAndCheck(data_);
  ASSERT_TRUE(engine);
}

// Graph saves while the writers run; the power fails during or after one.  A save that returned
// is durable at that moment, no graph file is left torn, and recovery from "saved graph + later
// writes" loses nothing.
TEST_F(PowerLossTest, GraphSavesDuringWrites) {
  std::unique_ptr<Engine>& engine = engine_;
  engine = Open(Options(data_));
  ASSERT_TRUE(engine);
  StartWriters(*engine, /*max_writes=*/100000);
  // The writers' random mix may not have left a live chunk yet (and a user without one has no
  // graph file): save again after more writes until a graph exists.
  std::vector<std::string> saved;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (saved.empty() && std::chrono::steady_clock::now() < deadline) {
    WaitForAcknowledged(acknowledged_.load() + 30);
    ASSERT_TRUE(engine->SaveIndexes().ok());
    saved = GraphFiles(data_);
  }
  ASSERT_FALSE(saved.empty()) << "no user had a chunk within 30 s of writes";
  for (const std::string& path : saved)
    EXPECT_TRUE(cut_->IsDurable(path)) << path << ": saved, not durable";
  std::atomic<bool> saving{true};
  std::thread saver([&] {
    while (saving.load()) engine->SaveIndexes().IgnoreError();
  });
  std::mt19937_64 rng(BaseSeed());
  std::this_thread::sleep_for(std::chrono::milliseconds(20 + rng() % 200));
  cut_->Freeze();
  saving = false;
  saver.join();
  CutPower(engine);

  for (const std::string& path : GraphFiles(data_)) ExpectGraphFileLoads(path);
  engine = ReopenAndCheck(data_);
  ASSERT_TRUE(engine);
}

// Flushes turn memtables into SST files and enough of them start a compaction, which deletes its
// inputs; the power fails after that.
TEST_F(PowerLossTest, FlushesAndCompaction) {
  std::unique_ptr<Engine>& engine = engine_;
  engine = Open(Options(data_));
  ASSERT_TRUE(engine);
  StartWriters(*engine, /*max_writes=*/100000);
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  for (size_t flushes = 0;
       cut_->counts().removed_sst_files == 0 && std::chrono::steady_clock::now() < deadline;
       ++flushes) {
    WaitForAcknowledged(acknowledged_.load() + 20);
    ASSERT_TRUE(engine->Flush().ok());
  }
  ASSERT_GT(cut_->counts().removed_sst_files, 0) << "no compaction ran within 60 s";
  WaitForAcknowledged(acknowledged_.load() + 20);
  CutPower(engine);

  engine = ReopenAndCheck(data_);
  ASSERT_TRUE(engine);
}

// A backup taken during the writes, then the power fails.  The data directory holds every
// acknowledged write, and the backup every write acknowledged before it started.
TEST_F(PowerLossTest, BackupDuringWrites) {
  std::unique_ptr<Engine>& engine = engine_;
  engine = Open(Options(data_));
  ASSERT_TRUE(engine);
  StartWriters(*engine);
  WaitForAcknowledged(60);
  StopWriters();
  std::vector<size_t> settled;
  for (const Ledger& ledger : ledgers_) settled.push_back(ledger.writes.size());
  StartWriters(*engine, /*max_writes=*/100000);
  std::this_thread::sleep_for(20ms);
  const std::string backup = root_ + "/backup";
  ASSERT_TRUE(engine->CreateBackup(backup).ok());
  const std::vector<std::string> copies = GraphFiles(backup);
  EXPECT_FALSE(copies.empty());
  for (const std::string& path : copies)
    EXPECT_TRUE(cut_->IsDurable(path)) << path << ": copied, not durable";
  WaitForAcknowledged(acknowledged_.load() + 20);
  CutPower(engine);

  engine = ReopenAndCheck(data_);
  ASSERT_TRUE(engine);
  engine.reset();
  ASSERT_TRUE(fs::exists(backup)) << "the backup did not survive the cut";
  for (const std::string& path : GraphFiles(backup)) ExpectGraphFileLoads(path);
  EXPECT_TRUE(ReopenAndCheck(backup, settled)) << "the backup does not open";
}

// A partition archived and then dropped, and the power fails: the archive must have been
// durable before the drop, or the rows are gone.  Attaching it brings every row back.
TEST_F(PowerLossTest, ArchiveThenDrop) {
  std::unique_ptr<Engine>& engine = engine_;
  engine = Open(Options(data_));
  ASSERT_TRUE(engine);
  StartWriters(*engine);
  WaitForAcknowledged(100);
  StopWriters();
  const auto partitions = engine->ListPartitions();
  ASSERT_FALSE(partitions.empty());
  const std::string month = partitions.front().month;
  const std::string archive = root_ + "/" + month + ".arc";
  auto archived = engine->ArchivePartition(month, archive);
  ASSERT_TRUE(archived.ok()) << archived.status().ToString();
  ASSERT_GT(*archived, 0);
  auto dropped = engine->DropPartition(month);
  ASSERT_TRUE(dropped.ok()) << dropped.status().ToString();
  EXPECT_EQ(*dropped, *archived);
  CutPower(engine);

  engine = Open(Options(data_));
  ASSERT_TRUE(engine);
  auto attached = engine->AttachArchive(archive);
  ASSERT_TRUE(attached.ok()) << "the archive did not survive the cut: "
                             << attached.status().ToString();
  EXPECT_EQ(attached->attached, *archived);
  ExpectEveryPromiseKept(*engine);
}

// With the replication log on, the log that survives a cut holds exactly the writes that did:
// a replica built from it alone keeps every promise, and agrees with the primary.
TEST_F(PowerLossTest, ReplicationLogHoldsExactlyTheWritesThatSurvive) {
  std::unique_ptr<Engine>& engine = engine_;
  EngineOptions options = Options(data_);
  options.replication_log = true;
  engine = Open(options);
  ASSERT_TRUE(engine);
  StartWriters(*engine);
  std::mt19937_64 rng(BaseSeed());
  WaitForAcknowledged(50 + rng() % 150);
  CutPower(engine);
  engine = Open(options);
  ASSERT_TRUE(engine);
  ExpectEveryPromiseKept(*engine);

  EngineOptions replica_options;
  replica_options.data_dir = dir_.Sub("replica");
  replica_options.dimension = kDimension;
  replica_options.replication_log = true;
  replica_options.sync_writes = false;
  std::unique_ptr<Engine> replica = Open(replica_options);
  ASSERT_TRUE(replica);
  for (uint64_t next = 1;;) {
    auto records = engine->ReadLog(next, 256);
    ASSERT_TRUE(records.ok()) << records.status().ToString();
    if (records->empty()) break;
    for (const LogRecord& record : *records) {
      const Status applied = replica->ApplyLogged(record);
      ASSERT_TRUE(applied.ok()) << "record " << record.seq << ": " << applied.ToString();
      next = record.seq + 1;
    }
  }
  EXPECT_EQ(replica->LastLogSeq(), engine->LastLogSeq());
  ExpectEveryPromiseKept(*replica);
  for (const Ledger& ledger : ledgers_) {
    ConversationListOptions list;
    list.include_deleted = true;
    const auto on_primary = engine->ListConversations(ledger.user, list);
    const auto on_replica = replica->ListConversations(ledger.user, list);
    ASSERT_TRUE(on_primary.ok() && on_replica.ok());
    EXPECT_EQ(on_primary->total, on_replica->total) << ledger.user;
    const auto documents_primary = engine->CountDocuments(ledger.user);
    const auto documents_replica = replica->CountDocuments(ledger.user);
    ASSERT_TRUE(documents_primary.ok() && documents_replica.ok());
    EXPECT_EQ(documents_primary->total, documents_replica->total) << ledger.user;
    const auto stats_primary = engine->GetUserStats(ledger.user);
    const auto stats_replica = replica->GetUserStats(ledger.user);
    ASSERT_TRUE(stats_primary.ok() && stats_replica.ok());
    EXPECT_EQ(stats_primary->last_activity, stats_replica->last_activity) << ledger.user;
  }
}

// The same load without syncing the WAL: the check must find acknowledged writes lost.  This
// is what makes the tests above worth something.
TEST_F(PowerLossTest, WithoutSyncWritesTheCheckFindsLosses) {
  std::unique_ptr<Engine>& engine = engine_;
  engine = Open(Options(data_, /*sync_writes=*/false));
  ASSERT_TRUE(engine);
  StartWriters(*engine);
  WaitForAcknowledged(80);
  CutPower(engine);
  ASSERT_GE(AcknowledgedWrites(ledgers_), 80u);
  engine = Open(Options(data_, /*sync_writes=*/false));
  ASSERT_TRUE(engine);
  const auto problems = CheckAgainstLedgers(*engine, ledgers_);
  EXPECT_FALSE(problems.empty()) << "unsynced acknowledged writes all survived the cut";
}

}  // namespace
}  // namespace mnemo::testing
