// WalSyncFileSystem on the power-cut model: SyncWals() must leave every byte handed to a WAL file
// before it durable, with the file's directory entry, and Db::Write must return only then.
#include "storage/wal_sync.h"

#include <gtest/gtest.h>
#include <rocksdb/file_system.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "power_cut.h"
#include "storage/db.h"
#include "testing/temp_dir.h"

namespace mnemo::testing {
namespace {

namespace fs = std::filesystem;
using storage::WalSyncFileSystem;

// Fails every Sync while `fail` is set.
class FailingSyncFileSystem final : public rocksdb::FileSystemWrapper {
 public:
  explicit FailingSyncFileSystem(const std::shared_ptr<rocksdb::FileSystem>& target)
      : FileSystemWrapper(target) {}
  const char* Name() const override { return "FailingSync"; }

  rocksdb::IOStatus NewWritableFile(const std::string& fname, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus status = target()->NewWritableFile(fname, options, result, dbg);
    if (status.ok()) *result = std::make_unique<File>(std::move(*result), fail);
    return status;
  }

  std::atomic<bool> fail{false};

 private:
  class File final : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    File(std::unique_ptr<rocksdb::FSWritableFile> target, const std::atomic<bool>& fail)
        : FSWritableFileOwnerWrapper(std::move(target)), fail_(fail) {}
    rocksdb::IOStatus Sync(const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
      if (fail_) return rocksdb::IOStatus::IOError("injected sync failure");
      return target()->Sync(options, dbg);
    }

   private:
    const std::atomic<bool>& fail_;
  };
};

class WalSyncTest : public ::testing::Test {
 protected:
  WalSyncTest() : root_(dir_.Sub("root")) {
    fs::create_directories(root_);
    cut_ = PowerCut::Create(root_.string());
    wal_fs_ = std::make_shared<WalSyncFileSystem>(cut_->RocksDbFileSystem());
  }

  std::unique_ptr<rocksdb::FSWritableFile> Create(WalSyncFileSystem& file_system,
                                                  const std::string& name) {
    std::unique_ptr<rocksdb::FSWritableFile> file;
    EXPECT_TRUE(
        file_system.NewWritableFile((root_ / name).string(), rocksdb::FileOptions(), &file, nullptr)
            .ok());
    return file;
  }
  static void Append(rocksdb::FSWritableFile& file, std::string_view data) {
    ASSERT_TRUE(
        file.Append(rocksdb::Slice(data.data(), data.size()), rocksdb::IOOptions(), nullptr).ok());
  }
  bool Durable(const std::string& name) const { return cut_->IsDurable((root_ / name).string()); }

  TempDir dir_;
  fs::path root_;
  std::shared_ptr<PowerCut> cut_;
  std::shared_ptr<WalSyncFileSystem> wal_fs_;
};

TEST(WalSyncNamesTest, OnlyNumberedLogFilesAreWals) {
  EXPECT_TRUE(WalSyncFileSystem::IsWalFileName("/data/000012.log"));
  EXPECT_TRUE(WalSyncFileSystem::IsWalFileName("7.log"));
  EXPECT_FALSE(WalSyncFileSystem::IsWalFileName("/data/LOG"));
  EXPECT_FALSE(WalSyncFileSystem::IsWalFileName("/data/.log"));
  EXPECT_FALSE(WalSyncFileSystem::IsWalFileName("/data/LOG.old.1.log"));
  EXPECT_FALSE(WalSyncFileSystem::IsWalFileName("/data/000012.sst"));
  EXPECT_FALSE(WalSyncFileSystem::IsWalFileName("/data/MANIFEST-000005"));
}

TEST_F(WalSyncTest, SyncWalsMakesANewWalAndItsEntryDurable) {
  auto wal = Create(*wal_fs_, "000007.log");
  Append(*wal, "first record");
  EXPECT_FALSE(Durable("000007.log"));
  ASSERT_TRUE(wal_fs_->SyncWals().ok());
  EXPECT_TRUE(Durable("000007.log"));  // bytes and directory entry

  Append(*wal, "second record");
  EXPECT_FALSE(Durable("000007.log"));
  ASSERT_TRUE(wal_fs_->SyncWals().ok());
  EXPECT_TRUE(Durable("000007.log"));
  const int64_t syncs = cut_->counts().file_syncs;
  ASSERT_TRUE(wal_fs_->SyncWals().ok());
  EXPECT_EQ(cut_->counts().file_syncs, syncs);  // nothing new: no sync
  ASSERT_TRUE(wal->Close(rocksdb::IOOptions(), nullptr).ok());
}

TEST_F(WalSyncTest, ClosingAWalMakesItDurable) {
  auto wal = Create(*wal_fs_, "000009.log");
  Append(*wal, "record");
  ASSERT_TRUE(wal->Close(rocksdb::IOOptions(), nullptr).ok());
  EXPECT_TRUE(Durable("000009.log"));
  ASSERT_TRUE(wal_fs_->SyncWals().ok());
}

TEST_F(WalSyncTest, OtherFilesAreLeftToRocksDb) {
  auto manifest = Create(*wal_fs_, "MANIFEST-000001");
  Append(*manifest, "edit");
  ASSERT_TRUE(wal_fs_->SyncWals().ok());
  EXPECT_FALSE(Durable("MANIFEST-000001"));
  ASSERT_TRUE(manifest->Close(rocksdb::IOOptions(), nullptr).ok());
}

TEST_F(WalSyncTest, AFailedSyncIsSticky) {
  auto failing = std::make_shared<FailingSyncFileSystem>(cut_->RocksDbFileSystem());
  WalSyncFileSystem wal_fs(failing);
  auto wal = Create(wal_fs, "000011.log");
  Append(*wal, "record");
  failing->fail = true;
  const Status failed = wal_fs.SyncWals();
  EXPECT_EQ(failed.code(), StatusCode::kUnavailable);
  EXPECT_NE(failed.message().find("injected sync failure"), std::string_view::npos);
  failing->fail = false;
  // The pages the failed sync should have written are in an unknown state: no later sync may
  // claim them durable.
  EXPECT_EQ(wal_fs.SyncWals().code(), StatusCode::kUnavailable);
  wal->Close(rocksdb::IOOptions(), nullptr).PermitUncheckedError();
}

// Every WAL file under `dir` with content is durable.
bool WalsDurable(const PowerCut& cut, const fs::path& dir) {
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (WalSyncFileSystem::IsWalFileName(entry.path().string()) && entry.file_size() > 0 &&
        !cut.IsDurable(entry.path().string())) {
      return false;
    }
  }
  return true;
}

TEST_F(WalSyncTest, DbWritesReturnWithTheirWalDurable) {
  for (const bool sync_writes : {true, false}) {
    SCOPED_TRACE(sync_writes ? "sync_writes" : "no sync_writes");
    const fs::path path = root_ / (sync_writes ? "synced" : "unsynced");
    storage::DbOptions options;
    options.path = path.string();
    options.sync_writes = sync_writes;
    options.file_system = cut_->RocksDbFileSystem();
    auto db = storage::Db::Open(options);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    bool all_durable = true;
    for (int i = 0; i < 20; ++i) {
      rocksdb::WriteBatch batch;
      ASSERT_TRUE(batch
                      .Put((*db)->handle(storage::Cf::kMessages), "key" + std::to_string(i),
                           std::string(200, 'v'))
                      .ok());
      ASSERT_TRUE((*db)->Write(&batch).ok());
      all_durable = all_durable && WalsDurable(*cut_, path);
      if (i == 10) {
        ASSERT_TRUE((*db)->Flush().ok());  // a new WAL from here on
      }
    }
    EXPECT_EQ(all_durable, sync_writes);
  }
}

// The live WAL of the data directory at `dir` (the one with the highest number).
fs::path LiveWal(const fs::path& dir) {
  fs::path live;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (WalSyncFileSystem::IsWalFileName(entry.path().string()) &&
        (live.empty() || entry.path().filename() > live.filename())) {
      live = entry.path();
    }
  }
  return live;
}

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// A crash leaves the live WAL zero-filled past its last record, and perhaps with only the first
// part of that record written.  Recovery must replay every complete record and stop quietly at
// the zeros, whatever block boundaries the records cross.
TEST(WalZeroFillTest, RecoveryReadsUpToTheZeros) {
  TempDir dir;
  const fs::path path = dir.Sub("data");
  const fs::path whole = dir.Sub("whole");  // copies taken while the Db is open: a crash
  const fs::path before_last = dir.Sub("before-last");
  const std::string big(100 << 10, 'b');  // spans several 32 KiB WAL blocks
  storage::DbOptions options;
  options.path = path.string();
  {
    auto db = storage::Db::Open(options);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    auto put = [&](const std::string& key, const std::string& value) {
      rocksdb::WriteBatch batch;
      ASSERT_TRUE(batch.Put((*db)->handle(storage::Cf::kMessages), key, value).ok());
      ASSERT_TRUE((*db)->Write(&batch).ok());
    };
    for (int i = 0; i < 10; ++i) put("key" + std::to_string(i), i == 5 ? big : "small");
    fs::copy(path, before_last, fs::copy_options::recursive);
    put("last", big);
    fs::copy(path, whole, fs::copy_options::recursive);
  }
  const fs::path wal = LiveWal(whole);
  ASSERT_FALSE(wal.empty());
  const std::string full = ReadAll(wal);
  ASSERT_EQ(full.size() % (uint64_t{1} << 20), 0u) << "the live WAL is not zero-filled";
  ASSERT_EQ(full.back(), '\0');

  // The same WAL with the last record cut after its first 40 KiB, the rest zeros.
  const std::string earlier = ReadAll(LiveWal(before_last));
  size_t last_start = 0;
  while (last_start < earlier.size() && earlier[last_start] == full[last_start]) ++last_start;
  ASSERT_LT(last_start + (40 << 10), full.size());
  const fs::path torn = dir.Sub("torn");
  fs::copy(whole, torn, fs::copy_options::recursive);
  {
    std::string cut = full;
    std::fill(cut.begin() + static_cast<std::ptrdiff_t>(last_start + (40 << 10)), cut.end(), '\0');
    std::ofstream(torn / wal.filename(), std::ios::binary | std::ios::trunc) << cut;
  }

  for (const auto& [copy, has_last] : {std::pair{whole, true}, std::pair{torn, false}}) {
    SCOPED_TRACE(copy.filename().string());
    storage::DbOptions reopen;
    reopen.path = copy.string();
    reopen.create_if_missing = false;
    auto db = storage::Db::Open(reopen);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    std::string value;
    for (int i = 0; i < 10; ++i) {
      ASSERT_TRUE((*db)->Get(storage::Cf::kMessages, "key" + std::to_string(i), &value).ok());
      EXPECT_EQ(value, i == 5 ? big : "small");
    }
    EXPECT_EQ((*db)->Get(storage::Cf::kMessages, "last", &value).ok(), has_last);
  }
}

}  // namespace
}  // namespace mnemo::testing
