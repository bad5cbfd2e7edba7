// The in-process peers on the run's data (bench/vector): mnemo's bare HNSW index, hnswlib and
// FAISS IndexHNSWFlat with the same M / ef_construction, built on 2 threads, searched
// single-threaded one query per call at every ef; and FAISS's exact scan (IndexFlatIP).  One
// system is built at a time and dropped before the next, so peak memory stays near one index.
// The Engine line ("mnemo-engine") is engine_vector.h's.
//
// Thread-safety: call from one thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dataset.h"
#include "options.h"
#include "progress.h"

namespace mnemo::bench {

// results["<system>"] = {label, simd, build_s, memory_bytes_per_vector, points: [{ef, recall,
// qps}]}; the flat scan has one point (recall 1).
nlohmann::json RunInProcessPeers(const BenchOptions& options, const Dataset& data,
                                 const std::vector<int64_t>& truth, const TimeBudget& budget);

}  // namespace mnemo::bench
