// PrimaryElection without etcd: option checks, and a clear error when etcd is unreachable.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "cluster/primary_election.h"
#include "cluster/testing/etcd_cluster.h"

namespace mnemo::cluster {
namespace {

using testing::EtcdCluster;

GatewayOptions Options(std::vector<std::string> endpoints) {
  GatewayOptions options;
  options.endpoints = std::move(endpoints);
  options.call_timeout = std::chrono::milliseconds(500);
  options.connect_timeout = std::chrono::milliseconds(200);
  return options;
}

ElectionOptions Election(std::string cluster, std::string node) {
  ElectionOptions options;
  options.cluster = std::move(cluster);
  options.node_id = std::move(node);
  options.address = "127.0.0.1:7000";
  options.lease_ttl = std::chrono::seconds(2);
  return options;
}

TEST(PrimaryElectionOptionsTest, RejectsBadNamesAndTimings) {
  const auto etcd = Options({EtcdCluster::UnusedClientUrl()});
  auto bad_cluster = PrimaryElection::Start(etcd, Election("a/b", "n1"));
  ASSERT_FALSE(bad_cluster.ok());
  EXPECT_EQ(bad_cluster.status().field(), "cluster");
  auto bad_node = PrimaryElection::Start(etcd, Election("c", ""));
  ASSERT_FALSE(bad_node.ok());
  EXPECT_EQ(bad_node.status().field(), "node_id");
  auto no_address = Election("c", "n1");
  no_address.address.clear();
  EXPECT_EQ(PrimaryElection::Start(etcd, no_address).status().field(), "address");
  auto slow = Election("c", "n1");
  slow.keepalive_interval = std::chrono::milliseconds(1500);
  slow.fencing_margin = std::chrono::milliseconds(500);
  auto slow_result = PrimaryElection::Start(etcd, slow);
  ASSERT_FALSE(slow_result.ok());
  EXPECT_TRUE(slow_result.status().IsValidationError());
  EXPECT_EQ(slow_result.status().field(), "keepalive_interval");
}

TEST(PrimaryElectionOptionsTest, UnreachableEtcdFailsStartWithAClearError) {
  const std::string url = EtcdCluster::UnusedClientUrl();
  auto election = PrimaryElection::Start(Options({url}), Election("c", "n1"));
  ASSERT_FALSE(election.ok());
  EXPECT_EQ(election.status().code(), StatusCode::kUnavailable);
  const std::string message(election.status().message());
  EXPECT_NE(message.find("/v3/lease/grant"), std::string::npos) << message;
  EXPECT_NE(message.find(url.substr(7)), std::string::npos) << message;  // without http://
}

TEST(PrimaryElectionOptionsTest, KeysLiveUnderTheClusterPrefix) {
  EXPECT_EQ(PrimaryElection::PrimaryKey("prod"), "/mnemo/prod/primary");
  EXPECT_EQ(PrimaryElection::EpochKey("prod"), "/mnemo/prod/epoch");
}

}  // namespace
}  // namespace mnemo::cluster
