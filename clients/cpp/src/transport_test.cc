// The pipelined connection pool (direct calls off) against an in-process fake server:
// handshake, pipelining, the server's in-flight limit, timeouts, broken connections and
// reconnects.  No mnemod needed.  The direct path: direct_transport_test.cc.
#include "transport.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "mnemo/client/client.h"
#include "testing/client_checks.h"
#include "testing/fake_server.h"

namespace mnemo::client {
namespace {

using testing::FakeServer;
using testing::MustConnect;
using testing::Peer;
using namespace std::chrono_literals;

// direct_calls off: these tests count the pool's connections.
ClientOptions OptionsFor(const FakeServer& server) { return testing::FakeServerOptions(server, false); }

// Answers CountDocuments with total = the number in the user id ("u17" -> 17), everything else
// with Done.
void AnswerByUser(const std::shared_ptr<Peer>& peer, const wire::Request& request) {
  if (request.body_type() == wire::RequestBody::CountDocumentsRequest) {
    const int64_t n = std::stoll(request.user_id()->str().substr(1));
    peer->Send(testing::MakeDocumentCountsReply(request.id(), n, 0, 0));
  } else {
    peer->Send(testing::MakeDoneReply(request.id()));
  }
}

// Holds requests until the test releases them.
class Deferred {
 public:
  void Add(std::shared_ptr<Peer> peer, const wire::Request& request) {
    std::lock_guard lock(mu_);
    items_.push_back({std::move(peer), request.id(), request.user_id() ? request.user_id()->str() : "",
                      request.body_type()});
    cv_.notify_all();
  }
  bool WaitFor(size_t n, std::chrono::milliseconds timeout = 5000ms) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return items_.size() >= n; });
  }
  size_t size() {
    std::lock_guard lock(mu_);
    return items_.size();
  }
  struct Item {
    std::shared_ptr<Peer> peer;
    uint64_t id;
    std::string user;
    wire::RequestBody type;
  };
  std::vector<Item> Take() {
    std::lock_guard lock(mu_);
    return std::exchange(items_, {});
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Item> items_;
};

void Reply(const Deferred::Item& item) {
  const int64_t n = item.user.size() > 1 ? std::stoll(item.user.substr(1)) : 0;
  item.peer->Send(testing::MakeDocumentCountsReply(item.id, n, 0, 0));
}

TEST(TransportTest, HandshakeSendsCredentialsAndReadsServerInfo) {
  FakeServer server(AnswerByUser);
  server.max_in_flight = 7;
  server.max_frame_bytes = 4096;
  auto options = OptionsFor(server);
  options.pool_size = 3;
  options.api_key = "secret";
  options.client_name = "unit";
  auto client = MustConnect(options);
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(server.hellos(), 3);
  for (const auto& hello : server.hellos_seen()) {
    EXPECT_EQ(hello.api_key, "secret");
    EXPECT_EQ(hello.client_name, "unit");
    EXPECT_EQ(hello.protocol_version, 1u);
  }
  EXPECT_EQ(client->server_info().server_version, "fake-0.1");
  EXPECT_EQ(client->server_info().max_in_flight, 7u);
  EXPECT_EQ(client->server_info().max_frame_bytes, 4096u);
  EXPECT_EQ(client->server_info().dimension, 8u);
  EXPECT_EQ(client->server_info().principal, "service");
  auto counts = client->CountDocuments("u5");
  ASSERT_TRUE(counts.ok()) << counts.error().ToString();
  EXPECT_EQ(counts->total, 5);
}

TEST(TransportTest, RefusedHandshakeReportsTheServersError) {
  FakeServer server(AnswerByUser, [](const std::shared_ptr<Peer>& peer, const wire::Request& r) {
    peer->Send(testing::MakeErrorReply(r.id(), wire::StatusCode::AUTHENTICATION_ERROR,
                                       "unknown api key"));
  });
  auto client = Client::Connect(OptionsFor(server));
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.error().code, Code::kAuthenticationError);
  EXPECT_EQ(client.error().message, "unknown api key");
}

TEST(TransportTest, NothingListeningIsUnavailable) {
  // Bind a port, then close it: nothing listens there.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  socklen_t length = sizeof(address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  ClientOptions options;
  options.port = ntohs(address.sin_port);
  auto client = Client::Connect(options);
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.error().code, Code::kUnavailable);
}

TEST(TransportTest, SilentServerTimesOutTheHandshake) {
  FakeServer server(AnswerByUser, [](const std::shared_ptr<Peer>&, const wire::Request&) {});
  auto options = OptionsFor(server);
  options.connect_timeout = 200ms;
  const auto start = std::chrono::steady_clock::now();
  auto client = Client::Connect(options);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.error().code, Code::kUnavailable);
  EXPECT_NE(client.error().message.find("timed out"), std::string::npos);
  EXPECT_LT(elapsed, 3s);
}

TEST(TransportTest, BadOptionsAreValidationErrors) {
  ClientOptions options;
  options.pool_size = 0;
  EXPECT_EQ(Client::Connect(options).error().code, Code::kValidationError);
  options.pool_size = 1;
  options.host = "";
  EXPECT_EQ(Client::Connect(options).error().code, Code::kValidationError);
}

TEST(TransportTest, PipelinedResponsesReachTheirCallersInAnyOrder) {
  Deferred deferred;
  FakeServer server([&](const std::shared_ptr<Peer>& peer, const wire::Request& r) {
    deferred.Add(peer, r);
  });
  auto client = MustConnect(OptionsFor(server));  // one connection
  ASSERT_NE(client, nullptr);
  constexpr int kCallers = 8;
  std::vector<int64_t> results(kCallers, -1);
  std::vector<std::thread> threads;
  for (int i = 0; i < kCallers; ++i) {
    threads.emplace_back([&, i] {
      auto counts = client->CountDocuments("u" + std::to_string(i));
      results[i] = counts.ok() ? counts->total : -100;
    });
  }
  // All eight are on the wire at once over one connection: pipelined.
  ASSERT_TRUE(deferred.WaitFor(kCallers));
  EXPECT_EQ(server.connections_accepted(), 1);
  auto items = deferred.Take();
  std::reverse(items.begin(), items.end());
  for (const auto& item : items) Reply(item);
  for (auto& thread : threads) thread.join();
  for (int i = 0; i < kCallers; ++i) EXPECT_EQ(results[i], i);
}

TEST(TransportTest, NeverExceedsTheServersInFlightLimit) {
  Deferred deferred;
  FakeServer server([&](const std::shared_ptr<Peer>& peer, const wire::Request& r) {
    deferred.Add(peer, r);
  });
  server.max_in_flight = 2;
  auto client = MustConnect(OptionsFor(server));
  ASSERT_NE(client, nullptr);
  constexpr int kCallers = 6;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kCallers; ++i) {
    threads.emplace_back([&, i] {
      auto counts = client->CountDocuments("u" + std::to_string(i));
      if (counts.ok() && counts->total == i) ++ok;
    });
  }
  for (int round = 0; round < kCallers / 2; ++round) {
    ASSERT_TRUE(deferred.WaitFor(2));
    std::this_thread::sleep_for(100ms);
    EXPECT_EQ(deferred.size(), 2u) << "more than max_in_flight requests were sent";
    for (const auto& item : deferred.Take()) Reply(item);
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(ok.load(), kCallers);
}

TEST(TransportTest, TimedOutCallFailsAndLateResponseIsIgnored) {
  Deferred deferred;
  FakeServer server([&](const std::shared_ptr<Peer>& peer, const wire::Request& r) {
    if (r.user_id()->str() == "u1") {
      deferred.Add(peer, r);  // answered late, after its caller gave up
    } else {
      AnswerByUser(peer, r);
    }
  });
  auto options = OptionsFor(server);
  options.request_timeout = 200ms;
  auto client = MustConnect(options);
  ASSERT_NE(client, nullptr);
  const auto start = std::chrono::steady_clock::now();
  auto late = client->CountDocuments("u1");
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, Code::kUnavailable);
  EXPECT_NE(late.error().message.find("timed out"), std::string::npos);
  EXPECT_GE(elapsed, 190ms);
  EXPECT_LT(elapsed, 2s);
  for (const auto& item : deferred.Take()) Reply(item);
  // The connection survives; the stray response does not confuse the next call.
  auto next = client->CountDocuments("u2");
  ASSERT_TRUE(next.ok()) << next.error().ToString();
  EXPECT_EQ(next->total, 2);
  EXPECT_EQ(server.connections_accepted(), 1);
}

TEST(TransportTest, BrokenConnectionFailsWritesRetriesReadsAndReconnects) {
  std::atomic<int> writes_seen{0};
  std::atomic<int> reads_seen{0};
  std::atomic<bool> drop_next{true};
  FakeServer* server_ptr = nullptr;
  FakeServer server([&](const std::shared_ptr<Peer>& peer, const wire::Request& r) {
    const bool is_write = r.body_type() == wire::RequestBody::DeleteMessagesRequest;
    (is_write ? writes_seen : reads_seen)++;
    if (drop_next.exchange(false)) {
      peer->Shutdown();  // the connection breaks with this request in flight
      return;
    }
    if (is_write) {
      peer->Send(testing::MakeCountReply(r.id(), 3));
    } else {
      AnswerByUser(peer, r);
    }
  });
  server_ptr = &server;
  auto client = MustConnect(OptionsFor(server));
  ASSERT_NE(client, nullptr);

  // A write in flight on a breaking connection: UNAVAILABLE, not retried.
  auto write = client->DeleteAllMessages("u1", Uuid::Generate());
  ASSERT_FALSE(write.ok());
  EXPECT_EQ(write.error().code, Code::kUnavailable);
  EXPECT_EQ(writes_seen.load(), 1);

  // The next call reconnects transparently.
  auto read = client->CountDocuments("u4");
  ASSERT_TRUE(read.ok()) << read.error().ToString();
  EXPECT_EQ(read->total, 4);
  EXPECT_EQ(server_ptr->hellos(), 2);

  // A read in flight on a breaking connection is retried once, on a fresh connection.
  drop_next = true;
  reads_seen = 0;
  auto retried = client->CountDocuments("u9");
  ASSERT_TRUE(retried.ok()) << retried.error().ToString();
  EXPECT_EQ(retried->total, 9);
  EXPECT_EQ(reads_seen.load(), 2);
  EXPECT_EQ(server_ptr->hellos(), 3);

  // The server dropping every connection between calls is healed by the next call too.
  server.DropConnections();
  auto after_drop = client->DeleteAllMessages("u1", Uuid::Generate());
  ASSERT_TRUE(after_drop.ok()) << after_drop.error().ToString();
  EXPECT_EQ(*after_drop, 3);
}

TEST(TransportTest, ServerGoneMakesCallsUnavailable) {
  auto server = std::make_unique<FakeServer>(AnswerByUser);
  auto options = OptionsFor(*server);
  options.pool_size = 2;
  auto client = MustConnect(options);
  ASSERT_NE(client, nullptr);
  server.reset();  // closes the listener and every connection
  auto down = client->CountDocuments("u1");
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.error().code, Code::kUnavailable);
}

TEST(TransportTest, OversizedRequestFailsLocally) {
  std::atomic<int> seen{0};
  FakeServer server([&](const std::shared_ptr<Peer>& peer, const wire::Request& r) {
    ++seen;
    AnswerByUser(peer, r);
  });
  server.max_frame_bytes = 1024;
  auto client = MustConnect(OptionsFor(server));
  ASSERT_NE(client, nullptr);
  NewChunk chunk;
  chunk.document_id = Uuid::Generate();
  chunk.chunk_text = "big";
  chunk.embedding.assign(1000, 0.5f);
  auto result = client->AddChunks("u1", {chunk});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, Code::kPayloadTooLarge);
  EXPECT_EQ(seen.load(), 0);
  auto small = client->CountDocuments("u3");
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(small->total, 3);
}

TEST(TransportTest, MalformedResponseBreaksTheConnection) {
  std::atomic<bool> garbage{true};
  FakeServer server([&](const std::shared_ptr<Peer>& peer, const wire::Request& r) {
    if (garbage.exchange(false)) {
      peer->Send(std::string(64, 'x'));  // a frame, but not a FlatBuffer
    } else {
      AnswerByUser(peer, r);
    }
  });
  auto client = MustConnect(OptionsFor(server));
  ASSERT_NE(client, nullptr);
  auto bad = client->DeleteAllMessages("u1", Uuid::Generate());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, Code::kUnavailable);
  EXPECT_NE(bad.error().message.find("malformed"), std::string::npos);
  auto good = client->CountDocuments("u6");
  ASSERT_TRUE(good.ok()) << good.error().ToString();
  EXPECT_EQ(good->total, 6);
}

TEST(TransportTest, ServerErrorsPassThroughUnchanged) {
  FakeServer server([](const std::shared_ptr<Peer>& peer, const wire::Request& r) {
    peer->Send(testing::MakeErrorReply(r.id(), wire::StatusCode::VALIDATION_ERROR,
                                       "title must not be blank", "title"));
  });
  auto client = MustConnect(OptionsFor(server));
  ASSERT_NE(client, nullptr);
  NewConversation input;
  input.title = " ";
  auto result = client->CreateConversation("u1", input);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, Code::kValidationError);
  EXPECT_EQ(result.error().message, "title must not be blank");
  EXPECT_EQ(result.error().field, "title");
}

TEST(TransportTest, ManyThreadsOverAPool) {
  FakeServer server(AnswerByUser);
  server.max_in_flight = 4;
  auto options = OptionsFor(server);
  options.pool_size = 2;
  auto client = MustConnect(options);
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(testing::WrongRepliesFromThreads(*client, 8, 200), 0);
  EXPECT_EQ(server.connections_accepted(), 2);
}

}  // namespace
}  // namespace mnemo::client
