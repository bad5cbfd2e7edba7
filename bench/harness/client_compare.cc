// The Python-vs-C++ client phase (see client_compare.h).
#include "client_compare.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "mnemo/client/client.h"
#include "mnemod_process.h"

namespace mnemo::bench {
namespace {

using nlohmann::json;

constexpr double kStartTimeoutS = 120;
constexpr const char* kSearchUser = "clients-corpus";
constexpr size_t kChunksPerCall = 1000;
constexpr size_t kMessagesPerConversation = 5;
constexpr size_t kPlanQueries = 256;
constexpr int64_t kTopK = 10;
// The message the append cell writes (clients/python/bench/client_bench.py writes the same).
constexpr const char* kMessage =
    "message appended by the client benchmark: the quick brown fox jumps over the lazy dog while "
    "the assistant explains retrieval augmented generation to a curious user";
const char* const kOps[] = {"search", "get", "append"};

struct Conversation {
  std::string user;
  client::Uuid id;
};

// Item i of worker w, the order both halves walk their lists in.
size_t Pick(size_t size, size_t worker, uint64_t i) { return (i * 7919 + worker * 104729) % size; }

double ProcessCpuSeconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

std::string Load(client::Client& client, const BenchData& bench, const ClientCompareOptions& options,
                 std::vector<Conversation>* conversations, size_t* rows, const TimeBudget& budget) {
  client::NewDocument document;
  document.filename = "clients.md";
  document.file_type = "md";
  auto created = client.CreateDocument(kSearchUser, document);
  if (!created.ok()) return "create document: " + created.error().ToString();
  *rows = std::min(options.vectors, bench.data.size());
  {
    Progress progress("clients: load corpus", (*rows + kChunksPerCall - 1) / kChunksPerCall);
    for (size_t first = 0; first < *rows && !budget.Expired(); first += kChunksPerCall) {
      std::vector<client::NewChunk> chunks;
      for (size_t row = first; row < std::min(*rows, first + kChunksPerCall); ++row) {
        client::NewChunk chunk;
        chunk.document_id = created->id;
        chunk.chunk_index = static_cast<int64_t>(row);
        chunk.chunk_text = "chunk " + std::to_string(row) + " of the client benchmark corpus";
        chunk.embedding.assign(bench.data.Row(row).begin(), bench.data.Row(row).end());
        chunks.push_back(std::move(chunk));
      }
      auto added = client.AddChunks(kSearchUser, chunks);
      if (!added.ok()) return "add chunks: " + added.error().ToString();
      progress.Advance();
    }
  }
  Progress progress("clients: load conversations", options.users);
  for (size_t u = 0; u < options.users && !budget.Expired(); ++u) {
    const std::string user = "cc" + std::to_string(u);
    client::Batch batch;  // the user's conversations first: the messages after them refer to them
    const size_t first = conversations->size();
    for (size_t c = 0; c < options.conversations_per_user; ++c) {
      client::NewConversation conversation;
      conversation.id = client::Uuid::Generate();
      conversation.title = "Conversation " + std::to_string(c) + " of " + user;
      conversations->push_back({user, *conversation.id});
      batch.CreateConversation(std::move(conversation));
    }
    for (size_t c = first; c < conversations->size(); ++c) {
      for (size_t m = 0; m < kMessagesPerConversation; ++m) {
        client::NewMessage message;
        message.conversation_id = (*conversations)[c].id;
        message.role = m % 2 == 0 ? "user" : "assistant";
        message.content = kMessage;
        message.tokens_used = 42;
        batch.AppendMessage(std::move(message));
      }
    }
    auto applied = client.ApplyBatch(user, batch);
    if (!applied.ok()) return "load conversations: " + applied.error().ToString();
    progress.Advance();
  }
  // Searches measure the graph path: wait until every row is linked.
  while (!budget.Expired()) {
    auto partitions = client.ListPartitions();
    if (!partitions.ok()) return "list partitions: " + partitions.error().ToString();
    int64_t pending = 0;
    for (const auto& partition : *partitions) pending += partition.pending_rows;
    if (pending == 0) return "";
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return "time budget spent while loading";
}

// One C++ cell: `threads` threads sharing `client` call `op` for warm-up + seconds.
json MeasureCpp(client::Client& client, const MnemodProcess& server, const BenchData& bench,
                const std::vector<Conversation>& conversations, const std::string& op, size_t threads,
                const ClientCompareOptions& options) {
  const size_t queries = std::min(kPlanQueries, bench.data.query_count());
  std::atomic<bool> measuring{false};
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> calls{0};
  std::atomic<uint64_t> errors{0};
  std::string first_error;
  std::mutex error_mutex;
  const auto worker = [&](size_t w) {
    for (uint64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
      bool ok = true;
      std::string why;
      if (op == "search") {
        client::SearchRequest request;
        const auto query = bench.data.Query(Pick(queries, w, i));
        request.query.assign(query.begin(), query.end());
        request.top_k = kTopK;
        auto result = client.Search(kSearchUser, request);
        ok = result.ok();
        if (!ok) why = result.error().ToString();
      } else {
        const Conversation& c = conversations[Pick(conversations.size(), w, i)];
        if (op == "get") {
          auto result = client.GetConversation(c.user, c.id);
          ok = result.ok();
          if (!ok) why = result.error().ToString();
        } else {
          client::NewMessage message;
          message.conversation_id = c.id;
          message.role = "user";
          message.content = kMessage;
          message.tokens_used = 42;
          auto result = client.AppendMessage(c.user, message);
          ok = result.ok();
          if (!ok) why = result.error().ToString();
        }
      }
      if (!ok && errors.fetch_add(1) == 0) {
        std::lock_guard lock(error_mutex);
        first_error = why;
      }
      if (measuring.load(std::memory_order_relaxed)) calls.fetch_add(1, std::memory_order_relaxed);
    }
  };
  std::vector<std::thread> pool;
  for (size_t w = 0; w < threads; ++w) pool.emplace_back(worker, w);
  std::this_thread::sleep_for(std::chrono::duration<double>(options.warmup_seconds));
  const double cpu_start = ProcessCpuSeconds();
  const double server_start = server.CpuSeconds();
  const double start = NowSeconds();
  measuring = true;
  std::this_thread::sleep_for(std::chrono::duration<double>(options.seconds));
  measuring = false;
  const double wall = NowSeconds() - start;
  const double cpu = ProcessCpuSeconds() - cpu_start;
  const double server_cpu = server.CpuSeconds() - server_start;
  stop = true;
  for (auto& thread : pool) thread.join();
  const double n = static_cast<double>(calls.load());
  json cell = {{"client", "cpp"}, {"op", op}, {"concurrency", threads}, {"calls", calls.load()},
               {"seconds", wall}, {"qps", wall > 0 ? n / wall : 0}, {"cpu_us_per_call", n > 0 ? 1e6 * cpu / n : 0},
               {"server_cpu_us_per_call", n > 0 ? 1e6 * server_cpu / n : 0}};
  if (errors > 0) cell["errors"] = {{"count", errors.load()}, {"first", first_error}};
  return cell;
}

// One Python cell: runs the script and parses its JSON line.
json MeasurePython(const ClientCompareOptions& options, const std::string& plan, const std::string& op,
                   size_t concurrency) {
  const std::string mode = concurrency == 1 ? "sync" : "async";
  const std::string log = options.work_dir + "/client_bench.log";
  char seconds[32];
  char warmup[32];
  std::snprintf(seconds, sizeof seconds, "%.3f", options.seconds);
  std::snprintf(warmup, sizeof warmup, "%.3f", options.warmup_seconds);
  const std::string command = "'" + options.python + "' '" + options.script + "' --plan '" + plan + "' --op " + op +
                              " --mode " + mode + " --concurrency " + std::to_string(concurrency) + " --seconds " +
                              seconds + " --warmup " + warmup + " 2>>'" + log + "'";
  FILE* pipe = ::popen(command.c_str(), "r");
  json cell = {{"client", "python"}, {"op", op}, {"concurrency", concurrency}, {"mode", mode}};
  if (pipe == nullptr) {
    cell["error"] = "cannot run " + options.python;
    return cell;
  }
  std::string output;
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
  const int status = ::pclose(pipe);
  const auto line_start = output.rfind('{');
  if (status != 0 || line_start == std::string::npos) {
    cell["error"] = "client_bench.py failed (status " + std::to_string(status) + "): " + FileTail(log, 600);
    return cell;
  }
  const json measured = json::parse(output.substr(line_start), nullptr, false);
  if (measured.is_discarded()) {
    cell["error"] = "unreadable output: " + output;
    return cell;
  }
  for (const char* key : {"calls", "seconds", "qps", "cpu_us_per_call", "server_cpu_us_per_call"}) {
    cell[key] = measured.value(key, 0.0);
  }
  return cell;
}

double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t middle = values.size() / 2;
  return values.size() % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
}

// One cell per (client, op, concurrency): the first round's, with each figure the median over
// the rounds that did not fail.
json MedianCells(const json& rounds) {
  json cells = json::array();
  for (const json& cell : rounds) {
    const auto same = [&](const json& other) {
      return other["client"] == cell["client"] && other["op"] == cell["op"] &&
             other["concurrency"] == cell["concurrency"];
    };
    bool seen = false;
    for (const json& done : cells) seen = seen || same(done);
    if (seen) continue;
    json merged = cell;
    size_t measured = 0;
    for (const char* key : {"calls", "seconds", "qps", "cpu_us_per_call", "server_cpu_us_per_call"}) {
      std::vector<double> values;
      for (const json& other : rounds) {
        if (same(other) && !other.contains("error") && other.contains(key)) values.push_back(other[key].get<double>());
      }
      measured = values.size();
      if (!values.empty()) merged[key] = Median(values);
    }
    merged["rounds"] = measured;
    if (measured > 0) merged.erase("error");
    cells.push_back(std::move(merged));
  }
  return cells;
}

}  // namespace

json RunClientComparison(const BenchData& bench, const ClientCompareOptions& options, const TimeBudget& budget) {
  std::string error;
  MnemodProcess server(options.mnemod, options.work_dir, bench.data.dim, *options.options);
  if (!server.Start(kStartTimeoutS, &error)) return {{"error", error}};
  client::ClientOptions client_options;
  client_options.port = server.port();
  client_options.client_name = "mnemo-bench-clients";
  auto connected = client::Client::Connect(client_options);
  if (!connected.ok()) return {{"error", connected.error().ToString()}};
  std::unique_ptr<client::Client> client = std::move(connected).value();

  std::vector<Conversation> conversations;
  size_t rows = 0;
  error = Load(*client, bench, options, &conversations, &rows, budget);
  if (!error.empty()) return {{"error", error}};

  // The plan the Python half reads.
  const std::string queries_file = options.work_dir + "/queries.f32";
  const size_t queries = std::min(kPlanQueries, bench.data.query_count());
  std::ofstream(queries_file, std::ios::binary)
      .write(reinterpret_cast<const char*>(bench.data.queries.data()),
             static_cast<std::streamsize>(queries * bench.data.dim * sizeof(float)));
  json plan = {{"port", server.port()}, {"server_pid", server.pid()}, {"dimension", bench.data.dim},
               {"search_user", kSearchUser},
               {"queries_file", queries_file}, {"conversations", json::array()}};
  for (const Conversation& c : conversations) plan["conversations"].push_back({c.user, c.id.ToString()});
  const std::string plan_path = options.work_dir + "/plan.json";
  std::ofstream(plan_path) << plan.dump();

  json out = {{"vectors", rows}, {"dimension", bench.data.dim}, {"conversations", conversations.size()},
              {"top_k", kTopK}, {"seconds_per_cell", options.seconds}, {"cells", json::array()}};
  const bool python = !options.python.empty() && ::access(options.python.c_str(), X_OK) == 0;
  out["python"] = {{"interpreter", options.python}};
  if (!python) {
    out["python"]["error"] = "no Python interpreter with the mnemo package at '" + options.python +
                             "' (install it, e.g. ctest -R python_client_install, or pass --python)";
  }
  Progress progress("clients: C++ vs Python", std::size(kOps) * 2 * options.rounds);
  out["round_cells"] = json::array();
  for (size_t round = 0; round < options.rounds; ++round) {
    for (const char* op : kOps) {
      for (const size_t concurrency : {size_t{1}, options.concurrency}) {
        if (budget.Expired()) break;
        out["round_cells"].push_back(MeasureCpp(*client, server, bench, conversations, op, concurrency, options));
        if (python) out["round_cells"].push_back(MeasurePython(options, plan_path, op, concurrency));
        progress.Advance();
      }
    }
  }
  out["rounds"] = options.rounds;
  out["cells"] = MedianCells(out["round_cells"]);
  return out;
}

}  // namespace mnemo::bench
