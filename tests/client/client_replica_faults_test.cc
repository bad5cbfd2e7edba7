// Replica mode under faults, end to end: three etcd members, three mnemod nodes in one cluster
// (lease TTL 2 s, semi-sync acknowledgements), and a ledger: a client thread that writes
// conversations with fresh ids through a client that knows every node and follows NOT_PRIMARY,
// and keeps the ids the cluster acknowledged.  Each scenario breaks one thing under that load
// (the primary stalls, an etcd member dies, etcd loses quorum, a replica loses its disk) and
// checks what the cluster promises: no acknowledged write is lost, a deposed primary takes no
// write, reads go on, and a node that lost its place catches up.
//
// MNEMO_REPL_SEED (decimal; "random" for a fresh one) varies the write counts and pauses; every
// failure prints the seed.  Waits are bounded waits for an event, never timing assertions, and
// generous: the sanitizer build runs these against a slow mnemod on a shared machine.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cluster/testing/etcd_cluster.h"
#include "test_util.h"

namespace mnemo::client::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Role = ClusterInfo::Role;

constexpr uint64_t kDefaultSeed = 19;
constexpr int kLeaseTtlSeconds = 2;
constexpr auto kLeaseTtl = std::chrono::seconds(kLeaseTtlSeconds);
constexpr auto kWait = 40s;  // failover, catching up, restarts: bounds, not expectations

uint64_t SeedFromEnv() {
  const char* text = std::getenv("MNEMO_REPL_SEED");
  if (text == nullptr || *text == '\0') return kDefaultSeed;
  if (std::string(text) == "random") return std::random_device{}();
  return std::strtoull(text, nullptr, 10);
}

std::string Address(const MnemodProcess& node) {
  return "127.0.0.1:" + std::to_string(node.port());
}

NewConversation Titled(const std::string& title, std::optional<Uuid> id = {}) {
  NewConversation input;
  input.id = id;
  input.title = title;
  return input;
}

ClientOptions To(const std::vector<std::string>& addresses, bool follow = false) {
  ClientOptions options = LocalOptions(0);
  options.addresses = addresses;
  options.follow_primary = follow;
  options.request_timeout = 3s;
  options.connect_timeout = 1s;
  options.pool_size = 1;
  return options;
}

// Polls `done` every 20 ms until it holds or `bound` passes; whether it held.
bool WaitFor(const std::function<bool()>& done, Clock::duration bound) {
  const auto deadline = Clock::now() + bound;
  while (Clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return done();
}

// The writer.  Thread-safety: Start and Stop from the test thread; the rest from any.
class Ledger {
 public:
  struct Write {
    Uuid id;
    Clock::time_point sent;
  };
  struct Failure {
    Clock::time_point sent;
    Error error;
  };

  Ledger(std::vector<std::string> addresses, uint64_t seed)
      : addresses_(std::move(addresses)), rng_(seed) {}
  ~Ledger() { Stop(); }

  void Start() {
    thread_ = std::thread([this] { Run(); });
  }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

  size_t acked() const {
    std::lock_guard lock(mutex_);
    return acked_.size();
  }
  std::vector<Write> Acknowledged() const {
    std::lock_guard lock(mutex_);
    return acked_;
  }
  std::vector<Failure> Failures() const {
    std::lock_guard lock(mutex_);
    return failures_;
  }
  // Waits (bounded) until `count` writes are acknowledged.
  bool AwaitAcked(size_t count, Clock::duration bound = kWait) const {
    return WaitFor([&] { return acked() >= count; }, bound);
  }

 private:
  void Run() {
    std::unique_ptr<Client> client;
    while (!stop_) {
      if (!client) {
        auto connected = Client::Connect(To(addresses_, /*follow=*/true));
        if (!connected.ok()) {
          std::this_thread::sleep_for(50ms);
          continue;
        }
        client = std::move(connected).value();
      }
      const Uuid id = Uuid::Generate();
      const auto sent = Clock::now();
      auto created = client->CreateConversation("ledger", Titled("entry", id));
      {
        std::lock_guard lock(mutex_);
        if (created.ok()) {
          acked_.push_back({id, sent});
        } else {
          failures_.push_back({sent, created.error()});
        }
      }
      // A pause of 0-2 ms after a success; after a failure long enough not to spin.
      std::this_thread::sleep_for(created.ok() ? std::chrono::milliseconds(rng_() % 3) : 20ms);
    }
  }

  const std::vector<std::string> addresses_;
  std::mt19937_64 rng_;  // writer thread only
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::vector<Write> acked_;       // GUARDED_BY(mutex_)
  std::vector<Failure> failures_;  // GUARDED_BY(mutex_)
  std::thread thread_;
};

std::string Describe(const std::vector<Ledger::Failure>& failures, size_t max = 5) {
  std::ostringstream out;
  for (size_t i = 0; i < failures.size() && i < max; ++i) {
    out << "  " << failures[i].error.ToString() << "\n";
  }
  return out.str();
}

class ReplicaFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    seed_ = SeedFromEnv();
    rng_.seed(seed_);
    auto etcd = cluster::testing::EtcdCluster::Start(3);
    ASSERT_TRUE(etcd.ok()) << etcd.status().ToString();
    etcd_ = std::move(etcd).value();
    // Every node lists first a member that is not the raft leader, so that losing that member
    // makes the nodes move on to the others.
    auto leader = etcd_->LeaderIndex();
    ASSERT_TRUE(leader.ok()) << leader.status().ToString();
    first_member_ = (*leader + 1) % 3;
    etcd_endpoints_ = etcd_->ClientUrl(first_member_);
    for (size_t i = 0; i < 3; ++i) {
      if (i != first_member_) etcd_endpoints_ += "," + etcd_->ClientUrl(i);
    }
  }

  std::string SeedNote() const {
    return "MNEMO_REPL_SEED=" + std::to_string(seed_) + " replays this run";
  }
  // A number in [low, high] from the seed.
  size_t Draw(size_t low, size_t high) { return low + rng_() % (high - low + 1); }

  // Starts nodes a, b and c in that order (a becomes primary), semi-sync.
  void StartThree() {
    for (const char* id : {"a", "b", "c"}) {
      dirs_.push_back(std::make_unique<TempDir>());
      nodes_.push_back(std::make_unique<MnemodProcess>(dirs_.back()->path()));
      nodes_.back()->set_extra_args({"--etcd", etcd_endpoints_, "--cluster", "faults", "--node-id",
                                     id, "--lease-ttl", std::to_string(kLeaseTtlSeconds)});
      std::string error;
      ASSERT_TRUE(nodes_.back()->Start(0, &error)) << id << ": " << error;
    }
    auto info = InfoOf(*nodes_[0]);
    ASSERT_TRUE(info.ok() && info->role == Role::kPrimary && info->writable)
        << nodes_[0]->Diagnosis(3000);
  }
  MnemodProcess& node(size_t index) { return *nodes_[index]; }
  std::vector<std::string> Addresses() const {
    std::vector<std::string> out;
    for (const auto& each : nodes_) out.push_back(Address(*each));
    return out;
  }

  static Result<ClusterInfo> InfoOf(const MnemodProcess& node) {
    auto client = Client::Connect(To({Address(node)}));
    if (!client.ok()) return client.error();
    auto stats = (*client)->GetStats();
    if (!stats.ok()) return stats.error();
    return stats->cluster;
  }

  // The first of `candidates` that is a writable primary within `bound`; nullptr if none.
  static MnemodProcess* AwaitPrimary(const std::vector<MnemodProcess*>& candidates,
                                     Clock::duration bound = kWait) {
    MnemodProcess* found = nullptr;
    WaitFor(
        [&] {
          for (MnemodProcess* node : candidates) {
            auto info = InfoOf(*node);
            if (info.ok() && info->role == Role::kPrimary && info->writable) found = node;
          }
          return found != nullptr;
        },
        bound);
    return found;
  }

  static Result<int64_t> CountOn(const MnemodProcess& node, const std::string& user) {
    auto client = Client::Connect(To({Address(node)}));
    if (!client.ok()) return client.error();
    return (*client)->CountConversations(user, {}, true);
  }

  static bool AwaitCount(const MnemodProcess& node, const std::string& user, int64_t rows) {
    return WaitFor(
        [&] {
          auto count = CountOn(node, user);
          return count.ok() && *count == rows;
        },
        kWait);
  }

  // How many of `writes` `node` does not hold (-1: it could not be asked).
  static int64_t MissingOn(const MnemodProcess& node, const std::vector<Ledger::Write>& writes) {
    auto client = Client::Connect(To({Address(node)}));
    if (!client.ok()) return -1;
    int64_t missing = 0;
    for (const Ledger::Write& write : writes) {
      auto got = (*client)->GetConversation("ledger", write.id);
      if (got.code() == Code::kNotFound) {
        ++missing;
      } else if (!got.ok()) {
        return -1;
      }
    }
    return missing;
  }

  uint64_t seed_ = 0;
  std::mt19937_64 rng_;
  std::unique_ptr<cluster::testing::EtcdCluster> etcd_;
  size_t first_member_ = 0;
  std::string etcd_endpoints_;
  std::vector<std::unique_ptr<TempDir>> dirs_;
  std::vector<std::unique_ptr<MnemodProcess>> nodes_;
};

TEST_F(ReplicaFaultTest, AStalledPrimaryIsReplacedRefusesLateWritesAndRejoins) {
  SCOPED_TRACE(SeedNote());
  ASSERT_NO_FATAL_FAILURE(StartThree());
  MnemodProcess& a = node(0);
  Ledger ledger(Addresses(), seed_);
  ledger.Start();
  ASSERT_TRUE(ledger.AwaitAcked(Draw(20, 60))) << Describe(ledger.Failures());
  std::this_thread::sleep_for(std::chrono::milliseconds(Draw(0, 200)));

  // Past its lease: the stalled primary's key expires and the most caught-up replica takes over.
  ASSERT_EQ(::kill(a.pid(), SIGSTOP), 0);
  MnemodProcess* primary = AwaitPrimary({&node(1), &node(2)});
  if (primary == nullptr) ::kill(a.pid(), SIGCONT);
  ASSERT_NE(primary, nullptr) << "no replica took over\n"
                              << node(1).Diagnosis(3000) << "\n---- c\n"
                              << node(2).Diagnosis(3000);
  const size_t at_failover = ledger.acked();
  const bool wrote_on = ledger.AwaitAcked(at_failover + Draw(10, 30));

  // Resumed, the old primary refuses writes: it is fenced, then a follower.
  ASSERT_EQ(::kill(a.pid(), SIGCONT), 0);
  EXPECT_TRUE(wrote_on) << "no write was acknowledged on the new primary\n"
                        << Describe(ledger.Failures());
  std::vector<Uuid> late;
  {
    // Resuming, it may first finish the writes it held when it stopped (each waits up to the
    // replica acknowledgement timeout): a generous timeout, so that the answer is a refusal and
    // not the client giving up.
    ClientOptions options = To({Address(a)});
    options.request_timeout = 20s;
    auto on_a = Client::Connect(options);
    ASSERT_TRUE(on_a.ok()) << on_a.error().ToString() << a.Diagnosis(3000);
    for (int i = 0; i < 5; ++i) {
      late.push_back(Uuid::Generate());
      auto refused = (*on_a)->CreateConversation("ledger", Titled("late", late.back()));
      ASSERT_FALSE(refused.ok()) << "the deposed primary took a write";
      EXPECT_EQ(refused.code(), Code::kNotPrimary) << refused.error().ToString() << "\n"
                                                   << a.Diagnosis(3000);
      EXPECT_NE(refused.error().message.find("not applied"), std::string::npos)
          << refused.error().ToString();
      std::this_thread::sleep_for(std::chrono::milliseconds(Draw(0, 100)));
    }
  }
  ledger.Stop();
  const std::vector<Ledger::Write> acked = ledger.Acknowledged();
  auto total = CountOn(*primary, "ledger");
  ASSERT_TRUE(total.ok()) << total.error().ToString();
  EXPECT_GE(*total, static_cast<int64_t>(acked.size()));
  EXPECT_EQ(MissingOn(*primary, acked), 0) << "of " << acked.size() << " acknowledged writes";

  // It rejoins: in place when its history is a prefix of the new primary's, else it asks for a
  // re-bootstrap (marker, exit code 3) and a restart completes it.
  const std::string marker = a.data_dir() + ".rebootstrap";
  const bool settled = WaitFor(
      [&] {
        if (std::ifstream(marker).good()) return true;
        auto count = CountOn(a, "ledger");
        return count.ok() && *count == *total;
      },
      kWait);
  ASSERT_TRUE(settled) << "the old primary neither caught up nor asked for a re-bootstrap\n"
                       << a.Diagnosis(3000);
  if (std::ifstream(marker).good()) {
    std::printf("[ seed %llu ] the old primary diverged: %s",
                static_cast<unsigned long long>(seed_),
                [&] {
                  std::ifstream in(marker);
                  std::stringstream text;
                  text << in.rdbuf();
                  return text.str();
                }()
                    .c_str());
    // The marker is written just before the exit; a SIGTERM during it would end the process
    // by the signal instead.
    int status = a.AwaitExit(kWait);
    if (status == -1) status = a.Stop();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 3) << status << a.Diagnosis(3000);
    std::string error;
    ASSERT_TRUE(a.Start(0, &error)) << error;
    ASSERT_TRUE(AwaitCount(a, "ledger", *total)) << a.Diagnosis(3000);
  } else {
    std::printf("[ seed %llu ] the old primary rejoined in place\n",
                static_cast<unsigned long long>(seed_));
  }
  auto info = InfoOf(a);
  ASSERT_TRUE(info.ok()) << info.error().ToString();
  EXPECT_EQ(info->role, Role::kFollower);
  EXPECT_EQ(info->primary_address, Address(*primary));
  EXPECT_EQ(MissingOn(a, acked), 0);
  // The refused writes are nowhere.
  for (MnemodProcess* holder : {primary, &a}) {
    auto client = Client::Connect(To({Address(*holder)}));
    ASSERT_TRUE(client.ok());
    for (const Uuid& id : late) {
      EXPECT_EQ((*client)->GetConversation("ledger", id).code(), Code::kNotFound);
    }
  }
}

TEST_F(ReplicaFaultTest, LosingOneEtcdMemberChangesNothing) {
  SCOPED_TRACE(SeedNote());
  ASSERT_NO_FATAL_FAILURE(StartThree());
  MNEMO_ASSERT_OK_AND_ASSIGN(const ClusterInfo before, InfoOf(node(0)));
  Ledger ledger(Addresses(), seed_);
  ledger.Start();
  ASSERT_TRUE(ledger.AwaitAcked(Draw(10, 40))) << Describe(ledger.Failures());

  // The member every node talks to first: their calls (lease renewals, campaign-rule reads)
  // move to the others.
  etcd_->Kill(first_member_);
  const auto killed_at = Clock::now();
  // Writes go on for three lease TTLs, so every lease has been renewed without the member.
  const size_t at_kill = ledger.acked();
  WaitFor([&] { return Clock::now() > killed_at + 3 * kLeaseTtl; }, kWait);
  ASSERT_TRUE(ledger.AwaitAcked(at_kill + Draw(20, 60)));
  ledger.Stop();
  const auto failures = ledger.Failures();
  EXPECT_TRUE(failures.empty()) << failures.size() << " writes failed:\n" << Describe(failures);

  for (size_t i = 0; i < 3; ++i) {
    auto info = InfoOf(node(i));
    ASSERT_TRUE(info.ok()) << info.error().ToString();
    EXPECT_EQ(info->role, i == 0 ? Role::kPrimary : Role::kFollower) << "node " << i;
    EXPECT_EQ(info->primary_epoch, before.primary_epoch) << "node " << i;
  }
  const auto acked = ledger.Acknowledged();
  for (size_t i = 1; i < 3; ++i) {
    EXPECT_TRUE(AwaitCount(node(i), "ledger", static_cast<int64_t>(acked.size())))
        << node(i).Diagnosis(3000);
  }
}

TEST_F(ReplicaFaultTest, LosingEtcdQuorumStopsWritesNotReads) {
  SCOPED_TRACE(SeedNote());
  ASSERT_NO_FATAL_FAILURE(StartThree());
  Ledger ledger(Addresses(), seed_);
  ledger.Start();
  ASSERT_TRUE(ledger.AwaitAcked(Draw(10, 40))) << Describe(ledger.Failures());

  // The raft leader and one more: the survivor can neither renew a lease nor elect a leader.
  auto leader = etcd_->LeaderIndex();
  ASSERT_TRUE(leader.ok()) << leader.status().ToString();
  const size_t lost[] = {*leader, (*leader + 1) % 3};
  for (const size_t member : lost) etcd_->Kill(member);
  const auto quorum_lost = Clock::now();
  const auto fenced_by = quorum_lost + kLeaseTtl;

  // Past one TTL the primary refuses writes, and says why.
  WaitFor([&] { return Clock::now() > fenced_by + 500ms; }, kWait);
  {
    auto on_a = Client::Connect(To({Address(node(0))}));
    ASSERT_TRUE(on_a.ok()) << on_a.error().ToString();
    auto refused = (*on_a)->CreateConversation("ledger", Titled("without etcd"));
    EXPECT_EQ(refused.code(), Code::kNotPrimary)
        << (refused.ok() ? "a write was taken without etcd" : refused.error().ToString());
    if (!refused.ok()) {
      EXPECT_NE(refused.error().message.find("fenced"), std::string::npos)
          << refused.error().ToString();
    }
  }
  // Reads go on everywhere: every node answers for the writes acknowledged before the loss.
  std::vector<Ledger::Write> early;
  for (const Ledger::Write& write : ledger.Acknowledged()) {
    if (write.sent < quorum_lost) early.push_back(write);
  }
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(MissingOn(node(i), early), 0) << "node " << i << " did not answer every read";
    auto count = CountOn(node(i), "ledger");
    EXPECT_TRUE(count.ok() && *count >= static_cast<int64_t>(early.size()))
        << "node " << i << ": " << (count.ok() ? std::to_string(*count) : count.error().ToString());
  }
  const auto restored_at = Clock::now();
  // No write sent after the deadline was acknowledged, and some were refused.
  size_t acked_late = 0;
  for (const Ledger::Write& write : ledger.Acknowledged()) {
    if (write.sent >= fenced_by && write.sent < restored_at) ++acked_late;
  }
  EXPECT_EQ(acked_late, 0u) << "writes were acknowledged after the primary's TTL without etcd";
  size_t refused_late = 0;
  for (const Ledger::Failure& failure : ledger.Failures()) {
    if (failure.sent >= fenced_by) ++refused_late;
  }
  EXPECT_GT(refused_late, 0u);

  // Quorum back: writes resume (the same primary or a successor), and nothing acknowledged is
  // lost.
  for (const size_t member : lost) ASSERT_TRUE(etcd_->Restart(member).ok());
  const size_t at_restore = ledger.acked();
  EXPECT_TRUE(ledger.AwaitAcked(at_restore + Draw(10, 30)))
      << "writes did not resume\n"
      << node(0).Diagnosis(3000) << "\n---- etcd\n"
      << etcd_->LogTail(lost[0], 2000);
  ledger.Stop();
  MnemodProcess* primary = AwaitPrimary({&node(0), &node(1), &node(2)});
  ASSERT_NE(primary, nullptr);
  const auto acked = ledger.Acknowledged();
  EXPECT_EQ(MissingOn(*primary, acked), 0) << "of " << acked.size() << " acknowledged writes";
}

TEST_F(ReplicaFaultTest, AWipedReplicaBootstrapsAgainUnderLoad) {
  SCOPED_TRACE(SeedNote());
  ASSERT_NO_FATAL_FAILURE(StartThree());
  MnemodProcess& c = node(2);
  Ledger ledger(Addresses(), seed_);
  ledger.Start();
  ASSERT_TRUE(ledger.AwaitAcked(Draw(20, 60))) << Describe(ledger.Failures());

  c.Kill();
  std::filesystem::remove_all(c.data_dir());
  // The other replica acknowledges meanwhile.
  ASSERT_TRUE(ledger.AwaitAcked(ledger.acked() + Draw(0, 30))) << Describe(ledger.Failures());
  std::string error;
  ASSERT_TRUE(c.Start(c.port(), &error)) << error;
  std::string log;
  {
    std::ifstream in(c.log_path());
    std::stringstream text;
    text << in.rdbuf();
    log = text.str();
  }
  EXPECT_NE(log.find("bootstrapped from snapshot"), std::string::npos) << c.Diagnosis(3000);
  ASSERT_TRUE(ledger.AwaitAcked(ledger.acked() + Draw(20, 60))) << Describe(ledger.Failures());
  ledger.Stop();

  auto total = CountOn(node(0), "ledger");
  ASSERT_TRUE(total.ok()) << total.error().ToString();
  const auto acked = ledger.Acknowledged();
  EXPECT_GE(*total, static_cast<int64_t>(acked.size()));
  EXPECT_TRUE(AwaitCount(c, "ledger", *total)) << c.Diagnosis(3000);
  EXPECT_EQ(MissingOn(c, acked), 0) << "of " << acked.size() << " acknowledged writes";
  auto info = InfoOf(c);
  ASSERT_TRUE(info.ok()) << info.error().ToString();
  EXPECT_EQ(info->role, Role::kFollower);
  EXPECT_EQ(info->lag_records, 0u);
}

}  // namespace
}  // namespace mnemo::client::testing
