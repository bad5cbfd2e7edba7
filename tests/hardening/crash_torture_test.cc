// Crash torture: rounds of mixed load (batches, appends, chunk batches, deletes, searches) from
// several client threads, mnemod SIGKILLed at a random moment, restarted on the same data
// directory, and the state checked against the client-side op log (op_log.h): nothing
// acknowledged lost, nothing unacknowledged half-visible, every stored chunk findable by its own
// vector.  The data directory lives across rounds, so every recovery starts from the previous
// one's.  A last check re-reads every round's log after all the kills.
//
// Every kCleanStopEvery-th round ends with a clean stop (SIGTERM: graphs saved) instead of a
// kill, so later recoveries start from saved graphs plus the writes after them.  Every
// kSettleEvery-th round, before its kill, the writers finish their load, mnemod links every
// pending row into its graph, and a check against the live server must walk the graph (not
// only scan) and find everything.
//
// MNEMO_TORTURE_ROUNDS (default 20) and MNEMO_TORTURE_SEED (default random, printed) change the
// run; scripts/test.sh --long runs 100 rounds.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <thread>

#include "hardening_env.h"
#include "mnemo/client/client.h"
#include "mnemod_process.h"
#include "op_log.h"

namespace mnemo::hardening {
namespace {

using namespace std::chrono_literals;
using client::testing::MnemodProcess;
using client::testing::TempDir;

constexpr int kWriters = 4;
constexpr int kCleanStopEvery = 4;  // rounds 3, 7, 11, ...
constexpr int kSettleEvery = 5;     // rounds 4, 9, 14, ...

// Rows written but not yet linked into a graph, summed over partitions; -1 when unknown.
int64_t PendingRows(Client& client) {
  auto partitions = client.ListPartitions();
  if (!partitions.ok()) return -1;
  int64_t pending = 0;
  for (const auto& partition : *partitions) pending += partition.pending_rows;
  return pending;
}

TEST(CrashTortureTest, AcknowledgedWritesSurviveRepeatedKill9) {
  const int rounds = EnvInt("MNEMO_TORTURE_ROUNDS", 20);
  const uint64_t seed = EnvSeed("MNEMO_TORTURE_SEED");
  std::printf("[ torture ] %d rounds, seed %llu (MNEMO_TORTURE_SEED replays it)\n", rounds,
              static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  TempDir dir;
  MnemodProcess server(dir.path());
  std::string error;
  ASSERT_TRUE(server.Start(0, &error)) << error;

  LoadOptions load;
  load.dimension = MnemodProcess::kDimension;
  load.max_iterations = 400;  // per round; the kill comes first
  std::vector<std::vector<WriterLog>> all_rounds;
  CheckSummary total;
  for (int round = 0; round < rounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    std::unique_ptr<Client> client;
    {
      auto connected = Client::Connect(LocalClientOptions(server.port()));
      ASSERT_TRUE(connected.ok()) << connected.error().ToString();
      client = std::move(connected).value();
    }
    std::vector<WriterLog> logs(kWriters);
    for (int w = 0; w < kWriters; ++w) {
      // The same users every round: their share of the month partition grows until searches
      // walk the graph instead of scanning (the check counts graph searches).
      logs[w].user = "torture-" + std::to_string(w);
      ASSERT_TRUE(PrepareWriter(*client, logs[w], &error)) << error;
    }
    const bool settle = round % kSettleEvery == kSettleEvery - 1;
    const bool clean_stop = round % kCleanStopEvery == kCleanStopEvery - 1;
    // Drawn here, before any writer runs: `rng` is this thread's alone, and a seed replays.
    std::vector<uint64_t> seeds(kWriters);
    for (uint64_t& writer_seed : seeds) writer_seed = rng();
    std::atomic<uint64_t> clock{0};
    std::atomic<int> acked{0};
    std::atomic<bool> stop{false};
    LoadOptions round_load = load;
    if (settle) round_load.max_iterations = 60;  // run to the end: keep the check short
    std::vector<std::thread> writers;
    for (int w = 0; w < kWriters; ++w) {
      writers.emplace_back([&, w] { RunWriter(*client, logs[w], round_load, clock, acked, stop, seeds[w]); });
    }
    if (settle) {
      // The writers finish their load; every row gets linked; the live server's searches walk
      // the graph and find every chunk.
      for (auto& writer : writers) writer.join();
      writers.clear();
      for (const auto& log : logs) ASSERT_EQ(log.unexpected, "") << log.user;
      const auto deadline = std::chrono::steady_clock::now() + 60s;
      int64_t pending = PendingRows(*client);
      while (pending != 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(20ms);
        pending = PendingRows(*client);
      }
      ASSERT_EQ(pending, 0) << "rows still waiting for their graph after 60 s";
      std::vector<std::string> failures;
      CheckSummary settled;
      CheckOpLog(*client, logs, CheckBounds{}, &failures, &settled);
      for (const auto& failure : failures) ADD_FAILURE() << "settled: " << failure;
      ASSERT_TRUE(failures.empty());
      EXPECT_GT(settled.graph_searches, 0) << "no search walked a graph after every row was linked";
      std::printf("[ torture ] round %d settled: %d chunks checked, %d graph searches\n", round,
                  settled.chunks_checked, settled.graph_searches);
      total.graph_searches += settled.graph_searches;
      total.narrow_beam_misses += settled.narrow_beam_misses;
    } else {
      // A random moment: after a few acknowledgements, within ~0.8 s.
      const auto deadline = std::chrono::steady_clock::now() + 20s;
      while (acked.load() < 8 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(2ms);
      std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 800)(rng)));
    }
    if (clean_stop) {
      EXPECT_EQ(server.Stop(), 0) << "clean stop";
    } else {
      server.Kill();
    }
    stop = true;
    for (auto& writer : writers) writer.join();
    client.reset();
    for (const auto& log : logs) ASSERT_EQ(log.unexpected, "") << log.user;

    ASSERT_TRUE(server.Start(0, &error)) << "restart after kill: " << error;
    auto connected = Client::Connect(LocalClientOptions(server.port()));
    ASSERT_TRUE(connected.ok()) << connected.error().ToString();
    if (clean_stop) {
      // The stop linked and saved every graph, so the restart loaded them: nothing to link.
      EXPECT_EQ(PendingRows(**connected), 0) << "graphs saved by the clean stop were not loaded";
    }
    std::vector<std::string> failures;
    CheckSummary summary;
    CheckOpLog(**connected, logs, CheckBounds{}, &failures, &summary);
    for (const auto& failure : failures) ADD_FAILURE() << failure;
    ASSERT_TRUE(failures.empty());
    std::printf("[ torture ] round %d: %s after %d acknowledged writes; %d ops, %d visible, %d unacknowledged, "
                "%d chunks found by their vector, %d graph searches\n",
                round, clean_stop ? "stopped" : "killed", acked.load(), summary.ops, summary.visible_ops,
                summary.unacked_ops, summary.chunks_checked, summary.graph_searches);
    total.ops += summary.ops;
    total.unacked_ops += summary.unacked_ops;
    total.chunks_checked += summary.chunks_checked;
    total.graph_searches += summary.graph_searches;
    total.narrow_beam_misses += summary.narrow_beam_misses;
    all_rounds.push_back(std::move(logs));
  }

  // After every kill, the earlier rounds' data is still exactly there.
  auto connected = Client::Connect(LocalClientOptions(server.port()));
  ASSERT_TRUE(connected.ok()) << connected.error().ToString();
  std::vector<std::string> failures;
  CheckSummary final_summary;
  for (const auto& logs : all_rounds) CheckOpLog(**connected, logs, CheckBounds{}, &failures, &final_summary);
  for (const auto& failure : failures) ADD_FAILURE() << "final re-check: " << failure;
  connected->reset();
  EXPECT_EQ(server.Stop(), 0);
  std::printf("[ torture ] %d rounds passed: %d ops logged (%d unacknowledged), %d chunk checks, %d graph searches "
              "(%d needed the wide beam)\n",
              rounds, total.ops, total.unacked_ops, total.chunks_checked, total.graph_searches, total.narrow_beam_misses);
}

}  // namespace
}  // namespace mnemo::hardening
