#include "bench_systems.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include "faiss_peer.h"
#include "hnswlib_peer.h"

namespace mnemo::bench {

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

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

double RecallOf(std::span<const uint64_t> got, const std::vector<int64_t>& truth, size_t q,
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

void MnemoSystem::Build(const Dataset& data, size_t threads) {
  index_.reset();
  hnsw::HnswParams params;
  params.dim = static_cast<uint32_t>(data.dim);
  params.m = static_cast<uint32_t>(params_.m);
  params.ef_construction = static_cast<uint32_t>(params_.ef_construction);
  params.seed = params_.seed;
  index_ = std::move(hnsw::HnswIndex::Create(params)).value();
  index_->Reserve(data.size());
  ParallelFor(data.size(), threads, [&](size_t i) {
    const Status status = index_->Add(i, data.Row(i));
    if (!status.ok()) std::fprintf(stderr, "mnemo add failed: %s\n", status.ToString().c_str());
  });
}

namespace {

std::string ModeName(const MnemoSearchMode& mode) {
  const MnemoSearchMode defaults;
  if (mode.compressed == defaults.compressed && mode.rerank_factor == defaults.rerank_factor &&
      mode.rerank_min == defaults.rerank_min) {
    return "mnemo";
  }
  if (!mode.compressed) return "mnemo float32";
  std::string name = "mnemo int8+rerank " + std::to_string(mode.rerank_factor) + "k";
  if (mode.rerank_min > 0) name += " min " + std::to_string(mode.rerank_min);
  return name;
}

}  // namespace

std::string MnemoSystem::name() const { return ModeName(mode_); }

std::string MnemoModeView::name() const { return ModeName(mode_); }

SearchPoint MnemoSystem::Search(const Dataset& data, size_t ef, size_t k,
                                const std::vector<int64_t>& truth) {
  return SearchMnemo(*index_, mode_, data, ef, k, truth);
}

SearchPoint SearchMnemo(const hnsw::HnswIndex& index, const MnemoSearchMode& mode,
                        const Dataset& data, size_t ef, size_t k,
                        const std::vector<int64_t>& truth) {
  hnsw::SearchOptions options;
  options.k = k;
  options.ef = ef;
  options.compressed = mode.compressed;
  options.rerank_factor = mode.rerank_factor;
  options.rerank_min = mode.rerank_min;
  hnsw::SearchResult result;
  std::vector<uint64_t> got;
  double recall = 0;
  uint64_t distances = 0;
  uint64_t code_distances = 0;
  const size_t nq = data.query_count();
  const double start = Now();
  for (size_t q = 0; q < nq; ++q) {
    (void)index.Search(data.Query(q), options, &result);
    distances += result.stats.distance_computations;
    code_distances += result.stats.code_computations;
    got.clear();
    for (const hnsw::SearchHit& hit : result.hits) got.push_back(hit.label);
    recall += RecallOf(got, truth, q, k);
  }
  const double elapsed = Now() - start;
  const double n = static_cast<double>(nq);
  return SearchPoint{ef, recall / n, n / elapsed, static_cast<double>(distances) / n,
                     static_cast<double>(code_distances) / n};
}

namespace {

class HnswlibSystem final : public BenchSystem {
 public:
  explicit HnswlibSystem(const BuildParams& params) : params_(params) {}
  std::string name() const override {
    return std::string("hnswlib (") + HnswlibPeer::SimdName() + ")";
  }
  void Build(const Dataset& data, size_t threads) override {
    index_.reset();
    index_ = std::make_unique<HnswlibPeer>(data.dim, data.size(), params_.m,
                                           params_.ef_construction, params_.seed);
    ParallelFor(data.size(), threads, [&](size_t i) { index_->Add(data.Row(i).data(), i); });
  }
  void Drop() override { index_.reset(); }
  size_t memory_bytes() const override { return index_ ? index_->memory_bytes() : 0; }
  SearchPoint Search(const Dataset& data, size_t ef, size_t k,
                     const std::vector<int64_t>& truth) override {
    index_->SetEf(ef);
    std::vector<uint64_t> got;
    double recall = 0;
    const size_t nq = data.query_count();
    const double start = Now();
    for (size_t q = 0; q < nq; ++q) {
      index_->Search(data.Query(q).data(), k, &got);
      recall += RecallOf(got, truth, q, k);
    }
    const double elapsed = Now() - start;
    return SearchPoint{ef, recall / static_cast<double>(nq), static_cast<double>(nq) / elapsed, 0};
  }

 private:
  BuildParams params_;
  std::unique_ptr<HnswlibPeer> index_;
};

class FaissHnswSystem final : public BenchSystem {
 public:
  explicit FaissHnswSystem(const BuildParams& params) : params_(params) {}
  std::string name() const override { return "FAISS HNSWFlat (" + FaissSimdLevel() + ")"; }
  void Build(const Dataset& data, size_t threads) override {
    index_.reset();
    SetFaissThreads(static_cast<int>(threads));
    index_ = std::make_unique<FaissHnswPeer>(data.dim, params_.m, params_.ef_construction);
    index_->Add(data.size(), data.base.data());
  }
  void Drop() override { index_.reset(); }
  size_t memory_bytes() const override { return index_ ? index_->memory_bytes() : 0; }
  SearchPoint Search(const Dataset& data, size_t ef, size_t k,
                     const std::vector<int64_t>& truth) override {
    // One query per call, single-threaded, like the other systems (and a server): a batched call
    // would amortise FAISS's per-call setup over every query.
    SetFaissThreads(1);
    const size_t nq = data.query_count();
    std::vector<int64_t> labels;
    std::vector<uint64_t> got;
    double recall = 0;
    const double start = Now();
    for (size_t q = 0; q < nq; ++q) {
      index_->Search(1, data.Query(q).data(), k, ef, &labels);
      got.clear();
      for (const int64_t label : labels) {
        if (label >= 0) got.push_back(static_cast<uint64_t>(label));
      }
      recall += RecallOf(got, truth, q, k);
    }
    const double elapsed = Now() - start;
    return SearchPoint{ef, recall / static_cast<double>(nq), static_cast<double>(nq) / elapsed, 0};
  }

 private:
  BuildParams params_;
  std::unique_ptr<FaissHnswPeer> index_;
};

}  // namespace

std::unique_ptr<BenchSystem> MakeHnswlibSystem(const BuildParams& params) {
  return std::make_unique<HnswlibSystem>(params);
}

std::unique_ptr<BenchSystem> MakeFaissHnswSystem(const BuildParams& params) {
  return std::make_unique<FaissHnswSystem>(params);
}

}  // namespace mnemo::bench
