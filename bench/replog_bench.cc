// What the replication log costs a writer: the same durable writes (sync_writes = true) on two
// engines side by side, one with EngineOptions::replication_log off and one with it on, in
// alternating rounds so that both see the same machine load.  Workloads:
//
//   append    AppendMessage of one ~200-byte message, from `threads` writers (different users
//             write in parallel: the log serializes their RocksDB writes, not their syncs)
//   chunks    AddChunks of 100 chunks of 1536-d vectors from one writer: the log carries the
//             floats inline, so each batch writes ~600 KB more
//
// Usage: mnemo_replog_bench append|chunks [rounds=20] [seconds per round and engine=0.5]
//        [threads=4]
// Prints ops/s per round, the median per engine and the median of the rounds' on/off ratios (a
// round's two runs are adjacent in time, so their ratio is the least disturbed by other load);
// the data directories live under $TMPDIR.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "mnemo/engine.h"

namespace mnemo {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr uint32_t kDim = 1536;
constexpr size_t kChunksPerBatch = 100;
constexpr size_t kContentBytes = 200;

struct Bench {
  std::unique_ptr<Engine> engine;
  std::vector<std::string> users;
  std::vector<Uuid> conversations;  // one per user
  Uuid document;
  int64_t next_chunk_index = 0;
};

[[noreturn]] void Fail(const Status& status) {
  std::fprintf(stderr, "replog_bench: %s\n", status.ToString().c_str());
  std::exit(1);
}

template <typename T>
T Must(Result<T> result) {
  if (!result.ok()) Fail(result.status());
  return std::move(result).value();
}

Bench Open(const fs::path& dir, bool log, int threads) {
  EngineOptions options;
  options.data_dir = dir.string();
  options.dimension = kDim;
  options.replication_log = log;
  Bench bench;
  bench.engine = Must(Engine::Open(options));
  for (int i = 0; i < threads; ++i) {
    bench.users.push_back("user-" + std::to_string(i));
    NewConversation conversation;
    conversation.title = "bench";
    bench.conversations.push_back(
        Must(bench.engine->CreateConversation(bench.users.back(), conversation)).id);
  }
  NewDocument document;
  document.filename = "bench.md";
  document.file_type = "md";
  document.content = "bench";
  bench.document = Must(bench.engine->CreateDocument(bench.users[0], document)).id;
  return bench;
}

double AppendRound(Bench& bench, double seconds) {
  const std::string content(kContentBytes, 'x');
  std::atomic<int64_t> done{0};
  const Clock::time_point end = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                   std::chrono::duration<double>(seconds));
  const Clock::time_point start = Clock::now();
  std::vector<std::thread> writers;
  for (size_t t = 0; t < bench.users.size(); ++t) {
    writers.emplace_back([&, t] {
      NewMessage message;
      message.conversation_id = bench.conversations[t];
      message.role = "user";
      message.content = content;
      message.tokens_used = 50;
      while (Clock::now() < end) {
        Must(bench.engine->AppendMessage(bench.users[t], message));
        done.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  for (auto& writer : writers) writer.join();
  return static_cast<double>(done.load()) /
         std::chrono::duration<double>(Clock::now() - start).count();
}

double ChunkRound(Bench& bench, double seconds, std::mt19937& rng) {
  std::normal_distribution<float> normal;
  std::vector<NewChunk> chunks(kChunksPerBatch);
  for (NewChunk& chunk : chunks) {
    chunk.document_id = bench.document;
    chunk.chunk_text = std::string(kContentBytes, 'y');
    chunk.embedding.resize(kDim);
    for (float& x : chunk.embedding) x = normal(rng);
  }
  int64_t done = 0;
  const Clock::time_point start = Clock::now();
  while (std::chrono::duration<double>(Clock::now() - start).count() < seconds) {
    for (NewChunk& chunk : chunks) chunk.chunk_index = bench.next_chunk_index++;
    Must(bench.engine->AddChunks(bench.users[0], chunks));
    ++done;
  }
  return static_cast<double>(done) / std::chrono::duration<double>(Clock::now() - start).count();
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

int Main(int argc, char** argv) {
  const std::string workload = argc > 1 ? argv[1] : "";
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 20;
  const double seconds = argc > 3 ? std::atof(argv[3]) : 0.5;
  const int threads = argc > 4 ? std::atoi(argv[4]) : 4;
  if ((workload != "append" && workload != "chunks") || rounds < 1 || seconds <= 0 || threads < 1) {
    std::fprintf(stderr,
                 "usage: mnemo_replog_bench append|chunks [rounds>=1] [seconds>0] [threads>=1]\n");
    return 2;
  }
  const fs::path root =
      fs::temp_directory_path() / ("mnemo-replog-bench-" + std::to_string(::getpid()));
  fs::remove_all(root);
  Bench off = Open(root / "off", false, threads);
  Bench on = Open(root / "on", true, threads);
  std::mt19937 rng(7);
  const auto run = [&](Bench& bench) {
    return workload == "append" ? AppendRound(bench, seconds) : ChunkRound(bench, seconds, rng);
  };
  std::vector<double> with_off, with_on, ratios;
  for (int round = 0; round < rounds; ++round) {
    // Alternate which engine goes first, so neither always follows the other's flushes.
    double off_rate = 0, on_rate = 0;
    if (round % 2 == 0) {
      off_rate = run(off);
      on_rate = run(on);
    } else {
      on_rate = run(on);
      off_rate = run(off);
    }
    with_off.push_back(off_rate);
    with_on.push_back(on_rate);
    ratios.push_back(on_rate / off_rate);
    std::printf("round %d: %s/s off %.1f on %.1f\n", round + 1,
                workload == "append" ? "appends" : "100-chunk batches", off_rate, on_rate);
  }
  std::printf(
      "%s, %d thread(s), %d rounds of %.2f s: median off %.1f/s, on %.1f/s; "
      "median on/off ratio %.3f\n",
      workload.c_str(), workload == "append" ? threads : 1, rounds, seconds, Median(with_off),
      Median(with_on), Median(ratios));
  off.engine.reset();
  on.engine.reset();
  fs::remove_all(root);
  return 0;
}

}  // namespace
}  // namespace mnemo

int main(int argc, char** argv) { return mnemo::Main(argc, argv); }
