// The power-cut model itself: it must drop exactly what POSIX does not promise to keep, or the
// engine's power-loss test proves nothing.
#include "power_cut.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <rocksdb/options.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "testing/temp_dir.h"

namespace mnemo::testing {
namespace {

namespace fs = std::filesystem;

std::string Content(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

class PowerCutTest : public ::testing::Test {
 protected:
  PowerCutTest() : root_(dir_.Sub("root")) {
    fs::create_directories(root_);
    std::ofstream(root_ / "old") << "old";
    cut_ = PowerCut::Create(root_);
    fs_ = cut_->MnemoFileSystem();
  }

  // Writes `data` to `name` and syncs the file (not the directory).
  void WriteSynced(const std::string& name, std::string_view data) {
    auto file = fs_->NewWritableFile((root_ / name).string());
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE((*file)->Append(data).ok());
    ASSERT_TRUE((*file)->Sync().ok());
    ASSERT_TRUE((*file)->Close().ok());
  }
  void SyncRoot() { ASSERT_TRUE(fs_->SyncDir(root_.string()).ok()); }

  TempDir dir_;
  fs::path root_;
  std::shared_ptr<PowerCut> cut_;
  std::shared_ptr<FileSystem> fs_;
};

TEST_F(PowerCutTest, WhatExistedAtTheStartSurvives) {
  cut_->Cut();
  EXPECT_EQ(Content(root_ / "old"), "old");
}

TEST_F(PowerCutTest, UnsyncedBytesAreLostSyncedBytesKept) {
  auto file = fs_->NewWritableFile((root_ / "f").string());
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append("synced").ok());
  ASSERT_TRUE((*file)->Sync().ok());
  ASSERT_TRUE((*file)->Append(" unsynced").ok());
  ASSERT_TRUE((*file)->Close().ok());
  SyncRoot();
  EXPECT_EQ(Content(root_ / "f"), "synced unsynced");
  cut_->Cut();
  EXPECT_EQ(Content(root_ / "f"), "synced");
}

TEST_F(PowerCutTest, ANewFileNeedsItsDirectorySynced) {
  WriteSynced("f", "data");
  cut_->Cut();
  EXPECT_FALSE(fs::exists(root_ / "f"));
  WriteSynced("g", "data");
  SyncRoot();
  cut_->Cut();
  EXPECT_EQ(Content(root_ / "g"), "data");
}

TEST_F(PowerCutTest, RenamesAndRemovalsNeedTheDirectorySynced) {
  WriteSynced("new", "new");
  ASSERT_TRUE(fs_->Rename((root_ / "new").string(), (root_ / "old").string()).ok());
  cut_->Cut();
  EXPECT_EQ(Content(root_ / "old"), "old");  // the rename was not durable

  WriteSynced("new", "new");
  ASSERT_TRUE(fs_->Rename((root_ / "new").string(), (root_ / "old").string()).ok());
  SyncRoot();
  cut_->Cut();
  EXPECT_EQ(Content(root_ / "old"), "new");
  EXPECT_FALSE(fs::exists(root_ / "new"));

  ASSERT_TRUE(fs_->Remove((root_ / "old").string()).ok());
  cut_->Cut();
  EXPECT_EQ(Content(root_ / "old"), "new");  // the removal was not durable
}

TEST_F(PowerCutTest, ASubdirectoryNeedsItsParentSynced) {
  const fs::path sub = root_ / "sub";
  ASSERT_TRUE(fs_->CreateDir(sub.string()).ok());
  WriteSynced("sub/f", "x");
  ASSERT_TRUE(fs_->SyncDir(sub.string()).ok());
  cut_->Cut();
  EXPECT_FALSE(fs::exists(sub));
  ASSERT_TRUE(fs_->CreateDir(sub.string()).ok());
  WriteSynced("sub/f", "x");
  ASSERT_TRUE(fs_->SyncDir(sub.string()).ok());
  SyncRoot();
  cut_->Cut();
  EXPECT_EQ(Content(sub / "f"), "x");
}

TEST_F(PowerCutTest, NothingBecomesDurableAfterTheFreeze) {
  cut_->Freeze();
  WriteSynced("f", "after");
  SyncRoot();
  EXPECT_EQ(Content(root_ / "f"), "after");  // the disk still sees it until the cut
  cut_->Cut();
  EXPECT_FALSE(fs::exists(root_ / "f"));
  EXPECT_FALSE(cut_->frozen());
}

TEST_F(PowerCutTest, TruncationIsUndoneUntilSynced) {
  WriteSynced("f", "first");
  SyncRoot();
  auto file = fs_->NewWritableFile((root_ / "f").string());  // truncates
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append("2nd").ok());
  ASSERT_TRUE((*file)->Close().ok());
  cut_->Cut();
  EXPECT_EQ(Content(root_ / "f"), "first");
}

// RocksDB through the wrapper: a write without a WAL sync is lost, a synced one kept.
TEST_F(PowerCutTest, RocksDbWritesSurviveOnlyWhenSynced) {
  const std::string db_path = (root_ / "db").string();
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(cut_->RocksDbFileSystem());
  rocksdb::Options options;
  options.create_if_missing = true;
  options.env = env.get();
  auto write = [&](bool sync, const std::string& key) {
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(options, db_path, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    SyncRoot();  // RocksDB does not sync the parent of the directory it creates
    rocksdb::WriteOptions write_options;
    write_options.sync = sync;
    ASSERT_TRUE(db->Put(write_options, key, "v").ok());
    cut_->Freeze();
  };
  auto has = [&](const std::string& key) {
    rocksdb::DB* raw = nullptr;
    const rocksdb::Status opened = rocksdb::DB::Open(options, db_path, &raw);
    EXPECT_TRUE(opened.ok()) << opened.ToString();
    std::unique_ptr<rocksdb::DB> db(raw);
    std::string value;
    return db && db->Get(rocksdb::ReadOptions(), key, &value).ok();
  };
  write(/*sync=*/false, "unsynced");
  cut_->Cut();
  EXPECT_FALSE(has("unsynced"));
  write(/*sync=*/true, "synced");
  cut_->Cut();
  EXPECT_TRUE(has("synced"));
  EXPECT_GT(cut_->counts().file_syncs, 0);
  EXPECT_GT(cut_->counts().dir_syncs, 0);
}

}  // namespace
}  // namespace mnemo::testing
