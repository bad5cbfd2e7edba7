// The `clients` phase: the Python client (clients/python, over its native core) beside the C++
// client, on the same mnemod, data and calls — a top-10 search, a get conversation, a durable
// append — with one caller and with 64 concurrent callers.  Each measurement reports calls per
// second and the client's own CPU time per call (process CPU: the caller and the client's I/O
// thread; the server runs in its own process).
//
// The C++ half runs in this process: a Client shared by 1 or 64 threads.  The Python half runs
// clients/python/bench/client_bench.py with `python` (an interpreter that can import mnemo): a
// blocking mnemo.Client on one thread, and 64 asyncio tasks sharing one mnemo.AsyncClient.  Both
// halves read one plan (users, conversation ids, query vectors) and walk it in the same order.
// Cells alternate C++ and Python, so slow drift of a shared machine hits both alike; with
// `rounds` > 1 every pair is measured that many times and each figure is the median.
//
// Thread-safety: call from one thread.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "bench_data.h"
#include "options.h"
#include "progress.h"

namespace mnemo::bench {

struct ClientCompareOptions {
  std::string mnemod;     // the mnemod binary
  const BenchOptions* options = nullptr;  // the run's (mnemod's HNSW parameters); not owned
  std::string work_dir;   // holds the server's data directory and the plan
  std::string python;     // interpreter with mnemo installed; empty or missing: C++ half only
  std::string script;     // client_bench.py
  size_t vectors = 20000;           // corpus rows searched (at most the data's)
  size_t users = 100;               // conversation owners
  size_t conversations_per_user = 10;
  double seconds = 3;               // measured per cell (after a warm-up)
  double warmup_seconds = 0.5;
  size_t concurrency = 64;          // the many-callers cells
  size_t rounds = 1;                // each cell measured this often, alternating; medians reported
};

// Runs the phase.  Returns {"cells": [{client, op, concurrency, calls, qps, cpu_us_per_call,
// server_cpu_us_per_call, rounds}...] (medians over the rounds), "round_cells": every round's,
// "python": {"interpreter", "error"?}, "vectors", ...}, or {"error"} when the server or the load
// failed.
nlohmann::json RunClientComparison(const BenchData& bench, const ClientCompareOptions& options,
                                   const TimeBudget& budget);

}  // namespace mnemo::bench
