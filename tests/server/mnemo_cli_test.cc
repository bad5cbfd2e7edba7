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
  ASSERT_EQ(Cli({"keys", "create", "--data", data, "--kind", "user", "--user", "alice"}, &output),
            0)
      << output;
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
    EXPECT_EQ(RoundTrip(alice, HelloRequest(1, alice_key)).code(),
              StatusCode::AUTHENTICATION_ERROR);
  }

  EXPECT_EQ(Cli({"stats", "--server", address, "--api-key", service_key}, &output), 0) << output;
  EXPECT_NE(output.find("CreateConversation"), std::string::npos) << output;
  EXPECT_EQ(Cli({"partitions", "--server", address, "--api-key", service_key}, &output), 0)
      << output;
  EXPECT_NE(Cli({"stats", "--server", address}, &output), 0);  // no key: refused
  const std::string backup = dir.Sub("backup");
  ASSERT_EQ(Cli({"backup", backup, "--server", address, "--api-key", service_key}, &output), 0)
      << output;
  EXPECT_EQ(server->Stop(SIGTERM, 30s), 0) << server->Log();

  EXPECT_EQ(Cli({"restore", "--backup", backup, "--data", data}, &output), 2)
      << output;  // not empty
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
  EXPECT_EQ(listed->body_as_ConversationPage()->items()->Get(0)->title()->str(),
            "kept in the backup");
  EXPECT_EQ(second->Stop(SIGTERM, 30s), 0) << second->Log();
}

// archive, drop, attach, rebuild, retention and purge against a running mnemod (protected mode:
// loopback without keys acts as a service principal).
TEST(MnemoCliTest, PartitionAdministrationRetentionAndPurge) {
  mnemo::testing::TempDir dir;
  auto server = MnemodProcess::Start(dir.Sub("data"), {"--log-level", "info"});
  ASSERT_TRUE(server) << "mnemod did not start";
  const std::string address = "127.0.0.1:" + std::to_string(server->port());
  RawConnection connection(server->port());
  ASSERT_TRUE(RoundTrip(connection, HelloRequest(1)).ok());
  auto document = RoundTrip(connection, BuildRequest(2, "alice", [](Builder& fbb) {
                              const auto input = wire::CreateNewDocument(
                                  fbb, nullptr, fbb.CreateString("old.md"), fbb.CreateString("md"),
                                  fbb.CreateString("x"));
                              return Body(wire::RequestBody::CreateDocumentRequest,
                                          wire::CreateCreateDocumentRequest(fbb, input));
                            }));
  ASSERT_TRUE(document.ok()) << document.message();
  const wire::Id document_id = *document->body_as_DocumentReply()->document()->id();
  constexpr int64_t kMarch2020 = 1'584'000'000'000'000;  // 2020-03-12
  auto added = RoundTrip(connection, BuildRequest(3, "alice", [&](Builder& fbb) {
                           std::vector<flatbuffers::Offset<wire::NewChunk>> chunks;
                           for (int64_t i = 0; i < 2; ++i) {
                             std::vector<float> embedding(8, 0.1f);
                             embedding[static_cast<size_t>(i)] = 1.0f;
                             chunks.push_back(wire::CreateNewChunk(
                                 fbb, nullptr, &document_id, i, fbb.CreateString("old text"),
                                 fbb.CreateVector(embedding), 0, kMarch2020));
                           }
                           return Body(wire::RequestBody::AddChunksRequest,
                                       wire::CreateAddChunksRequest(fbb, fbb.CreateVector(chunks)));
                         }));
  ASSERT_TRUE(added.ok()) << added.message();

  std::string output;
  const std::string archive = dir.Sub("2020-03.arc");
  ASSERT_EQ(Cli({"archive", "2020-03", archive, "--server", address}, &output), 0) << output;
  EXPECT_NE(output.find("archived 2 chunk(s)"), std::string::npos) << output;
  EXPECT_EQ(Cli({"archive", "2020-13", archive, "--server", address}, &output), 1) << output;
  EXPECT_NE(output.find("month"), std::string::npos) << output;
  EXPECT_EQ(Cli({"rebuild", "2020-03", "--server", address}, &output), 0) << output;
  EXPECT_EQ(Cli({"rebuild", "1999-01", "--server", address}, &output), 1) << output;
  EXPECT_NE(output.find("NOT_FOUND"), std::string::npos) << output;
  EXPECT_EQ(Cli({"drop", "2020-03", "--server", address}, &output), 2)
      << output;  // --yes is required
  ASSERT_EQ(Cli({"drop", "2020-03", "--yes", "--server", address}, &output), 0) << output;
  EXPECT_NE(output.find("dropped 2 chunk(s)"), std::string::npos) << output;
  ASSERT_EQ(Cli({"attach", archive, "--server", address}, &output), 0) << output;
  EXPECT_NE(output.find("attached 2 chunk(s)"), std::string::npos) << output;
  EXPECT_EQ(Cli({"attach", dir.Sub("missing.arc"), "--server", address}, &output), 1) << output;
  ASSERT_EQ(Cli({"partitions", "--server", address}, &output), 0) << output;
  EXPECT_NE(output.find("2020-03"), std::string::npos) << output;

  // Retention with a given policy archives and retires the old month; the configured policy
  // (mnemod's defaults: purge after 30 days, keep every month) retires nothing.
  const std::string archives = dir.Sub("archives");
  ASSERT_EQ(
      Cli({"retention", "--keep-months", "12", "--archive-dir", archives, "--server", address},
          &output),
      0)
      << output;
  EXPECT_NE(output.find("retired 2020-03: 2 chunk row(s) deleted, archived to " + archives +
                        "/2020-03.mnemoarc"),
            std::string::npos)
      << output;
  EXPECT_TRUE(std::filesystem::exists(archives + "/2020-03.mnemoarc"));
  ASSERT_EQ(Cli({"retention", "--server", address}, &output), 0) << output;
  EXPECT_NE(output.find("0 month(s) retired; purged 0 conversation(s)"), std::string::npos)
      << output;
  EXPECT_EQ(Cli({"retention", "--keep-months", "-1", "--server", address}, &output), 2) << output;

  auto conversation = RoundTrip(connection, CreateConversationRequest(4, "alice", "to purge"));
  ASSERT_TRUE(conversation.ok());
  const wire::Id conversation_id = *conversation->body_as_ConversationReply()->conversation()->id();
  ASSERT_TRUE(RoundTrip(connection, BuildRequest(5, "alice",
                                                 [&](Builder& fbb) {
                                                   return Body(
                                                       wire::RequestBody::DeleteConversationRequest,
                                                       wire::CreateDeleteConversationRequest(
                                                           fbb, &conversation_id));
                                                 }))
                  .ok());
  ASSERT_EQ(Cli({"purge", "--older-than-days", "1", "--server", address}, &output), 0) << output;
  EXPECT_NE(output.find("purged 0 conversation(s)"), std::string::npos)
      << output;  // deleted just now
  EXPECT_EQ(Cli({"purge", "--server", address}, &output), 2) << output;
  EXPECT_EQ(Cli({"purge", "--older-than-days", "0", "--server", address}, &output), 2) << output;
  EXPECT_EQ(server->Stop(SIGTERM, 30s), 0) << server->Log();
  EXPECT_NE(server->Log().find("retention requested by a client"), std::string::npos);
}

}  // namespace
}  // namespace mnemo::server::testing
