// The conversation workload driver (see conversation_workload.h).
#include "conversation_workload.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <random>
#include <thread>

#include "latency.h"

namespace mnemo::bench {
namespace {

constexpr size_t kContentBytes = 200;
constexpr char kFiller[] =
    "The quick brown fox jumps over the lazy dog while the assistant explains retrieval "
    "augmented generation, vector indexes and durable storage to a curious user who asked. ";
constexpr size_t kWarmupOpsPerKind = 200;

}  // namespace

const std::vector<std::string>& ConversationKinds() {
  static const std::vector<std::string> kinds{"get_conversation", "list_recent", "last_messages",
                                              "append_message"};
  return kinds;
}

const std::vector<std::string>& ChatTurnKinds() {
  static const std::vector<std::string> kinds{"chat_turn", "turn_context", "append_message"};
  return kinds;
}

std::string ConversationUser(size_t user) { return "cu" + std::to_string(user); }

std::string MessageContent(size_t index) {
  std::string text = "message " + std::to_string(index) + ": ";
  while (text.size() < kContentBytes) text += kFiller;
  text.resize(kContentBytes);
  return text;
}

const char* MessageRole(size_t index) { return index % 2 == 0 ? "user" : "assistant"; }

int64_t MessageTokens(size_t index) { return 20 + static_cast<int64_t>(index * 37 % 380); }

nlohmann::json RunConversationWorkload(ConversationStore& store, const ConversationShape& shape,
                                       const std::vector<std::string>& kinds, size_t ops_per_kind,
                                       size_t threads, const TimeBudget& budget,
                                       const std::function<double()>& settle) {
  nlohmann::json out;
  std::vector<std::vector<std::string>> ids;
  std::string error;
  const double preload_start = NowSeconds();
  if (!store.Preload(shape, budget, &ids, &error)) return {{"error", "preload: " + error}};
  out["preload_s"] = NowSeconds() - preload_start;

  std::vector<std::unique_ptr<ConversationSession>> sessions;
  for (size_t t = 0; t < threads; ++t) {
    auto session = store.OpenSession(&error);
    if (session == nullptr) return {{"error", "session: " + error}};
    sessions.push_back(std::move(session));
  }
  std::atomic<size_t> append_index{shape.messages_per_conversation};
  const Dataset* embeddings = shape.embeddings;
  // One operation of `kind` on a random user's random conversation.
  const auto run_op = [&](const std::string& kind, ConversationSession& session,
                          std::mt19937_64& rng) {
    const size_t user = rng() % ids.size();
    const std::string& id = ids[user][rng() % ids[user].size()];
    const std::string user_id = ConversationUser(user);
    if (kind == "get_conversation") return session.GetConversation(user_id, id);
    if (kind == "list_recent") return session.ListRecent(user_id);
    if (kind == "last_messages") return session.LastMessages(user_id, id);
    if (kind == "append_message")
      return session.AppendMessage(user_id, id, append_index.fetch_add(1));
    const size_t index = append_index.fetch_add(1);
    std::span<const float> query;
    if (embeddings != nullptr && embeddings->query_count() > 0)
      query = embeddings->Query(index % embeddings->query_count());
    return session.ChatTurn(user_id, id, index, query, kind == "chat_turn");
  };
  // A short untimed pass of every kind, then the server settles again: the first reads after a
  // bulk load can start background work of their own (in RocksDB, releasing the first snapshots
  // lets it rewrite the bottommost files of the load), which would otherwise land in the first
  // measured kind only.
  {
    std::mt19937_64 rng(7);
    for (const std::string& kind : kinds) {
      for (size_t i = 0; i < std::min<size_t>(ops_per_kind, kWarmupOpsPerKind); ++i)
        run_op(kind, *sessions[0], rng);
    }
    if (settle) out["settle_s"] = settle();
  }
  for (size_t kind_index = 0; kind_index < kinds.size(); ++kind_index) {
    const std::string& kind = kinds[kind_index];
    std::vector<std::vector<double>> latencies(threads);
    std::atomic<size_t> next{0};
    std::atomic<size_t> errors{0};
    std::mutex error_mutex;
    std::string first_error;
    Progress progress(store.name() + " " + kind, ops_per_kind);
    auto worker = [&](size_t t) {
      std::mt19937_64 rng(1000 * kind_index + t + 1);
      ConversationSession& session = *sessions[t];
      while (next.fetch_add(1) < ops_per_kind && !budget.Expired()) {
        const double start = NowSeconds();
        const bool ok = run_op(kind, session, rng);
        latencies[t].push_back(NowSeconds() - start);
        if (!ok && errors.fetch_add(1) == 0) {
          std::lock_guard lock(error_mutex);
          first_error = session.last_error();
        }
        progress.Advance();
      }
    };
    const double start = NowSeconds();
    std::vector<std::thread> pool;
    for (size_t t = 1; t < threads; ++t) pool.emplace_back(worker, t);
    worker(0);
    for (std::thread& thread : pool) thread.join();
    const double elapsed = NowSeconds() - start;
    std::vector<double> all;
    for (const auto& part : latencies) all.insert(all.end(), part.begin(), part.end());
    out["ops"][kind] = {{"ops", all.size()},
                        {"errors", errors.load()},
                        {"first_error", first_error},
                        {"ops_per_s", elapsed > 0 ? static_cast<double>(all.size()) / elapsed : 0},
                        {"latency", ToJson(Summarize(all))},
                        {"latency_cdf", LatencyCdf(all, 100)}};
  }
  return out;
}

}  // namespace mnemo::bench
