// API keys through the client against a real mnemod: keys are created and revoked with the
// `mnemo keys` CLI while the server runs (it re-reads the key file on each handshake).
#include <gtest/gtest.h>

#include "mnemo/client/client.h"
#include "mnemod_process.h"
#include "test_util.h"

namespace mnemo::client::testing {
namespace {

// Creates a key with the CLI; returns its text (empty on failure).
std::string CreateKey(const std::string& data_dir, const std::string& kind,
                      const std::string& user = "") {
  std::vector<std::string> argv = {MnemoCliPath(), "keys",   "create", "--data",
                                   data_dir,       "--kind", kind};
  if (!user.empty()) {
    argv.push_back("--user");
    argv.push_back(user);
  }
  std::string out;
  if (RunCommand(argv, &out) != 0) return "";
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

// "mnemo_<id>_<secret>" -> "<id>".
std::string KeyId(const std::string& key) {
  const size_t first = key.find('_');
  const size_t second = key.find('_', first + 1);
  return key.substr(first + 1, second - first - 1);
}

TEST(ClientAuthTest, ServiceAndUserKeysAndRevocation) {
  TempDir dir;
  MnemodProcess server(dir.path());
  std::string error;
  ASSERT_TRUE(server.Start(0, &error)) << error;

  // Protected mode first: no key needed on loopback.
  {
    auto anonymous = Client::Connect(LocalOptions(server.port()));
    ASSERT_TRUE(anonymous.ok()) << anonymous.error().ToString();
    EXPECT_EQ((*anonymous)->server_info().principal, "service");
  }

  const std::string service_key = CreateKey(server.data_dir(), "service");
  ASSERT_FALSE(service_key.empty());
  const std::string alice_key = CreateKey(server.data_dir(), "user", "alice");
  ASSERT_FALSE(alice_key.empty());

  // With keys, a connection without one (or with a wrong one) is refused.
  EXPECT_EQ(Client::Connect(LocalOptions(server.port())).error().code, Code::kAuthenticationError);
  EXPECT_EQ(
      Client::Connect(LocalOptions(server.port(), "mnemo_0123456789abcdef_" + std::string(64, '0')))
          .error()
          .code,
      Code::kAuthenticationError);
  EXPECT_EQ(Client::Connect(LocalOptions(server.port(), "garbage")).error().code,
            Code::kAuthenticationError);

  // A service key acts for any user.
  MNEMO_ASSERT_OK_AND_ASSIGN(auto service,
                             Client::Connect(LocalOptions(server.port(), service_key)));
  EXPECT_EQ(service->server_info().principal, "service");
  NewConversation input;
  input.title = "bob's secret";
  MNEMO_ASSERT_OK_AND_ASSIGN(const Conversation bobs, service->CreateConversation("bob", input));
  input.title = "alice's chat";
  MNEMO_ASSERT_OK_AND_ASSIGN(const Conversation alices,
                             service->CreateConversation("alice", input));
  MNEMO_ASSERT_OK(service->GetConversation("bob", bobs.id));
  MNEMO_ASSERT_OK(service->GetStats());
  // A service key must name the user.
  EXPECT_EQ(service->GetUserStats("").code(), Code::kValidationError);

  // A user key acts for its own user only.
  MNEMO_ASSERT_OK_AND_ASSIGN(auto alice, Client::Connect(LocalOptions(server.port(), alice_key)));
  EXPECT_EQ(alice->server_info().principal, "alice");
  MNEMO_ASSERT_OK(alice->GetConversation("alice", alices.id));
  MNEMO_ASSERT_OK_AND_ASSIGN(const UserStats own,
                             alice->GetUserStats(""));  // empty: the pinned user
  EXPECT_EQ(own.total, 1);
  // Naming another user is refused; another user's row is not revealed.
  EXPECT_EQ(alice->GetConversation("bob", bobs.id).code(), Code::kAuthorizationError);
  EXPECT_EQ(alice->ListConversations("bob").code(), Code::kAuthorizationError);
  EXPECT_EQ(alice->CreateConversation("bob", input).code(), Code::kAuthorizationError);
  EXPECT_EQ(alice->GetConversation("alice", bobs.id).code(), Code::kNotFound);
  EXPECT_EQ(alice->HardDeleteConversation("alice", bobs.id).code(), Code::kNotFound);
  MNEMO_ASSERT_OK(service->GetConversation("bob", bobs.id));  // untouched
  // Administration needs a service key.
  EXPECT_EQ(alice->GetStats().code(), Code::kAuthorizationError);
  EXPECT_EQ(alice->ListPartitions().code(), Code::kAuthorizationError);

  // Revoked keys cannot open connections any more.
  std::string out;
  ASSERT_EQ(
      RunCommand({MnemoCliPath(), "keys", "revoke", "--data", server.data_dir(), KeyId(alice_key)},
                 &out),
      0);
  EXPECT_EQ(Client::Connect(LocalOptions(server.port(), alice_key)).error().code,
            Code::kAuthenticationError);
  MNEMO_ASSERT_OK(Client::Connect(LocalOptions(server.port(), service_key)));

  EXPECT_EQ(server.Stop(), 0);
}

}  // namespace
}  // namespace mnemo::client::testing
