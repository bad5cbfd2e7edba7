// The transport without etcd: endpoint parsing, members that refuse connections, a member that
// accepts and never answers.
#include "cluster/gateway_transport.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include "cluster/etcd_client.h"

namespace mnemo::cluster {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// A TCP socket on 127.0.0.1 that listens (the kernel completes connections) but never reads or
// answers; closed by the destructor.
class SilentListener {
 public:
  SilentListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    if (fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
        ::listen(fd_, 8) == 0 &&
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
      port_ = ntohs(address.sin_port);
    }
  }
  ~SilentListener() {
    if (fd_ >= 0) ::close(fd_);
  }
  uint16_t port() const { return port_; }
  std::string endpoint() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

// An endpoint nothing listens on: a port that was free a moment ago.
std::string ClosedEndpoint() {
  SilentListener probe;  // binds a free port; closing it frees the port again
  return probe.endpoint();
}

GatewayOptions Options(std::vector<std::string> endpoints, milliseconds timeout) {
  GatewayOptions options;
  options.endpoints = std::move(endpoints);
  options.call_timeout = timeout;
  options.connect_timeout = milliseconds(200);
  return options;
}

TEST(GatewayTransportTest, ParsesTheEndpointForms) {
  auto transport = GatewayTransport::Create(
      Options({"http://127.0.0.1:2379", "127.0.0.1:2380/", "[::1]:2381", "etcd-0.local:2382"},
              milliseconds(100)));
  ASSERT_TRUE(transport.ok()) << transport.status().ToString();
  EXPECT_EQ(transport->endpoint_name(0), "127.0.0.1:2379");
  EXPECT_EQ(transport->endpoint_name(1), "127.0.0.1:2380");
  EXPECT_EQ(transport->endpoint_name(2), "[::1]:2381");
  EXPECT_EQ(transport->endpoint_name(3), "etcd-0.local:2382");
}

TEST(GatewayTransportTest, RejectsBadEndpointsByName) {
  for (const std::string bad :
       {"", "https://127.0.0.1:2379", "unix://x:1", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536",
        "127.0.0.1:2x", ":2379", "::1:2379", "[::1]2379"}) {
    auto transport = GatewayTransport::Create(Options({bad}, milliseconds(100)));
    ASSERT_FALSE(transport.ok()) << bad;
    EXPECT_TRUE(transport.status().IsValidationError()) << bad;
    EXPECT_EQ(transport.status().field(), "endpoints");
    EXPECT_NE(transport.status().message().find("'" + bad + "'"), std::string::npos)
        << transport.status().ToString();
  }
  EXPECT_TRUE(
      GatewayTransport::Create(Options({}, milliseconds(100))).status().IsValidationError());
  EXPECT_TRUE(GatewayTransport::Create(Options({"127.0.0.1:1"}, milliseconds(0)))
                  .status()
                  .IsValidationError());
}

TEST(GatewayTransportTest, UnreachableMembersGiveOneErrorNamingEach) {
  const std::string first = ClosedEndpoint();
  const std::string second = ClosedEndpoint();
  auto client = EtcdClient::Create(Options({first, second}, milliseconds(2000)));
  ASSERT_TRUE(client.ok());
  auto read = client->Get("/mnemo/x/primary");
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), StatusCode::kUnavailable);
  const std::string message(read.status().message());
  EXPECT_NE(message.find("no member could be reached"), std::string::npos) << message;
  EXPECT_NE(message.find(first + " connect:"), std::string::npos) << message;
  EXPECT_NE(message.find(second + " connect:"), std::string::npos) << message;
}

TEST(GatewayTransportTest, SilentMemberEndsTheCallAtItsDeadline) {
  SilentListener silent;
  ASSERT_NE(silent.port(), 0);
  const std::string other = ClosedEndpoint();
  auto client = EtcdClient::Create(Options({silent.endpoint(), other}, milliseconds(300)));
  ASSERT_TRUE(client.ok());
  const auto start = Clock::now();
  auto lease = client->GrantLease(std::chrono::seconds(5));
  ASSERT_FALSE(lease.ok());
  EXPECT_EQ(lease.status().code(), StatusCode::kUnavailable);
  const std::string message(lease.status().message());
  // The request was on the wire, so it is not repeated at the other member.
  EXPECT_NE(message.find("the request was sent but no reply came"), std::string::npos) << message;
  EXPECT_NE(message.find(silent.endpoint() + " reading the reply: timed out"), std::string::npos)
      << message;
  EXPECT_EQ(message.find(other), std::string::npos) << message;
  // Bounded by the deadline, not hanging (a generous bound: the machine may be busy).
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(10));
}

}  // namespace
}  // namespace mnemo::cluster
