// The router (which node a client talks to) against in-process fake servers: NOT_PRIMARY is
// followed once to the primary it names, writes included; never twice; not at all when it names
// no primary or following is off; the next configured address is used when one is unreachable.
#include "router.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "mnemo/client/client.h"
#include "testing/client_checks.h"
#include "testing/fake_server.h"

namespace mnemo::client {
namespace {

using testing::FakeServer;
using testing::Peer;

std::string AddressOf(const FakeServer& server) {
  return "127.0.0.1:" + std::to_string(server.port());
}

std::string NotPrimaryReply(uint64_t id, const std::string& primary, uint64_t epoch) {
  flatbuffers::FlatBufferBuilder fbb;
  const auto message = fbb.CreateString("not the primary");
  const auto address = primary.empty() ? 0 : fbb.CreateString(primary);
  const auto error =
      wire::CreateError(fbb, wire::StatusCode::NOT_PRIMARY, message, 0, address, epoch);
  fbb.Finish(wire::CreateResponse(fbb, id, error), wire::RequestIdentifier());
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
}

// A node that answers every request NOT_PRIMARY naming `primary` (settable later).
struct Follower {
  void Name(std::string address) {
    std::lock_guard lock(mu);
    primary = std::move(address);
  }
  std::atomic<int> requests{0};
  std::mutex mu;
  std::string primary;  // GUARDED_BY(mu)
  FakeServer server{[this](const std::shared_ptr<Peer>& peer, const wire::Request& request) {
    ++requests;
    std::lock_guard lock(mu);
    peer->Send(NotPrimaryReply(request.id(), primary, 7));
  }};
};

struct Primary {
  std::atomic<int> requests{0};
  FakeServer server{[this](const std::shared_ptr<Peer>& peer, const wire::Request& request) {
    ++requests;
    peer->Send(testing::MakeDoneReply(request.id()));
  }};
};

ClientOptions To(std::vector<std::string> addresses, bool follow = true) {
  ClientOptions options;
  options.addresses = std::move(addresses);
  options.follow_primary = follow;
  options.pool_size = 1;
  options.request_timeout = std::chrono::seconds(5);
  options.connect_timeout = std::chrono::seconds(2);
  return options;
}

TEST(RouterTest, ParsesNodeAddresses) {
  auto v4 = internal::ParseNodeAddress("10.0.0.1:7420");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->first, "10.0.0.1");
  EXPECT_EQ(v4->second, 7420);
  auto v6 = internal::ParseNodeAddress("[::1]:1");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->first, "::1");
  for (const char* bad : {"", "host", ":7420", "host:", "host:0", "host:65536", "host:12a"}) {
    EXPECT_EQ(internal::ParseNodeAddress(bad).code(), Code::kValidationError) << bad;
  }
  EXPECT_EQ(Client::Connect(To({"nohost"})).code(), Code::kValidationError);
}

TEST(RouterTest, AWriteRefusedByAFollowerIsSentOnceToThePrimary) {
  Primary primary;
  Follower follower;
  follower.Name(AddressOf(primary.server));
  auto client = testing::MustConnect(To({AddressOf(follower.server)}));
  EXPECT_EQ(client->current_address(), AddressOf(follower.server));
  EXPECT_TRUE(client->HardDeleteConversation("u", Uuid::Generate()).ok());
  EXPECT_EQ(follower.requests.load(), 1);
  EXPECT_EQ(primary.requests.load(), 1);
  EXPECT_EQ(client->current_address(), AddressOf(primary.server));
  // Later calls go straight to the primary.
  EXPECT_TRUE(client->HardDeleteConversation("u", Uuid::Generate()).ok());
  EXPECT_EQ(follower.requests.load(), 1);
  EXPECT_EQ(primary.requests.load(), 2);
}

TEST(RouterTest, WithoutFollowingTheCallerGetsThePrimarysAddressAndEpoch) {
  Primary primary;
  Follower follower;
  follower.Name(AddressOf(primary.server));
  auto client = testing::MustConnect(To({AddressOf(follower.server)}, /*follow=*/false));
  const auto result = client->HardDeleteConversation("u", Uuid::Generate());
  ASSERT_EQ(result.code(), Code::kNotPrimary);
  EXPECT_EQ(result.error().primary_address, AddressOf(primary.server));
  EXPECT_EQ(result.error().primary_epoch, 7u);
  EXPECT_EQ(primary.requests.load(), 0);
}

TEST(RouterTest, ARedirectIsFollowedOnlyOnce) {
  Follower first;
  Follower second;
  first.Name(AddressOf(second.server));
  second.Name(AddressOf(first.server));  // stale views pointing at each other
  auto client = testing::MustConnect(To({AddressOf(first.server)}));
  const auto result = client->HardDeleteConversation("u", Uuid::Generate());
  EXPECT_EQ(result.code(), Code::kNotPrimary);
  EXPECT_EQ(first.requests.load(), 1);
  EXPECT_EQ(second.requests.load(), 1);
}

TEST(RouterTest, NoPrimaryNamedNoRedirect) {
  Follower follower;  // names no primary
  auto client = testing::MustConnect(To({AddressOf(follower.server)}));
  const auto result = client->HardDeleteConversation("u", Uuid::Generate());
  ASSERT_EQ(result.code(), Code::kNotPrimary);
  EXPECT_EQ(result.error().primary_address, "");
  EXPECT_EQ(follower.requests.load(), 1);
}

TEST(RouterTest, AnUnreachableAddressIsSkipped) {
  Primary primary;
  std::string dead;
  {
    Primary gone;  // its port is free again once it is destroyed
    dead = AddressOf(gone.server);
  }
  auto client = testing::MustConnect(To({dead, AddressOf(primary.server)}));
  EXPECT_EQ(client->current_address(), AddressOf(primary.server));
  EXPECT_TRUE(client->HardDeleteConversation("u", Uuid::Generate()).ok());
}

TEST(RouterTest, AWriteThatCouldNotBeSentGoesToTheNextNode) {
  auto first = std::make_unique<Primary>();
  Primary second;
  auto client = testing::MustConnect(To({AddressOf(first->server), AddressOf(second.server)}));
  EXPECT_TRUE(client->HardDeleteConversation("u", Uuid::Generate()).ok());
  EXPECT_EQ(first->requests.load(), 1);
  first.reset();  // closes its connections and stops listening
  EXPECT_TRUE(client->HardDeleteConversation("u", Uuid::Generate()).ok());
  EXPECT_EQ(second.requests.load(), 1);
  EXPECT_EQ(client->current_address(), AddressOf(second.server));
}

TEST(RouterTest, AWriteThatMayHaveBeenAppliedIsNotResent) {
  Primary second;
  std::atomic<int> first_requests{0};
  // Takes the write, then drops the connection without answering.
  FakeServer first([&](const std::shared_ptr<Peer>& peer, const wire::Request&) {
    ++first_requests;
    peer->Shutdown();
  });
  auto client = testing::MustConnect(To({AddressOf(first), AddressOf(second.server)}));
  const auto result = client->HardDeleteConversation("u", Uuid::Generate());
  EXPECT_EQ(result.code(), Code::kUnavailable);
  EXPECT_EQ(first_requests.load(), 1);
  EXPECT_EQ(second.requests.load(), 0);
  // The next call goes to the next node.
  EXPECT_TRUE(client->HardDeleteConversation("u", Uuid::Generate()).ok());
  EXPECT_EQ(second.requests.load(), 1);
}

}  // namespace
}  // namespace mnemo::client
