// Transport::CallAsync against an in-process fake server: replies reach their callbacks in any
// order, deadlines, the retry rule for broken connections, and destruction with calls pending.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "codec.h"
#include "testing/client_checks.h"
#include "testing/fake_server.h"
#include "transport.h"

namespace mnemo::client::internal {
namespace {

using testing::FakeServer;
using testing::Peer;
using namespace std::chrono_literals;

// CallAsync always takes the pipelined path: direct calls stay off.
ClientOptions OptionsFor(const FakeServer& server) { return testing::FakeServerOptions(server, false); }

std::unique_ptr<Transport> MustOpen(const ClientOptions& options) {
  auto opened = Transport::Open(options);
  EXPECT_TRUE(opened.ok()) << opened.error().ToString();
  return opened.ok() ? std::move(opened).value() : nullptr;
}

// Collects the outcomes of asynchronous calls, keyed by a small index.
class Outcomes {
 public:
  explicit Outcomes(size_t n) : results_(n) {}
  Transport::Done For(size_t index) {
    return [this, index](Result<std::string> outcome) {
      std::lock_guard lock(mu_);
      EXPECT_FALSE(results_[index].has_value()) << "done ran twice for call " << index;
      results_[index].emplace(std::move(outcome));
      ++finished_;
      cv_.notify_all();
    };
  }
  bool WaitAll(std::chrono::milliseconds timeout = 5000ms) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return finished_ == results_.size(); });
  }
  // The DocumentCounts total of a successful call, or the error's code as a negative number.
  int64_t Total(size_t index) {
    std::lock_guard lock(mu_);
    const auto& outcome = *results_[index];
    if (!outcome.ok()) return -static_cast<int64_t>(outcome.error().code);
    auto counts = DecodeDocumentCounts(*flatbuffers::GetRoot<wire::Response>(outcome.value().data()));
    return counts.ok() ? counts->total : -100;
  }
  Error ErrorOf(size_t index) {
    std::lock_guard lock(mu_);
    return results_[index]->ok() ? Error{Code::kOk, "", ""} : results_[index]->error();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::optional<Result<std::string>>> results_;
  size_t finished_ = 0;
};

// Answers CountDocuments with total = the number in the user id ("u17" -> 17).
void AnswerByUser(const std::shared_ptr<Peer>& peer, const wire::Request& request) {
  const int64_t n = std::stoll(request.user_id()->str().substr(1));
  peer->Send(testing::MakeDocumentCountsReply(request.id(), n, 0, 0));
}

void Count(Transport& transport, size_t user, Transport::Retry retry, Transport::Done done) {
  const uint64_t id = transport.NextRequestId();
  transport.CallAsync(id, EncodeCountDocuments(id, "u" + std::to_string(user)), retry, std::move(done));
}

TEST(AsyncTransportTest, RepliesReachTheirCallbacksInAnyOrder) {
  std::mutex mu;
  std::vector<std::pair<std::shared_ptr<Peer>, uint64_t>> held;
  std::vector<std::string> users;
  FakeServer server([&](const std::shared_ptr<Peer>& peer, const wire::Request& r) {
    std::lock_guard lock(mu);
    held.emplace_back(peer, r.id());
    users.push_back(r.user_id()->str());
  });
  constexpr size_t kCalls = 8;
  Outcomes outcomes(kCalls);  // declared first: outlives the transport's last callback
  auto transport = MustOpen(OptionsFor(server));
  ASSERT_NE(transport, nullptr);
  for (size_t i = 0; i < kCalls; ++i) Count(*transport, i, Transport::Retry::kIfBroken, outcomes.For(i));
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < deadline) {
    std::lock_guard lock(mu);
    if (held.size() == kCalls) break;
  }
  {
    std::lock_guard lock(mu);
    ASSERT_EQ(held.size(), kCalls);  // all on the wire at once, over one connection
    for (size_t k = kCalls; k-- > 0;) {
      held[k].first->Send(testing::MakeDocumentCountsReply(held[k].second, std::stoll(users[k].substr(1)), 0, 0));
    }
  }
  ASSERT_TRUE(outcomes.WaitAll());
  for (size_t i = 0; i < kCalls; ++i) EXPECT_EQ(outcomes.Total(i), static_cast<int64_t>(i));
  EXPECT_EQ(server.connections_accepted(), 1);
}

TEST(AsyncTransportTest, UnansweredCallsFailAtTheirDeadline) {
  FakeServer server([](const std::shared_ptr<Peer>&, const wire::Request&) {});  // never answers
  auto options = OptionsFor(server);
  options.request_timeout = 200ms;
  Outcomes outcomes(3);
  auto transport = MustOpen(options);
  ASSERT_NE(transport, nullptr);
  const auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < 3; ++i) Count(*transport, i, Transport::Retry::kIfBroken, outcomes.For(i));
  ASSERT_TRUE(outcomes.WaitAll());
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_GE(elapsed, 190ms);
  EXPECT_LT(elapsed, 3s);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(outcomes.ErrorOf(i).code, Code::kUnavailable);
    EXPECT_NE(outcomes.ErrorOf(i).message.find("timed out"), std::string::npos) << outcomes.ErrorOf(i).message;
  }
}

TEST(AsyncTransportTest, ABrokenConnectionRetriesReadsOnceAndFailsWrites) {
  std::atomic<int> requests{0};
  FakeServer server([&](const std::shared_ptr<Peer>& peer, const wire::Request& r) {
    // Every odd request breaks its connection; the next one is answered.
    if (requests.fetch_add(1) % 2 == 0) return peer->Shutdown();
    AnswerByUser(peer, r);
  });
  Outcomes read(1);
  Outcomes write(1);
  auto transport = MustOpen(OptionsFor(server));
  ASSERT_NE(transport, nullptr);
  Count(*transport, 7, Transport::Retry::kIfBroken, read.For(0));
  ASSERT_TRUE(read.WaitAll());
  EXPECT_EQ(read.Total(0), 7);
  EXPECT_EQ(requests.load(), 2);  // resent once

  Count(*transport, 8, Transport::Retry::kNever, write.For(0));
  ASSERT_TRUE(write.WaitAll());
  EXPECT_EQ(write.ErrorOf(0).code, Code::kUnavailable);
  EXPECT_EQ(requests.load(), 3);  // never resent
}

TEST(AsyncTransportTest, DestroyingTheTransportFinishesPendingCalls) {
  std::atomic<int> requests{0};
  FakeServer server([&](const std::shared_ptr<Peer>&, const wire::Request&) { ++requests; });
  Outcomes outcomes(4);
  auto transport = MustOpen(OptionsFor(server));
  ASSERT_NE(transport, nullptr);
  for (size_t i = 0; i < 4; ++i) Count(*transport, i, Transport::Retry::kIfBroken, outcomes.For(i));
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (requests.load() < 4 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
  transport.reset();
  ASSERT_TRUE(outcomes.WaitAll(0ms));  // all finished during the destruction
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(outcomes.ErrorOf(i).code, Code::kUnavailable);
    EXPECT_EQ(outcomes.ErrorOf(i).message, "client closed");
  }
}

TEST(AsyncTransportTest, ManyThreadsCallingAtOnceEachGetTheirOwnReplies) {
  FakeServer server(AnswerByUser);
  auto options = OptionsFor(server);
  options.pool_size = 2;
  constexpr size_t kThreads = 4;
  constexpr size_t kEach = 200;
  Outcomes outcomes(kThreads * kEach);
  auto transport = MustOpen(options);
  ASSERT_NE(transport, nullptr);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (size_t i = 0; i < kEach; ++i) {
        const size_t index = t * kEach + i;
        Count(*transport, index, Transport::Retry::kIfBroken, outcomes.For(index));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  ASSERT_TRUE(outcomes.WaitAll(10s));
  for (size_t i = 0; i < kThreads * kEach; ++i) ASSERT_EQ(outcomes.Total(i), static_cast<int64_t>(i));
}

}  // namespace
}  // namespace mnemo::client::internal
