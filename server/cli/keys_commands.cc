// `mnemo keys create|list|revoke`: API key management on a data directory (works while mnemod
// runs: the key file is replaced atomically and mnemod re-reads it).
#include <cstdio>

#include "server/auth/key_store.h"
#include "server/cli/commands.h"

namespace mnemo::cli {
namespace {

int Fail(const Status& status) {
  std::fprintf(stderr, "mnemo: %s\n", std::string(status.message()).c_str());
  return status.IsValidationError() ? 2 : 1;
}

}  // namespace

int KeysCreate(const std::string& data_dir, const std::string& kind_name,
               const std::string& user_id) {
  server::KeyKind kind;
  if (!server::ParseKeyKind(kind_name, &kind)) {
    std::fprintf(stderr, "mnemo: --kind must be service or user\n");
    return 2;
  }
  server::KeyStore store(server::KeyStore::PathFor(data_dir));
  auto created = store.Create(kind, user_id);
  if (!created.ok()) return Fail(created.status());
  // The key on stdout (and nothing else), the explanation on stderr: `KEY=$(mnemo keys create
  // ...)`.
  std::printf("%s\n", created->key.c_str());
  std::fflush(stdout);
  std::fprintf(
      stderr, "created %s key %s%s%s\nthe key is shown only this once; it is stored hashed in %s\n",
      kind_name.c_str(), created->record.id.c_str(), user_id.empty() ? "" : " for user ",
      user_id.c_str(), store.path().c_str());
  return 0;
}

int KeysList(const std::string& data_dir) {
  server::KeyStore store(server::KeyStore::PathFor(data_dir));
  auto keys = store.List();
  if (!keys.ok()) return Fail(keys.status());
  if (keys->empty()) {
    std::printf("no keys (mnemod runs in protected mode: loopback only, unauthenticated)\n");
    return 0;
  }
  std::printf("%-16s  %-7s  %-27s  %-8s  %s\n", "ID", "KIND", "CREATED", "STATE", "USER");
  for (const auto& key : *keys) {
    std::printf("%-16s  %-7s  %-27s  %-8s  %s\n", key.id.c_str(),
                std::string(server::KeyKindName(key.kind)).c_str(),
                FormatTimestamp(key.created_at).c_str(), key.revoked ? "revoked" : "active",
                key.user_id.c_str());
  }
  return 0;
}

int KeysRevoke(const std::string& data_dir, const std::string& id) {
  server::KeyStore store(server::KeyStore::PathFor(data_dir));
  Status revoked = store.Revoke(id);
  if (!revoked.ok()) return Fail(revoked);
  std::printf("revoked key %s\n", id.c_str());
  return 0;
}

}  // namespace mnemo::cli
