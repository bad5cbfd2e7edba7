// The whole server in-process (so that the sanitizer build covers sessions, the listener and
// shutdown): Server::Create on 127.0.0.1:0, raw sockets, RequestStop.
#include "server/server.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <thread>

#include "mnemo/engine.h"
#include "protocol/frame.h"
#include "server/testing/raw_connection.h"
#include "server/testing/wire_helpers.h"
#include "testing/temp_dir.h"

namespace mnemo::server {
namespace {

using namespace std::chrono_literals;
using testing::Body;
using testing::Builder;
using testing::BuildRequest;
using testing::ParsedResponse;
using testing::RawConnection;
using B = wire::RequestBody;
using wire::StatusCode;

ServerConfig TestConfig(const std::string& data_dir) {
  ServerConfig config;
  config.data_dir = data_dir;
  config.listen = ListenAddress{"127.0.0.1", 0};
  config.dimension = 8;
  config.sync_writes = false;
  config.io_threads = 2;
  config.workers = 2;
  config.max_frame_bytes = 1 << 20;
  config.log_level = "warn";
  return config;
}

// A server running on its own thread for the duration of a test.
class RunningServer {
 public:
  explicit RunningServer(const ServerConfig& config) {
    auto created = Server::Create(config);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    if (!created.ok()) return;
    server_ = std::move(created).value();
    thread_ = std::thread([this] { exit_code_ = server_->Run(); });
  }
  ~RunningServer() { EXPECT_EQ(Stop(), 0); }
  uint16_t port() const { return server_->port(); }
  int Stop() {
    if (thread_.joinable()) {
      server_->RequestStop();
      thread_.join();
    }
    return exit_code_;
  }

 private:
  std::unique_ptr<Server> server_;
  std::thread thread_;
  int exit_code_ = -1;
};

ParsedResponse Read(RawConnection& connection) {
  auto frame = connection.ReadFrame(10s);
  EXPECT_TRUE(frame) << "no response";
  return ParsedResponse(frame.value_or(std::string()));
}

ParsedResponse RoundTrip(RawConnection& connection, const std::string& payload) {
  EXPECT_TRUE(connection.SendFrame(payload));
  return Read(connection);
}

std::unique_ptr<RawConnection> Connect(uint16_t port, std::string_view key = {}) {
  auto connection = std::make_unique<RawConnection>(port);
  EXPECT_TRUE(connection->connected());
  auto hello = RoundTrip(*connection, testing::HelloRequest(1, key));
  EXPECT_TRUE(hello.ok()) << hello.message();
  return connection;
}

std::string Batch(uint64_t id, std::string_view user, int conversations) {
  return BuildRequest(id, user, [&](Builder& fbb) {
    std::vector<flatbuffers::Offset<wire::BatchOp>> ops;
    for (int i = 0; i < conversations; ++i) {
      ops.push_back(wire::CreateBatchOp(fbb, wire::CreateNewConversation(fbb, nullptr, fbb.CreateString("c"))));
    }
    return Body(B::ApplyBatchRequest, wire::CreateApplyBatchRequest(fbb, fbb.CreateVector(ops)));
  });
}

TEST(ServerTest, ServesAndSurvivesBadInput) {
  mnemo::testing::TempDir dir;
  RunningServer server(TestConfig(dir.Sub("data")));

  auto connection = Connect(server.port());
  for (uint64_t id = 10; id < 40; ++id) ASSERT_TRUE(connection->SendFrame(testing::CreateConversationRequest(id, "u", "t")));
  std::set<uint64_t> ids;
  for (int i = 0; i < 30; ++i) {
    auto response = Read(*connection);
    EXPECT_TRUE(response.ok()) << response.message();
    ids.insert(response->id());
  }
  EXPECT_EQ(ids.size(), 30u);

  // A malformed payload is answered with id 0 and the connection stays.
  EXPECT_EQ(RoundTrip(*connection, std::string(40, 'z')).code(), StatusCode::VALIDATION_ERROR);
  EXPECT_TRUE(RoundTrip(*connection, testing::ListPartitionsRequest(41)).ok());

  // Too large a frame: one error, then the server closes.
  RawConnection oversized(server.port());
  oversized.SendBytes(std::string("\x01\x00\x10\x00", 4));  // 1 MiB + 1
  auto too_large = Read(oversized);
  EXPECT_EQ(too_large.code(), StatusCode::PAYLOAD_TOO_LARGE);
  EXPECT_EQ(too_large->id(), 0u);
  EXPECT_TRUE(oversized.WaitForClose());

  // A half-closed client still gets its answers, then the server closes.
  RawConnection half(server.port());
  std::string burst;
  protocol::AppendFrame(testing::HelloRequest(1), &burst);
  protocol::AppendFrame(testing::ListPartitionsRequest(2), &burst);
  half.SendBytes(burst);
  half.ShutdownSend();
  EXPECT_TRUE(Read(half).ok());
  EXPECT_TRUE(Read(half).ok());
  EXPECT_TRUE(half.WaitForClose());

  // A truncated frame and an abrupt close.
  {
    RawConnection truncated(server.port());
    truncated.SendBytes(std::string("\x40\x00\x00\x00MNEM", 8));
  }
  EXPECT_TRUE(RoundTrip(*Connect(server.port()), testing::ListPartitionsRequest(3)).ok());
}

TEST(ServerTest, TooManyConnectionsAndBusyWorkers) {
  mnemo::testing::TempDir dir;
  ServerConfig config = TestConfig(dir.Sub("data"));
  config.max_connections = 2;
  config.workers = 1;
  config.worker_queue = 1;
  RunningServer server(config);

  auto first = Connect(server.port());
  auto second = Connect(server.port());
  RawConnection third(server.port());
  auto refused = Read(third);
  EXPECT_EQ(refused.code(), StatusCode::UNAVAILABLE);
  EXPECT_TRUE(third.WaitForClose());

  // One worker, one queue slot: a burst of slow batches gets "server busy" for some.
  std::string burst;
  for (uint64_t id = 100; id < 120; ++id) protocol::AppendFrame(Batch(id, "busy", 2000), &burst);
  ASSERT_TRUE(first->SendBytes(burst));
  int ok = 0;
  int busy = 0;
  for (int i = 0; i < 20; ++i) {
    auto response = Read(*first);
    if (response.ok()) {
      ++ok;
    } else {
      EXPECT_EQ(response.code(), StatusCode::UNAVAILABLE);
      EXPECT_EQ(response.message(), "server busy");
      ++busy;
    }
  }
  EXPECT_GE(ok, 1);
  EXPECT_GE(busy, 1);
}

TEST(ServerTest, KeysAndProtectedMode) {
  mnemo::testing::TempDir dir;
  const std::string data = dir.Sub("data");
  // A key created before the first start (only auth/ in the directory) does not stop the engine
  // from creating its database there.
  KeyStore keys(KeyStore::PathFor(data));
  auto service = keys.Create(KeyKind::kService, "");
  ASSERT_TRUE(service.ok());
  RunningServer server(TestConfig(data));
  EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(data) / "CURRENT"));

  RawConnection anonymous(server.port());
  EXPECT_EQ(RoundTrip(anonymous, testing::HelloRequest(1)).code(), StatusCode::AUTHENTICATION_ERROR);
  EXPECT_TRUE(anonymous.WaitForClose());

  auto as_service = Connect(server.port(), service->key);
  EXPECT_TRUE(RoundTrip(*as_service, testing::CreateConversationRequest(2, "alice", "t")).ok());

  // Keys added and revoked while the server runs take effect on the next hello.
  auto user = keys.Create(KeyKind::kUser, "bob");
  ASSERT_TRUE(user.ok());
  auto as_bob = Connect(server.port(), user->key);
  EXPECT_EQ(RoundTrip(*as_bob, testing::CreateConversationRequest(3, "alice", "t")).code(),
            StatusCode::AUTHORIZATION_ERROR);
  EXPECT_TRUE(RoundTrip(*as_bob, testing::CreateConversationRequest(4, "", "t")).ok());
  EXPECT_EQ(RoundTrip(*as_bob, testing::ListPartitionsRequest(5)).code(), StatusCode::AUTHORIZATION_ERROR);
  ASSERT_TRUE(keys.Revoke(user->record.id).ok());
  RawConnection revoked(server.port());
  EXPECT_EQ(RoundTrip(revoked, testing::HelloRequest(6, user->key)).code(), StatusCode::AUTHENTICATION_ERROR);

  // The connection bob opened before the revocation stops working too, once the server re-reads
  // the key file (every second), while the service key's connection goes on.
  StatusCode code = StatusCode::OK;
  for (int i = 0; i < 50 && code == StatusCode::OK; ++i) {  // bounded: ~5 s
    std::this_thread::sleep_for(100ms);
    code = RoundTrip(*as_bob, testing::CreateConversationRequest(100 + i, "", "t")).code();
  }
  EXPECT_EQ(code, StatusCode::AUTHENTICATION_ERROR);
  EXPECT_TRUE(as_bob->WaitForClose());
  EXPECT_TRUE(RoundTrip(*as_service, testing::CreateConversationRequest(200, "alice", "t")).ok());
}

TEST(ServerTest, ProtectedModeEndsForLiveConnectionsWhenAKeyIsCreated) {
  mnemo::testing::TempDir dir;
  const std::string data = dir.Sub("data");
  RunningServer server(TestConfig(data));
  auto anonymous = Connect(server.port());
  EXPECT_TRUE(RoundTrip(*anonymous, testing::CreateConversationRequest(2, "alice", "t")).ok());

  KeyStore keys(KeyStore::PathFor(data));
  ASSERT_TRUE(keys.Create(KeyKind::kService, "").ok());
  StatusCode code = StatusCode::OK;
  for (int i = 0; i < 50 && code == StatusCode::OK; ++i) {  // bounded: ~5 s
    std::this_thread::sleep_for(100ms);
    code = RoundTrip(*anonymous, testing::CreateConversationRequest(10 + i, "alice", "t")).code();
  }
  EXPECT_EQ(code, StatusCode::AUTHENTICATION_ERROR);
  EXPECT_TRUE(anonymous->WaitForClose());
}

TEST(ServerTest, RefusesNonLoopbackWithoutKeys) {
  mnemo::testing::TempDir dir;
  ServerConfig config = TestConfig(dir.Sub("data"));
  config.listen = ListenAddress{"0.0.0.0", 0};
  auto created = Server::Create(config);
  ASSERT_FALSE(created.ok());
  EXPECT_TRUE(created.status().IsValidationError());
  EXPECT_NE(created.status().message().find("no API keys"), std::string_view::npos);
}

// --hnsw-m / --hnsw-ef-construction reach the engine: out-of-range values are refused when it
// opens, naming the parameter; valid ones open.
TEST(ServerTest, HnswParametersReachTheEngine) {
  mnemo::testing::TempDir dir;
  ServerConfig config = TestConfig(dir.Sub("data"));
  config.hnsw_m = 1;
  auto refused = Server::Create(config);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(refused.status().IsValidationError());
  EXPECT_EQ(refused.status().field(), "m") << refused.status().ToString();
  config.hnsw_m = 1000;
  EXPECT_FALSE(Server::Create(config).ok());
  config.hnsw_m = 32;
  config.hnsw_ef_construction = 200;
  auto created = Server::Create(config);
  EXPECT_TRUE(created.ok()) << created.status().ToString();
}

// Stop() with requests in flight: every request the server took is answered before its
// connection closes, and none is applied without an answer (the ones it never read are neither).
// Each batch creates kPerBatch conversations atomically, so the stopped server's data directory
// says how many batches ran.
TEST(ServerTest, StopAnswersInFlightRequests) {
  mnemo::testing::TempDir dir;
  const std::string data = dir.Sub("data");
  constexpr uint64_t kFirstId = 10;
  constexpr uint64_t kBatches = 10;
  constexpr int kPerBatch = 500;
  std::set<uint64_t> answered;
  {
    RunningServer server(TestConfig(data));
    auto connection = Connect(server.port());
    std::string burst;
    for (uint64_t id = kFirstId; id < kFirstId + kBatches; ++id) {
      protocol::AppendFrame(Batch(id, "stopper", kPerBatch), &burst);
    }
    ASSERT_TRUE(connection->SendBytes(burst));
    auto first = Read(*connection);
    ASSERT_TRUE(first.ok()) << first.message();
    answered.insert(first->id());
    std::thread stopper([&] { EXPECT_EQ(server.Stop(), 0); });
    while (auto frame = connection->ReadFrame(10s)) {
      ParsedResponse response(*frame);
      EXPECT_TRUE(response.ok()) << response.message();
      EXPECT_GE(response->id(), kFirstId);
      EXPECT_LT(response->id(), kFirstId + kBatches);
      EXPECT_TRUE(answered.insert(response->id()).second) << "answered twice: " << response->id();
    }
    stopper.join();
  }
  EngineOptions options;
  options.data_dir = data;
  options.create_if_missing = false;
  auto engine = Engine::Open(options);
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  auto stats = (*engine)->GetUserStats("stopper");
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->total, static_cast<int64_t>(answered.size()) * kPerBatch)
      << answered.size() << " of " << kBatches << " batches answered";
}

}  // namespace
}  // namespace mnemo::server
