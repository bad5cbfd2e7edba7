// mnemo_wire_bench: latency of the hot operations over the wire (a real mnemod on
// 127.0.0.1, driven by the C++ client) beside the same operations on an in-process Engine with
// the same data — the cost of the protocol, the server and the loopback hop.
//
// Operations: get a conversation, list a user's 10 most recently updated, the last 50 messages of a
// conversation (all of its 20), append a message (durable: the WAL is synced before the
// acknowledgement), and a 1536-d top-10 cosine search over one user's chunks (graph path); the
// load phase's 1000-chunk AddChunks calls are reported too (while the indexer runs beside them).
// Each runs for --seconds with 1 and then 2 client threads; every call is timed, and the table
// gives ops/s (all threads together) and p50/p99 per call.
//
//   build/bench/wire/mnemo_wire_bench [--conversations 2000] [--chunks 20000] [--seconds 3]
//                                     [--no-direct]  (the client's pipelined path only)
//                                     [--ops get,list,last,append,search] [--threads 1,2]
//                                     [--no-sync]  (writes not synced: the CPU part of a write)
//                                     [--server-arg=--io-spin-us --server-arg=30]  (mnemod flags)
//
// --batches N runs only the batch-write phase: N durable 1000-chunk AddChunks calls (rows cycle
// through the --chunks generated vectors, chunk_index stays unique) per system, and reports
// p50/p90/p99/max.  --system in-process|wire|both picks the systems (in-process alone is what
// `perf record` wants).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "dataset.h"
#include "mnemo/client/client.h"
#include "mnemo/engine.h"
#include "mnemod_process.h"

namespace {

using Clock = std::chrono::steady_clock;
using mnemo::bench::Dataset;
using mnemo::client::testing::MnemodProcess;
using mnemo::client::testing::TempDir;

constexpr int kMessagesPerConversation = 20;
constexpr int kUsers = 100;
constexpr size_t kChunksPerCall = 1000;
const std::string kSearchUser = "corpus-owner";

std::string UserName(size_t i) { return "user-" + std::to_string(i % kUsers); }

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "mnemo_wire_bench: %s\n", what.c_str());
  std::exit(1);
}

// The error text of a failed engine or client Result.
template <typename R>
std::string Why(const R& result) {
  if constexpr (requires { result.status(); }) {
    return result.status().ToString();
  } else {
    return result.error().ToString();
  }
}

template <typename R>
auto Must(R result, const char* what) {
  if (!result.ok()) Die(std::string(what) + ": " + Why(result));
  return std::move(result).value();
}

// The two systems under test expose the same method names and value types (the client mirrors
// the engine's records), so one template loads and drives both.  `Api` is the namespace's types.
struct EngineApi {
  using Target = mnemo::Engine;
  using Uuid = mnemo::Uuid;
  using NewConversation = mnemo::NewConversation;
  using NewMessage = mnemo::NewMessage;
  using NewDocument = mnemo::NewDocument;
  using NewChunk = mnemo::NewChunk;
  using SearchRequest = mnemo::SearchRequest;
  using ConversationListOptions = mnemo::ConversationListOptions;
  using ConversationOrder = mnemo::ConversationOrder;
  static constexpr const char* kName = "in-process";
};

struct WireApi {
  using Target = mnemo::client::Client;
  using Uuid = mnemo::client::Uuid;
  using NewConversation = mnemo::client::NewConversation;
  using NewMessage = mnemo::client::NewMessage;
  using NewDocument = mnemo::client::NewDocument;
  using NewChunk = mnemo::client::NewChunk;
  using SearchRequest = mnemo::client::SearchRequest;
  using ConversationListOptions = mnemo::client::ConversationListOptions;
  using ConversationOrder = mnemo::client::ConversationOrder;
  static constexpr const char* kName = "wire";
};

template <typename Api>
struct Loaded {
  std::vector<typename Api::Uuid> conversations;  // conversation i belongs to UserName(i)
  std::vector<double> add_chunks_us;              // latency of each kChunksPerCall-chunk write
  double add_chunks_seconds = 0;                  // wall time of all of them
};

// Writes `rows` chunks of one new document in kChunksPerCall-chunk AddChunks calls, timing each
// call.  Row r carries chunk_index r and the vector of dataset row r % data.size().
template <typename Api>
void AddChunks(typename Api::Target& target, const Dataset& data, size_t rows,
               Loaded<Api>* loaded) {
  typename Api::NewDocument document;
  document.filename = "corpus.md";
  document.file_type = "md";
  const auto document_id = Must(target.CreateDocument(kSearchUser, document), "create document").id;
  for (size_t first = 0; first < rows; first += kChunksPerCall) {
    std::vector<typename Api::NewChunk> chunks;
    for (size_t row = first; row < std::min(rows, first + kChunksPerCall); ++row) {
      typename Api::NewChunk chunk;
      chunk.document_id = document_id;
      chunk.chunk_index = static_cast<int64_t>(row);
      chunk.chunk_text = "chunk " + std::to_string(row);
      const auto vector = data.Row(row % data.size());
      chunk.embedding.assign(vector.begin(), vector.end());
      chunks.push_back(std::move(chunk));
    }
    const auto begin = Clock::now();
    Must(target.AddChunks(kSearchUser, chunks), "add chunks");
    const auto elapsed = Clock::now() - begin;
    loaded->add_chunks_us.push_back(std::chrono::duration<double, std::micro>(elapsed).count());
    loaded->add_chunks_seconds += std::chrono::duration<double>(elapsed).count();
  }
}

template <typename Api>
Loaded<Api> Load(typename Api::Target& target, size_t conversations, const Dataset& data) {
  Loaded<Api> loaded;
  for (size_t i = 0; i < conversations; ++i) {
    typename Api::NewConversation conversation;
    conversation.title = "Conversation " + std::to_string(i);
    const auto id =
        Must(target.CreateConversation(UserName(i), conversation), "create conversation").id;
    loaded.conversations.push_back(id);
    for (int m = 0; m < kMessagesPerConversation; ++m) {
      typename Api::NewMessage message;
      message.conversation_id = id;
      message.role = m % 2 == 0 ? "user" : "assistant";
      message.content = "message " + std::to_string(m) + " of a benchmark conversation";
      message.tokens_used = 12;
      Must(target.AppendMessage(UserName(i), message), "append message");
    }
  }
  AddChunks<Api>(target, data, data.size(), &loaded);
  return loaded;
}

// Waits until every chunk is linked into its graph, so searches measure the graph path.
void WaitUntilIndexed(mnemo::Engine& engine) { engine.WaitForIndexing(); }
void WaitUntilIndexed(mnemo::client::Client& client) {
  const auto deadline = Clock::now() + std::chrono::minutes(10);
  while (Clock::now() < deadline) {
    int64_t pending = 0;
    for (const auto& partition : Must(client.ListPartitions(), "list partitions"))
      pending += partition.pending_rows;
    if (pending == 0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  Die("mnemod did not finish indexing within 10 minutes");
}

struct Row {
  std::string op;
  const char* system;
  int threads;
  double ops_per_second;
  double p50_us;
  double p99_us;
};

double Percentile(std::vector<double>& samples, double q) {
  if (samples.empty()) return 0;
  const size_t rank =
      std::min(samples.size() - 1, static_cast<size_t>(q * static_cast<double>(samples.size())));
  std::nth_element(samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(rank),
                   samples.end());
  return samples[rank];
}

// Runs `op(thread, iteration)` on `threads` threads for `seconds`; every call is timed.
Row Measure(const std::string& name, const char* system, int threads, double seconds,
            const std::function<void(int, uint64_t)>& op) {
  std::vector<std::vector<double>> latencies(static_cast<size_t>(threads));
  const auto start = Clock::now();
  const auto stop_at =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      auto& mine = latencies[static_cast<size_t>(t)];
      for (uint64_t i = 0; Clock::now() < stop_at; ++i) {
        const auto begin = Clock::now();
        op(t, i);
        mine.push_back(std::chrono::duration<double, std::micro>(Clock::now() - begin).count());
      }
    });
  }
  for (auto& worker : workers) worker.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (const auto& mine : latencies) all.insert(all.end(), mine.begin(), mine.end());
  const double count = static_cast<double>(all.size());
  return Row{name, system, threads, count / elapsed, Percentile(all, 0.50), Percentile(all, 0.99)};
}

// Which operations Run measures and on how many client threads.
struct RunPlan {
  std::vector<std::string> ops{"get", "list", "last", "append", "search"};
  std::vector<int> threads{1, 2};
  bool Wants(const std::string& op) const {
    return std::find(ops.begin(), ops.end(), op) != ops.end();
  }
};

template <typename Api>
void Run(typename Api::Target& target, Loaded<Api>& loaded, const Dataset& data, double seconds,
         const RunPlan& plan, std::vector<Row>* rows) {
  const double calls = static_cast<double>(loaded.add_chunks_us.size());
  rows->push_back(Row{"add " + std::to_string(kChunksPerCall) + " chunks (load)", Api::kName, 1,
                      calls / loaded.add_chunks_seconds, Percentile(loaded.add_chunks_us, 0.50),
                      Percentile(loaded.add_chunks_us, 0.99)});
  const size_t conversations = loaded.conversations.size();
  for (int threads : plan.threads) {
    if (plan.Wants("get"))
      rows->push_back(
          Measure("get conversation", Api::kName, threads, seconds, [&](int t, uint64_t i) {
            const size_t c = (i * 7919 + static_cast<uint64_t>(t) * 104729) % conversations;
            Must(target.GetConversation(UserName(c), loaded.conversations[c]), "get conversation");
          }));
    if (plan.Wants("list"))
      rows->push_back(
          Measure("list 10 recent", Api::kName, threads, seconds, [&](int t, uint64_t i) {
            const size_t c = (i * 7919 + static_cast<uint64_t>(t) * 104729) % conversations;
            typename Api::ConversationListOptions options;
            options.order = Api::ConversationOrder::kUpdatedDesc;
            options.limit = 10;
            Must(target.ListConversations(UserName(c), options), "list conversations");
          }));
    if (plan.Wants("last"))
      rows->push_back(
          Measure("last 50 messages", Api::kName, threads, seconds, [&](int t, uint64_t i) {
            const size_t c = (i * 7919 + static_cast<uint64_t>(t) * 104729) % conversations;
            Must(target.LastMessages(UserName(c), loaded.conversations[c], 50), "last messages");
          }));
    if (plan.Wants("append"))
      rows->push_back(
          Measure("append message", Api::kName, threads, seconds, [&](int t, uint64_t i) {
            const size_t c = (i * 7919 + static_cast<uint64_t>(t) * 104729) % conversations;
            typename Api::NewMessage message;
            message.conversation_id = loaded.conversations[c];
            message.role = "user";
            message.content = "a new message appended by the benchmark";
            message.tokens_used = 9;
            Must(target.AppendMessage(UserName(c), message), "append message");
          }));
    if (plan.Wants("search"))
      rows->push_back(
          Measure("search top-10", Api::kName, threads, seconds, [&](int t, uint64_t i) {
            typename Api::SearchRequest request;
            const auto query = data.Query((i * 2 + static_cast<uint64_t>(t)) % data.query_count());
            request.query.assign(query.begin(), query.end());
            request.top_k = 10;
            const auto response = Must(target.Search(kSearchUser, request), "search");
            if (response.hits.size() != 10)
              Die("search returned " + std::to_string(response.hits.size()) + " hits");
          }));
  }
}

// The batch-write phase alone: `batches` calls per system, then one line per system.
struct BatchRow {
  const char* system;
  std::vector<double> us;
};

template <typename Api>
BatchRow MeasureBatches(typename Api::Target& target, const Dataset& data, size_t batches) {
  Loaded<Api> loaded;
  AddChunks<Api>(target, data, batches * kChunksPerCall, &loaded);
  return BatchRow{Api::kName, std::move(loaded.add_chunks_us)};
}

void PrintBatchRows(std::vector<BatchRow>& rows) {
  std::printf("| %zu-chunk AddChunks (durable) | calls | p50 ms | p90 ms | p99 ms | max ms |\n",
              kChunksPerCall);
  std::printf("|---|---:|---:|---:|---:|---:|\n");
  for (BatchRow& row : rows) {
    std::vector<double>& us = row.us;
    const double max = us.empty() ? 0 : *std::max_element(us.begin(), us.end());
    std::printf("| %s | %zu | %.1f | %.1f | %.1f | %.1f |\n", row.system, us.size(),
                Percentile(us, 0.50) / 1000, Percentile(us, 0.90) / 1000,
                Percentile(us, 0.99) / 1000, max / 1000);
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"mnemo_wire_bench: over-the-wire vs in-process latency of get/append/search"};
  size_t conversations = 2000;
  size_t chunks = 20000;
  size_t dimension = 1536;
  double seconds = 3;
  size_t batches = 0;
  std::string system = "both";
  bool no_direct = false;
  bool no_sync = false;
  std::vector<std::string> server_args;
  RunPlan plan;
  app.add_option("--conversations", conversations, "conversations preloaded (20 messages each)")
      ->check(CLI::PositiveNumber);
  app.add_option("--chunks", chunks, "chunks (vectors) preloaded for one user")
      ->check(CLI::PositiveNumber);
  app.add_option("--dimension", dimension, "embedding dimension")->check(CLI::Range(1, 4096));
  app.add_option("--seconds", seconds, "measuring time per operation and thread count")
      ->check(CLI::PositiveNumber);
  app.add_option("--batches", batches,
                 "run only the batch phase: this many 1000-chunk AddChunks calls per system")
      ->check(CLI::PositiveNumber);
  app.add_option("--system", system, "systems to run: in-process, wire or both")
      ->check(CLI::IsMember({"in-process", "wire", "both"}));
  app.add_flag("--no-direct", no_direct,
               "client: turn direct calls off (ClientOptions::direct_calls), every call pipelined");
  app.add_flag("--no-sync", no_sync,
               "both systems: acknowledge writes without syncing the WAL (what a write costs "
               "besides its fsync)");
  app.add_option("--server-arg", server_args, "an extra mnemod flag or value (repeatable)");
  app.add_option("--ops", plan.ops, "operations to measure (get, list, last, append, search)")
      ->delimiter(',')
      ->check(CLI::IsMember({"get", "list", "last", "append", "search"}));
  app.add_option("--threads", plan.threads, "client thread counts, each measured in turn")
      ->delimiter(',')
      ->check(CLI::Range(1, 256));
  CLI11_PARSE(app, argc, argv);
  const bool in_process = system != "wire";
  const bool wire = system != "in-process";

  mnemo::bench::DatasetOptions data_options;
  data_options.n = chunks;
  data_options.dim = dimension;
  data_options.num_queries = 1000;
  std::fprintf(stderr, "generating %zu x %zu vectors\n", chunks, dimension);
  const Dataset data = mnemo::bench::GenerateDataset(data_options);

  std::vector<Row> rows;
  std::vector<BatchRow> batch_rows;
  TempDir work;
  if (in_process) {
    std::fprintf(stderr, "in-process: loading\n");
    mnemo::EngineOptions options;
    options.data_dir = work.path() + "/engine";
    options.dimension = static_cast<uint32_t>(dimension);
    options.sync_writes = !no_sync;
    if (batches > 0)
      options.max_rows_linked_on_close = 0;  // the batch phase ends at the last write
    auto engine = Must(mnemo::Engine::Open(options), "open engine");
    if (batches > 0) {
      batch_rows.push_back(MeasureBatches<EngineApi>(*engine, data, batches));
    } else {
      auto loaded = Load<EngineApi>(*engine, conversations, data);
      WaitUntilIndexed(*engine);
      std::fprintf(stderr, "in-process: measuring\n");
      Run<EngineApi>(*engine, loaded, data, seconds, plan, &rows);
    }
  }
  if (wire) {
    std::fprintf(stderr, "wire: starting mnemod and loading\n");
    MnemodProcess server(work.path());
    server.set_dimension(static_cast<uint32_t>(dimension));
    if (no_sync) server_args.insert(server_args.end(), {"--sync-writes", "false"});
    server.set_extra_args(server_args);
    std::string error;
    if (!server.Start(0, &error)) Die(error);
    mnemo::client::ClientOptions options;
    options.port = server.port();
    options.pool_size = 2;
    options.direct_calls = !no_direct;
    auto client = Must(mnemo::client::Client::Connect(options), "connect");
    if (batches > 0) {
      batch_rows.push_back(MeasureBatches<WireApi>(*client, data, batches));
    } else {
      auto loaded = Load<WireApi>(*client, conversations, data);
      WaitUntilIndexed(*client);
      std::fprintf(stderr, "wire: measuring\n");
      Run<WireApi>(*client, loaded, data, seconds, plan, &rows);
    }
    client.reset();
    server.Stop();
  }

  if (batches > 0) {
    PrintBatchRows(batch_rows);
    return 0;
  }
  std::printf("| operation | system | client threads | ops/s | p50 µs | p99 µs |\n");
  std::printf("|---|---|---:|---:|---:|---:|\n");
  std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    return a.op != b.op ? a.op < b.op : a.threads < b.threads;
  });
  for (const Row& row : rows) {
    std::printf("| %s | %s | %d | %.0f | %.1f | %.1f |\n", row.op.c_str(), row.system, row.threads,
                row.ops_per_second, row.p50_us, row.p99_us);
  }
  return 0;
}
