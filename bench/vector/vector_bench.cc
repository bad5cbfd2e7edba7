// mnemo_vector_bench: mnemo's HNSW against hnswlib and FAISS on the same synthetic embeddings, in
// one run.  Prints Markdown tables: build time and memory, recall@k and single-thread QPS per ef
// (plus FAISS's exact scan), and mnemo's filtered search at three owner selectivities.
//
// Usage: mnemo_vector_bench [--n 100000] [--d 1536] [--queries 1000] [--ef 10,20,40,80,160,320]
//                           [--M 16] [--efc 64] [--threads 1] [--k 10] [--seed 42] [--rounds 3]
//                           [--systems mnemo,hnswlib,faiss] [--no-filtered]
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
      else if (arg == "--rounds") config->rounds = std::max<size_t>(1, std::stoull(value));
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
  std::printf("- data difficulty: mean cosine of query to 1st neighbour %.3f, to %zu-th %.3f; "
              "random pairs %.3f\n\n",
              first / static_cast<double>(nq), k, kth / static_cast<double>(nq),
              random_pairs / static_cast<double>(pairs));
}

struct SystemReport {
  std::string name;
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
  std::printf("### Build\n\n| system | build, 1 thread (s) | inserts/s, 1 thread | build, %zu "
              "threads (s) | memory/vector, self-reported (B) | memory/vector, RSS delta (B) |\n"
              "|---|---|---|---|---|---|\n",
              config.threads);
  for (const SystemReport& r : reports) {
    char threaded[32] = "-";
    if (config.threads > 1) std::snprintf(threaded, sizeof(threaded), "%.1f", r.build_seconds_threads);
    std::printf("| %s | %.1f | %.0f | %s | %.0f | %.0f |\n", r.name.c_str(), r.build_seconds,
                static_cast<double>(data.size()) / r.build_seconds, threaded,
                r.self_bytes_per_vector, r.rss_bytes_per_vector);
  }
  std::printf("\nRaw vectors alone take %zu B each.\n", config.dim * sizeof(float));
}

void PrintSearchTable(const Config& config, const std::vector<SystemReport>& reports,
                      double flat_qps) {
  const bool with_distances = !reports.empty() && reports[0].name == "mnemo";
  std::printf("\n### Search, single thread (recall@%zu against FAISS IndexFlatIP; QPS best of %zu "
              "interleaved rounds)\n\n| ef |",
              config.k, config.rounds);
  for (const SystemReport& r : reports) {
    std::printf(" %s recall | %s QPS |", r.name.c_str(), r.name.c_str());
  }
  if (with_distances) std::printf(" mnemo similarities/query |");
  std::printf("\n|---|");
  for (size_t i = 0; i < reports.size(); ++i) std::printf("---|---|");
  if (with_distances) std::printf("---|");
  std::printf("\n");
  for (size_t e = 0; e < config.efs.size(); ++e) {
    std::printf("| %zu |", config.efs[e]);
    for (const SystemReport& r : reports) {
      std::printf(" %.4f | %.0f |", r.points[e].recall, r.points[e].qps);
    }
    if (with_distances) std::printf(" %.0f |", reports[0].points[e].distances);
    std::printf("\n");
  }
  if (flat_qps > 0) {
    std::printf("\nFAISS IndexFlatIP (exact scan, one query per call): recall 1.0000, %.1f QPS\n",
                flat_qps);
  }

  std::printf("\n### At recall@%zu = 0.95 (log-linear interpolation between ef points)\n\n"
              "| system | QPS |\n|---|---|\n",
              config.k);
  double mnemo_qps = 0;
  double hnswlib_qps = 0;
  double mnemo_build = 0;
  double hnswlib_build = 0;
  for (const SystemReport& r : reports) {
    const double qps = QpsAtRecall(r.points, 0.95);
    if (qps > 0) {
      std::printf("| %s | %.0f |\n", r.name.c_str(), qps);
    } else {
      std::printf("| %s | not reached |\n", r.name.c_str());
    }
    if (r.name == "mnemo") {
      mnemo_qps = qps;
      mnemo_build = r.build_seconds;
    } else if (r.name.rfind("hnswlib", 0) == 0) {
      hnswlib_qps = qps;
      hnswlib_build = r.build_seconds;
    }
  }
  if (mnemo_qps > 0 && hnswlib_qps > 0) {
    std::printf("\nTargets: QPS mnemo/hnswlib at recall 0.95 = %.2fx (target >= 1.2x: %s); "
                "single-thread build throughput mnemo/hnswlib = %.2fx (target >= 1.0x: %s)\n",
                mnemo_qps / hnswlib_qps, mnemo_qps >= 1.2 * hnswlib_qps ? "met" : "NOT met",
                hnswlib_build / mnemo_build, mnemo_build <= hnswlib_build ? "met" : "NOT met");
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
  std::printf("- CPU: %s, %u hardware threads; load average at start: %s\n", CpuName().c_str(),
              std::thread::hardware_concurrency(), LoadAverage().c_str());
  std::printf("- SIMD: mnemo kernels dispatch at run time -> %s; hnswlib wrapper compiled with "
              "-march=native -> %s; FAISS is Debian's libfaiss.a (built for baseline x86-64)\n",
              std::string(kernels::SimdLevelName(kernels::ActiveSimdLevel())).c_str(),
              HnswlibPeer::SimdName());
  std::printf("- searches are single-threaded, one query at a time (FAISS: one batched call "
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
  if (Enabled(config, "mnemo")) {
    auto system = std::make_unique<MnemoSystem>(build_params);
    mnemo = system.get();
    systems.push_back(std::move(system));
  }
  if (Enabled(config, "hnswlib")) systems.push_back(MakeHnswlibSystem(build_params));
  if (Enabled(config, "faiss")) systems.push_back(MakeFaissHnswSystem(build_params));

  std::vector<SystemReport> reports(systems.size());
  for (size_t s = 0; s < systems.size(); ++s) {
    reports[s].name = systems[s]->name();
    BuildAndMeasure(*systems[s], data, config.threads, &reports[s]);
    reports[s].points.resize(config.efs.size());
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
  if (config.filtered && mnemo != nullptr) PrintFiltered(config, data, *mnemo->index());
  std::printf("\nLoad average at end: %s\n", LoadAverage().c_str());
  return 0;
}

}  // namespace
}  // namespace mnemo::bench

int main(int argc, char** argv) { return mnemo::bench::Main(argc, argv); }
