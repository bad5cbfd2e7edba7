// Backup/restore proof: `mnemo backup` of a live mnemod under write load from several client
// threads, `mnemo restore` into a new directory, mnemod started there, and the restored state
// checked against the client-side op log (op_log.h) as a consistent point in time: per writer
// exactly a prefix of its ops, every op acknowledged before the backup began included, nothing
// started after it finished, batches whole, every stored chunk findable by its own vector.  The
// writers run until after the backup finished, and the test requires writes that overlapped it
// (started before it finished, acknowledged after it began): those are what the point-in-time
// check is about.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>

#include "hardening_env.h"
#include "mnemo/client/client.h"
#include "mnemod_process.h"
#include "op_log.h"

namespace mnemo::hardening {
namespace {

using namespace std::chrono_literals;
using client::testing::MnemoCliPath;
using client::testing::MnemodProcess;
using client::testing::RunCommand;
using client::testing::TempDir;

constexpr int kWriters = 4;

std::unique_ptr<Client> Connect(uint16_t port) {
  auto connected = Client::Connect(LocalClientOptions(port));
  EXPECT_TRUE(connected.ok()) << connected.error().ToString();
  return connected.ok() ? std::move(connected).value() : nullptr;
}

TEST(BackupProofTest, OnlineBackupRestoresToAConsistentPointInTime) {
  if (MnemoCliPath().empty()) GTEST_SKIP() << "the mnemo CLI is not built";
  const uint64_t seed = EnvSeed("MNEMO_BACKUP_SEED");
  std::printf("[ backup ] seed %llu (MNEMO_BACKUP_SEED replays it)\n", static_cast<unsigned long long>(seed));
  TempDir live_dir, restored_dir;
  MnemodProcess live(live_dir.path());
  std::string error;
  ASSERT_TRUE(live.Start(0, &error)) << error;
  auto client = Connect(live.port());
  ASSERT_NE(client, nullptr);

  LoadOptions load;
  load.dimension = MnemodProcess::kDimension;
  load.max_iterations = 100000;  // stopped after the backup, not by count
  load.stop_on_unavailable = false;  // the server stays up: every failure is unexpected
  std::vector<WriterLog> logs(kWriters);
  for (int w = 0; w < kWriters; ++w) {
    logs[w].user = "backup-" + std::to_string(w);
    ASSERT_TRUE(PrepareWriter(*client, logs[w], &error)) << error;
  }
  std::atomic<uint64_t> clock{0};
  std::atomic<int> acked{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    const uint64_t writer_seed = seed + static_cast<uint64_t>(w);
    writers.emplace_back([&, w, writer_seed] { RunWriter(*client, logs[w], load, clock, acked, stop, writer_seed); });
  }
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (acked.load() < 100 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(2ms);

  // The backup, through the CLI, while the writers go on.
  const std::string backup_path = live_dir.path() + "/backup";
  const uint64_t began = clock.fetch_add(1);
  const int acked_before = acked.load();
  std::string output;
  const int backup_status = RunCommand(
      {MnemoCliPath(), "backup", backup_path, "--server", "127.0.0.1:" + std::to_string(live.port())}, &output);
  const uint64_t finished = clock.fetch_add(1);
  const int acked_during = acked.load() - acked_before;
  std::this_thread::sleep_for(200ms);  // writes after the backup, which it must not hold
  stop = true;
  for (auto& writer : writers) writer.join();
  ASSERT_EQ(backup_status, 0) << output;
  for (const auto& log : logs) ASSERT_EQ(log.unexpected, "") << log.user;
  int overlapping = 0;  // acknowledged writes in flight while the backup ran
  for (const auto& log : logs) {
    for (const Op& op : log.ops) overlapping += op.acked && op.started < finished && op.acked_at > began ? 1 : 0;
  }
  EXPECT_GT(overlapping, 0) << "no write overlapped the backup: the point-in-time check proves nothing";

  // The live server holds everything acknowledged (sanity for the log itself).
  std::vector<std::string> failures;
  CheckSummary live_summary;
  CheckOpLog(*client, logs, CheckBounds{}, &failures, &live_summary);
  for (const auto& failure : failures) ADD_FAILURE() << "live: " << failure;
  client.reset();
  EXPECT_EQ(live.Stop(), 0);

  MnemodProcess restored(restored_dir.path());
  ASSERT_EQ(RunCommand({MnemoCliPath(), "restore", "--backup", backup_path, "--data", restored.data_dir()}, &output), 0)
      << output;
  ASSERT_TRUE(restored.Start(0, &error)) << error;
  auto restored_client = Connect(restored.port());
  ASSERT_NE(restored_client, nullptr);
  failures.clear();
  CheckSummary summary;
  CheckOpLog(*restored_client, logs, CheckBounds{began, finished}, &failures, &summary);
  for (const auto& failure : failures) ADD_FAILURE() << "restored: " << failure;
  std::printf("[ backup ] %d ops logged, %d acknowledged while the backup ran, %d overlapping it; the restored "
              "state holds %d (%d chunks found by their vector)\n",
              live_summary.ops, acked_during, overlapping, summary.visible_ops, summary.chunks_checked);
  restored_client.reset();
  EXPECT_EQ(restored.Stop(), 0);
}

}  // namespace
}  // namespace mnemo::hardening
