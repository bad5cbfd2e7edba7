// What keyword indexing adds to a durable chunk write, in process: AddChunks of 1000-chunk
// batches (one new document each, one user) into an engine with keyword search on and off, the
// same texts and vectors in both.  And what indexing message content adds to appending messages
// (no embedding, as most chat turns): batches of 1000 appends, and single appends.
//
// Text: the corpus mnemo-bench's text phase caches, from MNEMO_TEXT_CORPUS (one chunk per line),
// else a built-in sample repeated.  Vectors: MNEMO_BENCH_DIM dimensions (default 1536), random
// unit vectors.  Writes are durable (sync_writes, the production setting).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "mnemo/batch.h"
#include "mnemo/engine.h"

namespace mnemo {
namespace {

namespace fs = std::filesystem;

constexpr size_t kBatch = 1000;

const std::vector<std::string>& Texts() {
  static const std::vector<std::string> texts = [] {
    std::vector<std::string> out;
    if (const char* path = std::getenv("MNEMO_TEXT_CORPUS")) {
      std::ifstream in(path);
      for (std::string line; std::getline(in, line) && out.size() < 50 * kBatch;)
        if (!line.empty()) out.push_back(line);
    }
    if (out.empty()) {
      for (size_t i = 0; i < 20 * kBatch; ++i)
        out.push_back("chunk " + std::to_string(i) +
                      ": the searching of connections is running on the compaction of RocksDB "
                      "tables when the server restarts and clients reconnect to it again");
    }
    return out;
  }();
  return texts;
}

uint32_t Dimension() {
  const char* text = std::getenv("MNEMO_BENCH_DIM");
  return text != nullptr ? static_cast<uint32_t>(std::strtoul(text, nullptr, 10)) : 1536;
}

void BM_AddChunks(benchmark::State& state) {
  const bool keyword = state.range(0) == 1;
  const uint32_t dim = Dimension();
  std::error_code ec;
  const fs::path dir =
      fs::temp_directory_path(ec) /
      ("mnemo-ingest-bench-" + std::to_string(::getpid()) + (keyword ? "-on" : "-off"));
  fs::remove_all(dir, ec);
  EngineOptions options;
  options.data_dir = dir.string();
  options.dimension = dim;
  options.keyword_search = keyword;
  auto opened = Engine::Open(options);
  if (!opened.ok()) return state.SkipWithError(opened.status().ToString().c_str());
  std::unique_ptr<Engine> engine = std::move(opened).value();

  std::mt19937_64 rng(7);
  std::normal_distribution<float> normal;
  std::vector<std::vector<float>> vectors(kBatch, std::vector<float>(dim));
  for (auto& v : vectors) {
    double norm = 0;
    for (float& x : v) {
      x = normal(rng);
      norm += double{x} * x;
    }
    for (float& x : v) x = static_cast<float>(x / std::sqrt(norm));
  }
  const std::vector<std::string>& texts = Texts();
  size_t next_text = 0;
  for (auto _ : state) {
    state.PauseTiming();
    NewDocument document;
    document.filename = "doc.txt";
    document.file_type = "txt";
    document.content = "x";
    auto created = engine->CreateDocument("bench-user", document);
    if (!created.ok()) return state.SkipWithError(created.status().ToString().c_str());
    std::vector<NewChunk> chunks(kBatch);
    for (size_t i = 0; i < kBatch; ++i) {
      chunks[i].document_id = created->id;
      chunks[i].chunk_index = static_cast<int64_t>(i);
      chunks[i].chunk_text = texts[next_text++ % texts.size()];
      chunks[i].embedding = vectors[i];
    }
    state.ResumeTiming();
    auto added = engine->AddChunks("bench-user", chunks);
    if (!added.ok()) return state.SkipWithError(added.status().ToString().c_str());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kBatch));
  engine.reset();
  fs::remove_all(dir, ec);
}

// Appends messages with the corpus texts as content into one conversation: `batch` appends
// per durable write (one ApplyBatch, or one AppendMessage when 1).
void BM_AppendMessages(benchmark::State& state) {
  const bool keyword = state.range(0) == 1;
  const auto batch = static_cast<size_t>(state.range(1));
  std::error_code ec;
  const fs::path dir =
      fs::temp_directory_path(ec) / ("mnemo-message-bench-" + std::to_string(::getpid()) +
                                     (keyword ? "-on-" : "-off-") + std::to_string(batch));
  fs::remove_all(dir, ec);
  EngineOptions options;
  options.data_dir = dir.string();
  options.dimension = 8;
  options.keyword_search = keyword;
  auto opened = Engine::Open(options);
  if (!opened.ok()) return state.SkipWithError(opened.status().ToString().c_str());
  std::unique_ptr<Engine> engine = std::move(opened).value();
  NewConversation conversation;
  conversation.title = "bench";
  auto created = engine->CreateConversation("bench-user", conversation);
  if (!created.ok()) return state.SkipWithError(created.status().ToString().c_str());
  const std::vector<std::string>& texts = Texts();
  size_t next_text = 0;
  std::vector<WriteOp> ops(batch);
  for (auto _ : state) {
    state.PauseTiming();
    for (WriteOp& op : ops) {
      NewMessage message;
      message.conversation_id = created->id;
      message.role = "user";
      message.content = texts[next_text++ % texts.size()];
      op = AppendMessageOp{std::move(message)};
    }
    state.ResumeTiming();
    const Status status =
        batch == 1 ? engine->AppendMessage("bench-user", std::get<AppendMessageOp>(ops[0]).message)
                         .status()
                   : engine->ApplyBatch("bench-user", ops).status();
    if (!status.ok()) return state.SkipWithError(status.ToString().c_str());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * batch));
  engine.reset();
  fs::remove_all(dir, ec);
}

BENCHMARK(BM_AppendMessages)
    ->Args({0, 1000})
    ->Args({1, 1000})
    ->ArgNames({"keyword", "batch"})
    ->Iterations(30)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_AppendMessages)
    ->Args({0, 1})
    ->Args({1, 1})
    ->ArgNames({"keyword", "batch"})
    ->Iterations(2000)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

BENCHMARK(BM_AddChunks)
    ->Arg(0)
    ->Arg(1)
    ->ArgName("keyword")
    ->Iterations(30)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace mnemo

BENCHMARK_MAIN();
