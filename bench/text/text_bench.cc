// Keyword search micro-benchmarks: analysis (ICU + Snowball, mnemo's analyzer) beside Xapian's
// TermGenerator on the same text; the CPU a 1000-row batch costs the keyword index (analysis on
// one thread, then the whole StageAdd and its commit, without the WAL sync); BM25 top-k over
// posting lists.
//
// Text: the corpus mnemo-bench's text phase caches (Debian's package descriptions and man pages,
// English and Chinese); pass its path in MNEMO_TEXT_CORPUS, else a built-in sample is used.
#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <unistd.h>
#include <xapian.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "storage/db.h"
#include "storage/write_txn.h"
#include "text/analyzer.h"
#include "text/postings.h"
#include "text/text_index.h"
#include "text/top_k.h"

namespace mnemo::text {
namespace {

const std::vector<std::string>& Corpus(bool chinese) {
  static const auto load = [](bool want_chinese) {
    std::vector<std::string> chunks;
    if (const char* path = std::getenv("MNEMO_TEXT_CORPUS")) {
      std::ifstream in(path);
      for (std::string line; std::getline(in, line) && chunks.size() < 2000;) {
        const bool has_high = std::any_of(
            line.begin(), line.end(), [](char c) { return static_cast<unsigned char>(c) >= 0xE4; });
        if (has_high == want_chinese) chunks.push_back(line);
      }
    }
    if (chunks.empty()) {
      chunks.push_back(
          want_chinese
              ? "我们在北京大学学习机器学习和深度学习。向量数据库的检索性能很重要，用户的对话历史需"
                "要持久化保存。"
              : "The searching of connections is running on the compaction of RocksDB tables; "
                "ERR_CONNECTION_REFUSED when the server restarts and clients reconnect.");
    }
    return chunks;
  };
  static const std::vector<std::string> english = load(false);
  static const std::vector<std::string> han = load(true);
  return chinese ? han : english;
}

void SetBytes(benchmark::State& state, const std::vector<std::string>& chunks, size_t rounds) {
  size_t bytes = 0;
  for (const auto& c : chunks) bytes += c.size();
  state.SetBytesProcessed(static_cast<int64_t>(bytes * rounds));
  state.SetItemsProcessed(static_cast<int64_t>(chunks.size() * rounds));
}

// Analyzes every chunk once per iteration.
void RunAnalyzer(benchmark::State& state, const std::vector<std::string>& chunks) {
  Analysis analysis;
  size_t rounds = 0;
  for (auto _ : state) {
    for (const auto& chunk : chunks) {
      analysis.terms.clear();
      benchmark::DoNotOptimize(Analyze(chunk, &analysis));
    }
    ++rounds;
  }
  SetBytes(state, chunks, rounds);
}

void BM_MnemoAnalyzer(benchmark::State& state) { RunAnalyzer(state, Corpus(state.range(0) == 1)); }
BENCHMARK(BM_MnemoAnalyzer)->Arg(0)->Arg(1)->ArgName("chinese")->Unit(benchmark::kMillisecond);

// The English chunks with typographic punctuation, as much text outside man pages has it: each
// with an em dash after its first word and its apostrophes typographic.
void BM_MnemoAnalyzerTypographic(benchmark::State& state) {
  static const std::vector<std::string> chunks = [] {
    std::vector<std::string> out;
    for (std::string chunk : Corpus(false)) {
      const size_t space = chunk.find(' ');
      if (space != std::string::npos) chunk.insert(space, " \u2014");
      std::string typographic;
      for (const char c : chunk)
        typographic += c == '\'' ? std::string("\u2019") : std::string(1, c);
      out.push_back(std::move(typographic));
    }
    return out;
  }();
  RunAnalyzer(state, chunks);
}
BENCHMARK(BM_MnemoAnalyzerTypographic)->Unit(benchmark::kMillisecond);

// Xapian 1.4.22: English stemming, CJK as n-grams (its only CJK mode in this version).
void BM_XapianTermGenerator(benchmark::State& state) {
  const auto& chunks = Corpus(state.range(0) == 1);
  Xapian::TermGenerator generator;
  generator.set_stemmer(Xapian::Stem("english"));
  generator.set_stemming_strategy(Xapian::TermGenerator::STEM_ALL);
  generator.set_flags(Xapian::TermGenerator::FLAG_CJK_NGRAM);
  size_t rounds = 0;
  for (auto _ : state) {
    for (const auto& chunk : chunks) {
      Xapian::Document doc;
      generator.set_document(doc);
      generator.index_text_without_positions(chunk);
      benchmark::DoNotOptimize(doc.termlist_count());
    }
    ++rounds;
  }
  SetBytes(state, chunks, rounds);
}
BENCHMARK(BM_XapianTermGenerator)
    ->Arg(0)
    ->Arg(1)
    ->ArgName("chinese")
    ->Unit(benchmark::kMillisecond);

// The corpus in its own order (the harness's batches), up to 50 batches of 1000.
const std::vector<std::string>& Batches() {
  static const std::vector<std::string> texts = [] {
    std::vector<std::string> out;
    if (const char* path = std::getenv("MNEMO_TEXT_CORPUS")) {
      std::ifstream in(path);
      for (std::string line; std::getline(in, line) && out.size() < 50000;)
        if (!line.empty()) out.push_back(line);
    }
    if (out.empty()) {
      const auto& english = Corpus(false);
      const auto& chinese = Corpus(true);
      for (size_t i = 0; i < 1000; ++i)
        out.push_back(i % 14 == 0 ? chinese[i % chinese.size()] : english[i % english.size()]);
    }
    return out;
  }();
  return texts;
}

constexpr size_t kBatchRows = 1000;

// CPU seconds this process has used, all threads.
double ProcessCpuSeconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// Analysis of 1000-row batches on the calling thread alone (AnalyzeNumbered, as StageAdd calls
// it), one batch after another through the corpus.
void BM_AnalyzeBatch(benchmark::State& state) {
  const auto& texts = Batches();
  TermNumbers numbers;
  size_t next = 0;
  size_t bytes = 0;
  for (auto _ : state) {
    for (size_t i = 0; i < kBatchRows; ++i) {
      const std::string& text = texts[next++ % texts.size()];
      bytes += text.size();
      benchmark::DoNotOptimize(AnalyzeNumbered(text, &numbers));
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kBatchRows));
}
BENCHMARK(BM_AnalyzeBatch)->Unit(benchmark::kMillisecond);

// TextIndex::StageAdd of 1000-row batches (one user, one month) and the commit of the
// transaction, without syncing the WAL: the keyword index's whole CPU cost in a chunk write.
// Real time: the analysis thread takes part of each batch; cpu_ms: both threads' CPU per batch.
void BM_StageAddBatch(benchmark::State& state) {
  namespace fs = std::filesystem;
  const auto& texts = Batches();
  std::error_code ec;
  const fs::path dir =
      fs::temp_directory_path(ec) / ("mnemo-text-bench-" + std::to_string(::getpid()));
  fs::remove_all(dir, ec);
  {
    storage::DbOptions options;
    options.path = dir.string();
    options.sync_writes = false;
    auto db = storage::Db::Open(options);
    if (!db.ok()) return state.SkipWithError(db.status().ToString().c_str());
    auto index = TextIndex::Open(**db, Bm25Params{});
    if (!index.ok()) return state.SkipWithError(index.status().ToString().c_str());
    uint64_t label = 1;
    size_t next = 0;
    std::vector<TextRow> rows(kBatchRows);
    const double cpu_start = ProcessCpuSeconds();
    for (auto _ : state) {
      for (TextRow& row : rows) row = TextRow{label++, 24312, texts[next++ % texts.size()]};
      storage::WriteTxn txn(**db);
      Status status = (*index)->StageAdd(txn, RowKind::kChunk, "bench-user", rows);
      if (status.ok()) status = txn.Commit();
      if (!status.ok()) return state.SkipWithError(status.ToString().c_str());
    }
    state.counters["cpu_ms"] =
        1e3 * (ProcessCpuSeconds() - cpu_start) / static_cast<double>(state.iterations());
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kBatchRows));
  }
  fs::remove_all(dir, ec);
}
BENCHMARK(BM_StageAddBatch)->UseRealTime()->Unit(benchmark::kMillisecond);

// Top-10 of one term over `range(0)` rows that all hold it.
void BM_TopKCommonTerm(benchmark::State& state) {
  const uint32_t rows = static_cast<uint32_t>(state.range(0));
  std::mt19937 rng(1);
  PostingList list;
  std::vector<uint32_t> lengths(rows);
  uint64_t total = 0;
  for (uint32_t d = 0; d < rows; ++d) {
    lengths[d] = 20 + rng() % 200;
    total += lengths[d];
    list.Append(d, 1 + (rng() % 20 == 0 ? rng() % 6 : 0), lengths[d]);
  }
  const Bm25Params params;
  std::vector<QueryTerm> terms = {{&list, Bm25TermWeight(rows, rows, params)}};
  for (auto _ : state) {
    TopKStats stats;
    benchmark::DoNotOptimize(TopK(
        terms, 10, lengths, static_cast<double>(total) / rows, params,
        [](uint32_t) { return true; }, &stats));
  }
}
BENCHMARK(BM_TopKCommonTerm)->Arg(10000)->Arg(100000)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace mnemo::text

BENCHMARK_MAIN();
