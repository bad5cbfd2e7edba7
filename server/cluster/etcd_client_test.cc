// EtcdClient against a real one-member etcd: the JSON gateway's encodings, transactions, leases,
// the mapping of etcd's errors, and fail-over past a member that refuses connections.
#include "cluster/etcd_client.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "cluster/testing/etcd_cluster.h"

namespace mnemo::cluster {
namespace {

using testing::EtcdCluster;

class EtcdClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cluster = EtcdCluster::Start(1);
    ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
    etcd_ = std::move(*cluster);
    auto client = EtcdClient::Create(EtcdCluster::ClientOptions(etcd_->ClientUrls()));
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    client_ = std::make_unique<EtcdClient>(std::move(*client));
  }

  std::unique_ptr<EtcdCluster> etcd_;
  std::unique_ptr<EtcdClient> client_;
};

TEST_F(EtcdClientTest, KeysAndValuesKeepEveryByte) {
  const std::string key("/t/\0\xff\x01", 6);
  const std::string value("v\0\xfe\n\"x\"", 7);
  auto put = client_->Put(key, value);
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_GT(*put, 1);
  auto read = client_->Get(key);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->kvs.size(), 1u);
  EXPECT_EQ(read->kvs[0].key, key);
  EXPECT_EQ(read->kvs[0].value, value);
  EXPECT_EQ(read->kvs[0].create_revision, *put);
  EXPECT_EQ(read->kvs[0].mod_revision, *put);
  EXPECT_EQ(read->kvs[0].version, 1);
  EXPECT_EQ(read->revision, *put);

  ASSERT_TRUE(client_->Put("/t/a", "1").ok());
  ASSERT_TRUE(client_->Put("/t0", "outside the prefix").ok());
  auto prefix = client_->GetPrefix("/t/");
  ASSERT_TRUE(prefix.ok());
  ASSERT_EQ(prefix->kvs.size(), 2u);
  EXPECT_EQ(prefix->kvs[0].key, key);  // key order: "\0" sorts before "a"
  EXPECT_EQ(prefix->kvs[1].key, "/t/a");

  auto deleted = client_->Delete("/t/a");
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*deleted, 1);
  EXPECT_EQ(*client_->Delete("/t/a"), 0);
  auto missing = client_->Get("/t/a");
  ASSERT_TRUE(missing.ok());
  EXPECT_TRUE(missing->kvs.empty());
}

TEST_F(EtcdClientTest, TransactionsCompareAndChooseABranch) {
  TxnRequest create;
  create.compare = {Compare::CreateRevision("/k", Compare::Op::kEqual, 0)};
  create.success = {TxnOp::Put("/k", "first"), TxnOp::Get("/k")};
  create.failure = {TxnOp::Get("/k")};
  auto first = client_->Txn(create);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(first->succeeded);
  ASSERT_EQ(first->ranges.size(), 2u);
  EXPECT_TRUE(first->ranges[0].empty());  // a put reads nothing
  ASSERT_EQ(first->ranges[1].size(), 1u);
  EXPECT_EQ(first->ranges[1][0].value, "first");
  const int64_t revision = first->ranges[1][0].mod_revision;

  // The same transaction again: the key exists now, so the failure branch runs.
  create.success = {TxnOp::Put("/k", "second")};
  auto again = client_->Txn(create);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->succeeded);
  ASSERT_EQ(again->ranges.size(), 1u);
  ASSERT_EQ(again->ranges[0].size(), 1u);
  EXPECT_EQ(again->ranges[0][0].value, "first");

  TxnRequest guarded;
  guarded.compare = {Compare::ModRevision("/k", Compare::Op::kEqual, revision),
                     Compare::Value("/k", Compare::Op::kEqual, "first")};
  guarded.success = {TxnOp::Put("/k", "third"), TxnOp::Delete("/gone")};
  auto third = client_->Txn(guarded);
  ASSERT_TRUE(third.ok());
  EXPECT_TRUE(third->succeeded);
  EXPECT_GT(third->revision, revision);
  auto stale = client_->Txn(guarded);  // the mod_revision moved on
  ASSERT_TRUE(stale.ok());
  EXPECT_FALSE(stale->succeeded);
}

TEST_F(EtcdClientTest, LeasesCarryKeysAndUnknownLeasesAreNotFound) {
  auto lease = client_->GrantLease(std::chrono::seconds(1));
  ASSERT_TRUE(lease.ok()) << lease.status().ToString();
  EXPECT_NE(lease->id, 0);
  EXPECT_GE(lease->ttl, std::chrono::seconds(1));  // etcd may raise it to its minimum
  ASSERT_TRUE(client_->Put("/leased", "x", lease->id).ok());
  auto read = client_->Get("/leased");
  ASSERT_TRUE(read.ok());
  ASSERT_EQ(read->kvs.size(), 1u);
  EXPECT_EQ(read->kvs[0].lease, lease->id);

  auto renewed = client_->KeepAliveOnce(lease->id);
  ASSERT_TRUE(renewed.ok()) << renewed.status().ToString();
  EXPECT_EQ(*renewed, lease->ttl);

  ASSERT_TRUE(client_->RevokeLease(lease->id).ok());
  EXPECT_TRUE(client_->Get("/leased")->kvs.empty());  // revoking deleted the key
  auto expired = client_->KeepAliveOnce(lease->id);
  ASSERT_FALSE(expired.ok());
  EXPECT_TRUE(expired.status().IsNotFound()) << expired.status().ToString();
  const Status revoked_twice = client_->RevokeLease(lease->id);
  EXPECT_TRUE(revoked_twice.IsNotFound()) << revoked_twice.ToString();
  auto put = client_->Put("/leased", "x", lease->id);
  ASSERT_FALSE(put.ok());
  EXPECT_TRUE(put.status().IsNotFound());
  EXPECT_NE(put.status().message().find("requested lease not found"), std::string::npos)
      << put.status().ToString();
}

TEST_F(EtcdClientTest, InvalidRequestsAndRefusingMembersGiveClearAnswers) {
  auto empty_key = client_->Put("", "x");
  ASSERT_FALSE(empty_key.ok());
  EXPECT_TRUE(empty_key.status().IsValidationError()) << empty_key.status().ToString();
  EXPECT_NE(empty_key.status().message().find("etcd 127.0.0.1:"), std::string::npos);
  EXPECT_NE(empty_key.status().message().find("/v3/kv/put"), std::string::npos);

  // A member that refuses connections is skipped; the live one answers.
  const std::string dead = EtcdCluster::UnusedClientUrl();
  auto client = EtcdClient::Create(EtcdCluster::ClientOptions({dead, etcd_->ClientUrl(0)}));
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE(client->Put("/failover", "ok").ok());
  auto status = client->GetMemberStatus();
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  EXPECT_NE(status->member_id, 0u);
  EXPECT_EQ(status->leader_id, status->member_id);  // one member leads itself
  EXPECT_GT(status->raft_term, 0u);
}

}  // namespace
}  // namespace mnemo::cluster
