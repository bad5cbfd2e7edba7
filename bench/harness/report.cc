// Markdown report and target evaluation (see report.h).
#include "report.h"

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <vector>

#include "conversation_workload.h"
#include "latency.h"
#include "replication_phase.h"
#include "text_phase.h"

namespace mnemo::bench {
namespace {

using nlohmann::json;

constexpr double kRecallTarget = 0.95;

std::string Fmt(const char* format, double value) {
  char text[64];
  std::snprintf(text, sizeof text, format, value);
  return text;
}

double Num(const json& node, const char* key, double fallback = 0) {
  return node.contains(key) && node[key].is_number() ? node[key].get<double>() : fallback;
}

std::vector<CurvePoint> Curve(const json& points) {
  std::vector<CurvePoint> curve;
  for (const json& point : points) curve.push_back({Num(point, "recall"), Num(point, "qps")});
  return curve;
}

// The wire sweep's points for `threads` client threads, in ef order.
json WirePoints(const json& results, size_t threads) {
  json points = json::array();
  if (!results.contains("search")) return points;
  for (const json& run : results["search"]["runs"]) {
    if (run["threads"].get<size_t>() == threads) points.push_back(run);
  }
  return points;
}

// An in-process system as the report names it: its label and the SIMD level it runs at.
std::string PeerName(const std::string& key, const json& system) {
  std::string name = system.contains("label") ? system["label"].get<std::string>() : key;
  if (system.contains("simd")) name += " [" + system["simd"].get<std::string>() + "]";
  return name;
}

json Target(const std::string& text, bool measured, bool met, const std::string& value) {
  return {{"target", text},
          {"status", !measured ? "not measured" : (met ? "met" : "not met")},
          {"value", value}};
}

// The clients phase's cell of `client` for `op` at `concurrency`, or null.
const json* ClientCell(const json& results, const std::string& client, const std::string& op,
                       size_t concurrency) {
  if (!results.contains("clients") || !results["clients"].contains("cells")) return nullptr;
  for (const json& cell : results["clients"]["cells"]) {
    if (cell.value("client", "") == client && cell.value("op", "") == op &&
        cell.value("concurrency", size_t{0}) == concurrency && !cell.contains("error")) {
      return &cell;
    }
  }
  return nullptr;
}

// The concurrency of the clients phase's many-callers cells (0 when absent).
size_t ManyCallers(const json& results) {
  size_t many = 0;
  if (results.contains("clients") && results["clients"].contains("cells")) {
    for (const json& cell : results["clients"]["cells"])
      many = std::max(many, cell.value("concurrency", size_t{0}));
  }
  return many;
}

}  // namespace

void EvaluateTargets(json& results) {
  json targets = json::array();
  const double wire_qps = QpsAtRecall(Curve(WirePoints(results, 1)), kRecallTarget);
  const bool have_wire = results.contains("search");
  const bool have_peers = results.contains("inprocess");
  double own_qps = 0;
  double hnswlib_qps = 0;
  if (have_peers) {
    // The wire line against the same Engine in-process: what the wire costs.
    if (results["inprocess"].contains("mnemo-engine") &&
        results["inprocess"]["mnemo-engine"].contains("points")) {
      own_qps = QpsAtRecall(Curve(results["inprocess"]["mnemo-engine"]["points"]), kRecallTarget);
    }
    if (results["inprocess"].contains("hnswlib") &&
        results["inprocess"]["hnswlib"].contains("points")) {
      hnswlib_qps = QpsAtRecall(Curve(results["inprocess"]["hnswlib"]["points"]), kRecallTarget);
    }
  }
  const bool both = have_wire && own_qps > 0 && wire_qps > 0;
  targets.push_back(Target(
      "over the wire at recall@10 >= 0.95 (1 client thread): QPS >= 0.8 x mnemo Engine in-process",
      both, both && wire_qps >= 0.8 * own_qps,
      both ? Fmt("%.0f", wire_qps) + " vs " + Fmt("%.0f", own_qps) + " (" +
                 Fmt("%.2f", wire_qps / own_qps) + "x)"
           : "a curve never reached 0.95 or was not run"));
  const bool both_h = have_wire && hnswlib_qps > 0 && wire_qps > 0;
  targets.push_back(
      Target("over the wire at recall@10 >= 0.95 (1 client thread): QPS >= hnswlib in-process",
             both_h, both_h && wire_qps >= hnswlib_qps,
             both_h ? Fmt("%.0f", wire_qps) + " vs " + Fmt("%.0f", hnswlib_qps) + " (" +
                          Fmt("%.2f", wire_qps / hnswlib_qps) + "x)"
                    : "a curve never reached 0.95 or was not run"));
  if (results.contains("filtered")) {
    double worst = 1;
    for (const json& bucket : results["filtered"]["buckets"])
      worst = std::min(worst, Num(bucket, "recall"));
    targets.push_back(Target("filtered recall@10 >= 0.95 in every selectivity bucket", true,
                             worst >= kRecallTarget, "worst bucket " + Fmt("%.3f", worst)));
  } else {
    targets.push_back(
        Target("filtered recall@10 >= 0.95 in every selectivity bucket", false, false, ""));
  }
  // A phase the time budget cut before its first batch measured nothing: never "met".
  const bool ingested = results.contains("ingest") && Num(results["ingest"], "batches") > 0;
  if (ingested) {
    const double p99 = Num(results["ingest"]["batch_latency"], "p99_ms");
    targets.push_back(Target("durable batch p99 <= 20 ms (batch of " +
                                 std::to_string(results["options"]["batch"].get<size_t>()) + ")",
                             true, p99 <= 20, Fmt("%.1f ms", p99)));
  } else {
    targets.push_back(Target("durable batch p99 <= 20 ms", false, false, ""));
  }
  bool conv_measured = false;
  bool conv_met = true;
  std::string conv_value;
  if (results.contains("conversations") && results["conversations"].contains("postgres") &&
      results["conversations"]["postgres"].contains("ops") &&
      results["conversations"].contains("mnemo") &&
      results["conversations"]["mnemo"].contains("ops")) {
    conv_measured = true;
    for (const auto& [kind, pg] : results["conversations"]["postgres"]["ops"].items()) {
      const double ours = Num(results["conversations"]["mnemo"]["ops"][kind], "ops_per_s");
      const double theirs = Num(pg, "ops_per_s");
      if (theirs <= 0 || ours <= 0) conv_measured = false;  // cut short by the time budget
      const double ratio = theirs > 0 ? ours / theirs : 0;
      conv_met = conv_met && ratio >= 2;
      conv_value += kind + " " + Fmt("%.2fx", ratio) + "; ";
    }
  }
  targets.push_back(Target("conversation operations >= 2 x PostgreSQL throughput (each kind)",
                           conv_measured, conv_met, conv_value));
  // Issue 16: >= 1.0 x PostgreSQL's throughput with a p99 no worse, for every kind.
  bool parity_met = true;
  std::string parity_value;
  if (conv_measured) {
    for (const auto& [kind, pg] : results["conversations"]["postgres"]["ops"].items()) {
      const json& ours = results["conversations"]["mnemo"]["ops"][kind];
      const double ratio =
          Num(pg, "ops_per_s") > 0 ? Num(ours, "ops_per_s") / Num(pg, "ops_per_s") : 0;
      const double our_p99 = Num(ours["latency"], "p99_ms");
      const double their_p99 = Num(pg["latency"], "p99_ms");
      parity_met = parity_met && ratio >= 1 && our_p99 <= their_p99;
      parity_value += kind + " " + Fmt("%.2fx", ratio) + " (p99 " + Fmt("%.2f", our_p99) + " vs " +
                      Fmt("%.2f ms", their_p99) + "); ";
    }
  }
  targets.push_back(
      Target("conversation operations >= 1.0 x PostgreSQL throughput, p99 no worse (each kind)",
             conv_measured, parity_met, parity_value));
  // A chat turn over the wire: p99 <= 3 ms, and >= 3 x PostgreSQL's relational part.
  {
    bool measured = false;
    double p99 = 0;
    double ratio = 0;
    if (results.contains("chat-turn") && results["chat-turn"].contains("mnemo") &&
        results["chat-turn"]["mnemo"].contains("ops")) {
      const json& ours = results["chat-turn"]["mnemo"]["ops"]["chat_turn"];
      measured = Num(ours, "ops_per_s") > 0 && ours["errors"].get<size_t>() == 0;
      p99 = Num(ours["latency"], "p99_ms");
      if (results["chat-turn"].contains("postgres") &&
          results["chat-turn"]["postgres"].contains("ops")) {
        const double theirs =
            Num(results["chat-turn"]["postgres"]["ops"]["chat_turn"], "ops_per_s");
        ratio = theirs > 0 ? Num(ours, "ops_per_s") / theirs : 0;
      }
    }
    targets.push_back(
        Target("chat turn over the wire p99 <= 3 ms", measured, p99 <= 3, Fmt("%.2f ms", p99)));
    targets.push_back(Target("chat turn >= 3 x PostgreSQL's relational part", measured && ratio > 0,
                             ratio >= 3, Fmt("%.2fx", ratio)));
  }
  // Issue 16: the Python client >= 0.8 x the C++ client's QPS for search and get.
  bool clients_measured = ManyCallers(results) > 0;
  bool clients_met = true;
  std::string clients_value;
  for (const char* op : {"search", "get"}) {
    for (const size_t concurrency : {size_t{1}, ManyCallers(results)}) {
      const json* cpp = ClientCell(results, "cpp", op, concurrency);
      const json* python = ClientCell(results, "python", op, concurrency);
      if (cpp == nullptr || python == nullptr || Num(*cpp, "qps") <= 0) {
        clients_measured = false;
        continue;
      }
      const double ratio = Num(*python, "qps") / Num(*cpp, "qps");
      clients_met = clients_met && ratio >= 0.8;
      clients_value +=
          std::string(op) + " x" + std::to_string(concurrency) + " " + Fmt("%.2fx", ratio) + "; ";
    }
  }
  targets.push_back(
      Target("Python client QPS >= 0.8 x C++ client (search, get; 1 and many callers)",
             clients_measured, clients_met, clients_value));
  // A restart of a server that holds nothing, or whose first search found nothing, says
  // nothing about the target.
  if (ingested && results.contains("restart") && results["restart"].contains("first_search_s") &&
      Num(results["restart"], "first_search_hits") > 0) {
    const double seconds = Num(results["restart"], "first_search_s");
    const size_t n = results["options"]["n"].get<size_t>();
    const size_t d = results["options"]["d"].get<size_t>();
    const bool full_size = n >= 100000 && d >= 1536;
    targets.push_back(Target(
        "restart to first search <= 2 s for 100k x 1536", full_size, full_size && seconds <= 2,
        Fmt("%.2f s", seconds) + " at n=" + std::to_string(n) + ", d=" + std::to_string(d)));
  } else {
    targets.push_back(Target("restart to first search <= 2 s for 100k x 1536", false, false, ""));
  }
  results["targets"] = targets;
}

// The seed table: one row per store and bucket, the reference store first.
void SeedSection(const json& seed, std::ostringstream& out) {
  out << "## Search on the seeds' shape (per user, over the wire, 1 client thread, adaptive ef)\n\n"
      << seed["users"].get<size_t>() << " Zipf users plus one tenant holding "
      << Fmt("%.0f%%", 100 * Num(seed, "big_share")) << " of the rows; "
      << seed["queries_per_bucket"].get<size_t>()
      << " queries per bucket, each run as one user of the bucket.\n\n"
      << "| months | bucket | users | rows | filter | recall@10 | exact answers | QPS | p50 ms | "
         "p99 ms |\n"
      << "|---|---|---|---|---|---|---|---|---|---|\n";
  auto store_rows = [&](const json& store, const std::string& label) {
    if (store.contains("error")) {
      out << "| " << label << " | not run: " << store["error"].get<std::string>()
          << " | | | | | | | | |\n";
      return;
    }
    for (const json& bucket : store["buckets"]) {
      for (const char* filter : {"all", "last_30_days"}) {
        if (!bucket.contains(filter)) continue;
        const json& run = bucket[filter];
        out << "| " << label << " | " << bucket["bucket"].get<std::string>() << " | "
            << bucket["users"].get<size_t>() << " | " << bucket["rows"].get<size_t>() << " | "
            << (std::string(filter) == "all" ? "none" : "last 30 days") << " | "
            << Fmt("%.3f", Num(run, "recall")) << " | "
            << Fmt("%.0f%%", 100 * Num(run, "exact_fraction")) << " | "
            << Fmt("%.0f", Num(run, "qps")) << " | " << Fmt("%.2f", Num(run["latency"], "p50_ms"))
            << " | " << Fmt("%.2f", Num(run["latency"], "p99_ms")) << " |\n";
      }
    }
  };
  if (seed.contains("reference")) store_rows(seed["reference"], "1 (one tenant)");
  for (const json& store : seed["stores"]) {
    store_rows(store,
               store.contains("months") ? std::to_string(store["months"].get<size_t>()) : "?");
  }
  out << "\nIngest and memory per store:\n\n| months | vectors/s | batch p50 ms | batch p99 ms | "
         "all rows in the graphs after | RSS bytes/vector (of which anonymous) |\n"
         "|---|---|---|---|---|---|\n";
  auto ingest_row = [&](const json& store, const std::string& label) {
    if (!store.contains("ingest")) return;
    const json& ingest = store["ingest"];
    out << "| " << label << " | " << Fmt("%.0f", Num(ingest, "vectors_per_s")) << " | "
        << Fmt("%.1f", Num(ingest["batch_latency"], "p50_ms")) << " | "
        << Fmt("%.1f", Num(ingest["batch_latency"], "p99_ms")) << " | "
        << Fmt("%.1f s", Num(ingest, "indexed_s")) << " | "
        << Fmt("%.0f", Num(store, "rss_bytes_per_vector")) << " ("
        << Fmt("%.0f", Num(store, "rss_anon_bytes_per_vector")) << ") |\n";
  };
  if (seed.contains("reference")) ingest_row(seed["reference"], "1 (one tenant)");
  for (const json& store : seed["stores"]) {
    ingest_row(store,
               store.contains("months") ? std::to_string(store["months"].get<size_t>()) : "?");
  }
  out << "\n";
}

std::string MarkdownReport(const json& results) {
  std::ostringstream out;
  const json& options = results["options"];
  out << "# mnemo-bench results\n\n";
  out << "- command: `mnemo-bench " << results["command"].get<std::string>() << "`\n";
  out << "- machine: " << results["machine"]["cpu"].get<std::string>() << ", "
      << results["machine"]["cores"].get<int>() << " cores, "
      << results["machine"]["memory_gb"].get<double>() << " GB; date "
      << results["date"].get<std::string>() << "\n";
  if (results["machine"].contains("faiss_simd")) {
    out << "- FAISS: " << results["machine"]["faiss_simd"].get<std::string>() << "\n";
  }
  out << "- data: " << options["n"].get<size_t>() << " x " << options["d"].get<size_t>() << " ("
      << results["data"]["source"].get<std::string>() << "), " << options["queries"].get<size_t>()
      << " queries, k=" << options["k"].get<size_t>() << ", M=" << options["M"].get<size_t>()
      << ", ef_construction=" << options["efc"].get<size_t>() << "\n\n";
  if (results.contains("seed")) SeedSection(results["seed"], out);
  if (results.contains("text")) TextSection(results["text"], out);

  if (results.contains("ingest")) {
    const json& ingest = results["ingest"];
    const json& latency = ingest["batch_latency"];
    out << "## Ingest over the wire (atomic durable batches of " << options["batch"].get<size_t>()
        << ")\n\n"
        << "| rows | batches | vectors/s | batch p50 ms | batch p99 ms | last batch searchable "
           "after ack | all rows in the graph |\n"
        << "|---|---|---|---|---|---|---|\n"
        << "| " << ingest["rows"].get<size_t>() << " | " << ingest["batches"].get<size_t>() << " | "
        << Fmt("%.0f", Num(ingest, "vectors_per_s")) << " | " << Fmt("%.2f", Num(latency, "p50_ms"))
        << " | " << Fmt("%.2f", Num(latency, "p99_ms")) << " | "
        << Fmt("%.3f s", Num(ingest, "last_batch_searchable_s")) << " | "
        << Fmt("%.1f s", Num(ingest, "indexed_s")) << " |\n\n";
  }
  out << "## Recall@10 vs QPS (unfiltered)\n\n"
      << "| system | threads | ef | recall@10 | QPS | p50 ms | p99 ms | p99.9 ms "
         "|\n|---|---|---|---|---|---|---|---|\n";
  if (results.contains("search")) {
    for (const json& run : results["search"]["runs"]) {
      out << "| mnemo over the wire | " << run["threads"].get<size_t>() << " | "
          << run["ef"].get<size_t>() << " | " << Fmt("%.3f", Num(run, "recall")) << " | "
          << Fmt("%.0f", Num(run, "qps")) << " | " << Fmt("%.2f", Num(run["latency"], "p50_ms"))
          << " | " << Fmt("%.2f", Num(run["latency"], "p99_ms")) << " | "
          << Fmt("%.2f", Num(run["latency"], "p999_ms")) << " |\n";
    }
  }
  if (results.contains("inprocess")) {
    for (const auto& [name, system] : results["inprocess"].items()) {
      if (!system.contains("points")) continue;
      for (const json& point : system["points"]) {
        const size_t ef = point["ef"].get<size_t>();
        out << "| " << PeerName(name, system) << " in-process | 1 | "
            << (ef == 0 ? std::string("exact") : std::to_string(ef)) << " | "
            << Fmt("%.3f", Num(point, "recall")) << " | " << Fmt("%.0f", Num(point, "qps"))
            << " | | | |\n";
      }
    }
    out << "\nIn-process build and memory (the indexes alone: 2 threads; the Engine: ingest "
           "through ApplyBatch, "
           "then linking):\n\n| system | build s | bytes/vector |\n|---|---|---|\n";
    for (const auto& [name, system] : results["inprocess"].items()) {
      if (!system.contains("points")) continue;
      out << "| " << PeerName(name, system) << " | " << Fmt("%.1f", Num(system, "build_s")) << " | "
          << Fmt("%.0f", Num(system, "memory_bytes_per_vector")) << " |\n";
    }
  }
  out << "\n";
  if (results.contains("filtered")) {
    out << "## Per-user (filtered) search over the wire, adaptive ef, 1 client thread\n\n"
        << "| user | rows | selectivity | recall@10 | exact answers | QPS | p50 ms | p99 ms "
           "|\n|---|---|---|---|---|---|---|---|\n";
    for (const json& bucket : results["filtered"]["buckets"]) {
      out << "| " << bucket["user"].get<std::string>() << " | " << bucket["rows"].get<size_t>()
          << " | " << Fmt("%.4f%%", 100 * Num(bucket, "selectivity")) << " | "
          << Fmt("%.3f", Num(bucket, "recall")) << " | "
          << Fmt("%.0f%%", 100 * Num(bucket, "exact_fraction")) << " | "
          << Fmt("%.0f", Num(bucket, "qps")) << " | "
          << Fmt("%.2f", Num(bucket["latency"], "p50_ms")) << " | "
          << Fmt("%.2f", Num(bucket["latency"], "p99_ms")) << " |\n";
    }
    out << "\n";
  }
  if (results.contains("restart")) {
    const json& restart = results["restart"];
    // Anonymous memory is what the server holds; file-backed pages are the segments' vectors read
    // through the page cache (and the libraries), which the kernel may drop at any time.
    const auto rss = [&](const char* when) {
      const std::string suffix = std::string("_bytes_per_vector_after_") + when;
      return Fmt("%.0f", Num(restart, ("rss" + suffix).c_str())) + " (" +
             Fmt("%.0f", Num(restart, ("rss_anon" + suffix).c_str())) + " + " +
             Fmt("%.0f", Num(restart, ("rss_file" + suffix).c_str())) + ")";
    };
    out << "## Restart and memory\n\n| mnemod start to first search answered | RSS after ingest "
           "(bytes/vector: anonymous + file-backed) | RSS after restart (bytes/vector: anonymous + "
           "file-backed) |\n|---|---|---|\n"
        << "| " << Fmt("%.2f s", Num(restart, "first_search_s")) << " | " << rss("ingest") << " | "
        << rss("restart") << " |\n\n";
    if (restart.contains("cold") && restart["cold"].value("dropped", false)) {
      const json& cold = restart["cold"];
      out << "After a restart with the page cache dropped (started in "
          << Fmt("%.2f s", Num(cold, "start_s"))
          << "), the query set twice on one thread: the first pass re-ranks from disk, the "
             "second from the page cache.\n\n| pass | ef | recall@10 | QPS | p50 ms | p99 ms | "
             "p99.9 ms |\n|---|---|---|---|---|---|---|\n";
      for (const auto& [name, key] : {std::pair{"from disk", "from_disk"},
                                      std::pair{"from the page cache", "from_page_cache"}}) {
        const json& run = cold[key];
        const json& latency = run["latency"];
        out << "| " << name << " | " << run["ef"].get<size_t>() << " | "
            << Fmt("%.3f", Num(run, "recall")) << " | " << Fmt("%.0f", Num(run, "qps")) << " | "
            << Fmt("%.2f", Num(latency, "p50_ms")) << " | " << Fmt("%.2f", Num(latency, "p99_ms"))
            << " | " << Fmt("%.2f", Num(latency, "p999_ms")) << " |\n";
      }
      out << "\n";
    }
  }
  for (const char* phase : {"conversations", "chat-turn"}) {
    if (!results.contains(phase)) continue;
    const json& conv = results[phase];
    out << (std::string(phase) == "chat-turn" ? "## Chat turn (" : "## Conversation workload (")
        << options["conv_users"].get<size_t>() << " users x "
        << options["conv_per_user"].get<size_t>() << " conversations x "
        << options["messages"].get<size_t>() << " messages";
    if (std::string(phase) == "chat-turn" && options.contains("turn_chunks"))
      out << ", " << options["turn_chunks"].get<size_t>() << " chunks per user";
    out << "; " << options["conv_threads"].get<size_t>() << " client threads)\n\n";
    if (std::string(phase) == "chat-turn") {
      out << "mnemo: append (the message with its embedding) + AssembleContext (last "
          << kTurnMessages << " messages within " << kTurnMessageBudget << " tokens, top "
          << kTurnChunks << " chunks and top " << kTurnMemories << " past messages by vector, "
          << kTurnBudget << " tokens in all); one message in " << kTurnMessageEmbeddingEvery
          << " of the preload carries an embedding. PostgreSQL: the relational part only "
             "(insert, select the conversation, select the last messages; Debian's PostgreSQL "
             "has no vector extension).\n\n";
    }
    out << "| operation | system | ops/s | p50 ms | p99 ms | errors |\n|---|---|---|---|---|---|\n";
    for (const char* system : {"mnemo", "postgres"}) {
      if (!conv.contains(system)) continue;
      if (!conv[system].contains("ops")) {
        std::string reason = conv[system].value("error", std::string("?"));
        for (char& c : reason) c = (c == '\n' || c == '|') ? ' ' : c;
        if (reason.size() > 300) reason = reason.substr(0, 300) + "...";
        out << "| (all) | " << system << " | not run: " << reason << " | | | |\n";
        continue;
      }
      for (const auto& [kind, op] : conv[system]["ops"].items()) {
        out << "| " << kind << " | " << system << " | " << Fmt("%.0f", Num(op, "ops_per_s"))
            << " | " << Fmt("%.2f", Num(op["latency"], "p50_ms")) << " | "
            << Fmt("%.2f", Num(op["latency"], "p99_ms")) << " | " << op["errors"].get<size_t>()
            << " |\n";
      }
    }
    out << "\n";
  }
  if (results.contains("clients") && results["clients"].contains("cells")) {
    const json& clients = results["clients"];
    out << "## Python client vs C++ client (" << Num(clients, "vectors") << " x "
        << Num(clients, "dimension") << " corpus, top-" << Num(clients, "top_k") << "; "
        << Num(clients, "conversations") << " conversations)\n\n"
        << "| call | callers | C++ QPS | Python QPS | Python / C++ | client CPU us/call C++ / "
           "Python "
        << "| server CPU us/call C++ / Python |\n|---|---|---|---|---|---|---|\n";
    for (const char* op : {"search", "get", "append"}) {
      for (const size_t concurrency : {size_t{1}, ManyCallers(results)}) {
        const json* cpp = ClientCell(results, "cpp", op, concurrency);
        const json* python = ClientCell(results, "python", op, concurrency);
        if (cpp == nullptr) continue;
        out << "| " << op << " | " << concurrency
            << (concurrency == 1 ? " thread" : " (threads / asyncio tasks)") << " | "
            << Fmt("%.0f", Num(*cpp, "qps")) << " | "
            << (python ? Fmt("%.0f", Num(*python, "qps")) : "-") << " | "
            << (python && Num(*cpp, "qps") > 0 ? Fmt("%.2f", Num(*python, "qps") / Num(*cpp, "qps"))
                                               : "-")
            << " | " << Fmt("%.1f", Num(*cpp, "cpu_us_per_call")) << " / "
            << (python ? Fmt("%.1f", Num(*python, "cpu_us_per_call")) : "-") << " | "
            << Fmt("%.1f", Num(*cpp, "server_cpu_us_per_call")) << " / "
            << (python ? Fmt("%.1f", Num(*python, "server_cpu_us_per_call")) : "-") << " |\n";
      }
    }
    if (clients.contains("python") && clients["python"].contains("error")) {
      out << "\nPython half not run: " << clients["python"]["error"].get<std::string>() << "\n";
    }
    out << "\n";
  }
  if (results.contains("targets")) {
    out << "## Targets\n\n| target | status | measured |\n|---|---|---|\n";
    for (const json& target : results["targets"]) {
      out << "| " << target["target"].get<std::string>() << " | "
          << target["status"].get<std::string>() << " | " << target["value"].get<std::string>()
          << " |\n";
    }
    out << "\n";
  }
  if (results.contains("replication")) out << ReplicationMarkdown(results["replication"]);
  if (results.contains("notes") && !results["notes"].empty()) {
    out << "## Notes\n\n";
    for (const json& note : results["notes"]) out << "- " << note.get<std::string>() << "\n";
  }
  return out.str();
}

}  // namespace mnemo::bench
