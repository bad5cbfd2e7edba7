// Keyword search micro-benchmarks: analysis (ICU + Snowball, mnemo's analyzer) beside Xapian's
// TermGenerator on the same text, and BM25 top-k over posting lists.
//
// Text: the corpus mnemo-bench's text phase caches (Debian's package descriptions and man pages,
// English and Chinese); pass its path in MNEMO_TEXT_CORPUS, else a built-in sample is used.
#include <benchmark/benchmark.h>
#include <xapian.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "text/analyzer.h"
#include "text/postings.h"
#include "text/top_k.h"

namespace mnemo::text {
namespace {

const std::vector<std::string>& Corpus(bool chinese) {
  static const auto load = [](bool want_chinese) {
    std::vector<std::string> chunks;
    if (const char* path = std::getenv("MNEMO_TEXT_CORPUS")) {
      std::ifstream in(path);
      for (std::string line; std::getline(in, line) && chunks.size() < 2000;) {
        const bool has_high = std::any_of(line.begin(), line.end(), [](char c) { return static_cast<unsigned char>(c) >= 0xE4; });
        if (has_high == want_chinese) chunks.push_back(line);
      }
    }
    if (chunks.empty()) {
      chunks.push_back(want_chinese ? "我们在北京大学学习机器学习和深度学习。向量数据库的检索性能很重要，用户的对话历史需要持久化保存。"
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

void BM_MnemoAnalyzer(benchmark::State& state) {
  const auto& chunks = Corpus(state.range(0) == 1);
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
BENCHMARK(BM_MnemoAnalyzer)->Arg(0)->Arg(1)->ArgName("chinese")->Unit(benchmark::kMillisecond);

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
BENCHMARK(BM_XapianTermGenerator)->Arg(0)->Arg(1)->ArgName("chinese")->Unit(benchmark::kMillisecond);

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
    benchmark::DoNotOptimize(TopK(terms, 10, lengths, static_cast<double>(total) / rows, params,
                                  [](uint32_t) { return true; }, &stats));
  }
}
BENCHMARK(BM_TopKCommonTerm)->Arg(10000)->Arg(100000)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace mnemo::text

BENCHMARK_MAIN();
