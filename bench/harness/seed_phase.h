// The `seed` phase: per-user search on the deployment shape of the seeds (SPEC §9).
//
// One store holds every row; rows land in month partitions and belong to many users: a share S of
// all rows to one big tenant, the rest to U Zipf-skewed users ("s<rank>").  Every query is scoped
// to one user and runs over the wire through the C++ client, one client thread, with the
// server's default (adaptive) ef.  Queries are grouped into buckets by the user's share of all
// rows (the big tenant, > 5%, 1-5%, < 1%); each bucket runs its queries twice, without a filter
// and with a "last 30 days" time filter.  The same rows are loaded once per month count (6, 12,
// 24 by default), and once into one month owned by one tenant: the reference figure.
//
// Thread-safety: RunSeedPhase drives its own threads; call it from one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench_data.h"
#include "options.h"
#include "progress.h"

namespace mnemo::bench {

struct SeedPhaseInput {
  const BenchOptions* options = nullptr;
  const BenchData* bench = nullptr;
  std::string mnemod_binary;
  std::string work_dir;  // one sub-directory per store
  const TimeBudget* budget = nullptr;
};

// Owner of each base row on the seed shape: 0 = the big tenant, r >= 1 = the Zipf user of rank r.
// Deterministic in (rows, users, big_share, seed).
std::vector<uint32_t> SeedOwners(size_t rows, size_t users, double big_share, uint64_t seed);

// The seed name of owner `owner` ("big" or "s<rank>").
std::string SeedUserName(uint32_t owner);

// Runs the phase; the results (per store: ingest, memory, per bucket and filter: recall, QPS,
// p50/p99, exact answers) as JSON.  Problems are reported in the JSON's "error" fields.
nlohmann::json RunSeedPhase(const SeedPhaseInput& input);

}  // namespace mnemo::bench
