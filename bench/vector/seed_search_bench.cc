// mnemo_seed_search_bench: per-user search on the seeds' shape, in-process through mnemo::Engine,
// for profiling and for comparing engine changes on a busy machine.
//
// Rows and owners as mnemo-bench's seed phase (one tenant with --share of the rows, the rest over
// --users Zipf users, --months month buckets).  Each bucket's queries run one after another on one
// thread; per query it records the thread's CPU time (CLOCK_THREAD_CPUTIME_ID), which other
// processes on the machine disturb far less than wall time, and recall@10 against FAISS exact
// truth.  Over the wire figures come from mnemo-bench; this tool isolates the engine.
//
//   mnemo_seed_search_bench [--n 100000] [--d 1536] [--months 6] [--users 200] [--share 0.5]
//                           [--queries 300] [--dir DIR]
#include <faiss/IndexFlat.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "dataset.h"
#include "mnemo/engine.h"

namespace mnemo::bench {
namespace {

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1, static_cast<size_t>(p * static_cast<double>(values.size())))];
}

struct Options {
  size_t n = 100000;
  size_t dim = 1536;
  size_t months = 6;
  size_t users = 200;
  double share = 0.5;
  size_t queries = 300;
  std::string dir;
};

Timestamp RowTime(size_t month, size_t row) {
  const int year = 2024 + static_cast<int>(month / 12);
  const int month_of_year = 1 + static_cast<int>(month % 12);
  char text[32];
  std::snprintf(text, sizeof text, "%04d-%02d-01T00:00:00Z", year, month_of_year);
  const Timestamp start = *ParseTimestamp(text);
  return start + static_cast<Timestamp>((static_cast<uint64_t>(row) * 2654435761u) % (27 * 86400)) * 1'000'000;
}

int Run(const Options& options) {
  DatasetOptions data_options;
  data_options.n = options.n;
  data_options.dim = options.dim;
  data_options.num_queries = options.queries;
  const Dataset data = GenerateDataset(data_options);
  std::mt19937_64 rng(42 ^ 0x5EEDu);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::vector<double> weights(options.users);
  for (size_t r = 0; r < options.users; ++r) weights[r] = 1.0 / static_cast<double>(r + 1);
  std::discrete_distribution<uint32_t> zipf(weights.begin(), weights.end());
  std::vector<uint32_t> owner(options.n);
  std::vector<size_t> month(options.n);
  for (size_t i = 0; i < options.n; ++i) {
    owner[i] = uniform(rng) < options.share ? 0 : 1 + zipf(rng);
    month[i] = rng() % options.months;
  }
  const auto name = [](uint32_t o) { return o == 0 ? std::string("big") : "s" + std::to_string(o); };

  const std::string dir = options.dir.empty() ? "/tmp/mnemo-seed-search-bench" : options.dir;
  std::filesystem::remove_all(dir);
  EngineOptions engine_options;
  engine_options.data_dir = dir;
  engine_options.dimension = static_cast<uint32_t>(options.dim);
  engine_options.sync_writes = false;
  auto opened = Engine::Open(engine_options);
  if (!opened.ok()) {
    std::fprintf(stderr, "open: %s\n", opened.status().ToString().c_str());
    return 1;
  }
  std::unique_ptr<Engine> engine = std::move(opened).value();
  std::map<uint32_t, std::vector<size_t>> rows_of;
  for (size_t i = 0; i < options.n; ++i) rows_of[owner[i]].push_back(i);
  const double load_start = ThreadCpuSeconds();
  const auto wall_start = std::chrono::steady_clock::now();
  for (const auto& [o, rows] : rows_of) {
    NewDocument document;
    document.filename = "d.txt";
    document.file_type = "txt";
    const Uuid doc = engine->CreateDocument(name(o), document).value().id;
    for (size_t begin = 0; begin < rows.size(); begin += 1000) {
      std::vector<NewChunk> chunks;
      for (size_t j = begin; j < std::min(rows.size(), begin + 1000); ++j) {
        NewChunk chunk;
        chunk.document_id = doc;
        chunk.chunk_index = static_cast<int64_t>(j);
        chunk.chunk_text = std::to_string(rows[j]);
        const auto vector = data.Row(rows[j]);
        chunk.embedding.assign(vector.begin(), vector.end());
        chunk.created_at = RowTime(month[rows[j]], rows[j]);
        chunks.push_back(std::move(chunk));
      }
      if (auto added = engine->AddChunks(name(o), chunks); !added.ok()) {
        std::fprintf(stderr, "add: %s\n", added.status().ToString().c_str());
        return 1;
      }
    }
  }
  engine->WaitForIndexing();
  std::fprintf(stderr, "loaded %zu rows in %.1f s wall (%.1f s CPU on this thread)\n", options.n,
               std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count(),
               ThreadCpuSeconds() - load_start);

  std::vector<size_t> counts(options.users + 1, 0);
  for (uint32_t o : owner) ++counts[o];
  std::map<std::string, std::vector<uint32_t>> buckets;
  for (uint32_t o = 0; o <= options.users; ++o) {
    if (counts[o] == 0) continue;
    const double share = static_cast<double>(counts[o]) / static_cast<double>(options.n);
    buckets[o == 0 ? "1 big" : share > 0.05 ? "2 >5%" : share >= 0.01 ? "3 1-5%" : "4 <1%"].push_back(o);
  }
  Timestamp newest = 0;
  for (size_t i = 0; i < options.n; ++i) newest = std::max(newest, RowTime(month[i], i));
  const Timestamp last_30_days = newest - Timestamp{30} * 86400 * 1'000'000;

  // Exact truth first, so the searches run back to back (and a profiler sees only them).
  std::map<std::pair<std::string, bool>, std::vector<std::set<int64_t>>> truths;
  for (const auto& [bucket, owners] : buckets) {
    for (const bool filtered : {false, true}) {
      // One FAISS flat index per owner of the bucket.
      std::vector<std::set<int64_t>>& truth = truths[{bucket, filtered}];
      truth.resize(options.queries);
      std::map<uint32_t, std::vector<size_t>> queries_of;
      for (size_t q = 0; q < options.queries; ++q) queries_of[owners[q % owners.size()]].push_back(q);
      for (const auto& [o, qs] : queries_of) {
        std::vector<size_t> allowed;
        for (size_t row : rows_of[o]) {
          if (!filtered || RowTime(month[row], row) >= last_30_days) allowed.push_back(row);
        }
        if (allowed.empty()) continue;
        faiss::IndexFlatIP flat(static_cast<faiss::Index::idx_t>(options.dim));
        std::vector<float> base;
        for (size_t row : allowed) base.insert(base.end(), data.Row(row).begin(), data.Row(row).end());
        flat.add(static_cast<faiss::Index::idx_t>(allowed.size()), base.data());
        const size_t k = std::min<size_t>(10, allowed.size());
        std::vector<float> query_rows;
        for (size_t q : qs) query_rows.insert(query_rows.end(), data.Query(q).begin(), data.Query(q).end());
        std::vector<float> sims(k * qs.size());
        std::vector<faiss::Index::idx_t> labels(k * qs.size());
        flat.search(static_cast<faiss::Index::idx_t>(qs.size()), query_rows.data(), static_cast<faiss::Index::idx_t>(k),
                    sims.data(), labels.data());
        for (size_t i = 0; i < qs.size(); ++i) {
          for (size_t j = 0; j < k; ++j) {
            truth[qs[i]].insert(static_cast<int64_t>(allowed[static_cast<size_t>(labels[i * k + j])]));
          }
        }
      }
    }
  }
  std::fprintf(stderr, "exact truth computed\n");

  std::printf("| bucket | filter | recall@10 | exact | CPU us/query mean | p50 | p99 |\n|---|---|---|---|---|---|---|\n");
  for (const auto& [bucket, owners] : buckets) {
    for (const bool filtered : {false, true}) {
      const std::vector<std::set<int64_t>>& truth = truths[{bucket, filtered}];
      std::vector<double> cpu;
      double recall = 0;
      size_t exact = 0;
      for (size_t q = 0; q < options.queries; ++q) {
        const uint32_t o = owners[q % owners.size()];
        SearchRequest request;
        request.query.assign(data.Query(q).begin(), data.Query(q).end());
        request.top_k = 10;
        if (filtered) request.filters.created_from = last_30_days;
        const double start = ThreadCpuSeconds();
        auto answer = engine->Search(name(o), request);
        cpu.push_back(ThreadCpuSeconds() - start);
        if (!answer.ok()) {
          std::fprintf(stderr, "search: %s\n", answer.status().ToString().c_str());
          return 1;
        }
        size_t found = 0;
        for (const auto& hit : answer->hits) found += truth[q].count(std::stoll(hit.chunk_text));
        recall += truth[q].empty() ? 1.0 : static_cast<double>(found) / static_cast<double>(truth[q].size());
        exact += answer->exact ? 1 : 0;
      }
      double mean = 0;
      for (double c : cpu) mean += c;
      mean /= static_cast<double>(cpu.size());
      std::printf("| %s | %s | %.3f | %.0f%% | %.0f | %.0f | %.0f |\n", bucket.c_str() + 2,
                  filtered ? "last 30 days" : "none", recall / static_cast<double>(options.queries),
                  100.0 * static_cast<double>(exact) / static_cast<double>(options.queries), mean * 1e6,
                  Percentile(cpu, 0.5) * 1e6, Percentile(cpu, 0.99) * 1e6);
      std::fflush(stdout);
    }
  }
  return 0;
}

}  // namespace
}  // namespace mnemo::bench

int main(int argc, char** argv) {
  mnemo::bench::Options options;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--n") options.n = std::stoull(value);
    else if (flag == "--d") options.dim = std::stoull(value);
    else if (flag == "--months") options.months = std::stoull(value);
    else if (flag == "--users") options.users = std::stoull(value);
    else if (flag == "--share") options.share = std::stod(value);
    else if (flag == "--queries") options.queries = std::stoull(value);
    else if (flag == "--dir") options.dir = value;
    else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  return mnemo::bench::Run(options);
}
