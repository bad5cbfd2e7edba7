// mnemo_vector_bench: mnemo's HNSW against hnswlib and FAISS on the same synthetic embeddings, in
// one run.  Prints Markdown tables: build time and memory, recall@k and single-thread QPS per ef
// (plus FAISS's exact scan), and mnemo's filtered search at three owner selectivities.
//
// Usage: mnemo_vector_bench [--n 100000] [--d 1536] [--queries 1000] [--ef 10,20,40,80,160,320]
//                           [--M 16] [--efc 64] [--threads 1] [--k 10] [--seed 42]
//                           [--systems mnemo,hnswlib,faiss] [--no-filtered]
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "dataset.h"
#include "faiss_peer.h"
#include "hnswlib_peer.h"
#include "kernels/distance.h"
#include "vector/hnsw/hnsw_index.h"
#include "vector/hnsw/label_filter.h"

namespace mnemo::bench {
namespace {

struct Config {
  size_t n = 100000;
  size_t dim = 1536;
  size_t queries = 1000;
  std::vector<size_t> efs{10, 20, 40, 80, 160, 320};
  size_t m = 16;
  size_t efc = 64;
  size_t threads = 1;
  size_t k = 10;
  uint64_t seed = 42;
  std::vector<std::string> systems{"mnemo", "hnswlib", "faiss"};
  bool filtered = true;
};

std::vector<std::string> Split(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream stream(text);
  for (std::string part; std::getline(stream, part, ',');) {
    if (!part.empty()) parts.push_back(part);
  }
  return parts;
}

bool ParseArgs(int argc, char** argv, Config* config) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    if (const size_t eq = arg.find('='); eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    } else if (arg != "--no-filtered" && i + 1 < argc) {
      value = argv[++i];
    }
    try {
      if (arg == "--n") config->n = std::stoull(value);
      else if (arg == "--d") config->dim = std::stoull(value);
      else if (arg == "--queries") config->queries = std::stoull(value);
      else if (arg == "--M") config->m = std::stoull(value);
      else if (arg == "--efc") config->efc = std::stoull(value);
      else if (arg == "--threads") config->threads = std::max<size_t>(1, std::stoull(value));
      else if (arg == "--k") config->k = std::stoull(value);
      else if (arg == "--seed") config->seed = std::stoull(value);
      else if (arg == "--systems") config->systems = Split(value);
      else if (arg == "--no-filtered") config->filtered = false;
      else if (arg == "--ef") {
        config->efs.clear();
        for (const std::string& part : Split(value)) config->efs.push_back(std::stoull(part));
      } else {
        std::fprintf(stderr, "unknown argument %s\n", arg.c_str());
        return false;
      }
    } catch (const std::exception&) {
      std::fprintf(stderr, "bad value for %s: '%s'\n", arg.c_str(), value.c_str());
      return false;
    }
  }
  return config->n > 0 && config->dim > 0 && config->queries > 0 && config->k > 0;
}

bool Enabled(const Config& config, const std::string& system) {
  return std::find(config.systems.begin(), config.systems.end(), system) != config.systems.end();
}

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

size_t ResidentBytes() {
  malloc_trim(0);
  std::ifstream statm("/proc/self/statm");
  size_t pages = 0;
  size_t resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<size_t>(::sysconf(_SC_PAGESIZE));
}

std::string CpuName() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

// Runs fn(i) for i in [0, n) on `threads` threads (the calling thread included).
void ParallelFor(size_t n, size_t threads, const std::function<void(size_t)>& fn) {
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next.fetch_add(1); i < n; i = next.fetch_add(1)) fn(i);
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (std::thread& thread : pool) thread.join();
}

// Exact top-k labels per query (row-major nq * k), optionally among `subset` rows only.
std::vector<int64_t> GroundTruth(const Dataset& data, size_t k, size_t threads,
                                 const std::vector<uint64_t>* subset = nullptr) {
  FaissFlatPeer flat(data.dim);
  std::vector<int64_t> labels;
  SetFaissThreads(static_cast<int>(threads));
  if (subset == nullptr) {
    flat.Add(data.size(), data.base.data());
    flat.Search(data.query_count(), data.queries.data(), k, &labels);
    return labels;
  }
  std::vector<float> rows(subset->size() * data.dim);
  for (size_t i = 0; i < subset->size(); ++i) {
    std::copy_n(data.Row((*subset)[i]).data(), data.dim, rows.data() + i * data.dim);
  }
  flat.Add(subset->size(), rows.data());
  flat.Search(data.query_count(), data.queries.data(), k, &labels);
  for (int64_t& label : labels) {
    if (label >= 0) label = static_cast<int64_t>((*subset)[static_cast<size_t>(label)]);
  }
  return labels;
}

// Recall@k of one answer against row q of the truth (missing truth entries are -1).
double RecallOf(const std::vector<uint64_t>& got, const std::vector<int64_t>& truth, size_t q,
                size_t k) {
  size_t wanted = 0;
  size_t found = 0;
  for (size_t i = 0; i < k; ++i) {
    const int64_t label = truth[q * k + i];
    if (label < 0) continue;
    ++wanted;
    found += std::find(got.begin(), got.end(), static_cast<uint64_t>(label)) != got.end() ? 1 : 0;
  }
  return wanted == 0 ? 1.0 : static_cast<double>(found) / static_cast<double>(wanted);
}

struct SearchPoint {
  size_t ef = 0;
  double recall = 0;
  double qps = 0;
  double distances = 0;  // per query, when known
};

struct SystemReport {
  std::string name;
  double build_seconds = 0;
  double build_seconds_threads = 0;
  double self_bytes_per_vector = 0;
  double rss_bytes_per_vector = 0;
  std::vector<SearchPoint> points;
};

// QPS at the given recall, interpolating log(QPS) linearly in recall between bracketing points;
// 0 when the curve never reaches it.
double QpsAtRecall(const std::vector<SearchPoint>& points, double target) {
  for (size_t i = 0; i < points.size(); ++i) {
    if (points[i].recall < target) continue;
    if (i == 0) return points[0].qps;
    const SearchPoint& lo = points[i - 1];
    const SearchPoint& hi = points[i];
    const double t = (target - lo.recall) / (hi.recall - lo.recall);
    return std::exp(std::log(lo.qps) + t * (std::log(hi.qps) - std::log(lo.qps)));
  }
  return 0;
}

SystemReport RunMnemo(const Config& config, const Dataset& data, const std::vector<int64_t>& truth,
                      std::unique_ptr<hnsw::HnswIndex>* keep) {
  SystemReport report;
  report.name = "mnemo";
  hnsw::HnswParams params;
  params.dim = static_cast<uint32_t>(data.dim);
  params.m = static_cast<uint32_t>(config.m);
  params.ef_construction = static_cast<uint32_t>(config.efc);
  params.seed = config.seed;
  auto build = [&](size_t threads) {
    auto index = std::move(hnsw::HnswIndex::Create(params)).value();
    index->Reserve(data.size());
    const double start = Now();
    ParallelFor(data.size(), threads, [&](size_t i) {
      const Status status = index->Add(i, data.Row(i));
      if (!status.ok()) std::fprintf(stderr, "add failed: %s\n", status.ToString().c_str());
    });
    return std::make_pair(std::move(index), Now() - start);
  };
  if (config.threads > 1) report.build_seconds_threads = build(config.threads).second;
  const size_t rss_before = ResidentBytes();
  auto [index, seconds] = build(1);
  report.build_seconds = seconds;
  report.rss_bytes_per_vector =
      static_cast<double>(ResidentBytes() - rss_before) / static_cast<double>(data.size());
  report.self_bytes_per_vector =
      static_cast<double>(index->memory_bytes()) / static_cast<double>(data.size());

  hnsw::SearchOptions options;
  options.k = config.k;
  hnsw::SearchResult result;
  std::vector<uint64_t> got;
  for (size_t ef : config.efs) {
    options.ef = ef;
    SearchPoint point;
    point.ef = ef;
    double recall = 0;
    uint64_t distances = 0;
    const double start = Now();
    for (size_t q = 0; q < data.query_count(); ++q) {
      (void)index->Search(data.Query(q), options, &result);
      distances += result.stats.distance_computations;
      got.clear();
      for (const hnsw::SearchHit& hit : result.hits) got.push_back(hit.label);
      recall += RecallOf(got, truth, q, config.k);
    }
    const double elapsed = Now() - start;
    point.qps = static_cast<double>(data.query_count()) / elapsed;
    point.recall = recall / static_cast<double>(data.query_count());
    point.distances = static_cast<double>(distances) / static_cast<double>(data.query_count());
    report.points.push_back(point);
  }
  *keep = std::move(index);
  return report;
}

SystemReport RunHnswlib(const Config& config, const Dataset& data,
                        const std::vector<int64_t>& truth) {
  SystemReport report;
  report.name = std::string("hnswlib (") + HnswlibPeer::SimdName() + ")";
  auto build = [&](size_t threads) {
    auto index = std::make_unique<HnswlibPeer>(data.dim, data.size(), config.m, config.efc,
                                               config.seed);
    const double start = Now();
    ParallelFor(data.size(), threads, [&](size_t i) { index->Add(data.Row(i).data(), i); });
    return std::make_pair(std::move(index), Now() - start);
  };
  if (config.threads > 1) report.build_seconds_threads = build(config.threads).second;
  const size_t rss_before = ResidentBytes();
  auto [index, seconds] = build(1);
  report.build_seconds = seconds;
  report.rss_bytes_per_vector =
      static_cast<double>(ResidentBytes() - rss_before) / static_cast<double>(data.size());
  report.self_bytes_per_vector =
      static_cast<double>(index->memory_bytes()) / static_cast<double>(data.size());
  std::vector<uint64_t> got;
  for (size_t ef : config.efs) {
    index->SetEf(ef);
    SearchPoint point;
    point.ef = ef;
    double recall = 0;
    const double start = Now();
    for (size_t q = 0; q < data.query_count(); ++q) {
      index->Search(data.Query(q).data(), config.k, &got);
      recall += RecallOf(got, truth, q, config.k);
    }
    point.qps = static_cast<double>(data.query_count()) / (Now() - start);
    point.recall = recall / static_cast<double>(data.query_count());
    report.points.push_back(point);
  }
  return report;
}

SystemReport RunFaiss(const Config& config, const Dataset& data,
                      const std::vector<int64_t>& truth) {
  SystemReport report;
  report.name = "FAISS HNSWFlat";
  auto build = [&](size_t threads) {
    SetFaissThreads(static_cast<int>(threads));
    auto index = std::make_unique<FaissHnswPeer>(data.dim, config.m, config.efc);
    const double start = Now();
    index->Add(data.size(), data.base.data());
    return std::make_pair(std::move(index), Now() - start);
  };
  if (config.threads > 1) report.build_seconds_threads = build(config.threads).second;
  const size_t rss_before = ResidentBytes();
  auto [index, seconds] = build(1);
  report.build_seconds = seconds;
  report.rss_bytes_per_vector =
      static_cast<double>(ResidentBytes() - rss_before) / static_cast<double>(data.size());
  report.self_bytes_per_vector =
      static_cast<double>(index->memory_bytes()) / static_cast<double>(data.size());
  SetFaissThreads(1);
  std::vector<int64_t> labels;
  std::vector<uint64_t> got;
  for (size_t ef : config.efs) {
    SearchPoint point;
    point.ef = ef;
    const double start = Now();
    index->Search(data.query_count(), data.queries.data(), config.k, ef, &labels);
    point.qps = static_cast<double>(data.query_count()) / (Now() - start);
    double recall = 0;
    for (size_t q = 0; q < data.query_count(); ++q) {
      got.assign(labels.begin() + static_cast<std::ptrdiff_t>(q * config.k),
                 labels.begin() + static_cast<std::ptrdiff_t>((q + 1) * config.k));
      recall += RecallOf(got, truth, q, config.k);
    }
    point.recall = recall / static_cast<double>(data.query_count());
    report.points.push_back(point);
  }
  return report;
}

double FlatQps(const Dataset& data, size_t k) {
  FaissFlatPeer flat(data.dim);
  flat.Add(data.size(), data.base.data());
  SetFaissThreads(1);
  const size_t nq = std::min<size_t>(data.query_count(), 50);
  std::vector<int64_t> labels;
  const double start = Now();
  for (size_t q = 0; q < nq; ++q) flat.Search(1, data.Query(q).data(), k, &labels);
  return static_cast<double>(nq) / (Now() - start);
}

void PrintFiltered(const Config& config, const Dataset& data, const hnsw::HnswIndex& index) {
  DatasetOptions defaults;
  std::printf("\n### Filtered search (mnemo, owner allow-list, single thread)\n\n");
  std::printf("Filter: LabelSetFilter of the rows one user owns; planner = auto (exact scan of the "
              "allowed rows when cheaper than a filtered walk), and the graph walk forced.\n\n");
  std::printf("| target | user | allowed rows | strategy | ef | recall@%zu | QPS | exact answers | "
              "short answers |\n|---|---|---|---|---|---|---|---|---|\n",
              config.k);
  for (double fraction : {0.2, 0.02, 0.001}) {
    const uint32_t user = UserNearestShare(data, defaults.num_users, fraction, config.k);
    if (user >= defaults.num_users) continue;
    std::vector<uint64_t> allowed;
    for (size_t i = 0; i < data.size(); ++i) {
      if (data.owners[i] == user) allowed.push_back(i);
    }
    const std::vector<int64_t> truth = GroundTruth(data, config.k, config.threads, &allowed);
    hnsw::LabelSetFilter filter(allowed);
    for (hnsw::SearchStrategy strategy : {hnsw::SearchStrategy::kAuto, hnsw::SearchStrategy::kGraph}) {
      for (size_t ef : config.efs) {
        hnsw::SearchOptions options;
        options.k = config.k;
        options.ef = ef;
        options.filter = &filter;
        options.strategy = strategy;
        hnsw::SearchResult result;
        std::vector<uint64_t> got;
        double recall = 0;
        size_t exact = 0;
        size_t short_answers = 0;
        const double start = Now();
        for (size_t q = 0; q < data.query_count(); ++q) {
          (void)index.Search(data.Query(q), options, &result);
          exact += result.stats.exact ? 1 : 0;
          short_answers += result.hits.size() < std::min(config.k, allowed.size()) ? 1 : 0;
          got.clear();
          for (const hnsw::SearchHit& hit : result.hits) got.push_back(hit.label);
          recall += RecallOf(got, truth, q, config.k);
        }
        const double qps = static_cast<double>(data.query_count()) / (Now() - start);
        std::printf("| %.1f%% | %u | %zu (%.2f%%) | %s | %zu | %.4f | %.0f | %zu/%zu | %zu |\n",
                    fraction * 100, user, allowed.size(),
                    100.0 * static_cast<double>(allowed.size()) / static_cast<double>(data.size()),
                    strategy == hnsw::SearchStrategy::kAuto ? "auto" : "graph", ef,
                    recall / static_cast<double>(data.query_count()), qps, exact,
                    data.query_count(), short_answers);
        if (strategy == hnsw::SearchStrategy::kAuto && exact == data.query_count()) break;
      }
    }
  }
}

int Main(int argc, char** argv) {
  Config config;
  if (!ParseArgs(argc, argv, &config)) return 2;
  std::printf("# mnemo vector benchmark\n\n");
  std::printf("- data: n=%zu d=%zu queries=%zu, synthetic embeddings (bench/vector/dataset.h, "
              "seed %llu)\n",
              config.n, config.dim, config.queries, static_cast<unsigned long long>(config.seed));
  std::printf("- HNSW: M=%zu efConstruction=%zu, k=%zu; build threads: 1 and %zu\n", config.m,
              config.efc, config.k, config.threads);
  std::printf("- CPU: %s, %u hardware threads\n", CpuName().c_str(),
              std::thread::hardware_concurrency());
  std::printf("- SIMD: mnemo kernels dispatch at run time -> %s; hnswlib wrapper compiled with "
              "-march=native -> %s; FAISS is Debian's libfaiss.a (built for baseline x86-64)\n",
              std::string(kernels::SimdLevelName(kernels::ActiveSimdLevel())).c_str(),
              HnswlibPeer::SimdName());
  std::printf("- searches are single-threaded, one query at a time (FAISS: one batched call "
              "with 1 OpenMP thread)\n\n");
  std::fflush(stdout);

  DatasetOptions dataset_options;
  dataset_options.n = config.n;
  dataset_options.dim = config.dim;
  dataset_options.num_queries = config.queries;
  dataset_options.seed = config.seed;
  double start = Now();
  const Dataset data = GenerateDataset(dataset_options);
  std::fprintf(stderr, "dataset: %.1fs\n", Now() - start);
  start = Now();
  const std::vector<int64_t> truth =
      GroundTruth(data, config.k, std::max<size_t>(config.threads, std::thread::hardware_concurrency()));
  std::fprintf(stderr, "ground truth: %.1fs\n", Now() - start);

  std::vector<SystemReport> reports;
  std::unique_ptr<hnsw::HnswIndex> mnemo_index;
  if (Enabled(config, "mnemo")) {
    reports.push_back(RunMnemo(config, data, truth, &mnemo_index));
    std::fprintf(stderr, "mnemo done\n");
  }
  if (Enabled(config, "hnswlib")) {
    reports.push_back(RunHnswlib(config, data, truth));
    std::fprintf(stderr, "hnswlib done\n");
  }
  if (Enabled(config, "faiss")) {
    reports.push_back(RunFaiss(config, data, truth));
    std::fprintf(stderr, "faiss done\n");
  }
  const double flat_qps = Enabled(config, "faiss") ? FlatQps(data, config.k) : 0;

  std::printf("### Build\n\n| system | build, 1 thread (s) | inserts/s, 1 thread | build, %zu "
              "threads (s) | memory/vector, self-reported (B) | memory/vector, RSS delta (B) |\n"
              "|---|---|---|---|---|---|\n",
              config.threads);
  for (const SystemReport& r : reports) {
    std::printf("| %s | %.1f | %.0f | %s | %.0f | %.0f |\n", r.name.c_str(), r.build_seconds,
                static_cast<double>(data.size()) / r.build_seconds,
                config.threads > 1 ? std::to_string(r.build_seconds_threads).substr(0, 6).c_str()
                                   : "-",
                r.self_bytes_per_vector, r.rss_bytes_per_vector);
  }
  std::printf("\nRaw vectors alone take %zu B each.\n", config.dim * sizeof(float));

  std::printf("\n### Search, single thread (recall@%zu against FAISS IndexFlatIP)\n\n| ef |",
              config.k);
  for (const SystemReport& r : reports) std::printf(" %s recall | %s QPS |", r.name.c_str(), r.name.c_str());
  if (!reports.empty() && reports[0].name == "mnemo") std::printf(" mnemo distances/query |");
  std::printf("\n|---|");
  for (size_t i = 0; i < reports.size(); ++i) std::printf("---|---|");
  if (!reports.empty() && reports[0].name == "mnemo") std::printf("---|");
  std::printf("\n");
  for (size_t e = 0; e < config.efs.size(); ++e) {
    std::printf("| %zu |", config.efs[e]);
    for (const SystemReport& r : reports) {
      std::printf(" %.4f | %.0f |", r.points[e].recall, r.points[e].qps);
    }
    if (!reports.empty() && reports[0].name == "mnemo") std::printf(" %.0f |", reports[0].points[e].distances);
    std::printf("\n");
  }
  if (flat_qps > 0) std::printf("\nFAISS IndexFlatIP (exact scan): recall 1.0000, %.1f QPS\n", flat_qps);

  std::printf("\n### At recall@%zu = 0.95 (log-linear interpolation between ef points)\n\n"
              "| system | QPS |\n|---|---|\n",
              config.k);
  double mnemo_qps = 0;
  double hnswlib_qps = 0;
  double mnemo_build = 0;
  double hnswlib_build = 0;
  for (const SystemReport& r : reports) {
    const double qps = QpsAtRecall(r.points, 0.95);
    std::printf("| %s | %s |\n", r.name.c_str(), qps > 0 ? std::to_string(static_cast<long>(qps)).c_str() : "not reached");
    if (r.name == "mnemo") {
      mnemo_qps = qps;
      mnemo_build = r.build_seconds;
    } else if (r.name.rfind("hnswlib", 0) == 0) {
      hnswlib_qps = qps;
      hnswlib_build = r.build_seconds;
    }
  }
  if (mnemo_qps > 0 && hnswlib_qps > 0) {
    std::printf("\nTargets: QPS mnemo/hnswlib at recall 0.95 = %.2fx (target >= 1.2x: %s); build "
                "throughput mnemo/hnswlib = %.2fx (target >= 1.0x: %s)\n",
                mnemo_qps / hnswlib_qps, mnemo_qps >= 1.2 * hnswlib_qps ? "met" : "NOT met",
                hnswlib_build / mnemo_build, mnemo_build <= hnswlib_build ? "met" : "NOT met");
  }
  if (config.filtered && mnemo_index) PrintFiltered(config, data, *mnemo_index);
  return 0;
}

}  // namespace
}  // namespace mnemo::bench

int main(int argc, char** argv) { return mnemo::bench::Main(argc, argv); }
