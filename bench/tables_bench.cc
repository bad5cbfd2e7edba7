// Google Benchmark suite for the conversation store, on a store preloaded once per process with
// MNEMO_BENCH_USERS x MNEMO_BENCH_CONVERSATIONS x MNEMO_BENCH_MESSAGES (default 1000 x 20 x 50,
// i.e. one million messages of ~200 bytes).  Every iteration makes one Engine call for a random
// user and conversation (fixed-seed RNG):
//
//   AppendMessage            append one ~200-byte message with tokens_used, roles alternating
//   GetConversation          fetch one conversation by id
//   ListRecentConversations  the user's 10 most recently updated conversations
//   LastMessages             the last 50 messages of a conversation, oldest first
//   ListRecentAfterChurn     ListRecentConversations for a user who just wrote 1000 messages, in
//                            a store of its own that has not been flushed or compacted
//   ListByModel              the user's 10 newest conversations of one model (every conversation
//                            matches: each listed entry and the total load their row)
//   CountConversations       the user's conversation count from the counts record
//   CountByModel             the same count with a model filter (a scan of the user's rows)
//   CountMessagesByRole      the assistant messages of a conversation (a scan of its messages)
//   UpdateMessage            replace one message's content and tokens (by message id)
//
// items/s counts operations per second of wall time; p50_us / p99_us are per-operation
// latencies taken with steady_clock around the Engine call alone.
//
// Durability: the preload runs with sync_writes = false for speed; the store is then flushed,
// closed and reopened with the default sync_writes = true, so every measured write syncs the
// write-ahead log before it returns (the production setting).  Measuring starts once the
// compactions the preload triggered have finished.
#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "mnemo/batch.h"
#include "mnemo/engine.h"
#include "mnemo/options.h"
#include "mnemo/records.h"
#include "mnemo/result.h"
#include "mnemo/status.h"
#include "mnemo/types.h"

namespace mnemo {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr int64_t kDefaultUsers = 1000;
constexpr int64_t kDefaultConversations = 20;
constexpr int64_t kDefaultMessages = 50;
constexpr int64_t kMaxScale = 1'000'000;
constexpr size_t kContentBytes = 200;
constexpr size_t kContentPoolSize = 256;
constexpr int64_t kMinTokens = 20;
constexpr int64_t kMaxTokens = 400;
constexpr int64_t kRecentLimit = 10;
constexpr int64_t kLastMessagesCount = 50;
// After the preload, wait until the process's background work (RocksDB flushes and compactions)
// uses less than kQuietCpuFraction of a core over one kQuietWindow, or kMaxSettle has passed.
constexpr auto kQuietWindow = std::chrono::milliseconds(1000);
constexpr double kQuietCpuFraction = 0.05;
constexpr auto kMaxSettle = std::chrono::seconds(300);
constexpr uint64_t kPreloadSeed = 20251123;
constexpr uint64_t kWorkloadSeed = 7;
constexpr std::string_view kWords[] = {
    "the",    "model",   "returns", "a",        "summary", "of",     "this",      "document",
    "please", "explain", "how",     "vector",   "search",  "works",  "in",        "practice",
    "with",   "latency", "budget",  "for",      "each",    "query",  "and",       "index",
    "token",  "context", "window",  "response", "user",    "prompt", "assistant", "storage",
};

struct Scale {
  int64_t users = kDefaultUsers;
  int64_t conversations = kDefaultConversations;
  int64_t messages = kDefaultMessages;
};

// The positive integer in environment variable `name`, or `fallback` when it is unset.
Result<int64_t> EnvCount(const char* name, int64_t fallback, int64_t max) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return fallback;
  char* end = nullptr;
  const long long value = std::strtoll(text, &end, 10);
  if (*end != '\0' || value < 1 || value > max) {
    return Status::ValidationError(name, "must be an integer in 1.." + std::to_string(max));
  }
  return static_cast<int64_t>(value);
}

Result<Scale> ScaleFromEnv() {
  Scale scale;
  MNEMO_ASSIGN_OR_RETURN(scale.users, EnvCount("MNEMO_BENCH_USERS", kDefaultUsers, kMaxScale));
  MNEMO_ASSIGN_OR_RETURN(scale.conversations,
                         EnvCount("MNEMO_BENCH_CONVERSATIONS", kDefaultConversations, kMaxScale));
  // One batch holds the conversation and all its messages.
  MNEMO_ASSIGN_OR_RETURN(scale.messages, EnvCount("MNEMO_BENCH_MESSAGES", kDefaultMessages,
                                                  static_cast<int64_t>(kMaxBatchOps) - 1));
  return scale;
}

double Seconds(Clock::duration elapsed) { return std::chrono::duration<double>(elapsed).count(); }

// CPU time (user + system) this process has used so far, over all its threads.
Clock::duration ProcessCpuTime() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  const auto to_duration = [](const timeval& tv) {
    return std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec);
  };
  return std::chrono::duration_cast<Clock::duration>(to_duration(usage.ru_utime) +
                                                     to_duration(usage.ru_stime));
}

// Blocks until background flushes and compactions have gone quiet (see kQuietWindow), so they
// do not compete with the measured operations for the CPU and disk.
void WaitForQuiescence() {
  const Clock::time_point deadline = Clock::now() + kMaxSettle;
  while (Clock::now() < deadline) {
    const Clock::duration cpu_before = ProcessCpuTime();
    const Clock::time_point wall_before = Clock::now();
    std::this_thread::sleep_for(kQuietWindow);
    const double busy =
        Seconds(ProcessCpuTime() - cpu_before) / Seconds(Clock::now() - wall_before);
    if (busy < kQuietCpuFraction) return;
  }
}

// Message bodies of about kContentBytes, drawn once from a fixed vocabulary.
std::vector<std::string> MakeContentPool(std::mt19937_64* rng) {
  std::uniform_int_distribution<size_t> pick_word(0, std::size(kWords) - 1);
  std::vector<std::string> pool(kContentPoolSize);
  for (std::string& content : pool) {
    while (content.size() < kContentBytes) {
      if (!content.empty()) content += ' ';
      content += kWords[pick_word(*rng)];
    }
  }
  return pool;
}

// A preloaded data directory with an open, durable engine.  Removes the directory on
// destruction.
class Store {
 public:
  struct Target {
    const std::string* user_id;
    const Uuid* conversation_id;
  };

  static Result<std::unique_ptr<Store>> Create(const Scale& scale) {
    std::error_code ec;
    fs::path dir = fs::temp_directory_path(ec);
    if (ec) return Status::Unavailable("no temp directory: " + ec.message());
    dir /= "mnemo-tables-bench-" + std::to_string(::getpid());
    fs::remove_all(dir, ec);
    std::unique_ptr<Store> store(new Store(scale, dir));
    MNEMO_RETURN_IF_ERROR(store->Preload());
    return store;
  }

  ~Store() {
    engine_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  Engine& engine() { return *engine_; }
  const Scale& scale() const { return scale_; }
  const std::string& Content(uint64_t i) const { return contents_[i % contents_.size()]; }

  // A uniformly random conversation of a uniformly random user.
  Target Pick(std::mt19937_64* rng) const {
    std::uniform_int_distribution<size_t> pick(0, conversation_ids_.size() - 1);
    const size_t i = pick(*rng);
    return {&user_ids_[i / static_cast<size_t>(scale_.conversations)], &conversation_ids_[i]};
  }

 private:
  Store(const Scale& scale, fs::path dir) : scale_(scale), dir_(std::move(dir)) {}

  // Writes every conversation with its messages in one ApplyBatch, then reopens the store with
  // the default (durable) options.
  Status Preload() {
    std::mt19937_64 rng(kPreloadSeed);
    contents_ = MakeContentPool(&rng);
    std::uniform_int_distribution<int64_t> pick_tokens(kMinTokens, kMaxTokens);

    const Clock::time_point start = Clock::now();
    EngineOptions options;
    options.data_dir = dir_.string();
    options.sync_writes = false;
    MNEMO_ASSIGN_OR_RETURN(engine_, Engine::Open(options));

    user_ids_.reserve(static_cast<size_t>(scale_.users));
    conversation_ids_.reserve(static_cast<size_t>(scale_.users * scale_.conversations));
    std::vector<WriteOp> ops;
    uint64_t message_index = 0;
    for (int64_t u = 0; u < scale_.users; ++u) {
      const std::string& user_id = user_ids_.emplace_back("bench-user-" + std::to_string(u));
      for (int64_t c = 0; c < scale_.conversations; ++c) {
        // Time-ordered ids, as the server would generate; which conversation an iteration hits
        // depends only on its index, so runs stay comparable.
        const Uuid& conversation_id = conversation_ids_.emplace_back(Uuid::Generate());
        ops.clear();
        NewConversation conversation;
        conversation.id = conversation_id;
        conversation.title = "Conversation " + std::to_string(c) + " of " + user_id;
        ops.emplace_back(CreateConversationOp{std::move(conversation)});
        for (int64_t m = 0; m < scale_.messages; ++m) {
          NewMessage message;
          message.conversation_id = conversation_id;
          message.role = m % 2 == 0 ? "user" : "assistant";
          message.content = Content(message_index++);
          message.tokens_used = pick_tokens(rng);
          ops.emplace_back(AppendMessageOp{std::move(message)});
        }
        Result<BatchResult> applied = engine_->ApplyBatch(user_id, ops);
        if (!applied.ok()) return applied.status();
        if (applied->ids.size() > 1) first_message_ids_.push_back(applied->ids[1]);
      }
    }
    const Clock::time_point loaded = Clock::now();
    MNEMO_RETURN_IF_ERROR(engine_->Flush());
    engine_.reset();
    options.sync_writes = true;
    MNEMO_ASSIGN_OR_RETURN(engine_, Engine::Open(options));
    const Clock::time_point reopened = Clock::now();
    WaitForQuiescence();
    const Clock::time_point settled = Clock::now();

    const double load_seconds = Seconds(loaded - start);
    std::fprintf(stderr,
                 "preload: %lld users x %lld conversations x %lld messages = %llu messages in "
                 "%.2f s (%.0f messages/s, sync_writes=false); flush + reopen with "
                 "sync_writes=true: %.2f s; background compaction settled after %.2f s; "
                 "data dir %s\n",
                 static_cast<long long>(scale_.users), static_cast<long long>(scale_.conversations),
                 static_cast<long long>(scale_.messages),
                 static_cast<unsigned long long>(message_index), load_seconds,
                 static_cast<double>(message_index) / load_seconds, Seconds(reopened - loaded),
                 Seconds(settled - reopened), dir_.c_str());
    return Status::Ok();
  }

  Scale scale_;
  fs::path dir_;
  std::unique_ptr<Engine> engine_;
  std::vector<std::string> contents_;
  std::vector<std::string> user_ids_;
  std::vector<Uuid> conversation_ids_;  // user u owns [u * conversations, (u + 1) * conversations)

 public:
  // The id of the first message of `conversation` (the batch that created it returned it).
  const Uuid& FirstMessage(const Uuid* conversation) const {
    return first_message_ids_[static_cast<size_t>(conversation - conversation_ids_.data())];
  }

 private:
  std::vector<Uuid> first_message_ids_;  // by conversation, in conversation_ids_ order
};

// Process-wide state: the scale from main() and the store, built on first use.  Benchmarks run
// on the main thread only.
struct Shared {
  Scale scale;
  std::unique_ptr<Store> store;
  Status store_status;
  bool store_attempted = false;
};

Shared& GetShared() {
  static Shared* const shared = new Shared();
  return *shared;
}

// The preloaded store, or nullptr after marking `state` failed.
Store* SharedStore(benchmark::State& state) {
  Shared& shared = GetShared();
  if (!shared.store_attempted) {
    shared.store_attempted = true;
    Result<std::unique_ptr<Store>> created = Store::Create(shared.scale);
    if (created.ok()) {
      shared.store = std::move(created).value();
    } else {
      shared.store_status = created.status();
      std::fprintf(stderr, "preload failed: %s\n", shared.store_status.ToString().c_str());
    }
  }
  if (shared.store == nullptr) {
    state.SkipWithError(("preload failed: " + shared.store_status.ToString()).c_str());
  }
  return shared.store.get();
}

// The value at quantile `q` (nearest rank) of `samples`, which it reorders.
double Percentile(std::vector<double>* samples, double q) {
  if (samples->empty()) return 0;
  const size_t rank = static_cast<size_t>(q * static_cast<double>(samples->size()));
  const auto nth =
      samples->begin() + static_cast<std::ptrdiff_t>(std::min(rank, samples->size() - 1));
  std::nth_element(samples->begin(), nth, samples->end());
  return *nth;
}

// Runs `op(store, target, iteration)` once per iteration on a random target, timing the call
// alone; reports items/s and p50/p99 latency.  `op` returns a non-OK Status to fail the run.
template <typename Op>
void RunOps(benchmark::State& state, Op op) {
  Store* store = SharedStore(state);
  if (store == nullptr) return;
  std::mt19937_64 rng(kWorkloadSeed);
  std::vector<double> latencies_us;
  latencies_us.reserve(static_cast<size_t>(state.max_iterations));
  uint64_t iteration = 0;
  for (auto _ : state) {
    const Store::Target target = store->Pick(&rng);
    const Clock::time_point start = Clock::now();
    const Status status = op(*store, target, iteration++);
    const Clock::time_point end = Clock::now();
    if (!status.ok()) {
      state.SkipWithError(status.ToString().c_str());
      break;
    }
    latencies_us.push_back(std::chrono::duration<double, std::micro>(end - start).count());
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["p50_us"] = Percentile(&latencies_us, 0.50);
  state.counters["p99_us"] = Percentile(&latencies_us, 0.99);
}

void BM_AppendMessage(benchmark::State& state) {
  std::mt19937_64 token_rng(kWorkloadSeed + 1);
  std::uniform_int_distribution<int64_t> pick_tokens(kMinTokens, kMaxTokens);
  RunOps(state, [&](Store& store, const Store::Target& target, uint64_t i) {
    NewMessage message;
    message.conversation_id = *target.conversation_id;
    message.role = i % 2 == 0 ? "user" : "assistant";
    message.content = store.Content(i);
    message.tokens_used = pick_tokens(token_rng);
    return store.engine().AppendMessage(*target.user_id, message).status();
  });
}

void BM_GetConversation(benchmark::State& state) {
  RunOps(state, [](Store& store, const Store::Target& target, uint64_t) {
    Result<Conversation> conversation =
        store.engine().GetConversation(*target.user_id, *target.conversation_id);
    benchmark::DoNotOptimize(conversation);
    return conversation.status();
  });
}

void BM_ListRecentConversations(benchmark::State& state) {
  ConversationListOptions options;
  options.order = ConversationOrder::kUpdatedDesc;
  options.limit = kRecentLimit;
  RunOps(state, [&options](Store& store, const Store::Target& target, uint64_t) {
    Result<ConversationPage> page = store.engine().ListConversations(*target.user_id, options);
    if (!page.ok()) return page.status();
    const auto expected = std::min(kRecentLimit, store.scale().conversations);
    if (static_cast<int64_t>(page->items.size()) != expected) {
      return Status::Internal("ListConversations returned " + std::to_string(page->items.size()) +
                              " conversations, expected " + std::to_string(expected));
    }
    return Status::Ok();
  });
}

void BM_LastMessages(benchmark::State& state) {
  RunOps(state, [](Store& store, const Store::Target& target, uint64_t) {
    Result<std::vector<Message>> messages =
        store.engine().LastMessages(*target.user_id, *target.conversation_id, kLastMessagesCount);
    if (!messages.ok()) return messages.status();
    if (messages->empty()) return Status::Internal("LastMessages returned no messages");
    return Status::Ok();
  });
}

void BM_ListByModel(benchmark::State& state) {
  ConversationListOptions options;
  options.limit = kRecentLimit;
  options.filter.model = kDefaultModel;
  RunOps(state, [&options](Store& store, const Store::Target& target, uint64_t) {
    Result<ConversationPage> page = store.engine().ListConversations(*target.user_id, options);
    if (!page.ok()) return page.status();
    if (page->total != store.scale().conversations)
      return Status::Internal("ListByModel: wrong total");
    return Status::Ok();
  });
}

void BM_CountConversations(benchmark::State& state) {
  RunOps(state, [](Store& store, const Store::Target& target, uint64_t) {
    Result<int64_t> count =
        store.engine().CountConversations(*target.user_id, ConversationFilter{});
    if (!count.ok()) return count.status();
    return *count == store.scale().conversations ? Status::Ok() : Status::Internal("wrong count");
  });
}

void BM_CountByModel(benchmark::State& state) {
  ConversationFilter filter;
  filter.model = kDefaultModel;
  RunOps(state, [&filter](Store& store, const Store::Target& target, uint64_t) {
    Result<int64_t> count = store.engine().CountConversations(*target.user_id, filter);
    if (!count.ok()) return count.status();
    return *count == store.scale().conversations ? Status::Ok() : Status::Internal("wrong count");
  });
}

void BM_CountMessagesByRole(benchmark::State& state) {
  MessageQuery query;
  query.role = Role::kAssistant;
  RunOps(state, [&query](Store& store, const Store::Target& target, uint64_t) {
    return store.engine().CountMessages(*target.user_id, *target.conversation_id, query).status();
  });
}

void BM_UpdateMessage(benchmark::State& state) {
  RunOps(state, [](Store& store, const Store::Target& target, uint64_t i) {
    MessageUpdate update;
    update.content = store.Content(i);
    update.tokens_used = static_cast<int64_t>(i % 100);
    return store.engine()
        .UpdateMessage(*target.user_id, store.FirstMessage(target.conversation_id), update)
        .status();
  });
}

// One user whose 20 conversations just received 50 messages each, conversation by conversation,
// in a fresh store (no flush or compaction yet): every append moved the conversation's
// by-updated index entry, so the user's index range holds ~2000 deleted entries in the memtable
// — the state of a user who is chatting right now.  Measures listing the 10 most recent.
void BM_ListRecentAfterChurn(benchmark::State& state) {
  std::error_code ec;
  const fs::path dir =
      fs::temp_directory_path(ec) / ("mnemo-tables-churn-" + std::to_string(::getpid()));
  fs::remove_all(dir, ec);
  EngineOptions options;
  options.data_dir = dir.string();
  options.sync_writes = false;
  auto opened = Engine::Open(options);
  if (!opened.ok()) return state.SkipWithError(opened.status().ToString().c_str());
  std::unique_ptr<Engine> engine = std::move(opened).value();
  const std::string user = "churn-user";
  for (int64_t c = 0; c < kDefaultConversations; ++c) {
    NewConversation conversation;
    conversation.title = "conversation " + std::to_string(c);
    auto created = engine->CreateConversation(user, conversation);
    if (!created.ok()) return state.SkipWithError(created.status().ToString().c_str());
    for (int64_t m = 0; m < kDefaultMessages; ++m) {
      NewMessage message;
      message.conversation_id = created->id;
      message.role = m % 2 == 0 ? "user" : "assistant";
      message.content = "message " + std::to_string(m);
      if (auto appended = engine->AppendMessage(user, message); !appended.ok()) {
        return state.SkipWithError(appended.status().ToString().c_str());
      }
    }
  }
  ConversationListOptions list;
  list.order = ConversationOrder::kUpdatedDesc;
  list.limit = kRecentLimit;
  for (auto _ : state) {
    Result<ConversationPage> page = engine->ListConversations(user, list);
    if (!page.ok() || static_cast<int64_t>(page->items.size()) != kRecentLimit) {
      state.SkipWithError("ListConversations failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  engine.reset();
  fs::remove_all(dir, ec);
}

BENCHMARK(BM_AppendMessage)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_GetConversation)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ListRecentConversations)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_LastMessages)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ListRecentAfterChurn)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ListByModel)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_CountConversations)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_CountByModel)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_CountMessagesByRole)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_UpdateMessage)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace mnemo

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  mnemo::Result<mnemo::Scale> scale = mnemo::ScaleFromEnv();
  if (!scale.ok()) {
    std::fprintf(stderr, "%s\n", scale.status().ToString().c_str());
    return 1;
  }
  mnemo::GetShared().scale = *scale;
  benchmark::AddCustomContext("durability",
                              "sync WAL per write (preload with sync_writes=false, then reopened)");
  benchmark::AddCustomContext(
      "preload", std::to_string(scale->users) + " users x " + std::to_string(scale->conversations) +
                     " conversations x " + std::to_string(scale->messages) + " messages");
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  mnemo::GetShared().store.reset();
  return 0;
}
