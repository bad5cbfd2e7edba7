// The transport's direct path (options.direct_calls) against an in-process fake server: lazy
// connections beside the pool, timeouts, broken and desynchronized replies, reconnects after the
// server closed an idle connection, refused reconnects, and the fall-back to the pipelined pool
// when every direct connection is busy.  No mnemod needed.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
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

// pool_size 1: the pool's one connection is accepted at Connect, the direct one on first use.
ClientOptions DirectOptionsFor(const FakeServer& server) { return testing::FakeServerOptions(server, true); }

// "u17" -> 17.
int64_t UserNumber(const wire::Request& request) {
  return std::stoll(request.user_id()->str().substr(1));
}

// Answers CountDocuments with total = the number in the user id, DeleteMessages with count 3.
void Answer(const std::shared_ptr<Peer>& peer, const wire::Request& request) {
  if (request.body_type() == wire::RequestBody::CountDocumentsRequest) {
    peer->Send(testing::MakeDocumentCountsReply(request.id(), UserNumber(request), 0, 0));
  } else {
    peer->Send(testing::MakeCountReply(request.id(), 3));
  }
}

// A request held back by the test, answered when it says so (or never).
struct Held {
  std::shared_ptr<Peer> peer;
  uint64_t id = 0;
  int64_t user = 0;
};

class Holder {
 public:
  void Add(const std::shared_ptr<Peer>& peer, const wire::Request& request) {
    std::lock_guard lock(mu_);
    held_.push_back({peer, request.id(), UserNumber(request)});
    cv_.notify_all();
  }
  bool WaitFor(size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 5s, [&] { return held_.size() >= n; });
  }
  void ReplyAll() {
    std::lock_guard lock(mu_);
    for (const auto& item : held_) {
      item.peer->Send(testing::MakeDocumentCountsReply(item.id, item.user, 0, 0));
    }
    held_.clear();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Held> held_;
};

TEST(DirectTransportTest, DirectConnectionsOpenOnFirstUseAndAreReused) {
  FakeServer server(Answer);
  auto options = DirectOptionsFor(server);
  options.pool_size = 2;
  options.api_key = "secret";
  auto client = MustConnect(options);
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(server.connections_accepted(), 2);  // the pipelined pool only
  for (int i = 1; i <= 5; ++i) {
    auto counts = client->CountDocuments("u" + std::to_string(i));
    ASSERT_TRUE(counts.ok()) << counts.error().ToString();
    EXPECT_EQ(counts->total, i);
  }
  // One caller at a time: one direct connection, with the same handshake as the pool's.
  EXPECT_EQ(server.connections_accepted(), 3);
  ASSERT_EQ(server.hellos(), 3);
  for (const auto& hello : server.hellos_seen()) {
    EXPECT_EQ(hello.api_key, "secret");
    EXPECT_EQ(hello.client_name, "mnemo-cpp");
    EXPECT_EQ(hello.protocol_version, 1u);
  }
}

TEST(DirectTransportTest, TimeoutClosesTheConnectionAndTheNextCallReconnects) {
  Holder holder;
  FakeServer server([&](const std::shared_ptr<Peer>& peer, const wire::Request& r) {
    if (UserNumber(r) == 1) {
      holder.Add(peer, r);  // answered only after its caller gave up
    } else {
      Answer(peer, r);
    }
  });
  auto options = DirectOptionsFor(server);
  options.request_timeout = 200ms;
  auto client = MustConnect(options);
  ASSERT_NE(client, nullptr);
  const auto start = std::chrono::steady_clock::now();
  auto late = client->CountDocuments("u1");
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, Code::kUnavailable);
  EXPECT_EQ(late.error().message, "request timed out after 200 ms");
  EXPECT_GE(elapsed, 190ms);
  EXPECT_LT(elapsed, 5s);
  ASSERT_TRUE(holder.WaitFor(1));
  holder.ReplyAll();  // the late reply goes to a closed connection
  auto next = client->CountDocuments("u2");
  ASSERT_TRUE(next.ok()) << next.error().ToString();
  EXPECT_EQ(next->total, 2);
  EXPECT_EQ(server.connections_accepted(), 3);  // pool + the timed-out one + its replacement
}

TEST(DirectTransportTest, BrokenConnectionFailsWritesAndRetriesReadsOnce) {
  std::atomic<int> requests{0};
  std::atomic<bool> drop_next{true};
  FakeServer server([&](const std::shared_ptr<Peer>& peer, const wire::Request& r) {
    ++requests;
    if (drop_next.exchange(false)) {
      peer->Shutdown();  // breaks with this request in flight
      return;
    }
    Answer(peer, r);
  });
  auto client = MustConnect(DirectOptionsFor(server));
  ASSERT_NE(client, nullptr);

  auto write = client->DeleteAllMessages("u1", Uuid::Generate());
  ASSERT_FALSE(write.ok());
  EXPECT_EQ(write.error().code, Code::kUnavailable);
  EXPECT_EQ(requests.load(), 1);  // not resent

  drop_next = true;
  requests = 0;
  auto read = client->CountDocuments("u9");
  ASSERT_TRUE(read.ok()) << read.error().ToString();
  EXPECT_EQ(read->total, 9);
  EXPECT_EQ(requests.load(), 2);  // resent once, on a fresh connection
}

TEST(DirectTransportTest, ConnectionClosedByTheServerWhileIdleIsReestablished) {
  std::atomic<int> requests{0};
  FakeServer server([&](const std::shared_ptr<Peer>& peer, const wire::Request& r) {
    ++requests;
    Answer(peer, r);
  });
  auto client = MustConnect(DirectOptionsFor(server));
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->CountDocuments("u1").ok());
  const int hellos = server.hellos();
  for (int round = 0; round < 3; ++round) {
    server.DropConnections();  // like an idle timeout: FIN on every connection
    std::this_thread::sleep_for(20ms);  // let the FIN arrive (correctness does not depend on it)
    requests = 0;
    // A write is never resent: it succeeds only because the closed connection is detected
    // before sending and replaced.
    auto write = client->DeleteAllMessages("u1", Uuid::Generate());
    ASSERT_TRUE(write.ok()) << write.error().ToString();
    EXPECT_EQ(*write, 3);
    EXPECT_EQ(requests.load(), 1);
  }
  EXPECT_GE(server.hellos(), hellos + 3);
}

TEST(DirectTransportTest, RefusedReconnectReportsTheHandshakesError) {
  std::atomic<int> hellos{0};
  FakeServer server(Answer, [&](const std::shared_ptr<Peer>& peer, const wire::Request& r) {
    if (hellos++ == 0) {  // the pool's connection is let in, every later one refused
      peer->Send(testing::MakeHelloReply(r.id(), 0, 64u << 20));
    } else {
      peer->Send(testing::MakeErrorReply(r.id(), wire::StatusCode::AUTHENTICATION_ERROR,
                                         "unknown api key"));
    }
  });
  auto client = MustConnect(DirectOptionsFor(server));
  ASSERT_NE(client, nullptr);
  auto counts = client->CountDocuments("u1");
  ASSERT_FALSE(counts.ok());
  EXPECT_EQ(counts.error().code, Code::kAuthenticationError);
  EXPECT_EQ(counts.error().message, "unknown api key");
}

TEST(DirectTransportTest, DirectConnectionsRefusedForNowFallBackToThePool) {
  std::atomic<int> hellos{0};
  FakeServer server(Answer, [&](const std::shared_ptr<Peer>& peer, const wire::Request& r) {
    if (hellos++ == 0) {  // the pool's connection; later ones are over the connection limit
      peer->Send(testing::MakeHelloReply(r.id(), 0, 64u << 20));
    } else {
      peer->Send(testing::MakeErrorReply(r.id(), wire::StatusCode::UNAVAILABLE,
                                         "too many connections (limit 1)"));
    }
  });
  auto client = MustConnect(DirectOptionsFor(server));
  ASSERT_NE(client, nullptr);
  for (int i = 1; i <= 5; ++i) {
    auto counts = client->CountDocuments("u" + std::to_string(i));
    ASSERT_TRUE(counts.ok()) << counts.error().ToString();
    EXPECT_EQ(counts->total, i);
  }
  EXPECT_GE(server.connections_accepted(), 2);  // the pool's and at least one refused direct one
}

TEST(DirectTransportTest, OversizedRequestFailsWithoutSending) {
  std::atomic<int> requests{0};
  FakeServer server([&](const std::shared_ptr<Peer>& peer, const wire::Request& r) {
    ++requests;
    Answer(peer, r);
  });
  server.max_frame_bytes = 1024;
  auto client = MustConnect(DirectOptionsFor(server));
  ASSERT_NE(client, nullptr);
  NewChunk chunk;
  chunk.document_id = Uuid::Generate();
  chunk.chunk_text = "big";
  chunk.embedding.assign(1000, 0.5f);
  auto result = client->AddChunks("u1", {chunk});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, Code::kPayloadTooLarge);
  EXPECT_EQ(requests.load(), 0);
  auto small = client->CountDocuments("u3");
  ASSERT_TRUE(small.ok()) << small.error().ToString();
  EXPECT_EQ(small->total, 3);
}

// Each case: the first request gets a bad reply, the connection is dropped, and the next call
// works on a new one.  `Reply` sends the bad reply for request `r`.
void ExpectBadReplyFailsThenRecovers(
    const std::function<void(const std::shared_ptr<Peer>&, const wire::Request&)>& bad_reply,
    Code code, const std::string& message_part, uint32_t max_frame_bytes = 64u << 20) {
  std::atomic<bool> bad{true};
  FakeServer server([&](const std::shared_ptr<Peer>& peer, const wire::Request& r) {
    if (bad.exchange(false)) {
      bad_reply(peer, r);
    } else {
      Answer(peer, r);
    }
  });
  auto options = DirectOptionsFor(server);
  options.max_frame_bytes = max_frame_bytes;
  auto client = MustConnect(options);
  ASSERT_NE(client, nullptr);
  auto failed = client->DeleteAllMessages("u1", Uuid::Generate());  // a write: not resent
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, code);
  EXPECT_NE(failed.error().message.find(message_part), std::string::npos)
      << failed.error().message;
  const int accepted = server.connections_accepted();
  auto good = client->CountDocuments("u6");
  ASSERT_TRUE(good.ok()) << good.error().ToString();
  EXPECT_EQ(good->total, 6);
  EXPECT_EQ(server.connections_accepted(), accepted + 1);  // the bad one was closed
}

TEST(DirectTransportTest, MalformedResponseBreaksTheConnection) {
  ExpectBadReplyFailsThenRecovers(
      [](const std::shared_ptr<Peer>& peer, const wire::Request&) {
        peer->Send(std::string(64, 'x'));  // a frame, but not a FlatBuffer
      },
      Code::kUnavailable, "malformed");
}

TEST(DirectTransportTest, ResponseForAnotherRequestBreaksTheConnection) {
  ExpectBadReplyFailsThenRecovers(
      [](const std::shared_ptr<Peer>& peer, const wire::Request& r) {
        peer->Send(testing::MakeCountReply(r.id() + 1000, 3));
      },
      Code::kUnavailable, "response for request");
}

TEST(DirectTransportTest, RejectedFrameReportsTheServersError) {
  ExpectBadReplyFailsThenRecovers(
      [](const std::shared_ptr<Peer>& peer, const wire::Request&) {
        peer->Send(testing::MakeErrorReply(0, wire::StatusCode::PAYLOAD_TOO_LARGE, "frame too big"));
      },
      Code::kPayloadTooLarge, "frame too big");
}

TEST(DirectTransportTest, ResponseLargerThanMaxFrameBytesBreaksTheConnection) {
  ExpectBadReplyFailsThenRecovers(
      [](const std::shared_ptr<Peer>& peer, const wire::Request& r) {
        peer->Send(testing::MakeErrorReply(r.id(), wire::StatusCode::INTERNAL_ERROR,
                                           std::string(2000, 'e')));
      },
      Code::kUnavailable, "exceeds max_frame_bytes", /*max_frame_bytes=*/1000);
}

TEST(DirectTransportTest, TruncatedResponseIsAConnectionLoss) {
  ExpectBadReplyFailsThenRecovers(
      [](const std::shared_ptr<Peer>& peer, const wire::Request&) {
        peer->SendRaw(std::string("\x40\x00\x00\x00partial", 11));  // announces 64 bytes
        peer->Shutdown();
      },
      Code::kUnavailable, "closed");
}

TEST(DirectTransportTest, BusyDirectConnectionsFallBackToThePool) {
  Holder holder;
  FakeServer server([&](const std::shared_ptr<Peer>& peer, const wire::Request& r) {
    if (UserNumber(r) == 1) {
      holder.Add(peer, r);
    } else {
      Answer(peer, r);
    }
  });
  auto client = MustConnect(DirectOptionsFor(server));  // one direct connection at most
  ASSERT_NE(client, nullptr);
  int64_t held_total = -1;
  std::thread blocked([&] {
    auto counts = client->CountDocuments("u1");  // holds the direct connection
    held_total = counts.ok() ? counts->total : -100;
  });
  ASSERT_TRUE(holder.WaitFor(1));
  for (int i = 2; i < 12; ++i) {  // served by the pipelined pool meanwhile
    auto counts = client->CountDocuments("u" + std::to_string(i));
    ASSERT_TRUE(counts.ok()) << counts.error().ToString();
    EXPECT_EQ(counts->total, i);
  }
  EXPECT_EQ(server.connections_accepted(), 2);
  holder.ReplyAll();
  blocked.join();
  EXPECT_EQ(held_total, 1);
}

TEST(DirectTransportTest, ManyThreadsOverAPoolGetTheirOwnReplies) {
  FakeServer server(Answer);
  auto options = DirectOptionsFor(server);
  options.pool_size = 2;
  auto client = MustConnect(options);
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(testing::WrongRepliesFromThreads(*client, 8, 200), 0);
  EXPECT_LE(server.connections_accepted(), 4);  // 2 pipelined + at most 2 direct
}

}  // namespace
}  // namespace mnemo::client
