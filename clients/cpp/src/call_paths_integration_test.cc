// The client's two call paths (direct calls on and off, ClientOptions::direct_calls) against a
// real mnemod on 127.0.0.1: round trips, a server restart, connections closed by the server's
// idle timeout, the server's frame limit, more concurrent callers than pool_size, and a refused
// API key.  Timeouts and malformed replies need a misbehaving server: direct_transport_test.cc
// and transport_test.cc cover them with the fake one.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "mnemo/client/client.h"
#include "mnemod_process.h"
#include "test_util.h"

namespace mnemo::client::testing {
namespace {

using namespace std::chrono_literals;

class CallPathsTest : public ::testing::TestWithParam<bool> {
 protected:
  // Starts mnemod with `extra_args` and connects a client in the mode under test.
  void StartServer(std::vector<std::string> extra_args = {}) {
    server_.set_extra_args(std::move(extra_args));
    std::string error;
    ASSERT_TRUE(server_.Start(0, &error)) << error;
  }
  ClientOptions Options(int pool_size = 2) const {
    ClientOptions options = LocalOptions(server_.port());
    options.pool_size = pool_size;
    options.direct_calls = GetParam();
    return options;
  }

  TempDir dir_;
  MnemodProcess server_{dir_.path()};
};

Result<Conversation> Create(Client& client, const std::string& user, const std::string& title) {
  NewConversation input;
  input.title = title;
  return client.CreateConversation(user, input);
}

TEST_P(CallPathsTest, RoundTrip) {
  StartServer();
  MNEMO_ASSERT_OK_AND_ASSIGN(auto client, Client::Connect(Options()));
  MNEMO_ASSERT_OK_AND_ASSIGN(const Conversation created, Create(*client, "alice", "hello"));
  MNEMO_ASSERT_OK_AND_ASSIGN(const Conversation got, client->GetConversation("alice", created.id));
  EXPECT_EQ(got.id, created.id);
  EXPECT_EQ(got.title, "hello");
  EXPECT_EQ(client->GetConversation("bob", created.id).code(), Code::kNotFound);
}

TEST_P(CallPathsTest, NextReadAfterAServerRestartSucceeds) {
  StartServer();
  MNEMO_ASSERT_OK_AND_ASSIGN(auto client, Client::Connect(Options()));
  MNEMO_ASSERT_OK_AND_ASSIGN(const Conversation created, Create(*client, "alice", "durable"));
  const uint16_t port = server_.port();
  ASSERT_EQ(server_.Stop(), 0);
  std::string error;
  ASSERT_TRUE(server_.Start(port, &error)) << error;
  MNEMO_ASSERT_OK_AND_ASSIGN(const Conversation got, client->GetConversation("alice", created.id));
  EXPECT_EQ(got.title, "durable");
}

TEST_P(CallPathsTest, ConnectionsClosedByTheIdleTimeoutAreReestablished) {
  StartServer({"--idle-timeout", "1"});
  MNEMO_ASSERT_OK_AND_ASSIGN(auto client, Client::Connect(Options()));
  MNEMO_ASSERT_OK(Create(*client, "alice", "before"));
  // Long enough for the server to close every connection (it checks at least once a second).
  std::this_thread::sleep_for(2500ms);
  // A write is never resent after a lost connection: it succeeds only because the closed
  // connection is noticed before sending.
  MNEMO_ASSERT_OK_AND_ASSIGN(const Conversation after, Create(*client, "alice", "after"));
  EXPECT_EQ(after.title, "after");
}

TEST_P(CallPathsTest, RequestsOverTheServersFrameLimitFailLocally) {
  StartServer({"--max-frame-bytes", "65536"});
  MNEMO_ASSERT_OK_AND_ASSIGN(auto client, Client::Connect(Options()));
  EXPECT_EQ(client->server_info().max_frame_bytes, 65536u);
  NewChunk chunk;
  chunk.document_id = Uuid::Generate();
  chunk.chunk_text = std::string(70'000, 'x');
  chunk.embedding.assign(MnemodProcess::kDimension, 0.5f);
  auto result = client->AddChunks("alice", {chunk});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, Code::kPayloadTooLarge);
  MNEMO_ASSERT_OK(Create(*client, "alice", "still fine"));
}

TEST_P(CallPathsTest, MoreCallersThanPoolSizeEachGetTheirOwnReplies) {
  StartServer();
  MNEMO_ASSERT_OK_AND_ASSIGN(auto client, Client::Connect(Options(/*pool_size=*/2)));
  constexpr int kThreads = 8;
  constexpr int kCalls = 200;
  constexpr int kConversationsPerThread = 4;
  // Each thread owns a user and a few conversations titled after it.
  std::vector<std::vector<Uuid>> ids(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    for (int c = 0; c < kConversationsPerThread; ++c) {
      const std::string title = "t" + std::to_string(t) + "c" + std::to_string(c);
      MNEMO_ASSERT_OK_AND_ASSIGN(const Conversation created,
                                 Create(*client, "user" + std::to_string(t), title));
      ids[t].push_back(created.id);
    }
  }
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string user = "user" + std::to_string(t);
      for (int i = 0; i < kCalls; ++i) {
        const int c = i % kConversationsPerThread;
        auto got = client->GetConversation(user, ids[t][c]);
        if (!got.ok() || got->id != ids[t][c] ||
            got->title != "t" + std::to_string(t) + "c" + std::to_string(c)) {
          ++wrong;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST_P(CallPathsTest, AWrongApiKeyIsRefusedByTheHandshake) {
  StartServer();
  ClientOptions options = Options();
  options.api_key = "garbage";
  auto client = Client::Connect(options);
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.error().code, Code::kAuthenticationError);
}

INSTANTIATE_TEST_SUITE_P(BothPaths, CallPathsTest, ::testing::Values(true, false),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Direct" : "Pipelined";
                         });

}  // namespace
}  // namespace mnemo::client::testing
