// The Engine line of the in-process comparison: mnemo::Engine opened in this process on a data
// directory of its own, holding the same rows as the wire line with the same owner, documents,
// batches and month partitions (the same IngestPlan), graphs fully linked, searched through
// Engine::Search single-threaded at every ef.  Beside the wire line at one client thread it shows
// what the wire costs; beside the bare HNSW line, what the engine around the index costs.
//
// Thread-safety: call from one thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench_data.h"
#include "options.h"
#include "progress.h"
#include "wire_vector.h"

namespace mnemo::bench {

// {label, simd, build_s (ingest + linking), memory_bytes_per_vector (graph bytes), points:
// [{ef, recall, qps}]}, or {error} when the engine could not be opened or loaded.
nlohmann::json RunEngineInProcess(const BenchOptions& options, const BenchData& bench,
                                  const IngestPlan& plan, const std::vector<int64_t>& truth,
                                  const std::string& data_dir, const TimeBudget& budget);

}  // namespace mnemo::bench
