// WalSyncFileSystem on the power-cut model: SyncWals() must leave every byte handed to a WAL file
// before it durable, with the file's directory entry, and Db::Write must return only then.
#include "storage/wal_sync.h"

#include <gtest/gtest.h>
#include <rocksdb/file_system.h>
#include <rocksdb/write_batch.h>

#include <atomic>
#include <filesystem>

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

}  // namespace
}  // namespace mnemo::testing
