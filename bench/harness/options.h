// BenchOptions: what one mnemo-bench run measures and how big it is, parsed from the command
// line.  `--quick` picks the small CI configuration; other flags override either preset.
//
// Thread-safety: plain value type and a stateless parser.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mnemo::bench {

struct BenchOptions {
  // ---- data ----
  size_t n = 100000;  // base vectors
  size_t dim = 1536;
  size_t queries = 1000;
  size_t users = 1000;  // Zipf-skewed owners of the per-user (filtered) copy
  size_t months = 1;    // month buckets (one mnemo partition each)
  uint64_t seed = 42;
  std::string base_file;   // .npy or .fvecs instead of generated vectors
  std::string query_file;  // .npy or .fvecs queries (required with base_file)
  size_t k = 10;

  // ---- vector search ----
  std::vector<size_t> efs{16, 32, 64, 128, 256};
  std::vector<size_t> client_threads{1, 2};
  size_t m = 16;
  size_t ef_construction = 64;
  size_t batch = 1000;            // chunks per atomic ingest batch
  size_t filtered_queries = 300;  // queries per selectivity bucket
  std::vector<std::string> peers{"mnemo-engine", "mnemo", "hnswlib", "faiss-hnsw", "faiss-flat"};

  // ---- seed shape (the `seed` phase) ----
  std::vector<size_t> seed_months{6, 12, 24};  // one store per month count, same rows
  size_t seed_users = 200;                     // Zipf-skewed users beside the big tenant
  double seed_big_share = 0.5;                 // share of all rows owned by the big tenant
  size_t seed_queries = 500;                   // queries per bucket and filter

  // ---- conversation workload ----
  size_t conv_users = 1000;
  size_t conv_per_user = 20;
  size_t messages_per_conv = 50;
  // Operations per kind and system (spread over the client threads).  20000 leaves 200 samples
  // above each kind's p99, so the p99 of a 0.1 ms read is not decided by a few stalls.
  size_t ops_per_kind = 20000;
  size_t conv_threads = 2;
  bool postgres = true;
  // The restart phase also restarts with the page cache dropped (a system-wide action: opt-in).
  bool cold_restart = false;
  // The chat-turn phase: the conversation shape plus this many chunks per user.
  size_t turn_chunks_per_user = 100;

  // ---- keyword search (the `text` phase) ----
  size_t text_chunks = 100000;  // chunks of Debian's own text (package descriptions, man pages)
  size_t text_queries = 300;    // keyword queries per term-frequency band, and hybrid queries
  // ---- Python vs C++ client ----
  std::string python;         // interpreter with mnemo installed; default: the test venv
  double client_seconds = 3;  // measured per cell
  size_t client_rounds = 3;   // cells measured per client and call (medians reported)

  // ---- run ----
  bool quick = false;
  double time_budget_s = 1800;  // phases stop early (and say so) once this is spent
  std::string out_dir = "bench-results";
  std::string cache_dir;    // default $XDG_CACHE_HOME/mnemo-bench or ~/.cache/mnemo-bench
  std::string mnemod_path;  // default: the mnemod built next to this binary
  std::string work_dir;     // default: a temp dir, removed at the end
  bool plots = true;
  std::vector<std::string> phases{"seed",    "ingest",        "search",    "filtered", "inprocess",
                                  "restart", "conversations", "chat-turn", "text",     "clients"};

  bool PhaseEnabled(const std::string& phase) const;
};

// Parses argv.  nullopt after printing usage or an error to stderr; *exit_code says how to exit
// (0 after --help, 2 for a usage error).
std::optional<BenchOptions> ParseBenchOptions(int argc, char** argv, int* exit_code);

// The options as printed in results.json and the README ("--n 100000 --d 1536 ...").
std::string DescribeOptions(const BenchOptions& options);

}  // namespace mnemo::bench
