// The Engine line (see engine_vector.h).
#include "engine_vector.h"

#include <span>

#include "bench_systems.h"
#include "kernels/distance.h"
#include "mnemo/engine.h"

namespace mnemo::bench {
namespace {

// The same batch the wire line sends (wire_vector.cc): a document and its chunks, atomically.
std::vector<WriteOp> BatchOps(const BenchData& bench, const std::vector<uint32_t>& months,
                              const std::vector<uint32_t>& rows, size_t index) {
  NewDocument document;
  std::vector<NewChunk> chunks;
  FillBatch(bench, months, rows, index, &document, &chunks);
  std::vector<WriteOp> ops;
  ops.push_back(CreateDocumentOp{std::move(document)});
  for (NewChunk& chunk : chunks) ops.push_back(AddChunkOp{std::move(chunk)});
  return ops;
}

}  // namespace

nlohmann::json RunEngineInProcess(const BenchOptions& options, const BenchData& bench,
                                  const IngestPlan& plan, const std::vector<int64_t>& truth,
                                  const std::string& data_dir, const TimeBudget& budget) {
  EngineOptions engine_options;
  engine_options.data_dir = data_dir;
  engine_options.dimension = static_cast<uint32_t>(bench.data.dim);
  engine_options.hnsw_m = static_cast<uint32_t>(options.m);
  engine_options.hnsw_ef_construction = static_cast<uint32_t>(options.ef_construction);
  auto opened = Engine::Open(engine_options);
  if (!opened.ok()) return {{"error", opened.status().ToString()}};
  std::unique_ptr<Engine> engine = std::move(opened).value();

  nlohmann::json entry;
  entry["label"] = "mnemo Engine (Engine::Search, same layout as the wire line)";
  entry["simd"] = std::string(kernels::SimdLevelName(kernels::ActiveSimdLevel()));
  {
    Progress progress("in-process mnemo Engine build", plan.batches.size());
    const double start = NowSeconds();
    const std::vector<uint32_t>& months = plan.months != nullptr ? *plan.months : bench.month;
    for (size_t i = 0; i < plan.batches.size(); ++i) {
      if (budget.Expired()) return {{"skipped", "time budget"}};
      auto applied =
          engine->ApplyBatch(plan.batch_users[i], BatchOps(bench, months, plan.batches[i], i));
      if (!applied.ok()) return {{"error", "ingest: " + applied.status().ToString()}};
      progress.Advance();
    }
    engine->WaitForIndexing();
    entry["build_s"] = NowSeconds() - start;
  }
  int64_t graph_bytes = 0;
  for (const PartitionInfo& partition : engine->ListPartitions())
    graph_bytes += partition.index_bytes;
  entry["memory_bytes_per_vector"] = static_cast<double>(graph_bytes) /
                                     static_cast<double>(std::max<size_t>(1, bench.data.size()));

  const std::string& user = plan.batch_users.empty() ? std::string() : plan.batch_users.front();
  entry["points"] = nlohmann::json::array();
  Progress progress("in-process mnemo Engine search", options.efs.size());
  const size_t nq = bench.data.query_count();
  for (const size_t ef : options.efs) {
    if (budget.Expired()) break;
    SearchRequest request;
    request.top_k = static_cast<int64_t>(options.k);
    request.ef = static_cast<int64_t>(ef);
    std::vector<uint64_t> got;
    double recall = 0;
    size_t errors = 0;
    const double start = NowSeconds();
    for (size_t q = 0; q < nq; ++q) {
      const auto query = bench.data.Query(q);
      request.query.assign(query.begin(), query.end());
      auto answer = engine->Search(user, request);
      got.clear();
      if (answer.ok()) {
        for (const SearchHit& hit : answer->hits) got.push_back(std::stoull(hit.chunk_text));
      } else {
        ++errors;
      }
      recall += RecallOf(got, truth, q, options.k);
    }
    const double elapsed = NowSeconds() - start;
    entry["points"].push_back({{"ef", ef},
                               {"recall", recall / static_cast<double>(nq)},
                               {"qps", static_cast<double>(nq) / elapsed},
                               {"errors", errors}});
    progress.Advance();
  }
  return entry;
}

}  // namespace mnemo::bench
