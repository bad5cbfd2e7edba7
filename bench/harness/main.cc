// mnemo-bench: the end-to-end benchmark harness.  One command, one run:
//
//   0. seed: per-user search on the seeds' shape (many users sharing month partitions; 6, 12 and
//      24 months) beside the same rows in one month owned by one tenant
//   1. data: generated text-embedding-like vectors (or .npy/.fvecs), owners, month buckets;
//      exact ground truth (FAISS IndexFlatIP), cached on disk
//   2. ingest into a fresh mnemod over the wire (atomic durable batches)
//   3. search over the wire: recall@10, QPS, latency percentiles per ef and client threads
//   4. per-user (filtered) search by selectivity bucket, on a second mnemod whose rows have
//      Zipf-skewed owners
//   5. in-process on the same data: mnemo::Engine (the wire line's rows and layout, through
//      Engine::Search), mnemo's bare HNSW index, hnswlib, FAISS HNSW, FAISS exact scan
//   6. restart: mnemod start to first search answered; RSS per vector; with --cold-restart
//      (root), a restart from a dropped page cache and the query set twice: the first pass
//      re-ranks from disk, the second from the page cache
//   7. the conversation workload against mnemod and PostgreSQL 15
//   8. text: keyword and hybrid search over Debian's own text (text_phase.h)
//   9. the Python client beside the C++ client on the same server and calls
//  10. replication (opt-in): cluster mode with 0, 1 and 2 replicas, lag, failover time
//
// Output: Markdown on stdout, <out>/results.json, PNG plots via plot.py; progress on stderr.
// See bench/README.md for what each figure means.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "bench_data.h"
#include "client_compare.h"
#include "conversation_workload.h"
#include "engine_vector.h"
#include "faiss_peer.h"
#include "ground_truth.h"
#include "inprocess_vector.h"
#include "mnemo/client/client.h"
#include "mnemo_conversations.h"
#include "mnemod_process.h"
#include "options.h"
#include "postgres_conversations.h"
#include "progress.h"
#include "replication_phase.h"
#include "report.h"
#include "seed_phase.h"
#include "text_phase.h"
#include "wire_vector.h"

namespace mnemo::bench {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr double kStartTimeoutS = 120;
constexpr double kSettleTimeoutS = 300;  // for background work after a preload
constexpr const char* kCorpusUser = "corpus";
const double kBucketShares[] = {0.2, 0.05, 0.01, 0.001};

std::string CpuName() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

double MemoryGb() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  double kb = 0;
  meminfo >> key >> kb;
  return static_cast<int>(kb / 1024 / 1024 * 10) / 10.0;
}

std::string UtcNow() {
  const std::time_t now = std::time(nullptr);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
  return text;
}

json OptionsJson(const BenchOptions& options) {
  return {{"n", options.n},
          {"d", options.dim},
          {"queries", options.queries},
          {"users", options.users},
          {"months", options.months},
          {"seed", options.seed},
          {"k", options.k},
          {"efs", options.efs},
          {"threads", options.client_threads},
          {"M", options.m},
          {"efc", options.ef_construction},
          {"batch", options.batch},
          {"filtered_queries", options.filtered_queries},
          {"conv_users", options.conv_users},
          {"conv_per_user", options.conv_per_user},
          {"messages", options.messages_per_conv},
          {"ops", options.ops_per_kind},
          {"conv_threads", options.conv_threads},
          {"turn_chunks", options.turn_chunks_per_user},
          {"quick", options.quick},
          {"cold_restart", options.cold_restart},
          {"seed_months", options.seed_months},
          {"seed_users", options.seed_users},
          {"seed_big_share", options.seed_big_share},
          {"seed_queries", options.seed_queries},
          {"time_budget_s", options.time_budget_s},
          {"text_chunks", options.text_chunks},
          {"text_queries", options.text_queries}};
}

std::unique_ptr<client::Client> Connect(uint16_t port, int pool_size, std::string* error) {
  client::ClientOptions options;
  options.port = port;
  options.pool_size = pool_size;
  options.client_name = "mnemo-bench";
  auto client = client::Client::Connect(options);
  if (!client.ok()) {
    *error = client.error().ToString();
    return nullptr;
  }
  return std::move(client).value();
}

class Harness {
 public:
  Harness(const BenchOptions& options, std::string work_dir, json* results)
      : options_(options),
        work_dir_(std::move(work_dir)),
        results_(*results),
        budget_(options.time_budget_s) {}

  bool Run() {
    std::string error;
    if (!LoadData(&error)) {
      std::fprintf(stderr, "mnemo-bench: %s\n", error.c_str());
      return false;
    }
    if (options_.PhaseEnabled("seed")) {
      SeedPhaseInput input;
      input.options = &options_;
      input.bench = &bench_;
      input.mnemod_binary = MnemodBinary();
      input.work_dir = work_dir_ + "/seed";
      input.budget = &budget_;
      results_["seed"] = RunSeedPhase(input);
    }
    const bool wire = options_.PhaseEnabled("ingest") || options_.PhaseEnabled("search") ||
                      options_.PhaseEnabled("restart");
    if (wire) Note(CorpusPhases(), "corpus phases");
    if (options_.PhaseEnabled("filtered")) Note(FilteredPhase(), "filtered phase");
    if (options_.PhaseEnabled("inprocess")) {
      results_["inprocess"] = RunInProcessPeers(options_, bench_.data, truth_, budget_);
      if (std::find(options_.peers.begin(), options_.peers.end(), "mnemo-engine") !=
          options_.peers.end()) {
        fs::create_directories(work_dir_ + "/engine");
        const IngestPlan plan = SingleOwnerPlan(bench_.data.size(), options_.batch, kCorpusUser);
        results_["inprocess"]["mnemo-engine"] =
            RunEngineInProcess(options_, bench_, plan, truth_, work_dir_ + "/engine/data", budget_);
      }
    }
    if (options_.PhaseEnabled("conversations")) Note(ConversationPhase(), "conversation phase");
    if (options_.PhaseEnabled("chat-turn")) Note(ChatTurnPhase(), "chat-turn phase");
    if (options_.PhaseEnabled("text")) {
      TextPhaseInput input;
      input.options = &options_;
      input.bench = &bench_;
      input.mnemod_binary = MnemodBinary();
      input.work_dir = work_dir_ + "/text";
      input.cache_dir = cache_dir_;
      input.budget = &budget_;
      results_["text"] = RunTextPhase(input);
      if (results_["text"].contains("error"))
        Note(results_["text"]["error"].get<std::string>(), "text phase");
    }
    if (options_.PhaseEnabled("clients")) Note(ClientPhase(), "clients phase");
    if (options_.PhaseEnabled("replication")) {
      ReplicationPhaseInput input;
      input.options = &options_;
      input.mnemod_binary = MnemodBinary();
      input.work_dir = work_dir_ + "/replication";
      input.budget = &budget_;
      if (options_.quick) {
        input.seconds = 2;
        input.failover_rounds = 1;
      }
      results_["replication"] = RunReplicationPhase(input);
      if (results_["replication"].contains("error"))
        Note(results_["replication"]["error"].get<std::string>(), "replication phase");
    }
    if (budget_.Expired())
      Note("time budget of " + std::to_string(options_.time_budget_s) +
               " s spent: later measurements were cut short",
           "");
    return true;
  }

 private:
  void Note(const std::string& problem, const std::string& phase) {
    if (problem.empty()) return;
    const std::string text = phase.empty() ? problem : phase + ": " + problem;
    std::fprintf(stderr, "mnemo-bench: %s\n", text.c_str());
    results_["notes"].push_back(text);
  }

  std::string MnemodBinary() const {
    return options_.mnemod_path.empty() ? std::string(MNEMO_BENCH_MNEMOD_PATH)
                                        : options_.mnemod_path;
  }

  bool LoadData(std::string* error) {
    {
      Progress progress("data: generate / read", 1);
      if (!BuildBenchData(options_, &bench_, error)) return false;
      progress.Advance();
    }
    results_["data"] = {{"source", bench_.source},
                        {"rows", bench_.data.size()},
                        {"queries", bench_.data.query_count()},
                        {"dim", bench_.data.dim}};
    bool from_cache = false;
    {
      Progress progress("data: exact ground truth", 1);
      TruthRequest request;
      request.data = &bench_.data;
      request.k = options_.k;
      request.key = bench_.cache_key;
      request.cache_dir = cache_dir_;
      truth_ = ExactTopK(request, &from_cache);
      progress.Advance();
    }
    results_["data"]["truth_from_cache"] = from_cache;
    return true;
  }

  // Ingest, search sweep and restart on a mnemod holding every row as one user's corpus.
  std::string CorpusPhases() {
    std::string error;
    fs::create_directories(work_dir_ + "/corpus");
    MnemodProcess server(MnemodBinary(), work_dir_ + "/corpus", bench_.data.dim, options_);
    if (!server.Start(kStartTimeoutS, &error)) return error;
    size_t max_threads = 1;
    for (const size_t threads : options_.client_threads)
      max_threads = std::max(max_threads, threads);
    auto client = Connect(server.port(), static_cast<int>(max_threads), &error);
    if (client == nullptr) return error;

    const IngestPlan plan = SingleOwnerPlan(bench_.data.size(), options_.batch, kCorpusUser);
    const IngestResult ingest = Ingest(*client, bench_, plan, 1, budget_, "ingest over the wire");
    results_["ingest"] = ToJson(ingest);
    if (ingest.failed_batches > 0)
      Note("ingest: " + std::to_string(ingest.failed_batches) +
               " batches failed, first: " + ingest.first_error,
           "");
    // Once its backlog is linked, the server returns freed heap pages to the system: give it a
    // moment, so that the figure is the resident size it keeps, not one caught mid-way.
    std::this_thread::sleep_for(std::chrono::seconds(1));
    const MnemodProcess::Resident rss_after_ingest = server.ResidentMemory();

    if (options_.PhaseEnabled("search")) {
      results_["search"]["runs"] = json::array();
      Progress progress("search over the wire",
                        options_.client_threads.size() * options_.efs.size());
      for (const size_t threads : options_.client_threads) {
        for (const size_t ef : options_.efs) {
          if (budget_.Expired()) break;
          const SearchRun run =
              RunSearches(*client, bench_.data, kCorpusUser, bench_.data.query_count(), options_.k,
                          ef, threads, truth_, budget_);
          results_["search"]["runs"].push_back(ToJson(run, true));
          progress.Advance();
        }
      }
    }
    if (!options_.PhaseEnabled("restart")) return "";
    client.reset();
    if (!server.Stop()) Note("mnemod did not stop cleanly before the restart", "");
    Progress progress("restart", 1);
    const double start = NowSeconds();
    if (!server.Start(kStartTimeoutS, &error)) return "restart: " + error;
    client = Connect(server.port(), 1, &error);
    if (client == nullptr) return "restart: " + error;
    client::SearchRequest request;
    request.query.assign(bench_.data.Query(0).begin(), bench_.data.Query(0).end());
    request.top_k = static_cast<int64_t>(options_.k);
    auto answer = client->Search(kCorpusUser, request);
    const double first_search = NowSeconds() - start;
    progress.Advance();
    if (!answer.ok()) return "restart: first search failed: " + answer.error().ToString();
    const MnemodProcess::Resident rss_after_restart = server.ResidentMemory();
    const double rows = static_cast<double>(std::max<size_t>(1, ingest.rows));
    results_["restart"] = {
        {"first_search_s", first_search},
        {"first_search_hits", answer->hits.size()},
        {"rss_bytes_after_ingest", rss_after_ingest.total},
        {"rss_bytes_per_vector_after_ingest", static_cast<double>(rss_after_ingest.total) / rows},
        {"rss_anon_bytes_per_vector_after_ingest",
         static_cast<double>(rss_after_ingest.anon) / rows},
        {"rss_file_bytes_per_vector_after_ingest",
         static_cast<double>(rss_after_ingest.file) / rows},
        {"rss_bytes_after_restart", rss_after_restart.total},
        {"rss_bytes_per_vector_after_restart", static_cast<double>(rss_after_restart.total) / rows},
        {"rss_anon_bytes_per_vector_after_restart",
         static_cast<double>(rss_after_restart.anon) / rows},
        {"rss_file_bytes_per_vector_after_restart",
         static_cast<double>(rss_after_restart.file) / rows},
        {"raw_vector_bytes", bench_.data.dim * sizeof(float)}};
    return options_.cold_restart ? ColdRestart(server, rows) : "";
  }

  // A restart with the page cache dropped, then the query set twice at the sweep's first ef on
  // one thread: the first pass reads the vectors it re-ranks from disk, the second from the page
  // cache.  (Dropping the cache while mnemod runs would keep the pages it maps.)
  std::string ColdRestart(MnemodProcess& server, double rows) {
    if (!server.Stop()) Note("mnemod did not stop cleanly before the cold restart", "");
    ::sync();
    std::ofstream drop("/proc/sys/vm/drop_caches");
    drop << "3\n";
    drop.close();
    if (!drop) {
      results_["restart"]["cold"] = {{"dropped", false}};
      Note("restart: the page cache could not be dropped (needs root); no cold re-rank figures",
           "");
      return "";
    }
    std::string error;
    const double start = NowSeconds();
    if (!server.Start(kStartTimeoutS, &error)) return "cold restart: " + error;
    const double started = NowSeconds() - start;
    auto client = Connect(server.port(), 1, &error);
    if (client == nullptr) return "cold restart: " + error;
    // ef 64 when the sweep has it (the default's middle), else the sweep's first.
    size_t ef = options_.efs.empty() ? 64 : options_.efs.front();
    if (std::find(options_.efs.begin(), options_.efs.end(), 64) != options_.efs.end()) ef = 64;
    const size_t queries = bench_.data.query_count();
    const SearchRun cold =
        RunSearches(*client, bench_.data, kCorpusUser, queries, options_.k, ef, 1, truth_, budget_);
    const MnemodProcess::Resident after_cold = server.ResidentMemory();
    const SearchRun warm =
        RunSearches(*client, bench_.data, kCorpusUser, queries, options_.k, ef, 1, truth_, budget_);
    results_["restart"]["cold"] = {
        {"dropped", true},
        {"start_s", started},
        {"from_disk", ToJson(cold, false)},
        {"from_page_cache", ToJson(warm, false)},
        {"rss_file_bytes_per_vector_after_cold_pass", static_cast<double>(after_cold.file) / rows}};
    return "";
  }

  // Per-user search on a mnemod whose rows belong to Zipf-skewed users.
  std::string FilteredPhase() {
    std::string error;
    fs::create_directories(work_dir_ + "/users");
    MnemodProcess server(MnemodBinary(), work_dir_ + "/users", bench_.data.dim, options_);
    if (!server.Start(kStartTimeoutS, &error)) return error;
    auto client = Connect(server.port(), 2, &error);
    if (client == nullptr) return error;
    const IngestPlan plan = PerOwnerPlan(bench_.data, options_.batch);
    const IngestResult ingest = Ingest(*client, bench_, plan, 2, budget_, "ingest per-user rows");
    results_["filtered"]["ingest"] = ToJson(ingest);
    if (ingest.failed_batches > 0) return "per-user ingest failed: " + ingest.first_error;

    const std::vector<size_t> counts = OwnerCounts(bench_.data, options_.users);
    std::set<uint32_t> chosen;
    for (const double share : kBucketShares) {
      const uint32_t user = UserNearestShare(bench_.data, options_.users, share, options_.k);
      if (user < options_.users) chosen.insert(user);
    }
    results_["filtered"]["buckets"] = json::array();
    Progress progress("per-user search", chosen.size());
    for (const uint32_t user : chosen) {
      if (budget_.Expired()) break;
      std::vector<uint64_t> rows;
      for (size_t row = 0; row < bench_.data.size(); ++row) {
        if (bench_.data.owners[row] == user) rows.push_back(row);
      }
      TruthRequest request;
      request.data = &bench_.data;
      request.k = options_.k;
      request.queries = options_.filtered_queries;
      request.subset = &rows;
      request.key = bench_.cache_key + "-user" + std::to_string(user);
      request.cache_dir = cache_dir_;
      bool from_cache = false;
      const std::vector<int64_t> truth = ExactTopK(request, &from_cache);
      const std::string user_id = "u" + std::to_string(user);
      const SearchRun run = RunSearches(*client, bench_.data, user_id, options_.filtered_queries,
                                        options_.k, 0, 1, truth, budget_);
      json bucket = ToJson(run, false);
      bucket["rows"] = counts[user];
      bucket["selectivity"] =
          static_cast<double>(counts[user]) / static_cast<double>(bench_.data.size());
      results_["filtered"]["buckets"].push_back(bucket);
      progress.Advance();
    }
    return "";
  }

  std::string ClientPhase() {
    ClientCompareOptions compare;
    compare.mnemod = MnemodBinary();
    compare.options = &options_;
    compare.work_dir = work_dir_ + "/clients";
    fs::create_directories(compare.work_dir);
    compare.python = options_.python.empty() ? std::string(MNEMO_BENCH_PYTHON) : options_.python;
    compare.script = MNEMO_BENCH_CLIENT_SCRIPT;
    compare.seconds = options_.client_seconds;
    compare.rounds = options_.client_rounds;
    compare.warmup_seconds = std::min(0.5, options_.client_seconds);
    if (options_.quick) {
      compare.vectors = 2000;
      compare.users = 20;
    }
    results_["clients"] = RunClientComparison(bench_, compare, budget_);
    if (results_["clients"].contains("error"))
      return results_["clients"]["error"].get<std::string>();
    if (results_["clients"]["python"].contains("error")) {
      return results_["clients"]["python"]["error"].get<std::string>();
    }
    return "";
  }

  std::string ConversationPhase() {
    return RunConversationPhase("conversations", ConversationKinds(), /*chunks_per_user=*/0);
  }

  // One chat turn (conversation_workload.h): the conversation phase's data plus chunks per user.
  std::string ChatTurnPhase() {
    return RunConversationPhase("chat-turn", ChatTurnKinds(), options_.turn_chunks_per_user);
  }

  std::string RunConversationPhase(const std::string& phase, const std::vector<std::string>& kinds,
                                   size_t chunks_per_user) {
    ConversationShape shape;
    shape.users = options_.conv_users;
    shape.conversations_per_user = options_.conv_per_user;
    shape.messages_per_conversation = options_.messages_per_conv;
    shape.chunks_per_user = chunks_per_user;
    if (phase == "chat-turn") shape.message_embedding_every = kTurnMessageEmbeddingEvery;
    shape.embeddings = &bench_.data;
    nlohmann::json& results = results_[phase];
    std::string error;
    {
      fs::create_directories(work_dir_ + "/" + phase);
      MnemodProcess server(MnemodBinary(), work_dir_ + "/" + phase, bench_.data.dim, options_);
      if (!server.Start(kStartTimeoutS, &error)) return error;
      auto store = MakeMnemoConversationStore(server.port());
      // The preload leaves flushes and compactions running: operations are measured once they
      // have settled, as PostgreSQL's are after its VACUUM ANALYZE and CHECKPOINT.
      results["mnemo"] = RunConversationWorkload(
          *store, shape, kinds, options_.ops_per_kind, options_.conv_threads, budget_,
          [&server] { return server.WaitUntilIdle(kSettleTimeoutS); });
    }
    if (!options_.postgres) {
      results["postgres"] = {{"error", "disabled with --no-postgres"}};
      return "";
    }
    std::string version;
    auto store = StartPostgresConversationStore(&version, &error);
    if (store == nullptr) {
      results["postgres"] = {{"error", error}};
      return "PostgreSQL not measured: " + error;
    }
    results["postgres"] = RunConversationWorkload(*store, shape, kinds, options_.ops_per_kind,
                                                  options_.conv_threads, budget_);
    results["postgres"]["version"] = version;
    return "";
  }

 public:
  std::string cache_dir_;

 private:
  const BenchOptions& options_;
  std::string work_dir_;
  json& results_;
  TimeBudget budget_;
  BenchData bench_;
  std::vector<int64_t> truth_;
};

std::string GitCommit() {
  const std::string command =
      std::string("git -C ") + MNEMO_BENCH_SOURCE_DIR + " rev-parse HEAD 2>/dev/null";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return "unknown";
  char text[64] = {};
  const bool ok = std::fgets(text, sizeof text, pipe) != nullptr;
  ::pclose(pipe);
  std::string commit = ok ? text : "unknown";
  while (!commit.empty() && (commit.back() == '\n' || commit.back() == '\r')) commit.pop_back();
  return commit;
}

int Main(int argc, char** argv) {
  int exit_code = 0;
  const auto options = ParseBenchOptions(argc, argv, &exit_code);
  if (!options) return exit_code;
  std::string command;
  for (int i = 1; i < argc; ++i) command += (i > 1 ? " " : "") + std::string(argv[i]);

  json results;
  results["command"] = command;
  results["options"] = OptionsJson(*options);
  results["machine"] = {{"cpu", CpuName()},
                        {"cores", static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN))},
                        {"memory_gb", MemoryGb()},
                        {"faiss_simd", FaissSimdNote()}};
  results["date"] = UtcNow();
  results["commit"] = GitCommit();
  results["notes"] = json::array();

  std::error_code ignored;
  fs::create_directories(options->out_dir, ignored);
  std::unique_ptr<TempDir> temp;
  std::string work_dir = options->work_dir;
  // Every phase measures a store it creates: rows left by an earlier run would be measured too.
  if (!work_dir.empty() && fs::exists(work_dir, ignored) && !fs::is_empty(work_dir, ignored)) {
    std::fprintf(stderr,
                 "mnemo-bench: --work-dir %s is not empty; it must be absent or empty, as every "
                 "phase measures a store it creates (remove it or choose another directory)\n",
                 work_dir.c_str());
    return 2;
  }
  if (work_dir.empty()) {
    temp = std::make_unique<TempDir>("mnemo-bench");
    work_dir = temp->path();
  }
  const double start = NowSeconds();
  Harness harness(*options, work_dir, &results);
  harness.cache_dir_ = options->cache_dir.empty() ? DefaultCacheDir() : options->cache_dir;
  if (!harness.Run()) return 1;
  results["total_s"] = NowSeconds() - start;
  EvaluateTargets(results);

  const std::string json_path = options->out_dir + "/results.json";
  std::ofstream(json_path) << results.dump(2) << "\n";
  std::fputs(MarkdownReport(results).c_str(), stdout);
  std::fflush(stdout);
  if (options->plots) {
    const std::string plot = std::string("/usr/bin/python3 ") + MNEMO_BENCH_PLOT_SCRIPT + " " +
                             json_path + " " + options->out_dir + " 1>&2";
    if (std::system(plot.c_str()) != 0) {
      std::fprintf(
          stderr,
          "mnemo-bench: plots not drawn (needs /usr/bin/python3 with python3-matplotlib)\n");
    }
  }
  std::fprintf(stderr, "mnemo-bench: done in %.0f s; results in %s\n", NowSeconds() - start,
               json_path.c_str());
  return 0;
}

}  // namespace
}  // namespace mnemo::bench

int main(int argc, char** argv) { return mnemo::bench::Main(argc, argv); }
