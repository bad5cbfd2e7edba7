// The `mnemo` CLI against files and a running mnemod: keys created before the first start and
// while it runs, online stats/partitions/backup, offline restore.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>

#include "mnemod_process.h"
#include "server/testing/raw_connection.h"
#include "server/testing/wire_helpers.h"
#include "testing/temp_dir.h"

namespace mnemo::server::testing {
namespace {

using namespace std::chrono_literals;
using wire::StatusCode;

int Cli(const std::vector<std::string>& args, std::string* output = nullptr) {
  return MnemodProcess::RunToExit(MNEMO_CLI_PATH, args, 60s, output);
}

// The key in the output of `mnemo keys create` (stdout and stderr are interleaved here).
std::string KeyIn(const std::string& text) {
  const size_t start = text.find("mnemo_");
  if (start == std::string::npos) return "";
  return text.substr(start, text.find('\n', start) - start);
}

ParsedResponse RoundTrip(RawConnection& connection, const std::string& payload) {
  EXPECT_TRUE(connection.SendFrame(payload));
  auto frame = connection.ReadFrame(10s);
  EXPECT_TRUE(frame);
  return ParsedResponse(frame.value_or(std::string()));
}

TEST(MnemoCliTest, KeysBackupAndRestore) {
  mnemo::testing::TempDir dir;
  const std::string data = dir.Sub("data");
  std::string output;
  ASSERT_EQ(Cli({"keys", "create", "--data", data, "--kind", "service"}, &output), 0) << output;
  const std::string service_key = KeyIn(output);
  ASSERT_TRUE(service_key.starts_with("mnemo_")) << output;
  EXPECT_EQ(Cli({"keys", "create", "--data", data, "--kind", "user"}, &output), 2) << output;

  auto server = MnemodProcess::Start(data, {"--log-level", "info"});
  ASSERT_TRUE(server) << "mnemod did not start";
  const std::string address = "127.0.0.1:" + std::to_string(server->port());
  {
    RawConnection anonymous(server->port());
    EXPECT_EQ(RoundTrip(anonymous, HelloRequest(1)).code(), StatusCode::AUTHENTICATION_ERROR);
  }
  // A user key created while mnemod runs works at once; revoking it bites at once.
  ASSERT_EQ(Cli({"keys", "create", "--data", data, "--kind", "user", "--user", "alice"}, &output), 0) << output;
  const std::string alice_key = KeyIn(output);
  {
    RawConnection alice(server->port());
    auto hello = RoundTrip(alice, HelloRequest(1, alice_key));
    ASSERT_TRUE(hello.ok()) << hello.message();
    EXPECT_EQ(hello->body_as_HelloReply()->principal()->str(), "alice");
    EXPECT_TRUE(RoundTrip(alice, CreateConversationRequest(2, "", "kept in the backup")).ok());
  }
  ASSERT_EQ(Cli({"keys", "list", "--data", data}, &output), 0);
  EXPECT_NE(output.find("alice"), std::string::npos) << output;
  const std::string alice_id = alice_key.substr(6, 16);
  ASSERT_EQ(Cli({"keys", "revoke", "--data", data, alice_id}, &output), 0) << output;
  {
    RawConnection alice(server->port());
    EXPECT_EQ(RoundTrip(alice, HelloRequest(1, alice_key)).code(), StatusCode::AUTHENTICATION_ERROR);
  }

  EXPECT_EQ(Cli({"stats", "--server", address, "--api-key", service_key}, &output), 0) << output;
  EXPECT_NE(output.find("CreateConversation"), std::string::npos) << output;
  EXPECT_EQ(Cli({"partitions", "--server", address, "--api-key", service_key}, &output), 0) << output;
  EXPECT_NE(Cli({"stats", "--server", address}, &output), 0);  // no key: refused
  const std::string backup = dir.Sub("backup");
  ASSERT_EQ(Cli({"backup", backup, "--server", address, "--api-key", service_key}, &output), 0) << output;
  EXPECT_EQ(server->Stop(SIGTERM, 30s), 0) << server->Log();

  EXPECT_EQ(Cli({"restore", "--backup", backup, "--data", data}, &output), 2) << output;  // not empty
  const std::string restored = dir.Sub("restored");
  ASSERT_EQ(Cli({"restore", "--backup", backup, "--data", restored}, &output), 0) << output;
  auto second = MnemodProcess::Start(restored, {"--log-level", "warn"});
  ASSERT_TRUE(second) << "mnemod did not start on the restored directory";
  RawConnection connection(second->port());
  ASSERT_TRUE(RoundTrip(connection, HelloRequest(1, service_key)).ok());  // the keys came along
  auto listed = RoundTrip(connection, BuildRequest(2, "alice", [](Builder& fbb) {
                            return Body(wire::RequestBody::ListConversationsRequest,
                                        wire::CreateListConversationsRequest(fbb));
                          }));
  ASSERT_TRUE(listed.ok()) << listed.message();
  ASSERT_EQ(listed->body_as_ConversationPage()->total(), 1);
  EXPECT_EQ(listed->body_as_ConversationPage()->items()->Get(0)->title()->str(), "kept in the backup");
  EXPECT_EQ(second->Stop(SIGTERM, 30s), 0) << second->Log();
}

}  // namespace
}  // namespace mnemo::server::testing
