// In-process peers (see inprocess_vector.h).
#include "inprocess_vector.h"

#include <algorithm>
#include <cstdio>
#include <memory>

#include "bench_systems.h"
#include "faiss_peer.h"
#include "hnswlib_peer.h"
#include "kernels/distance.h"

namespace mnemo::bench {
namespace {

constexpr size_t kBuildThreads = 2;
constexpr size_t kFlatQueries = 200;

// What each peer is and the SIMD level its distance code runs at, for the report.
nlohmann::json Describe(const std::string& name) {
  if (name == "mnemo") {
    return {{"label", "mnemo HNSW index alone (no engine, no storage)"},
            {"simd", std::string(kernels::SimdLevelName(kernels::ActiveSimdLevel()))}};
  }
  if (name == "hnswlib") return {{"label", "hnswlib"}, {"simd", HnswlibPeer::SimdName()}};
  if (name == "faiss-hnsw") return {{"label", "FAISS IndexHNSWFlat"}, {"simd", FaissSimdLevel()}};
  if (name == "faiss-flat") return {{"label", "FAISS IndexFlatIP (exact scan)"}, {"simd", FaissSimdLevel()}};
  return {{"label", name}};
}

std::unique_ptr<BenchSystem> MakeSystem(const std::string& name, const BuildParams& params) {
  if (name == "mnemo") return std::make_unique<MnemoSystem>(params);
  if (name == "hnswlib") return MakeHnswlibSystem(params);
  if (name == "faiss-hnsw") return MakeFaissHnswSystem(params);
  return nullptr;
}

// Recall/QPS of the exact scan: single-threaded, one query per call (as a server would).
nlohmann::json RunFlat(const Dataset& data, size_t k, const std::vector<int64_t>& truth) {
  FaissFlatPeer flat(data.dim);
  flat.Add(data.size(), data.base.data());
  SetFaissThreads(1);
  const size_t nq = std::min(kFlatQueries, data.query_count());
  std::vector<int64_t> labels;
  double recall = 0;
  Progress progress("in-process faiss-flat", nq);
  const double start = NowSeconds();
  for (size_t q = 0; q < nq; ++q) {
    flat.Search(1, data.Query(q).data(), k, &labels);
    std::vector<uint64_t> got;
    for (const int64_t label : labels) {
      if (label >= 0) got.push_back(static_cast<uint64_t>(label));
    }
    recall += RecallOf(got, truth, q, k);
    progress.Advance();
  }
  const double elapsed = NowSeconds() - start;
  return {{"build_s", 0},
          {"memory_bytes_per_vector", static_cast<double>(data.dim * sizeof(float))},
          {"points", {{{"ef", 0}, {"recall", recall / static_cast<double>(nq)},
                       {"qps", static_cast<double>(nq) / elapsed}}}}};
}

}  // namespace

nlohmann::json RunInProcessPeers(const BenchOptions& options, const Dataset& data,
                                 const std::vector<int64_t>& truth, const TimeBudget& budget) {
  nlohmann::json results = nlohmann::json::object();
  BuildParams params;
  params.m = options.m;
  params.ef_construction = options.ef_construction;
  params.seed = options.seed;
  for (const std::string& name : options.peers) {
    if (budget.Expired()) {
      std::fprintf(stderr, "in-process: time budget spent, %s skipped\n", name.c_str());
      results[name] = {{"skipped", "time budget"}};
      continue;
    }
    if (name == "mnemo-engine") continue;  // the harness runs it (it needs the wire line's layout)
    if (name == "faiss-flat") {
      results[name] = RunFlat(data, options.k, truth);
      results[name].update(Describe(name));
      continue;
    }
    std::unique_ptr<BenchSystem> system = MakeSystem(name, params);
    if (system == nullptr) {
      std::fprintf(stderr, "in-process: unknown peer %s skipped\n", name.c_str());
      continue;
    }
    nlohmann::json entry = Describe(name);
    {
      Progress progress("in-process " + name + " build", 1);
      const double start = NowSeconds();
      system->Build(data, kBuildThreads);
      entry["build_s"] = NowSeconds() - start;
      progress.Advance();
    }
    entry["memory_bytes_per_vector"] =
        static_cast<double>(system->memory_bytes()) / static_cast<double>(data.size());
    entry["points"] = nlohmann::json::array();
    Progress progress("in-process " + name + " search", options.efs.size());
    for (const size_t ef : options.efs) {
      if (budget.Expired()) break;
      const SearchPoint point = system->Search(data, ef, options.k, truth);
      entry["points"].push_back({{"ef", ef}, {"recall", point.recall}, {"qps", point.qps}});
      progress.Advance();
    }
    system->Drop();
    results[name] = entry;
  }
  return results;
}

}  // namespace mnemo::bench
