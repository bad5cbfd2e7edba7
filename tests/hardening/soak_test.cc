// Soak: a bounded mixed load through 64 concurrent protocol connections (64 threads, one
// C++ client connection each) and, when mnemo-rest is built, 64 HTTP connections through the
// REST sidecar.  Checks: no error but RATE_LIMITED / HTTP 429; mnemod's (and mnemo-rest's) open
// sockets return to their idle count once the clients are gone (no fd leak; other fds are
// printed, RocksDB opens table files as data grows); resident
// memory after warm-up vs at the end is printed and held to a loose bound (a leak of a few
// bytes per request shows; normal cache and memtable growth does not).
//
// MNEMO_SOAK_SECONDS (default 30; scripts/test.sh --long: 300) sets the load's duration.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

#include "hardening_env.h"
#include "http_connection.h"
#include "mnemo/client/client.h"
#include "mnemod_process.h"
#include "process_probe.h"

extern char** environ;

namespace mnemo::hardening {
namespace {

using namespace std::chrono_literals;
using client::Code;
using client::testing::MnemodProcess;
using client::testing::TempDir;

constexpr int kConnections = 64;
constexpr int kRestUpstreamConnections = 2;  // mnemo-rest --upstream-connections
constexpr uint32_t kDimension = MnemodProcess::kDimension;

std::vector<float> RandomVector(std::mt19937_64& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> v(kDimension);
  for (float& x : v) x = normal(rng);
  return v;
}

// Errors seen by the load threads (the first few kept), and counts.
struct Tally {
  std::atomic<uint64_t> requests{0}, rate_limited{0}, errors{0};
  std::mutex mutex;
  std::vector<std::string> first_errors;
  void Error(const std::string& what) {
    ++errors;
    std::lock_guard lock(mutex);
    if (first_errors.size() < 10) first_errors.push_back(what);
  }
};

// One protocol connection's loop: conversations, messages, chunks, searches, deletes.
void ProtocolLoad(uint16_t port, int index, const std::atomic<bool>& stop, Tally& tally) {
  auto connected = client::Client::Connect(LocalClientOptions(port, 1));
  if (!connected.ok()) return tally.Error("connect: " + connected.error().ToString());
  client::Client& c = **connected;
  const std::string user = "soak-" + std::to_string(index % 16);
  std::mt19937_64 rng(static_cast<uint64_t>(index) * 7919);
  client::NewDocument new_document;
  new_document.filename = "soak.txt";
  new_document.file_type = "txt";
  auto document = c.CreateDocument(user, new_document);
  if (!document.ok()) return tally.Error("create document: " + document.error().ToString());
  int64_t chunk_index = 0;
  auto check = [&](Code code, const std::string& what) {
    ++tally.requests;
    if (code == Code::kOk) return true;
    if (code == Code::kRateLimited) {
      ++tally.rate_limited;
    } else {
      tally.Error(what + ": " + std::string(client::CodeName(code)));
    }
    return false;
  };
  for (int iteration = 0; !stop.load(); ++iteration) {
    client::NewConversation new_conversation;
    new_conversation.title = "soak " + std::to_string(iteration);
    auto conversation = c.CreateConversation(user, new_conversation);
    if (!check(conversation.code(), "create conversation")) continue;
    client::NewMessage message;
    message.conversation_id = conversation->id;
    message.content = "message " + std::to_string(iteration);
    message.tokens_used = 3;
    check(c.AppendMessage(user, message).code(), "append");
    check(c.ListMessages(user, conversation->id).code(), "list messages");
    std::vector<client::NewChunk> chunks(2);
    for (auto& chunk : chunks) {
      chunk.document_id = document->id;
      chunk.chunk_index = chunk_index++;
      chunk.chunk_text = "soak chunk";
      chunk.embedding = RandomVector(rng);
    }
    check(c.AddChunks(user, chunks).code(), "add chunks");
    client::SearchRequest search;
    search.query = RandomVector(rng);
    search.top_k = 5;
    check(c.Search(user, search).code(), "search");
    check(c.ListConversations(user).code(), "list conversations");
    if (iteration % 4 == 3)
      check(c.HardDeleteConversation(user, conversation->id).code(), "delete");
  }
}

// One HTTP connection's loop through mnemo-rest.
void RestLoad(uint16_t port, int index, const std::atomic<bool>& stop, Tally& tally) {
  HttpConnection http(port);
  const std::string user = "soak-rest-" + std::to_string(index % 16);
  std::mt19937_64 rng(static_cast<uint64_t>(index) * 104729);
  auto vector_json = [&] {
    std::string json = "[";
    for (float x : RandomVector(rng)) json += (json.size() > 1 ? "," : "") + std::to_string(x);
    return json + "]";
  };
  auto check = [&](const HttpAnswer& answer, const std::string& what) {
    ++tally.requests;
    if (answer.status >= 200 && answer.status < 300) return true;
    if (answer.status == 429) {
      ++tally.rate_limited;
    } else {
      tally.Error("REST " + what + ": " + std::to_string(answer.status) + " " +
                  answer.body.substr(0, 200));
    }
    return false;
  };
  for (int iteration = 0; !stop.load(); ++iteration) {
    const HttpAnswer created =
        http.Call("POST", "/api/v1/conversations", user, R"({"title":"rest soak"})");
    if (check(created, "create conversation")) {
      const auto id_at = created.body.find("\"id\":\"");
      if (id_at != std::string::npos) {
        const std::string id = created.body.substr(id_at + 6, 36);
        check(http.Call("POST", "/api/v1/conversations/" + id + "/messages", user,
                        R"({"role":"user","content":"hello"})"),
              "append");
        check(http.Call("GET", "/api/v1/conversations/" + id + "/messages?limit=20", user),
              "list messages");
      }
    }
    check(
        http.Call(
            "POST", "/api/v1/documents", user,
            R"({"filename":"r.txt","file_type":"txt","content":"x","chunks":[{"chunk_index":0,"chunk_text":"c","embedding":)" +
                vector_json() + "}]}"),
        "create document");
    check(http.Call("POST", "/api/v1/documents/search", user,
                    R"({"embedding":)" + vector_json() + R"(,"top_k":5})"),
          "search");
    check(http.Call("GET", "/api/v1/conversations?limit=10", user), "list conversations");
  }
}

// mnemo-rest started beside mnemod; killed when destroyed.
class RestProcess {
 public:
  RestProcess(const std::string& work_dir, uint16_t upstream_port) {
    const std::string port_file = work_dir + "/rest.port";
    const std::string log = work_dir + "/rest.log";
    std::vector<std::string> argv = {MNEMO_SOAK_REST_PATH,
                                     "--listen",
                                     "127.0.0.1:0",
                                     "--port-file",
                                     port_file,
                                     "--upstream",
                                     "127.0.0.1:" + std::to_string(upstream_port),
                                     "--dev-user-header",
                                     "--rate-create",
                                     "400/s",
                                     "--rate-read",
                                     "800/s",
                                     "--rate-other",
                                     "400/s",
                                     "--log-level",
                                     "warn",
                                     "--max-pending",
                                     "512",
                                     "--upstream-connections",
                                     std::to_string(kRestUpstreamConnections)};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    std::vector<char*> args;
    for (auto& arg : argv) args.push_back(arg.data());
    args.push_back(nullptr);
    if (posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    for (int i = 0; i < 500 && pid_ > 0 && port_ == 0; ++i) {
      std::ifstream in(port_file);
      std::string text;
      if (std::getline(in, text) && !text.empty() && in.eof() == false)
        port_ = static_cast<uint16_t>(std::stoi(text));
      if (port_ == 0) std::this_thread::sleep_for(20ms);
    }
  }
  ~RestProcess() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  pid_t pid() const { return pid_; }
  uint16_t port() const { return port_; }

 private:
  pid_t pid_ = -1;
  uint16_t port_ = 0;
};

// Polls until the process's socket count drops to `idle` (sessions close asynchronously).
int SettledSocketCount(pid_t pid, int idle) {
  int count = OpenSocketCount(pid);
  for (int i = 0; i < 100 && count > idle; ++i) {
    std::this_thread::sleep_for(50ms);
    count = OpenSocketCount(pid);
  }
  return count;
}

TEST(SoakTest, MixedLoadOn64ConnectionsLeaksNothing) {
  const int seconds = EnvInt("MNEMO_SOAK_SECONDS", 30);
  TempDir dir;
  MnemodProcess server(dir.path());
  std::string error;
  ASSERT_TRUE(server.Start(0, &error)) << error;
  const pid_t mnemod = FindProcess("mnemod", server.data_dir());
  ASSERT_GT(mnemod, 0) << "cannot find mnemod's pid";

  std::unique_ptr<RestProcess> rest;
#ifdef MNEMO_SOAK_REST_PATH
  rest = std::make_unique<RestProcess>(dir.path(), server.port());
  ASSERT_GT(rest->port(), 0) << "mnemo-rest did not come up (see its log in the work dir)";
#else
  std::printf("[ soak ] mnemo-rest is not built: protocol traffic only\n");
#endif
  std::this_thread::sleep_for(200ms);
  const int mnemod_idle_fds = OpenFileCount(mnemod), mnemod_idle_sockets = OpenSocketCount(mnemod);
  const int rest_idle_sockets = rest ? OpenSocketCount(rest->pid()) : 0;

  Tally tally;
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < kConnections; ++i) {
    threads.emplace_back([&, i] { ProtocolLoad(server.port(), i, stop, tally); });
    if (rest) threads.emplace_back([&, i] { RestLoad(rest->port(), i, stop, tally); });
  }
  const auto start = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::seconds(std::max(1, seconds / 3)));  // warm-up
  const int64_t rss_warm = ResidentBytes(mnemod);
  const int64_t rest_rss_warm = rest ? ResidentBytes(rest->pid()) : 0;
  const uint64_t requests_warm = tally.requests.load();
  const int mnemod_busy_fds = OpenFileCount(mnemod);
  std::this_thread::sleep_until(start + std::chrono::seconds(seconds));
  const int64_t rss_end = ResidentBytes(mnemod);
  const int64_t rest_rss_end = rest ? ResidentBytes(rest->pid()) : 0;
  stop = true;
  for (auto& thread : threads) thread.join();

  for (const auto& what : tally.first_errors) ADD_FAILURE() << what;
  EXPECT_EQ(tally.errors.load(), 0u);
  // The sidecar's client opens up to kRestUpstreamConnections direct connections on demand and
  // keeps them (a bounded pool, not a leak): they are the only sockets allowed to remain.
  const int rest_pool_growth = rest ? kRestUpstreamConnections : 0;
  const int mnemod_sockets = SettledSocketCount(mnemod, mnemod_idle_sockets + rest_pool_growth);
  EXPECT_LE(mnemod_sockets, mnemod_idle_sockets + rest_pool_growth)
      << "mnemod keeps sockets after the clients left";
  const int mnemod_fds = OpenFileCount(mnemod);
  if (rest) {
    const int rest_sockets = SettledSocketCount(rest->pid(), rest_idle_sockets + rest_pool_growth);
    EXPECT_LE(rest_sockets, rest_idle_sockets + rest_pool_growth)
        << "mnemo-rest keeps sockets after the clients left";
    std::printf(
        "[ soak ] mnemo-rest RSS %.1f MiB after warm-up, %.1f MiB at the end; sockets idle %d, "
        "after %d\n",
        static_cast<double>(rest_rss_warm) / (1 << 20),
        static_cast<double>(rest_rss_end) / (1 << 20), rest_idle_sockets, rest_sockets);
    EXPECT_LT(rest_rss_end, 2 * rest_rss_warm + (int64_t{256} << 20));
  }
  std::printf(
      "[ soak ] %d s, %d protocol%s connections: %llu requests (%llu after warm-up), %llu "
      "rate-limited, "
      "%llu errors\n",
      seconds, kConnections, rest ? " + 64 HTTP" : "",
      static_cast<unsigned long long>(tally.requests.load()),
      static_cast<unsigned long long>(tally.requests.load() - requests_warm),
      static_cast<unsigned long long>(tally.rate_limited.load()),
      static_cast<unsigned long long>(tally.errors.load()));
  std::printf(
      "[ soak ] mnemod RSS %.1f MiB after warm-up, %.1f MiB at the end; sockets idle %d, after %d; "
      "fds idle %d, under load %d, after %d (table files may add)\n",
      static_cast<double>(rss_warm) / (1 << 20), static_cast<double>(rss_end) / (1 << 20),
      mnemod_idle_sockets, mnemod_sockets, mnemod_idle_fds, mnemod_busy_fds, mnemod_fds);
  EXPECT_LT(rss_end, 2 * rss_warm + (int64_t{256} << 20))
      << "mnemod's memory grows far beyond its warm-up size";
  rest.reset();
  EXPECT_EQ(server.Stop(), 0) << "mnemod's log:\n" << server.Diagnosis();
}

}  // namespace
}  // namespace mnemo::hardening
