// Cluster mode end to end: one real etcd member, two mnemod processes in the same cluster
// (lease TTL 2 s), and the C++ client.  Waits are bounded waits for an event, never timing
// assertions.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cluster/testing/etcd_cluster.h"
#include "test_util.h"

namespace mnemo::client::testing {
namespace {

using namespace std::chrono_literals;
using Role = ClusterInfo::Role;

constexpr auto kFailoverWait = 20s;  // lease TTL 2 s plus the followers' poll, with room

std::string Address(const MnemodProcess& node) {
  return "127.0.0.1:" + std::to_string(node.port());
}

class ClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto etcd = cluster::testing::EtcdCluster::Start(1);
    ASSERT_TRUE(etcd.ok()) << etcd.status().ToString();
    etcd_ = std::move(etcd).value();
    for (const char* id : {"a", "b"}) {
      dirs_.push_back(std::make_unique<TempDir>());
      nodes_.push_back(std::make_unique<MnemodProcess>(dirs_.back()->path()));
      // Async acknowledgements: these tests are about the election, and a lone survivor must
      // take writes (client_replication_test.cc covers semi-sync).
      nodes_.back()->set_extra_args({"--etcd", etcd_->ClientUrl(0), "--cluster", "test",
                                     "--node-id", id, "--lease-ttl", "2", "--ack-policy", "async"});
    }
    // A starts (and so campaigns) first: it wins.
    for (auto& node : nodes_) {
      std::string error;
      ASSERT_TRUE(node->Start(0, &error)) << error;
    }
  }

  MnemodProcess& a() { return *nodes_[0]; }
  MnemodProcess& b() { return *nodes_[1]; }

  static ClientOptions To(const std::vector<std::string>& addresses, bool follow = true) {
    ClientOptions options = LocalOptions(0);
    options.addresses = addresses;
    options.follow_primary = follow;
    options.request_timeout = 5s;
    options.connect_timeout = 2s;
    options.pool_size = 1;
    return options;
  }

  // What `node` says of its role (a read: every node answers it).
  static Result<ClusterInfo> InfoOf(const MnemodProcess& node) {
    auto client = Client::Connect(To({Address(node)}, /*follow=*/false));
    if (!client.ok()) return client.error();
    auto stats = (*client)->GetStats();
    if (!stats.ok()) return stats.error();
    return stats->cluster;
  }

  // Waits (bounded) until `node` reports `role`.
  static Result<ClusterInfo> AwaitRole(const MnemodProcess& node, Role role) {
    const auto deadline = std::chrono::steady_clock::now() + kFailoverWait;
    Result<ClusterInfo> info = Error{Code::kUnavailable, "not asked yet"};
    while (std::chrono::steady_clock::now() < deadline) {
      info = InfoOf(node);
      if (info.ok() && info->role == role) return info;
      std::this_thread::sleep_for(50ms);
    }
    return info.ok() ? Result<ClusterInfo>(Error{Code::kUnavailable, "role never reached"}) : info;
  }

  static NewConversation Titled(const std::string& title) {
    NewConversation input;
    input.title = title;
    return input;
  }

  std::unique_ptr<cluster::testing::EtcdCluster> etcd_;
  std::vector<std::unique_ptr<TempDir>> dirs_;
  std::vector<std::unique_ptr<MnemodProcess>> nodes_;
};

TEST_F(ClusterTest, ExactlyOnePrimaryAndAFollowerNamesIt) {
  MNEMO_ASSERT_OK_AND_ASSIGN(const ClusterInfo info_a, InfoOf(a()));
  MNEMO_ASSERT_OK_AND_ASSIGN(const ClusterInfo info_b, InfoOf(b()));
  EXPECT_EQ(info_a.role, Role::kPrimary);
  EXPECT_TRUE(info_a.writable);
  EXPECT_GE(info_a.epoch, 1u);
  EXPECT_EQ(info_a.node_id, "a");
  EXPECT_EQ(info_a.address, Address(a()));
  EXPECT_EQ(info_b.role, Role::kFollower);
  EXPECT_FALSE(info_b.writable);
  EXPECT_EQ(info_b.primary_node_id, "a");
  EXPECT_EQ(info_b.primary_address, Address(a()));
  EXPECT_EQ(info_b.primary_epoch, info_a.epoch);

  // A write sent to the follower is refused, naming the primary; nothing is applied there.
  MNEMO_ASSERT_OK_AND_ASSIGN(auto to_follower, Client::Connect(To({Address(b())}, false)));
  const auto refused = to_follower->CreateConversation("u", Titled("refused"));
  ASSERT_EQ(refused.code(), Code::kNotPrimary);
  EXPECT_EQ(refused.error().primary_address, Address(a()));
  EXPECT_EQ(refused.error().primary_epoch, info_a.epoch);
  MNEMO_ASSERT_OK_AND_ASSIGN(const int64_t on_follower,
                             to_follower->CountConversations("u", {}, true));
  EXPECT_EQ(on_follower, 0);
  // Reads are served by the follower.
  EXPECT_EQ(to_follower->GetStats().code(), Code::kOk);
}

TEST_F(ClusterTest, ClientGivenTheFollowerWritesToThePrimary) {
  MNEMO_ASSERT_OK_AND_ASSIGN(auto client, Client::Connect(To({Address(b())})));
  EXPECT_EQ(client->current_address(), Address(b()));
  MNEMO_ASSERT_OK_AND_ASSIGN(const auto created,
                             client->CreateConversation("u", Titled("redirected")));
  EXPECT_EQ(client->current_address(), Address(a()));
  // The row is on the primary (the follower has no replica of it yet).
  MNEMO_ASSERT_OK_AND_ASSIGN(auto on_a, Client::Connect(To({Address(a())}, false)));
  MNEMO_ASSERT_OK_AND_ASSIGN(const auto found, on_a->GetConversation("u", created.id, false));
  EXPECT_EQ(found.title, "redirected");
}

TEST_F(ClusterTest, ConcurrentCallersFollowTheRedirectTogether) {
  ClientOptions options = To({Address(b())});
  options.pool_size = 2;
  MNEMO_ASSERT_OK_AND_ASSIGN(auto client, Client::Connect(options));
  constexpr int kThreads = 4;
  constexpr int kWrites = 5;
  std::vector<std::thread> threads;
  std::vector<int> failures(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kWrites; ++i) {
        if (!client->CreateConversation("u", Titled("concurrent")).ok()) ++failures[t];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(failures[t], 0) << "thread " << t;
  EXPECT_EQ(client->current_address(), Address(a()));
  MNEMO_ASSERT_OK_AND_ASSIGN(auto on_a, Client::Connect(To({Address(a())}, false)));
  MNEMO_ASSERT_OK_AND_ASSIGN(const int64_t rows, on_a->CountConversations("u", {}, true));
  EXPECT_EQ(rows, kThreads * kWrites);
}

TEST_F(ClusterTest, KillingThePrimaryElectsTheFollowerWithAHigherEpoch) {
  MNEMO_ASSERT_OK_AND_ASSIGN(const ClusterInfo before, InfoOf(a()));
  ASSERT_EQ(before.role, Role::kPrimary);
  MNEMO_ASSERT_OK_AND_ASSIGN(auto client, Client::Connect(To({Address(a()), Address(b())})));
  MNEMO_ASSERT_OK(client->CreateConversation("u", Titled("before failover")));
  EXPECT_EQ(client->current_address(), Address(a()));

  a().Kill();
  MNEMO_ASSERT_OK_AND_ASSIGN(const ClusterInfo after, AwaitRole(b(), Role::kPrimary));
  EXPECT_GT(after.epoch, before.epoch);
  EXPECT_TRUE(after.writable);

  // A is gone, so the next write cannot be sent there; it goes to B, the new primary.
  MNEMO_ASSERT_OK(client->CreateConversation("u", Titled("after failover")));
  EXPECT_EQ(client->current_address(), Address(b()));
}

TEST_F(ClusterTest, AFencedPrimaryRefusesWritesAndStillServesReads) {
  MNEMO_ASSERT_OK_AND_ASSIGN(const ClusterInfo before, InfoOf(a()));
  ASSERT_EQ(before.role, Role::kPrimary);
  MNEMO_ASSERT_OK_AND_ASSIGN(auto client, Client::Connect(To({Address(a())}, false)));
  MNEMO_ASSERT_OK(client->CreateConversation("u", Titled("while etcd is up")));

  etcd_->Kill(0);  // no renewal can succeed any more
  const auto deadline = std::chrono::steady_clock::now() + kFailoverWait;
  Result<Conversation> write = Error{Code::kUnavailable, "not tried"};
  do {
    write = client->CreateConversation("u", Titled("while etcd is down"));
    if (!write.ok()) break;
    std::this_thread::sleep_for(50ms);
  } while (std::chrono::steady_clock::now() < deadline);
  ASSERT_EQ(write.code(), Code::kNotPrimary);
  EXPECT_EQ(write.error().primary_address, "");
  EXPECT_EQ(write.error().primary_epoch, before.epoch);
  MNEMO_ASSERT_OK_AND_ASSIGN(const ClusterInfo fenced, InfoOf(a()));
  EXPECT_FALSE(fenced.writable);
  MNEMO_ASSERT_OK_AND_ASSIGN(const int64_t rows, client->CountConversations("u", {}, true));
  EXPECT_GE(rows, 1);
}

TEST_F(ClusterTest, CliStatusShowsThePrimaryAndEachNodesRole) {
  if (MnemoCliPath().empty()) GTEST_SKIP() << "mnemo-cli is not built";
  MNEMO_ASSERT_OK_AND_ASSIGN(const ClusterInfo info_a, InfoOf(a()));
  std::string out;
  const int status = RunCommand({MnemoCliPath(), "cluster", "status", "--etcd", etcd_->ClientUrl(0),
                                 "--cluster", "test", "--nodes", Address(a()) + "," + Address(b())},
                                &out);
  EXPECT_EQ(status, 0) << out;
  const std::string epoch = std::to_string(info_a.epoch);
  EXPECT_NE(out.find("primary: a at " + Address(a()) + ", epoch " + epoch), std::string::npos)
      << out;
  EXPECT_NE(out.find("epoch: " + epoch), std::string::npos) << out;
  const auto row = [&out](const std::string& address) {
    const size_t at = out.find("\n" + address);
    return at == std::string::npos ? "" : out.substr(at + 1, out.find('\n', at + 1) - at - 1);
  };
  EXPECT_NE(row(Address(a())).find(" primary "), std::string::npos) << out;
  EXPECT_NE(row(Address(b())).find(" follower "), std::string::npos) << out;
  // The follower reports its lag once it has heard from the primary.
  const auto deadline = std::chrono::steady_clock::now() + kFailoverWait;
  while (row(Address(b())).find(" rec, ") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
    RunCommand({MnemoCliPath(), "cluster", "status", "--nodes", Address(a()) + "," + Address(b())},
               &out);
  }
  EXPECT_NE(row(Address(b())).find(" 0 rec, "), std::string::npos) << out;
  EXPECT_NE(row(Address(a())).find(" -"), std::string::npos) << out;

  // A node that is down is reported, and the exit code says so.
  b().Kill();
  EXPECT_EQ(RunCommand({MnemoCliPath(), "cluster", "status", "--nodes", Address(b())}, &out), 1);
  EXPECT_NE(out.find("unreachable"), std::string::npos) << out;
}

}  // namespace
}  // namespace mnemo::client::testing
