// mnemo_vector_bench: mnemo's HNSW against hnswlib and FAISS on the same synthetic embeddings, in
// one run.  Prints Markdown tables: build time and memory, recall@k and single-thread QPS per ef
// for mnemo's default path (int8 compressed walk + exact re-rank), mnemo's float32 walk (same
// index), hnswlib and FAISS HNSW (plus FAISS's exact scan), the bytes each mnemo path reads per
// query against the measured single-thread read bandwidth, and mnemo's filtered search at three
// owner selectivities.
//
// Usage: mnemo_vector_bench [--n 100000] [--d 1536] [--queries 1000] [--ef 10,20,40,80,160,320]
//                           [--M 16] [--efc 64] [--threads 1] [--k 10] [--seed 42] [--rounds 3]
//                           [--systems mnemo,hnswlib,faiss] [--no-filtered]
//                           [--rerank 2,8]  (extra re-rank factors to compare with the default)
//
// Search QPS is the best of `rounds` rounds; within a round the systems run back to back at each
// ef, so background load on a shared machine hits them alike.
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench_systems.h"
#include "dataset.h"
#include "faiss_peer.h"
#include "hnswlib_peer.h"
#include "kernels/distance.h"
#include "kernels/int8_dot.h"
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
  size_t rounds = 3;
  bool filtered = true;
  std::vector<size_t> rerank_factors;
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
      if (arg == "--n")
        config->n = std::stoull(value);
      else if (arg == "--d")
        config->dim = std::stoull(value);
      else if (arg == "--queries")
        config->queries = std::stoull(value);
      else if (arg == "--M")
        config->m = std::stoull(value);
      else if (arg == "--efc")
        config->efc = std::stoull(value);
      else if (arg == "--threads")
        config->threads = std::max<size_t>(1, std::stoull(value));
      else if (arg == "--k")
        config->k = std::stoull(value);
      else if (arg == "--seed")
        config->seed = std::stoull(value);
      else if (arg == "--rounds")
        config->rounds = std::max<size_t>(1, std::stoull(value));
      else if (arg == "--systems")
        config->systems = Split(value);
      else if (arg == "--no-filtered")
        config->filtered = false;
      else if (arg == "--rerank") {
        config->rerank_factors.clear();
        for (const std::string& part : Split(value)) {
          config->rerank_factors.push_back(std::max<size_t>(1, std::stoull(part)));
        }
      } else if (arg == "--ef") {
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

// Exact top-k labels per query (row-major nq * k), optionally among `subset` rows only.
std::vector<int64_t> GroundTruth(const Dataset& data, size_t k, size_t threads,
                                 const std::vector<uint64_t>* subset = nullptr,
                                 std::vector<float>* sims = nullptr) {
  FaissFlatPeer flat(data.dim);
  std::vector<int64_t> labels;
  SetFaissThreads(static_cast<int>(threads));
  if (subset == nullptr) {
    flat.Add(data.size(), data.base.data());
    flat.Search(data.query_count(), data.queries.data(), k, &labels, sims);
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

// How hard the data is: similarity of queries to their 1st and k-th true neighbour, and of
// random pairs of rows.
void PrintDataStats(const Dataset& data, const std::vector<float>& truth_sims, size_t k) {
  double first = 0;
  double kth = 0;
  const size_t nq = data.query_count();
  for (size_t q = 0; q < nq; ++q) {
    first += truth_sims[q * k];
    kth += truth_sims[q * k + k - 1];
  }
  double random_pairs = 0;
  const size_t pairs = 10000;
  uint64_t state = 12345;
  for (size_t i = 0; i < pairs; ++i) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    const size_t a = (state >> 33) % data.size();
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    const size_t b = (state >> 33) % data.size();
    random_pairs += kernels::Dot(data.Row(a).data(), data.Row(b).data(), data.dim);
  }
  std::printf(
      "- data difficulty: mean cosine of query to 1st neighbour %.3f, to %zu-th %.3f; "
      "random pairs %.3f\n\n",
      first / static_cast<double>(nq), k, kth / static_cast<double>(nq),
      random_pairs / static_cast<double>(pairs));
}

struct SystemReport {
  std::string name;
  bool shares_index = false;  // a search mode of mnemo's index: no build of its own
  double build_seconds = 0;
  double build_seconds_threads = 0;
  double self_bytes_per_vector = 0;
  double rss_bytes_per_vector = 0;
  std::vector<SearchPoint> points;  // best round per ef
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
  std::printf(
      "Filter: LabelSetFilter of the rows one user owns; planner = auto (exact scan of the "
      "allowed rows when cheaper than a filtered walk), and the graph walk forced.\n\n");
  std::printf(
      "| target | user | allowed rows | strategy | ef | recall@%zu | QPS | exact answers | "
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
    for (hnsw::SearchStrategy strategy :
         {hnsw::SearchStrategy::kAuto, hnsw::SearchStrategy::kGraph}) {
      // A forced walk under a selective filter visits about ef / selectivity nodes: keep it to the
      // small beams, and skip it where it would be a slower full scan.
      if (strategy == hnsw::SearchStrategy::kGraph && fraction < 0.01) continue;
      for (size_t ef : config.efs) {
        if (strategy == hnsw::SearchStrategy::kGraph && ef > 80) break;
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

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string one;
  std::string five;
  in >> one >> five;
  return one + " (1 min), " + five + " (5 min)";
}

// Builds with `threads` threads (timed, then dropped) and single-threaded (timed, kept; memory
// measured).
void BuildAndMeasure(BenchSystem& system, const Dataset& data, size_t threads,
                     SystemReport* report) {
  if (threads > 1) {
    const double start = Now();
    system.Build(data, threads);
    report->build_seconds_threads = Now() - start;
    system.Drop();
  }
  const size_t rss_before = ResidentBytes();
  const double start = Now();
  system.Build(data, 1);
  report->build_seconds = Now() - start;
  const double n = static_cast<double>(data.size());
  report->rss_bytes_per_vector = static_cast<double>(ResidentBytes() - rss_before) / n;
  report->self_bytes_per_vector = static_cast<double>(system.memory_bytes()) / n;
  std::fprintf(stderr, "%s built: %.1fs\n", system.name().c_str(), report->build_seconds);
}

void PrintBuildTable(const Config& config, const Dataset& data,
                     const std::vector<SystemReport>& reports) {
  std::printf(
      "### Build\n\n| system | build, 1 thread (s) | inserts/s, 1 thread | build, %zu "
      "threads (s) | memory/vector, self-reported (B) | memory/vector, RSS delta (B) |\n"
      "|---|---|---|---|---|---|\n",
      config.threads);
  for (const SystemReport& r : reports) {
    if (r.shares_index) continue;
    char threaded[32] = "-";
    if (config.threads > 1)
      std::snprintf(threaded, sizeof(threaded), "%.1f", r.build_seconds_threads);
    std::printf("| %s | %.1f | %.0f | %s | %.0f | %.0f |\n", r.name.c_str(), r.build_seconds,
                static_cast<double>(data.size()) / r.build_seconds, threaded,
                r.self_bytes_per_vector, r.rss_bytes_per_vector);
  }
  std::printf("\nRaw vectors alone take %zu B each.\n", config.dim * sizeof(float));
}

void PrintSearchTable(const Config& config, const std::vector<SystemReport>& reports,
                      double flat_qps) {
  std::printf(
      "\n### Search, single thread (recall@%zu against FAISS IndexFlatIP; QPS best of %zu "
      "interleaved rounds)\n\n| ef |",
      config.k, config.rounds);
  for (const SystemReport& r : reports) {
    std::printf(" %s recall | %s QPS |", r.name.c_str(), r.name.c_str());
  }
  std::printf("\n|---|");
  for (size_t i = 0; i < reports.size(); ++i) std::printf("---|---|");
  std::printf("\n");
  for (size_t e = 0; e < config.efs.size(); ++e) {
    std::printf("| %zu |", config.efs[e]);
    for (const SystemReport& r : reports) {
      std::printf(" %.4f | %.0f |", r.points[e].recall, r.points[e].qps);
    }
    std::printf("\n");
  }
  if (flat_qps > 0) {
    std::printf("\nFAISS IndexFlatIP (exact scan, one query per call): recall 1.0000, %.1f QPS\n",
                flat_qps);
  }

  std::printf(
      "\n### QPS at fixed recall@%zu (log-linear interpolation between ef points)\n\n"
      "| system | QPS at 0.95 | x hnswlib | QPS at 0.99 | x hnswlib |\n|---|---|---|---|---|\n",
      config.k);
  double hnswlib_at[2] = {0, 0};
  double hnswlib_build = 0;
  for (const SystemReport& r : reports) {
    if (r.name.rfind("hnswlib", 0) == 0) {
      hnswlib_at[0] = QpsAtRecall(r.points, 0.95);
      hnswlib_at[1] = QpsAtRecall(r.points, 0.99);
      hnswlib_build = r.build_seconds;
    }
  }
  double mnemo_at[2] = {0, 0};
  double mnemo_build = 0;
  for (const SystemReport& r : reports) {
    std::printf("| %s |", r.name.c_str());
    const double targets[2] = {0.95, 0.99};
    for (int t = 0; t < 2; ++t) {
      const double qps = QpsAtRecall(r.points, targets[t]);
      if (r.name == "mnemo") mnemo_at[t] = qps;
      if (qps <= 0) {
        std::printf(" not reached | - |");
      } else if (hnswlib_at[t] > 0) {
        std::printf(" %.0f | %.2fx |", qps, qps / hnswlib_at[t]);
      } else {
        std::printf(" %.0f | - |", qps);
      }
    }
    std::printf("\n");
    if (r.name == "mnemo") mnemo_build = r.build_seconds;
  }
  if (mnemo_at[0] > 0 && hnswlib_at[0] > 0) {
    char at99[32] = "n/a";
    if (mnemo_at[1] > 0 && hnswlib_at[1] > 0) {
      std::snprintf(at99, sizeof(at99), "%.2fx", mnemo_at[1] / hnswlib_at[1]);
    }
    std::printf(
        "\nTargets (mnemo default path vs hnswlib): at recall 0.95 %.2fx (target >= 3x: "
        "%s); at 0.99 %s (target >= 2.5x: %s); single-thread build throughput %.2fx "
        "(target >= 1.0x: %s)\n",
        mnemo_at[0] / hnswlib_at[0], mnemo_at[0] >= 3 * hnswlib_at[0] ? "met" : "NOT met", at99,
        mnemo_at[1] >= 2.5 * hnswlib_at[1] && hnswlib_at[1] > 0 ? "met" : "NOT met",
        hnswlib_build / mnemo_build, mnemo_build <= hnswlib_build ? "met" : "NOT met");
  }
}

// Single-thread read bandwidth in bytes/s: the float kernel streaming over a buffer far larger
// than the caches (sequential), and gathering whole rows of `dim` floats in random order (the
// access pattern of a graph walk, with the kernel's prefetching).
struct Bandwidth {
  double sequential = 0;
  double random_rows = 0;
};

Bandwidth MeasureBandwidth(size_t dim) {
  constexpr size_t kBufferBytes = size_t{1} << 30;
  const size_t rows = kBufferBytes / (dim * sizeof(float));
  std::vector<float> buffer(rows * dim, 0.5f);
  std::vector<float> query(dim, 0.25f);
  std::vector<float> out(rows);
  Bandwidth bandwidth;
  for (int round = 0; round < 3; ++round) {
    const double start = Now();
    kernels::DotMany(query.data(), buffer.data(), rows, dim, out.data());
    bandwidth.sequential = std::max(
        bandwidth.sequential, static_cast<double>(rows * dim * sizeof(float)) / (Now() - start));
  }
  std::vector<const float*> order(rows);
  uint64_t state = 777;
  for (size_t i = 0; i < rows; ++i) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    order[i] = buffer.data() + ((state >> 33) % rows) * dim;
  }
  constexpr size_t kBatch = 32;  // about one neighbour list
  for (int round = 0; round < 3; ++round) {
    const double start = Now();
    for (size_t i = 0; i + kBatch <= rows; i += kBatch) {
      kernels::DotGather(query.data(), order.data() + i, kBatch, dim, out.data());
    }
    bandwidth.random_rows = std::max(
        bandwidth.random_rows,
        static_cast<double>(rows / kBatch * kBatch * dim * sizeof(float)) / (Now() - start));
  }
  return bandwidth;
}

// Bytes of vector data each mnemo path reads per query (codes and float32 rows; links, which
// both paths read alike, are left out), against the bandwidth bound.
void PrintBandwidthTable(const Config& config, const std::vector<SystemReport>& reports,
                         const Bandwidth& bandwidth, const hnsw::HnswIndex& index) {
  const hnsw::HnswIndex::MemoryPerVector memory = index.memory_per_vector();
  const double row_bytes = static_cast<double>(config.dim * sizeof(float));
  const double code_bytes = static_cast<double>(config.dim);
  std::printf(
      "\n### Bytes read per query vs. single-thread bandwidth\n\n"
      "Measured single-thread read bandwidth: %.1f GB/s sequential, %.1f GB/s gathering "
      "random %zu-float rows.  Bound = bandwidth / bytes per query (sequential, as in the "
      "issue).  Vector memory per node: %zu B code + %zu B float32 (both in RAM).\n\n"
      "| system | ef | similarities/query | of which on int8 codes | KB read/query | "
      "bound QPS (sequential) | bound QPS (random rows) | measured QPS | measured / "
      "bound |\n|---|---|---|---|---|---|---|---|---|\n",
      bandwidth.sequential / 1e9, bandwidth.random_rows / 1e9, config.dim, memory.code_bytes,
      memory.vector_bytes);
  for (const SystemReport& r : reports) {
    if (r.name.rfind("mnemo", 0) != 0) continue;
    for (const SearchPoint& p : r.points) {
      const double bytes =
          p.code_distances * code_bytes + (p.distances - p.code_distances) * row_bytes;
      const double bound = bandwidth.sequential / bytes;
      std::printf("| %s | %zu | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %.2f |\n", r.name.c_str(),
                  p.ef, p.distances, p.code_distances, bytes / 1024, bound,
                  bandwidth.random_rows / bytes, p.qps, p.qps / bound);
    }
  }
}

int Main(int argc, char** argv) {
  Config config;
  if (!ParseArgs(argc, argv, &config)) return 2;
  std::printf("# mnemo vector benchmark\n\n");
  std::printf(
      "- data: n=%zu d=%zu queries=%zu, synthetic embeddings (bench/vector/dataset.h, "
      "seed %llu)\n",
      config.n, config.dim, config.queries, static_cast<unsigned long long>(config.seed));
  std::printf("- HNSW: M=%zu efConstruction=%zu, k=%zu; build threads: 1 and %zu\n", config.m,
              config.efc, config.k, config.threads);
  std::printf("- CPU: %s, %u hardware threads; load average at start: %s\n", CpuName().c_str(),
              std::thread::hardware_concurrency(), LoadAverage().c_str());
  std::printf(
      "- SIMD: mnemo kernels dispatch at run time -> %s (int8: %s); hnswlib wrapper compiled with "
      "-march=native -> %s; FAISS is Debian's libfaiss.a (built for baseline x86-64)\n",
      std::string(kernels::SimdLevelName(kernels::ActiveSimdLevel())).c_str(),
      std::string(kernels::Int8KernelName()).c_str(), HnswlibPeer::SimdName());
  std::printf(
      "- searches are single-threaded, one query at a time (FAISS: one batched call "
      "with 1 OpenMP thread)\n");
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
  std::vector<float> truth_sims;
  const std::vector<int64_t> truth = GroundTruth(
      data, config.k, std::max<size_t>(config.threads, std::thread::hardware_concurrency()),
      nullptr, &truth_sims);
  std::fprintf(stderr, "ground truth: %.1fs\n", Now() - start);
  PrintDataStats(data, truth_sims, config.k);

  BuildParams build_params;
  build_params.m = config.m;
  build_params.ef_construction = config.efc;
  build_params.seed = config.seed;
  std::vector<std::unique_ptr<BenchSystem>> systems;
  MnemoSystem* mnemo = nullptr;
  size_t mnemo_views = 0;  // search modes on mnemo's index, right after it in `systems`
  if (Enabled(config, "mnemo")) {
    auto system = std::make_unique<MnemoSystem>(build_params);
    mnemo = system.get();
    systems.push_back(std::move(system));
    MnemoSearchMode float32;
    float32.compressed = false;
    systems.push_back(std::make_unique<MnemoModeView>(*mnemo, float32));
    ++mnemo_views;
    for (size_t factor : config.rerank_factors) {
      MnemoSearchMode mode;
      if (factor == mode.rerank_factor) continue;  // the default: already measured as "mnemo"
      mode.rerank_factor = factor;
      systems.push_back(std::make_unique<MnemoModeView>(*mnemo, mode));
      ++mnemo_views;
    }
  }
  if (Enabled(config, "hnswlib")) systems.push_back(MakeHnswlibSystem(build_params));
  if (Enabled(config, "faiss")) systems.push_back(MakeFaissHnswSystem(build_params));

  std::vector<SystemReport> reports(systems.size());
  for (size_t s = 0; s < systems.size(); ++s) {
    reports[s].name = systems[s]->name();
    reports[s].points.resize(config.efs.size());
    if (mnemo != nullptr && s >= 1 && s <= mnemo_views) {
      reports[s].shares_index = true;
      continue;
    }
    BuildAndMeasure(*systems[s], data, config.threads, &reports[s]);
  }
  for (size_t round = 0; round < config.rounds; ++round) {
    for (size_t e = 0; e < config.efs.size(); ++e) {
      for (size_t s = 0; s < systems.size(); ++s) {
        const SearchPoint point = systems[s]->Search(data, config.efs[e], config.k, truth);
        SearchPoint& best = reports[s].points[e];
        if (point.qps > best.qps) best = point;
      }
    }
    std::fprintf(stderr, "search round %zu done\n", round + 1);
  }
  const double flat_qps = Enabled(config, "faiss") ? FlatQps(data, config.k) : 0;

  PrintBuildTable(config, data, reports);
  PrintSearchTable(config, reports, flat_qps);
  if (mnemo != nullptr) {
    PrintBandwidthTable(config, reports, MeasureBandwidth(config.dim), *mnemo->index());
  }
  if (config.filtered && mnemo != nullptr) PrintFiltered(config, data, *mnemo->index());
  std::printf("\nLoad average at end: %s\n", LoadAverage().c_str());
  return 0;
}

}  // namespace
}  // namespace mnemo::bench

int main(int argc, char** argv) { return mnemo::bench::Main(argc, argv); }
