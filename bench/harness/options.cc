// Command-line parsing for mnemo-bench (see options.h and the usage text below).
#include "options.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

namespace mnemo::bench {
namespace {

constexpr char kUsage[] =
    "usage: mnemo-bench [--quick] [options]\n"
    "data:     --n N --d D --queries Q --users U --months M --seed S --k K\n"
    "          --base FILE.npy|.fvecs --query-file FILE.npy|.fvecs\n"
    "vectors:  --ef 16,32,64,128,256 --threads 1,2 --M 16 --efc 64 --batch 1000\n"
    "          --filtered-queries 300 --peers mnemo-engine,mnemo,hnswlib,faiss-hnsw,faiss-flat\n"
    "          (--M and --efc build every graph: mnemod's, the Engine's and the peers')\n"
    "seed:     --seed-months 6,12,24 --seed-users 200 --seed-share 0.5 --seed-queries 500\n"
    "conv:     --conv-users 1000 --conv-per-user 20 --messages 50 --ops 20000 --conv-threads 2\n"
    "          --no-postgres --turn-chunks N (chunks per user in the chat-turn phase)\n"
    "text:     --text-chunks N --text-queries N\n"
    "clients:  --python PATH (an interpreter that imports mnemo) --client-seconds 3\n"
    "          --client-rounds 3\n"
    "run:      --phases seed,ingest,search,filtered,inprocess,restart,conversations,chat-turn,\n"
    "          text,clients (default), replication (opt-in: needs etcd)\n"
    "          --time-budget SECONDS --out DIR --cache-dir DIR --mnemod PATH --work-dir DIR\n"
    "          --no-plots\n"
    "          --cold-restart (root: the restart phase drops the page cache, restarts and\n"
    "          searches from disk, then from the cache)\n";

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream stream(text);
  for (std::string part; std::getline(stream, part, ',');) {
    if (!part.empty()) parts.push_back(part);
  }
  return parts;
}

std::vector<size_t> SplitSizes(const std::string& text) {
  std::vector<size_t> values;
  for (const std::string& part : SplitList(text)) values.push_back(std::stoull(part));
  return values;
}

void ApplyQuickPreset(BenchOptions* options) {
  options->quick = true;
  options->n = 2000;
  options->dim = 128;
  options->queries = 100;
  options->users = 50;
  options->efs = {16, 64};
  options->filtered_queries = 50;
  options->seed_months = {2, 3};
  options->seed_users = 20;
  options->seed_queries = 40;
  options->conv_users = 20;
  options->conv_per_user = 5;
  options->messages_per_conv = 20;
  options->ops_per_kind = 200;
  options->turn_chunks_per_user = 20;
  options->text_chunks = 3000;
  options->text_queries = 30;
  options->client_seconds = 0.3;
  options->client_rounds = 1;
  options->time_budget_s = 100;
}

bool IsFlag(const std::string& arg) {
  return arg == "--quick" || arg == "--no-postgres" || arg == "--no-plots" ||
         arg == "--cold-restart" || arg == "--help" || arg == "-h";
}

}  // namespace

bool BenchOptions::PhaseEnabled(const std::string& phase) const {
  return std::find(phases.begin(), phases.end(), phase) != phases.end();
}

std::optional<BenchOptions> ParseBenchOptions(int argc, char** argv, int* exit_code) {
  BenchOptions options;
  *exit_code = 2;
  // --quick first, so explicit flags override the preset wherever they appear.
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--quick") ApplyQuickPreset(&options);
  }
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    if (const size_t eq = arg.find('='); eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    } else if (!IsFlag(arg)) {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "mnemo-bench: %s needs a value\n%s", arg.c_str(), kUsage);
        return std::nullopt;
      }
      value = argv[++i];
    }
    try {
      if (arg == "--help" || arg == "-h") {
        std::fputs(kUsage, stdout);
        *exit_code = 0;
        return std::nullopt;
      } else if (arg == "--quick") {
      } else if (arg == "--n")
        options.n = std::stoull(value);
      else if (arg == "--d")
        options.dim = std::stoull(value);
      else if (arg == "--queries")
        options.queries = std::stoull(value);
      else if (arg == "--users")
        options.users = std::stoull(value);
      else if (arg == "--months")
        options.months = std::stoull(value);
      else if (arg == "--seed")
        options.seed = std::stoull(value);
      else if (arg == "--k")
        options.k = std::stoull(value);
      else if (arg == "--base")
        options.base_file = value;
      else if (arg == "--query-file")
        options.query_file = value;
      else if (arg == "--ef")
        options.efs = SplitSizes(value);
      else if (arg == "--threads")
        options.client_threads = SplitSizes(value);
      else if (arg == "--M")
        options.m = std::stoull(value);
      else if (arg == "--efc")
        options.ef_construction = std::stoull(value);
      else if (arg == "--batch")
        options.batch = std::stoull(value);
      else if (arg == "--filtered-queries")
        options.filtered_queries = std::stoull(value);
      else if (arg == "--peers")
        options.peers = SplitList(value);
      else if (arg == "--seed-months")
        options.seed_months = SplitSizes(value);
      else if (arg == "--seed-users")
        options.seed_users = std::stoull(value);
      else if (arg == "--seed-share")
        options.seed_big_share = std::stod(value);
      else if (arg == "--seed-queries")
        options.seed_queries = std::stoull(value);
      else if (arg == "--conv-users")
        options.conv_users = std::stoull(value);
      else if (arg == "--conv-per-user")
        options.conv_per_user = std::stoull(value);
      else if (arg == "--messages")
        options.messages_per_conv = std::stoull(value);
      else if (arg == "--ops")
        options.ops_per_kind = std::stoull(value);
      else if (arg == "--conv-threads")
        options.conv_threads = std::stoull(value);
      else if (arg == "--no-postgres")
        options.postgres = false;
      else if (arg == "--cold-restart")
        options.cold_restart = true;
      else if (arg == "--turn-chunks")
        options.turn_chunks_per_user = std::stoull(value);
      else if (arg == "--text-chunks")
        options.text_chunks = std::stoull(value);
      else if (arg == "--text-queries")
        options.text_queries = std::stoull(value);
      else if (arg == "--python")
        options.python = value;
      else if (arg == "--client-seconds")
        options.client_seconds = std::stod(value);
      else if (arg == "--client-rounds")
        options.client_rounds = std::stoull(value);
      else if (arg == "--phases")
        options.phases = SplitList(value);
      else if (arg == "--time-budget")
        options.time_budget_s = std::stod(value);
      else if (arg == "--out")
        options.out_dir = value;
      else if (arg == "--cache-dir")
        options.cache_dir = value;
      else if (arg == "--mnemod")
        options.mnemod_path = value;
      else if (arg == "--work-dir")
        options.work_dir = value;
      else if (arg == "--no-plots")
        options.plots = false;
      else {
        std::fprintf(stderr, "mnemo-bench: unknown argument %s\n%s", arg.c_str(), kUsage);
        return std::nullopt;
      }
    } catch (const std::exception&) {
      std::fprintf(stderr, "mnemo-bench: bad value for %s: '%s'\n", arg.c_str(), value.c_str());
      return std::nullopt;
    }
  }
  const bool sizes_ok =
      options.n > 0 && options.dim > 0 && options.queries > 0 && options.users > 0 &&
      options.months > 0 && options.k > 0 && options.batch > 0 && !options.efs.empty() &&
      !options.client_threads.empty() && options.conv_users > 0 && options.conv_per_user > 0 &&
      options.messages_per_conv >= 1 && options.conv_threads > 0 && options.time_budget_s > 0 &&
      options.client_seconds > 0 && options.client_rounds > 0 && options.seed_users > 0 &&
      options.seed_queries > 0 && options.seed_big_share >= 0 && options.seed_big_share < 1;
  const bool zero_in_list =
      std::find(options.efs.begin(), options.efs.end(), 0u) != options.efs.end() ||
      std::find(options.seed_months.begin(), options.seed_months.end(), 0u) !=
          options.seed_months.end() ||
      std::find(options.client_threads.begin(), options.client_threads.end(), 0u) !=
          options.client_threads.end();
  if (!sizes_ok || zero_in_list) {
    std::fprintf(stderr, "mnemo-bench: sizes, lists and the time budget must be positive\n");
    return std::nullopt;
  }
  if (options.base_file.empty() != options.query_file.empty()) {
    std::fprintf(stderr, "mnemo-bench: --base and --query-file go together\n");
    return std::nullopt;
  }
  if (options.k > options.n) {
    std::fprintf(stderr, "mnemo-bench: --k must not exceed --n\n");
    return std::nullopt;
  }
  *exit_code = 0;
  return options;
}

std::string DescribeOptions(const BenchOptions& options) {
  std::ostringstream text;
  auto join = [](const auto& values) {
    std::ostringstream out;
    for (size_t i = 0; i < values.size(); ++i) out << (i ? "," : "") << values[i];
    return out.str();
  };
  text << (options.quick ? "--quick " : "") << "--n " << options.n << " --d " << options.dim
       << " --queries " << options.queries << " --users " << options.users << " --months "
       << options.months << " --seed " << options.seed << " --k " << options.k << " --ef "
       << join(options.efs) << " --threads " << join(options.client_threads) << " --M " << options.m
       << " --efc " << options.ef_construction << " --batch " << options.batch << " --conv-users "
       << options.conv_users << " --conv-per-user " << options.conv_per_user << " --messages "
       << options.messages_per_conv << " --ops " << options.ops_per_kind << " --seed-months "
       << join(options.seed_months) << " --seed-users " << options.seed_users << " --seed-share "
       << options.seed_big_share << " --seed-queries " << options.seed_queries;
  if (!options.base_file.empty()) text << " --base " << options.base_file;
  if (!options.query_file.empty()) text << " --query-file " << options.query_file;
  return text.str();
}

}  // namespace mnemo::bench
