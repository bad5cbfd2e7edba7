// WriteTxn: staged writes, read-your-own-writes, and how deletes reach RocksDB.
#include "storage/write_txn.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/utilities/debug.h>

#include <string>
#include <vector>

#include "testing/temp_dir.h"

namespace mnemo::storage {
namespace {

using mnemo::testing::TempDir;

class WriteTxnTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DbOptions options;
    options.path = dir_.Sub("data");
    auto opened = Db::Open(options);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    db_ = std::move(opened).value();
  }

  std::string Committed(const std::string& key) const {
    std::string value;
    return db_->Get(Cf::kIndex, key, &value).ok() ? value : "<absent>";
  }

  // Counts every internal entry of the index family, tombstones included.
  size_t InternalEntries() const {
    std::vector<rocksdb::KeyVersion> versions;
    const auto status = rocksdb::GetAllKeyVersions(
        db_->raw(), db_->handle(Cf::kIndex), rocksdb::Slice(), rocksdb::Slice(), 1000, &versions);
    EXPECT_TRUE(status.ok()) << status.ToString();
    return versions.size();
  }

  TempDir dir_;
  std::unique_ptr<Db> db_;
};

TEST_F(WriteTxnTest, StagedWritesAreReadBackAndAppliedTogether) {
  WriteTxn txn(*db_);
  txn.Put(Cf::kIndex, "a", "1");
  txn.Put(Cf::kIndex, "b", "2");
  txn.Delete(Cf::kIndex, "b");
  std::string value;
  ASSERT_TRUE(txn.Get(Cf::kIndex, "a", &value).ok());
  EXPECT_EQ(value, "1");
  EXPECT_TRUE(txn.Get(Cf::kIndex, "b", &value).IsNotFound());
  EXPECT_EQ(Committed("a"), "<absent>");  // nothing visible before Commit
  bool committed_hook = false;
  txn.OnCommit([&] { committed_hook = true; });
  ASSERT_TRUE(txn.Commit().ok());
  EXPECT_TRUE(committed_hook);
  EXPECT_EQ(Committed("a"), "1");
  EXPECT_EQ(Committed("b"), "<absent>");
}

TEST_F(WriteTxnTest, SingleDeleteOfAKeyPutInTheSameTransactionWritesNothing) {
  WriteTxn txn(*db_);
  txn.Put(Cf::kIndex, "moving@1", "");
  txn.SingleDelete(Cf::kIndex, "moving@1");
  txn.Put(Cf::kIndex, "moving@2", "");
  std::string value;
  EXPECT_TRUE(txn.Get(Cf::kIndex, "moving@1", &value).IsNotFound());
  ASSERT_TRUE(txn.Commit().ok());
  EXPECT_EQ(Committed("moving@1"), "<absent>");
  EXPECT_EQ(Committed("moving@2"), "");
  EXPECT_EQ(InternalEntries(), 1u);  // no tombstone for the key that never reached the store
}

TEST_F(WriteTxnTest, SingleDeleteRemovesACommittedKeyAndAPutAfterItWins) {
  {
    WriteTxn txn(*db_);
    txn.Put(Cf::kIndex, "k", "v");
    ASSERT_TRUE(txn.Commit().ok());
  }
  {
    WriteTxn txn(*db_);
    txn.SingleDelete(Cf::kIndex, "k");
    ASSERT_TRUE(txn.Commit().ok());
  }
  EXPECT_EQ(Committed("k"), "<absent>");
  ASSERT_TRUE(db_->Flush().ok());
  EXPECT_EQ(InternalEntries(), 0u);  // the Put and its SingleDelete vanished together
  {
    WriteTxn txn(*db_);
    txn.SingleDelete(Cf::kIndex, "other");
    txn.Put(Cf::kIndex, "other", "back");
    ASSERT_TRUE(txn.Commit().ok());
  }
  EXPECT_EQ(Committed("other"), "back");
}

}  // namespace
}  // namespace mnemo::storage
