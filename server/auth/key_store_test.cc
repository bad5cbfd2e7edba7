#include "server/auth/key_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <thread>

#include "server/auth/authorize.h"
#include "testing/temp_dir.h"

namespace mnemo::server {
namespace {

class KeyStoreTest : public ::testing::Test {
 protected:
  std::string Path() const { return KeyStore::PathFor(dir_.path().string()); }
  mnemo::testing::TempDir dir_;
};

TEST_F(KeyStoreTest, EmptyStoreHasNoKeys) {
  KeyStore store(Path());
  auto has = store.HasKeys();
  ASSERT_TRUE(has.ok()) << has.status().ToString();
  EXPECT_FALSE(*has);
  auto verified = store.Verify("mnemo_0123456789abcdef_" + std::string(64, 'a'));
  EXPECT_EQ(verified.status().code(), StatusCode::kAuthenticationError);
}

TEST_F(KeyStoreTest, CreateListVerifyRevoke) {
  KeyStore store(Path());
  auto service = store.Create(KeyKind::kService, "");
  ASSERT_TRUE(service.ok()) << service.status().ToString();
  auto user = store.Create(KeyKind::kUser, "alice");
  ASSERT_TRUE(user.ok()) << user.status().ToString();
  EXPECT_TRUE(service->key.starts_with("mnemo_" + service->record.id + "_"));
  EXPECT_NE(service->key, user->key);

  auto listed = store.List();
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[1].user_id, "alice");
  EXPECT_EQ((*listed)[1].kind, KeyKind::kUser);

  auto as_service = store.Verify(service->key);
  ASSERT_TRUE(as_service.ok()) << as_service.status().ToString();
  EXPECT_TRUE(as_service->is_service());
  EXPECT_EQ(as_service->key_id, service->record.id);
  auto as_alice = store.Verify(user->key);
  ASSERT_TRUE(as_alice.ok());
  EXPECT_FALSE(as_alice->is_service());
  EXPECT_EQ(as_alice->user_id, "alice");
  EXPECT_EQ(as_alice->WireName(), "alice");

  // A wrong secret for a real id, and malformed keys, are refused alike.
  std::string tampered = user->key;
  tampered.back() = tampered.back() == '0' ? '1' : '0';
  EXPECT_EQ(store.Verify(tampered).status().code(), StatusCode::kAuthenticationError);
  EXPECT_EQ(store.Verify("").status().code(), StatusCode::kAuthenticationError);
  EXPECT_EQ(store.Verify("mnemo_short").status().code(), StatusCode::kAuthenticationError);
  EXPECT_EQ(store.Verify(user->key + "x").status().code(), StatusCode::kAuthenticationError);

  ASSERT_TRUE(store.Revoke(user->record.id).ok());
  auto revoked = store.Verify(user->key);
  EXPECT_EQ(revoked.status().code(), StatusCode::kAuthenticationError);
  EXPECT_NE(revoked.status().message().find("revoked"), std::string_view::npos);
  EXPECT_TRUE(store.Revoke(user->record.id).ok());  // idempotent
  EXPECT_TRUE(store.Revoke("ffffffffffffffff").IsNotFound());
  EXPECT_TRUE(store.Verify(service->key).ok());
}

TEST_F(KeyStoreTest, KeyKindRules) {
  KeyStore store(Path());
  EXPECT_TRUE(store.Create(KeyKind::kUser, "").status().IsValidationError());
  EXPECT_TRUE(store.Create(KeyKind::kService, "bob").status().IsValidationError());
  EXPECT_TRUE(store.Create(KeyKind::kUser, std::string(256, 'u')).status().IsValidationError());
  EXPECT_FALSE(*store.HasKeys());
}

TEST_F(KeyStoreTest, FileRoundTripStoresOnlyHashes) {
  std::string key;
  {
    KeyStore store(Path());
    auto created = store.Create(KeyKind::kUser, "carol");
    ASSERT_TRUE(created.ok());
    key = created->key;
  }
  std::ifstream in(Path());
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string secret = key.substr(key.rfind('_') + 1);
  EXPECT_EQ(text.find(secret), std::string::npos) << "the secret must not be stored";
  EXPECT_NE(text.find("\"carol\""), std::string::npos);
  struct stat info {};
  ASSERT_EQ(::stat(Path().c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);

  auto parsed = ParseKeyFile(text, Path());
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(SerializeKeyFile(*parsed), text);

  KeyStore reopened(Path());
  auto principal = reopened.Verify(key);
  ASSERT_TRUE(principal.ok()) << principal.status().ToString();
  EXPECT_EQ(principal->user_id, "carol");
}

// mnemod's store sees keys the CLI (another KeyStore on the same file) adds and revokes.
TEST_F(KeyStoreTest, ReloadsWhenTheFileChanges) {
  KeyStore server(Path());
  KeyStore cli(Path());
  EXPECT_FALSE(*server.HasKeys());
  auto created = cli.Create(KeyKind::kService, "");
  ASSERT_TRUE(created.ok());
  EXPECT_TRUE(*server.HasKeys());
  EXPECT_TRUE(server.Verify(created->key).ok());
  ASSERT_TRUE(cli.Revoke(created->record.id).ok());
  EXPECT_EQ(server.Verify(created->key).status().code(), StatusCode::kAuthenticationError);
}

TEST_F(KeyStoreTest, CorruptFileIsAClearError) {
  std::filesystem::create_directories(std::filesystem::path(Path()).parent_path());
  for (const char* text :
       {"{not json", "[]", R"({"format": 2, "keys": []})",
        R"({"format": 1, "keys": [{"id": "xyz"}]})",
        R"({"format": 1, "keys": [{"id": "0123456789abcdef", "kind": "root", "user_id": "",
                               "sha256": "", "created_at": "2026-01-01T00:00:00Z", "revoked": false}]})"}) {
    {
      std::ofstream out(Path(), std::ios::trunc);
      out << text;
    }
    KeyStore store(Path());
    auto has = store.HasKeys();
    ASSERT_FALSE(has.ok()) << text;
    EXPECT_NE(has.status().message().find(Path()), std::string_view::npos)
        << has.status().ToString();
    EXPECT_NE(has.status().message().find("corrupt"), std::string_view::npos)
        << has.status().ToString();
    // Verification fails closed, and a create does not overwrite the damaged file.
    EXPECT_FALSE(store.Verify("mnemo_0123456789abcdef_" + std::string(64, 'a')).ok());
    EXPECT_FALSE(store.Create(KeyKind::kService, "").ok());
  }
}

TEST_F(KeyStoreTest, ConcurrentCreatesAllLand) {
  KeyStore a(Path());
  KeyStore b(Path());
  std::thread first([&] {
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(a.Create(KeyKind::kService, "").ok());
  });
  std::thread second([&] {
    for (int i = 0; i < 10; ++i)
      ASSERT_TRUE(b.Create(KeyKind::kUser, "u" + std::to_string(i)).ok());
  });
  first.join();
  second.join();
  KeyStore reader(Path());
  EXPECT_EQ(reader.List()->size(), 20u);
}

TEST_F(KeyStoreTest, AuthenticatePolicy) {
  KeyStore store(Path());
  // Protected mode: no keys, loopback only.
  auto anonymous = Authenticate(store, "", /*listening_on_loopback=*/true);
  ASSERT_TRUE(anonymous.ok());
  EXPECT_TRUE(anonymous->is_service());
  EXPECT_EQ(Authenticate(store, "", false).status().code(), StatusCode::kAuthenticationError);

  auto created = store.Create(KeyKind::kUser, "dave");
  ASSERT_TRUE(created.ok());
  // Once a key exists, every connection needs one.
  EXPECT_EQ(Authenticate(store, "", true).status().code(), StatusCode::kAuthenticationError);
  auto dave = Authenticate(store, created->key, false);
  ASSERT_TRUE(dave.ok());
  EXPECT_EQ(dave->user_id, "dave");

  // ResolveUser: user keys are pinned; service keys must name a user.
  EXPECT_EQ(*ResolveUser(*dave, ""), "dave");
  EXPECT_EQ(*ResolveUser(*dave, "dave"), "dave");
  EXPECT_EQ(ResolveUser(*dave, "erin").status().code(), StatusCode::kAuthorizationError);
  const Principal service{KeyKind::kService, "", "k"};
  EXPECT_EQ(*ResolveUser(service, "erin"), "erin");
  auto unnamed = ResolveUser(service, "");
  EXPECT_TRUE(unnamed.status().IsValidationError());
  EXPECT_EQ(unnamed.status().field(), "user_id");
  EXPECT_TRUE(RequireService(service, "GetStats").ok());
  EXPECT_EQ(RequireService(*dave, "GetStats").code(), StatusCode::kAuthorizationError);
}

}  // namespace
}  // namespace mnemo::server
