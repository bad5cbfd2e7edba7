// Replication end to end: one real etcd member, mnemod processes in one cluster (lease TTL 2 s),
// the C++ client.  A follower bootstraps from the primary's snapshot, follows its log and answers
// reads as the primary does; semi-sync answers a write only once a replica holds it; after the
// primary is killed, the most caught-up follower takes over with every acknowledged write.
// Waits are bounded waits for an event, never timing assertions.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cluster/testing/etcd_cluster.h"
#include "test_util.h"

namespace mnemo::client::testing {
namespace {

using namespace std::chrono_literals;
using Role = ClusterInfo::Role;

constexpr auto kWait = 20s;           // catching up, restarts: generous bounds for a loaded host
constexpr auto kFailoverBound = 10s;  // lease TTL 2 s, a third of it between looks

std::string Address(const MnemodProcess& node) {
  return "127.0.0.1:" + std::to_string(node.port());
}

// The API key the test's clients present; empty: none (the nodes are in protected mode).
std::string g_api_key;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class ReplicaModeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto etcd = cluster::testing::EtcdCluster::Start(1);
    ASSERT_TRUE(etcd.ok()) << etcd.status().ToString();
    etcd_ = std::move(etcd).value();
    g_api_key.clear();
  }

  // Adds node `id` with `flags` and starts it; the first node started becomes primary.
  MnemodProcess& StartNode(const std::string& id, std::vector<std::string> flags = {}) {
    return StartNodeIn(std::make_unique<TempDir>(), id, std::move(flags));
  }
  // The same in `dir`, which may hold a data directory already.
  MnemodProcess& StartNodeIn(std::unique_ptr<TempDir> dir, const std::string& id,
                             std::vector<std::string> flags) {
    dirs_.push_back(std::move(dir));
    nodes_.push_back(std::make_unique<MnemodProcess>(dirs_.back()->path()));
    std::vector<std::string> args = {
        "--etcd", etcd_->ClientUrl(0), "--cluster", "repl", "--node-id", id, "--lease-ttl", "2"};
    args.insert(args.end(), flags.begin(), flags.end());
    nodes_.back()->set_extra_args(args);
    std::string error;
    EXPECT_TRUE(nodes_.back()->Start(0, &error)) << error;
    return *nodes_.back();
  }

  static ClientOptions To(const std::vector<std::string>& addresses, bool follow = false) {
    ClientOptions options = LocalOptions(0, g_api_key);
    options.addresses = addresses;
    options.follow_primary = follow;
    options.request_timeout = 5s;
    options.connect_timeout = 2s;
    options.pool_size = 1;
    return options;
  }

  static std::unique_ptr<Client> Connect(const MnemodProcess& node) {
    auto client = Client::Connect(To({Address(node)}));
    EXPECT_TRUE(client.ok()) << client.error().ToString();
    return client.ok() ? std::move(client).value() : nullptr;
  }

  static Result<ClusterInfo> InfoOf(const MnemodProcess& node) {
    auto client = Client::Connect(To({Address(node)}));
    if (!client.ok()) return client.error();
    auto stats = (*client)->GetStats();
    if (!stats.ok()) return stats.error();
    return stats->cluster;
  }

  // Polls (bounded by `bound`) until `node` counts `rows` conversations of `user`.
  static bool AwaitCount(const MnemodProcess& node, const std::string& user, int64_t rows,
                         std::chrono::seconds bound = kWait) {
    const auto deadline = std::chrono::steady_clock::now() + bound;
    while (std::chrono::steady_clock::now() < deadline) {
      auto client = Client::Connect(To({Address(node)}));
      if (client.ok()) {
        auto count = (*client)->CountConversations(user, {}, true);
        if (count.ok() && *count == rows) return true;
      }
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  static NewConversation Titled(const std::string& title, std::optional<Uuid> id = {}) {
    NewConversation input;
    input.id = id;
    input.title = title;
    return input;
  }

  std::unique_ptr<cluster::testing::EtcdCluster> etcd_;
  std::vector<std::unique_ptr<TempDir>> dirs_;
  std::vector<std::unique_ptr<MnemodProcess>> nodes_;
};

TEST_F(ReplicaModeTest, AFollowerBootstrapsFollowsAndAnswersAsThePrimary) {
  MnemodProcess& a = StartNode("a", {"--ack-policy", "async"});
  auto on_a = Connect(a);
  ASSERT_NE(on_a, nullptr);
  std::vector<Uuid> ids;
  for (int i = 0; i < 5; ++i) {  // before the follower exists: it gets them from a snapshot
    MNEMO_ASSERT_OK_AND_ASSIGN(const auto created,
                               on_a->CreateConversation("u", Titled("early " + std::to_string(i))));
    ids.push_back(created.id);
  }
  MnemodProcess& b = StartNode("b", {"--ack-policy", "async"});
  EXPECT_NE(ReadFile(b.log_path()).find("bootstrapped from snapshot"), std::string::npos)
      << b.Diagnosis();
  for (int i = 0; i < 20; ++i) {
    MNEMO_ASSERT_OK_AND_ASSIGN(const auto created,
                               on_a->CreateConversation("u", Titled("late " + std::to_string(i))));
    ids.push_back(created.id);
    NewMessage message;
    message.conversation_id = created.id;
    message.content = "message " + std::to_string(i);
    message.tokens_used = i;
    MNEMO_ASSERT_OK(on_a->AppendMessage("u", message));
  }
  ConversationUpdate update;
  update.title = "renamed";
  MNEMO_ASSERT_OK(on_a->UpdateConversation("u", ids.front(), update));
  MNEMO_ASSERT_OK(on_a->SoftDeleteConversation("u", ids.back()));

  ASSERT_TRUE(AwaitCount(b, "u", 25)) << b.Diagnosis();
  auto on_b = Connect(b);
  ASSERT_NE(on_b, nullptr);
  // The last write (the soft delete) is there too once the row shows it, and then every row
  // reads the same on both nodes.
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (std::chrono::steady_clock::now() < deadline) {
    auto last = on_b->GetConversation("u", ids.back(), true);
    if (last.ok() && last->is_deleted) break;
    std::this_thread::sleep_for(20ms);
  }
  for (const Uuid& id : ids) {
    MNEMO_ASSERT_OK_AND_ASSIGN(const Conversation primary, on_a->GetConversation("u", id, true));
    MNEMO_ASSERT_OK_AND_ASSIGN(const Conversation replica, on_b->GetConversation("u", id, true));
    EXPECT_EQ(replica.title, primary.title);
    EXPECT_EQ(replica.is_deleted, primary.is_deleted);
    EXPECT_EQ(replica.created_at, primary.created_at);
    EXPECT_EQ(replica.updated_at, primary.updated_at);
    EXPECT_EQ(replica.message_count, primary.message_count);
    EXPECT_EQ(replica.total_tokens, primary.total_tokens);
  }
  // Both report the same applied sequence; the follower knows it lacks nothing.
  MNEMO_ASSERT_OK_AND_ASSIGN(const ClusterInfo primary_info, InfoOf(a));
  MNEMO_ASSERT_OK_AND_ASSIGN(const ClusterInfo replica_info, InfoOf(b));
  EXPECT_GT(primary_info.applied_seq, 0u);
  EXPECT_EQ(replica_info.applied_seq, primary_info.applied_seq);
  EXPECT_EQ(replica_info.lag_records, 0u);
  EXPECT_TRUE(replica_info.lag.has_value());
  EXPECT_FALSE(primary_info.lag.has_value());
  // The follower still refuses writes, naming the primary.
  const auto refused = on_b->CreateConversation("u", Titled("refused"));
  EXPECT_EQ(refused.code(), Code::kNotPrimary);
  EXPECT_EQ(refused.error().primary_address, Address(a));
}

TEST_F(ReplicaModeTest, SemiSyncAnswersOnlyWhatAReplicaHolds) {
  MnemodProcess& a = StartNode("a", {"--replica-ack-timeout-ms", "500"});
  MnemodProcess& b = StartNode("b");
  auto on_a = Connect(a);
  ASSERT_NE(on_a, nullptr);
  auto on_b = Connect(b);
  ASSERT_NE(on_b, nullptr);
  // An acknowledged write is on the replica when its answer arrives: no waiting needed.
  for (int i = 0; i < 10; ++i) {
    MNEMO_ASSERT_OK_AND_ASSIGN(const auto created,
                               on_a->CreateConversation("u", Titled("acked " + std::to_string(i))));
    MNEMO_ASSERT_OK_AND_ASSIGN(const auto replica, on_b->GetConversation("u", created.id));
    EXPECT_EQ(replica.title, "acked " + std::to_string(i));
  }

  // Without a replica the write is applied on the primary but answered UNAVAILABLE.
  b.Kill();
  const auto alone = on_a->CreateConversation("u", Titled("unprotected"));
  ASSERT_EQ(alone.code(), Code::kUnavailable);
  EXPECT_NE(alone.error().message.find("applied on the primary"), std::string::npos)
      << alone.error().ToString();
  MNEMO_ASSERT_OK_AND_ASSIGN(const int64_t on_primary, on_a->CountConversations("u", {}, true));
  EXPECT_EQ(on_primary, 11);

  // The replica comes back, catches up, and writes are acknowledged again.
  std::string error;
  ASSERT_TRUE(b.Start(0, &error)) << error;
  ASSERT_TRUE(AwaitCount(b, "u", 11)) << b.Diagnosis();
  MNEMO_ASSERT_OK(on_a->CreateConversation("u", Titled("protected again")));
  auto again = Connect(b);
  ASSERT_NE(again, nullptr);
  MNEMO_ASSERT_OK_AND_ASSIGN(const int64_t on_replica, again->CountConversations("u", {}, true));
  EXPECT_EQ(on_replica, 12);
}

TEST_F(ReplicaModeTest, KillingThePrimaryKeepsEveryAcknowledgedWrite) {
  std::vector<MnemodProcess*> nodes;
  for (const char* id : {"a", "b", "c"}) nodes.push_back(&StartNode(id));
  MNEMO_ASSERT_OK_AND_ASSIGN(const ClusterInfo before, InfoOf(*nodes[0]));
  ASSERT_EQ(before.role, Role::kPrimary);

  // The ledger: every write the cluster acknowledged, written until told to stop.
  std::mutex mutex;
  std::vector<Uuid> acknowledged;
  std::atomic<bool> stop{false};
  std::atomic<int> attempts{0};
  std::thread ledger([&] {
    auto client = Client::Connect(
        To({Address(*nodes[0]), Address(*nodes[1]), Address(*nodes[2])}, /*follow=*/true));
    if (!client.ok()) return;
    while (!stop) {
      const Uuid id = Uuid::Generate();
      ++attempts;
      if ((*client)->CreateConversation("ledger", Titled("entry", id)).ok()) {
        std::lock_guard lock(mutex);
        acknowledged.push_back(id);
      }
    }
  });
  const auto acked = [&] {
    std::lock_guard lock(mutex);
    return acknowledged.size();
  };
  // Bounded: some writes are acknowledged before the kill.
  for (int i = 0; i < 1000 && acked() < 30; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_GE(acked(), 30u);

  nodes[0]->Kill();  // SIGKILL
  const auto killed_at = std::chrono::steady_clock::now();
  MnemodProcess* primary = nullptr;
  while (primary == nullptr && std::chrono::steady_clock::now() < killed_at + kFailoverBound) {
    for (MnemodProcess* node : {nodes[1], nodes[2]}) {
      auto info = InfoOf(*node);
      if (info.ok() && info->role == Role::kPrimary && info->writable) primary = node;
    }
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_NE(primary, nullptr) << "no follower became primary within the bound\n"
                              << nodes[1]->Diagnosis(3000) << nodes[2]->Diagnosis(3000);
  // The ledger goes on writing to the new primary for a while, then stops.
  const size_t at_failover = acked();
  for (int i = 0; i < 1000 && acked() < at_failover + 10; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  stop = true;
  ledger.join();
  EXPECT_GE(acked(), at_failover + 10) << "no write was acknowledged after the failover";

  auto on_primary = Connect(*primary);
  ASSERT_NE(on_primary, nullptr);
  int missing = 0;
  for (const Uuid& id : acknowledged) {
    if (!on_primary->GetConversation("ledger", id).ok()) ++missing;
  }
  EXPECT_EQ(missing, 0) << "of " << acknowledged.size() << " acknowledged writes ("
                        << attempts.load() << " attempted)";
}

TEST_F(ReplicaModeTest, TheMostCaughtUpFollowerIsPromoted) {
  MnemodProcess& a = StartNode("a");
  MnemodProcess& b = StartNode("b");
  MnemodProcess& c = StartNode("c");
  auto on_a = Connect(a);
  ASSERT_NE(on_a, nullptr);
  MNEMO_ASSERT_OK(on_a->CreateConversation("u", Titled("on every node")));
  ASSERT_TRUE(AwaitCount(b, "u", 1)) << b.Diagnosis();
  // B stops applying; C alone acknowledges the next writes, so C is ahead of B.
  ASSERT_EQ(::kill(b.pid(), SIGSTOP), 0);
  std::vector<Uuid> acknowledged;
  for (int i = 0; i < 5; ++i) {
    MNEMO_ASSERT_OK_AND_ASSIGN(const auto created,
                               on_a->CreateConversation("u", Titled("only on c")));
    acknowledged.push_back(created.id);
  }
  a.Kill();
  ASSERT_EQ(::kill(b.pid(), SIGCONT), 0);
  // B, the lower id, would win a tie; it must leave the campaign to C.
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  Result<ClusterInfo> info = Error{Code::kUnavailable, "not asked yet"};
  while (std::chrono::steady_clock::now() < deadline) {
    info = InfoOf(c);
    if (info.ok() && info->role == Role::kPrimary && info->writable) break;
    auto on_b = InfoOf(b);
    ASSERT_FALSE(on_b.ok() && on_b->role == Role::kPrimary) << "the lagging follower won\n"
                                                            << b.Diagnosis(3000) << "\n---- c\n"
                                                            << c.Diagnosis(3000);
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(info.ok() && info->role == Role::kPrimary) << c.Diagnosis(3000);
  auto on_c = Connect(c);
  ASSERT_NE(on_c, nullptr);
  for (const Uuid& id : acknowledged) MNEMO_ASSERT_OK(on_c->GetConversation("u", id));
  // B follows the new primary and catches up.
  EXPECT_TRUE(AwaitCount(b, "u", 6)) << b.Diagnosis();
}

TEST_F(ReplicaModeTest, AReplicaBehindTheTrimmedLogBootstrapsAgain) {
  const std::vector<std::string> flags = {"--ack-policy", "async", "--replication-log-keep", "5"};
  MnemodProcess& a = StartNode("a", flags);
  MnemodProcess& b = StartNode("b", flags);
  auto on_a = Connect(a);
  ASSERT_NE(on_a, nullptr);
  for (int i = 0; i < 3; ++i) MNEMO_ASSERT_OK(on_a->CreateConversation("u", Titled("early")));
  ASSERT_TRUE(AwaitCount(b, "u", 3)) << b.Diagnosis();
  b.Kill();
  for (int i = 0; i < 20; ++i) MNEMO_ASSERT_OK(on_a->CreateConversation("u", Titled("late")));
  // The primary keeps only its newest records once no live replica needs the older ones.
  uint64_t first = 0;
  for (int i = 0; i < 400 && first <= 3; ++i) {
    auto log = on_a->Follow(1, 1, 1u << 20, "");
    ASSERT_TRUE(log.ok()) << log.error().ToString();
    ASSERT_FALSE(log->records.empty());
    first = log->records.front().seq;
    if (first <= 3) std::this_thread::sleep_for(50ms);
  }
  EXPECT_GT(first, 3u) << "the log was not trimmed";

  // B's last record is gone from the primary's log: it stops and asks for a re-bootstrap...
  std::string error;
  const bool started = b.Start(0, &error);
  const std::string marker = b.data_dir() + ".rebootstrap";
  for (int i = 0; i < 400 && !std::ifstream(marker).good(); ++i) std::this_thread::sleep_for(50ms);
  EXPECT_NE(ReadFile(marker).find("no longer holds record"), std::string::npos)
      << ReadFile(marker) << b.Diagnosis();
  if (started) {
    // The marker is written before the exit: wait for the exit (a SIGTERM during it would end the
    // process by the signal instead).
    int status = b.AwaitExit(kWait);  // a wait status
    if (status == -1) status = b.Stop();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 3) << status << b.Diagnosis();
  } else {
    EXPECT_NE(error.find("status " + std::to_string(3 << 8)), std::string::npos) << error;
  }
  // ...which its next start does: the old data moves aside, a snapshot comes in, it follows.
  ASSERT_TRUE(b.Start(0, &error)) << error;
  EXPECT_FALSE(std::ifstream(marker).good());
  ASSERT_TRUE(AwaitCount(b, "u", 23)) << b.Diagnosis();
  MNEMO_ASSERT_OK(on_a->CreateConversation("u", Titled("after the re-bootstrap")));
  EXPECT_TRUE(AwaitCount(b, "u", 24)) << b.Diagnosis();
}

TEST_F(ReplicaModeTest, ReplicasPresentTheirKeyToAPrimaryWithKeys) {
  if (MnemoCliPath().empty()) GTEST_SKIP() << "mnemo-cli is not built";
  // A has a service key before it starts, so it is not in protected mode.
  auto a_dir = std::make_unique<TempDir>();
  std::string key;
  ASSERT_EQ(RunCommand({MnemoCliPath(), "keys", "create", "--data", a_dir->path() + "/data",
                        "--kind", "service"},
                       &key),
            0)
      << key;
  while (!key.empty() && (key.back() == '\n' || key.back() == '\r')) key.pop_back();
  const std::string key_file = a_dir->path() + "/replication.key";
  std::ofstream(key_file) << key << "\n";
  g_api_key = key;
  MnemodProcess& a = StartNodeIn(std::move(a_dir), "a", {"--ack-policy", "async"});
  auto on_a = Connect(a);
  ASSERT_NE(on_a, nullptr);
  MNEMO_ASSERT_OK(on_a->CreateConversation("u", Titled("keyed")));

  // With the key, B bootstraps and follows (and has A's key store, so clients use the same key).
  MnemodProcess& b = StartNode("b", {"--ack-policy", "async", "--replication-key-file", key_file});
  MNEMO_ASSERT_OK(on_a->CreateConversation("u", Titled("keyed, later")));
  EXPECT_TRUE(AwaitCount(b, "u", 2)) << b.Diagnosis();

  // Without it, C cannot copy A's data and does not start.
  dirs_.push_back(std::make_unique<TempDir>());
  MnemodProcess c(dirs_.back()->path());
  c.set_extra_args({"--etcd", etcd_->ClientUrl(0), "--cluster", "repl", "--node-id", "c"});
  std::string error;
  EXPECT_FALSE(c.Start(0, &error));
  EXPECT_NE(error.find("bootstrap"), std::string::npos) << error;
  EXPECT_NE(error.find("AUTHENTICATION_ERROR"), std::string::npos) << error;
}

}  // namespace
}  // namespace mnemo::client::testing
