// mnemod's metrics listener (--metrics-listen): off by default, loopback for a bare port, GET
// /metrics in the Prometheus text format that a strict parser accepts, carrying the requests
// just made, and nothing but GET /metrics.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>

#include "mnemod_process.h"
#include "server/testing/prometheus_parser.h"
#include "server/testing/wire_helpers.h"
#include "testing/temp_dir.h"

namespace mnemo::server::testing {
namespace {

using namespace std::chrono_literals;
using mnemo::testing::ParsePrometheusText;
using mnemo::testing::PrometheusDocument;

// One HTTP exchange over a fresh connection: the whole answer (the server closes after it).
std::string HttpExchange(uint16_t port, const std::string& request) {
  RawConnection connection(port);
  EXPECT_TRUE(connection.connected());
  EXPECT_TRUE(connection.SendBytes(request));
  std::string answer;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto chunk = connection.ReadSome(200ms);
    if (!chunk) break;  // closed
    answer += *chunk;
  }
  return answer;
}

std::string Body(const std::string& answer) {
  const size_t split = answer.find("\r\n\r\n");
  return split == std::string::npos ? std::string() : answer.substr(split + 4);
}

uint16_t ReadPort(const std::string& path) {
  for (int i = 0; i < 100; ++i) {
    std::ifstream in(path);
    int port = 0;
    if (in >> port && port > 0) return static_cast<uint16_t>(port);
    std::this_thread::sleep_for(50ms);
  }
  return 0;
}

TEST(MetricsListenerTest, ServesStrictPrometheusTextOnLoopback) {
  mnemo::testing::TempDir dir;
  const std::string port_file = dir.Sub("metrics.port");
  auto server = MnemodProcess::Start(dir.Sub("data"), {"--log-level", "info", "--metrics-listen",
                                                       "0", "--metrics-port-file", port_file});
  ASSERT_TRUE(server) << "mnemod did not start";
  const uint16_t metrics_port = ReadPort(port_file);
  ASSERT_NE(metrics_port, 0);
  EXPECT_NE(server->Log().find("metrics: GET http://127.0.0.1:" + std::to_string(metrics_port) +
                               "/metrics"),
            std::string::npos)
      << server->Log();

  {
    RawConnection connection(server->port());
    ASSERT_TRUE(connection.SendFrame(HelloRequest(1)));
    ASSERT_TRUE(connection.ReadFrame());
    for (uint64_t id = 2; id < 12; ++id) {
      ASSERT_TRUE(connection.SendFrame(CreateConversationRequest(id, "alice", "metrics")));
      ASSERT_TRUE(connection.ReadFrame());
    }
    ASSERT_TRUE(
        connection.SendFrame(CreateConversationRequest(12, "alice", "")));  // a validation error
    ASSERT_TRUE(connection.ReadFrame());
  }

  const std::string answer =
      HttpExchange(metrics_port, "GET /metrics HTTP/1.1\r\nHost: mnemo\r\n\r\n");
  ASSERT_TRUE(answer.starts_with("HTTP/1.1 200")) << answer.substr(0, 200);
  EXPECT_NE(answer.find("text/plain; version=0.0.4"), std::string::npos);
  PrometheusDocument doc;
  std::string error;
  ASSERT_TRUE(ParsePrometheusText(Body(answer), &doc, &error)) << error;
  EXPECT_EQ(doc.Value("mnemo_requests_total", {{"op", "CreateConversation"}}), 11);
  EXPECT_EQ(doc.Value("mnemo_request_errors_total", {{"op", "CreateConversation"}}), 1);
  EXPECT_EQ(doc.Value("mnemo_request_duration_seconds_count", {{"op", "CreateConversation"}}), 11);
  EXPECT_GE(doc.Value("mnemo_storage_keys_estimated", {{"family", "conversations"}}), 1);
  EXPECT_GT(doc.Value("mnemo_data_dir_bytes"), 0);
  EXPECT_EQ(doc.Value("mnemo_partitions"), 0);
  EXPECT_EQ(doc.families.at("mnemo_purged_rows_total").type, "counter");

  // Only GET /metrics.
  EXPECT_TRUE(HttpExchange(metrics_port, "GET /other HTTP/1.1\r\nHost: m\r\n\r\n")
                  .starts_with("HTTP/1.1 404"));
  const std::string post =
      HttpExchange(metrics_port, "POST /metrics HTTP/1.1\r\nHost: m\r\nContent-Length: 0\r\n\r\n");
  EXPECT_TRUE(post.starts_with("HTTP/1.1 405")) << post;
  EXPECT_NE(post.find("Allow: GET, HEAD"), std::string::npos);
  // Garbage and oversized headers are dropped without an answer; the listener keeps serving.
  EXPECT_EQ(HttpExchange(metrics_port, "\x01\x02 not http\r\n\r\n"), "");
  EXPECT_EQ(HttpExchange(metrics_port,
                         "GET /metrics HTTP/1.1\r\nX: " + std::string(20000, 'a') + "\r\n\r\n"),
            "");
  EXPECT_TRUE(
      HttpExchange(metrics_port, "GET /metrics HTTP/1.0\r\n\r\n").starts_with("HTTP/1.0 200"));
  EXPECT_EQ(server->Stop(SIGTERM, 30s), 0) << server->Log();
}

TEST(MetricsListenerTest, OffUnlessConfiguredAndBadAddressesRefused) {
  mnemo::testing::TempDir dir;
  auto server = MnemodProcess::Start(dir.Sub("data"), {"--log-level", "info"});
  ASSERT_TRUE(server);
  EXPECT_EQ(server->Log().find("metrics:"), std::string::npos);
  EXPECT_EQ(server->Stop(SIGTERM, 30s), 0);
  std::string output;
  EXPECT_EQ(
      MnemodProcess::RunToExit(
          MNEMOD_PATH, {"--data", dir.Sub("data2"), "--metrics-listen", "nohost:12"}, 30s, &output),
      2);
  EXPECT_NE(output.find("--metrics-listen"), std::string::npos) << output;
}

}  // namespace
}  // namespace mnemo::server::testing
