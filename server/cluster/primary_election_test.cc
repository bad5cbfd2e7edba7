// PrimaryElection against real etcd: one winner per epoch, fencing before the key expires,
// surviving the loss of one etcd member, fencing on the loss of quorum.  Every wait is bounded
// and waits for an event; no test asserts how long something took.
#include "cluster/primary_election.h"

#include <gtest/gtest.h>

#include <chrono>
#include <latch>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cluster/testing/etcd_cluster.h"

namespace mnemo::cluster {
namespace {

using testing::EtcdCluster;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr auto kPoll = milliseconds(10);

// Polls `condition` until it holds or `limit` passes; whether it held.
template <typename Condition>
bool WaitFor(Condition condition, Clock::duration limit) {
  const auto deadline = Clock::now() + limit;
  while (Clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(kPoll);
  }
  return condition();
}

class PrimaryElectionTest : public ::testing::Test {
 protected:
  void StartEtcd(size_t members) {
    auto cluster = EtcdCluster::Start(members);
    ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
    etcd_ = std::move(*cluster);
  }

  // A node of cluster "c" that reaches etcd through `endpoints` (every member by default).
  Result<std::unique_ptr<PrimaryElection>> StartNode(const std::string& node, seconds ttl,
                                                     std::vector<std::string> endpoints = {}) {
    ElectionOptions options;
    options.cluster = "c";
    options.node_id = node;
    options.address = node + ".test:7000";
    options.lease_ttl = ttl;
    if (endpoints.empty()) endpoints = etcd_->ClientUrls();
    return PrimaryElection::Start(EtcdCluster::ClientOptions(std::move(endpoints)), options);
  }

  std::unique_ptr<EtcdCluster> etcd_;
};

TEST_F(PrimaryElectionTest, ConcurrentCampaignsHaveOneWinnerAndEachWinBumpsTheEpoch) {
  ASSERT_NO_FATAL_FAILURE(StartEtcd(1));
  auto a = StartNode("a", seconds(2));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  auto b = StartNode("b", seconds(2));
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  std::vector<PrimaryElection*> nodes = {a->get(), b->get()};

  std::vector<Result<CampaignResult>> results(2, Status::Internal("not run"));
  std::latch start(2);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < 2; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      results[i] = nodes[i]->Campaign();
    });
  }
  for (auto& thread : threads) thread.join();
  ASSERT_TRUE(results[0].ok()) << results[0].status().ToString();
  ASSERT_TRUE(results[1].ok()) << results[1].status().ToString();
  ASSERT_NE(results[0]->won, results[1]->won) << "exactly one campaign wins";
  const size_t winner = results[0]->won ? 0 : 1;
  PrimaryElection& primary = *nodes[winner];
  PrimaryElection& follower = *nodes[1 - winner];
  const std::string winner_id = winner == 0 ? "a" : "b";

  EXPECT_EQ(results[winner]->primary.epoch, 1u);
  EXPECT_EQ(results[1 - winner]->primary.node_id, winner_id);
  EXPECT_EQ(results[1 - winner]->primary.epoch, 1u);
  EXPECT_EQ(primary.role(), Role::kPrimary);
  EXPECT_EQ(primary.epoch(), 1u);
  EXPECT_TRUE(primary.MayAcceptWrites());
  EXPECT_EQ(follower.role(), Role::kFollower);
  EXPECT_EQ(follower.epoch(), 0u);
  EXPECT_FALSE(follower.MayAcceptWrites());
  EXPECT_FALSE(follower.WritesAllowedUntil().has_value());

  auto view = follower.ReadCluster();
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  ASSERT_TRUE(view->primary.has_value());
  EXPECT_EQ(view->primary->node_id, winner_id);
  EXPECT_EQ(view->primary->address, winner_id + ".test:7000");
  EXPECT_EQ(view->primary->epoch, 1u);
  EXPECT_EQ(view->primary->lease, primary.lease_id());
  EXPECT_EQ(view->epoch, 1u);

  // Campaigning again changes nothing: the primary keeps its epoch, the follower still loses.
  auto again = primary.Campaign();
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->won);
  EXPECT_EQ(again->primary.epoch, 1u);
  auto lost = follower.Campaign();
  ASSERT_TRUE(lost.ok());
  EXPECT_FALSE(lost->won);
  EXPECT_EQ(follower.ReadCluster()->epoch, 1u);

  // Resigning deletes the key at once; the next campaign wins the next epoch.
  ASSERT_TRUE(primary.Resign().ok());
  EXPECT_FALSE(primary.MayAcceptWrites());
  EXPECT_EQ(primary.role(), Role::kFollower);
  auto next = follower.Campaign();
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_TRUE(next->won);
  EXPECT_EQ(next->primary.epoch, 2u);
  EXPECT_EQ(follower.epoch(), 2u);
  EXPECT_TRUE(follower.MayAcceptWrites());
  EXPECT_EQ(follower.ReadCluster()->epoch, 2u);
  EXPECT_EQ(primary.Campaign().status().code(), StatusCode::kConflict);  // resigned for good
}

TEST_F(PrimaryElectionTest, StalledPrimaryStopsWritesBeforeItsKeyExpiresThenLosesTheEpoch) {
  ASSERT_NO_FATAL_FAILURE(StartEtcd(1));
  auto a = StartNode("a", seconds(2));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  auto b = StartNode("b", seconds(2));
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  PrimaryElection& stalled = **a;
  PrimaryElection& successor = **b;
  auto won = stalled.Campaign();
  ASSERT_TRUE(won.ok() && won->won) << won.status().ToString();
  const int64_t old_lease = stalled.lease_id();

  stalled.TEST_PauseKeepAlive(true);
  // Wait for etcd to expire the lease, i.e. for the key to disappear.  Every read that finds it
  // gone was sent after etcd expired the lease; the stalled node's fencing deadline must lie
  // before that send, and the node must refuse writes by then.
  bool gone = false;
  const bool expired = WaitFor(
      [&] {
        const auto sent = Clock::now();
        auto view = successor.ReadCluster();
        if (!view.ok() || view->primary.has_value()) return false;
        const auto fenced_at = stalled.WritesAllowedUntil();
        EXPECT_TRUE(fenced_at.has_value());  // it has not noticed yet: still primary, but fenced
        if (fenced_at) {
          EXPECT_LT(*fenced_at, sent);
        }
        EXPECT_FALSE(stalled.MayAcceptWrites());
        gone = true;
        return true;
      },
      seconds(15));
  ASSERT_TRUE(expired && gone) << "the stalled primary's key never expired";
  EXPECT_EQ(stalled.role(), Role::kPrimary);  // its thread is stalled: it has not learned it lost

  auto next = successor.Campaign();
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_TRUE(next->won);
  EXPECT_EQ(next->primary.epoch, 2u);
  EXPECT_TRUE(successor.MayAcceptWrites());

  // Resumed, the old primary learns its lease is gone, steps down and takes a new lease.
  stalled.TEST_PauseKeepAlive(false);
  ASSERT_TRUE(WaitFor(
      [&] {
        return stalled.role() == Role::kFollower && stalled.lease_id() != 0 &&
               stalled.lease_id() != old_lease;
      },
      seconds(10)));
  EXPECT_FALSE(stalled.MayAcceptWrites());
  auto lost = stalled.Campaign();
  ASSERT_TRUE(lost.ok()) << lost.status().ToString();
  EXPECT_FALSE(lost->won);
  EXPECT_EQ(lost->primary.node_id, "b");
  EXPECT_EQ(lost->primary.epoch, 2u);
}

TEST_F(PrimaryElectionTest, PrimaryStepsDownWhenItsKeyIsChangedByHand) {
  ASSERT_NO_FATAL_FAILURE(StartEtcd(1));
  auto a = StartNode("a", seconds(2));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  auto won = (*a)->Campaign();
  ASSERT_TRUE(won.ok() && won->won) << won.status().ToString();
  auto admin = EtcdClient::Create(EtcdCluster::ClientOptions(etcd_->ClientUrls()));
  ASSERT_TRUE(admin.ok());
  ASSERT_TRUE(admin->Delete(PrimaryElection::PrimaryKey("c")).ok());
  ASSERT_TRUE(WaitFor([&] { return (*a)->role() == Role::kFollower; }, seconds(10)));
  EXPECT_FALSE((*a)->MayAcceptWrites());
  auto again = (*a)->Campaign();  // the lease is still good: it may win the next epoch
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->won);
  EXPECT_EQ(again->primary.epoch, 2u);
}

TEST_F(PrimaryElectionTest, LosingOneOfThreeEtcdMembersDoesNotDisturbThePrimary) {
  ASSERT_NO_FATAL_FAILURE(StartEtcd(3));
  auto leader = etcd_->LeaderIndex();
  ASSERT_TRUE(leader.ok()) << leader.status().ToString();
  // The victim is a member that is not the raft leader, listed first so that the node's calls go
  // to it until it dies.
  const size_t victim = (*leader + 1) % 3;
  std::vector<std::string> endpoints = {etcd_->ClientUrl(victim)};
  for (size_t i = 0; i < 3; ++i) {
    if (i != victim) endpoints.push_back(etcd_->ClientUrl(i));
  }
  auto a = StartNode("a", seconds(3), endpoints);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  PrimaryElection& primary = **a;
  auto won = primary.Campaign();
  ASSERT_TRUE(won.ok() && won->won) << won.status().ToString();
  ASSERT_TRUE(WaitFor([&] { return primary.keepalives_succeeded() >= 1; }, seconds(10)));

  etcd_->Kill(victim);
  const uint64_t before = primary.keepalives_succeeded();
  bool always_writable = true;
  const bool renewed = WaitFor(
      [&] {
        always_writable = always_writable && primary.MayAcceptWrites();
        return primary.keepalives_succeeded() >= before + 3;
      },
      seconds(15));
  ASSERT_TRUE(renewed) << "the lease was not renewed through the surviving members";
  EXPECT_TRUE(always_writable);
  EXPECT_EQ(primary.role(), Role::kPrimary);
  EXPECT_EQ(primary.epoch(), 1u);
  auto view = primary.ReadCluster();
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  ASSERT_TRUE(view->primary.has_value());
  EXPECT_EQ(view->primary->node_id, "a");
  EXPECT_EQ(view->epoch, 1u);
}

TEST_F(PrimaryElectionTest, LosingEtcdQuorumFencesThePrimaryWithinItsTtl) {
  ASSERT_NO_FATAL_FAILURE(StartEtcd(3));
  auto a = StartNode("a", seconds(3));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  PrimaryElection& primary = **a;
  auto won = primary.Campaign();
  ASSERT_TRUE(won.ok() && won->won) << won.status().ToString();
  ASSERT_TRUE(WaitFor([&] { return primary.keepalives_succeeded() >= 1; }, seconds(10)));

  // Kill the raft leader and one more member: the survivor can neither renew a lease nor elect
  // a leader, so no renewal sent after this point succeeds.
  auto leader = etcd_->LeaderIndex();
  ASSERT_TRUE(leader.ok()) << leader.status().ToString();
  etcd_->Kill(*leader);
  etcd_->Kill((*leader + 1) % 3);
  const auto quorum_lost = Clock::now();

  ASSERT_TRUE(WaitFor([&] { return !primary.MayAcceptWrites(); }, seconds(15)))
      << "the primary kept accepting writes without etcd";
  // The deadline came from a renewal sent before the quorum was lost: within one TTL of it.
  const auto fenced_at = primary.WritesAllowedUntil();
  ASSERT_TRUE(fenced_at.has_value());
  EXPECT_LE(*fenced_at, quorum_lost + seconds(3));
  // The node cannot learn it lost the key without etcd, so it is still primary, but fenced.
  EXPECT_EQ(primary.role(), Role::kPrimary);
  auto view = primary.ReadCluster();
  ASSERT_FALSE(view.ok());
  EXPECT_EQ(view.status().code(), StatusCode::kUnavailable) << view.status().ToString();
}

}  // namespace
}  // namespace mnemo::cluster
