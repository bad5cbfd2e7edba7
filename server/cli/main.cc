// mnemo: the admin CLI of mnemod.
//   mnemo keys create --data DIR --kind service|user [--user ID]
//   mnemo keys list --data DIR
//   mnemo keys revoke --data DIR ID
//   mnemo restore --backup PATH --data DIR
//   mnemo stats | partitions | backup PATH   [--server HOST:PORT] [--api-key KEY]
#include <CLI/CLI.hpp>
#include <cstdlib>

#include "server/cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"mnemo: administer a mnemo data directory or a running mnemod"};
  app.require_subcommand(1);
  int exit_code = 0;

  std::string data_dir = "./data";
  auto* keys = app.add_subcommand("keys", "manage API keys (stored hashed under DIR/auth)");
  keys->require_subcommand(1);
  std::string kind;
  std::string user;
  auto* create = keys->add_subcommand("create", "create a key and print it (once)");
  create->add_option("--data", data_dir, "data directory")->capture_default_str();
  create->add_option("--kind", kind, "service (acts for any user) or user (pinned to --user)")->required();
  create->add_option("--user", user, "the user id a user key is pinned to");
  create->callback([&] { exit_code = mnemo::cli::KeysCreate(data_dir, kind, user); });
  auto* list = keys->add_subcommand("list", "list keys (never their secrets)");
  list->add_option("--data", data_dir, "data directory")->capture_default_str();
  list->callback([&] { exit_code = mnemo::cli::KeysList(data_dir); });
  std::string key_id;
  auto* revoke = keys->add_subcommand("revoke", "revoke a key; connections using it are refused from then on");
  revoke->add_option("--data", data_dir, "data directory")->capture_default_str();
  revoke->add_option("id", key_id, "the key id (see keys list)")->required();
  revoke->callback([&] { exit_code = mnemo::cli::KeysRevoke(data_dir, key_id); });

  std::string backup_path;
  auto* restore = app.add_subcommand("restore", "put a backup in place as a data directory (mnemod stopped)");
  restore->add_option("--backup", backup_path, "backup directory")->required();
  restore->add_option("--data", data_dir, "data directory to create (must not exist or be empty)")->required();
  restore->callback([&] { exit_code = mnemo::cli::Restore(backup_path, data_dir); });

  mnemo::cli::ServerAddress address;
  if (const char* env = std::getenv("MNEMO_API_KEY")) address.api_key = env;
  const auto add_server_options = [&](CLI::App* command) {
    command->add_option("--server", address.server, "mnemod address host:port")->capture_default_str();
    command->add_option("--api-key", address.api_key, "service API key (default: $MNEMO_API_KEY)");
  };
  auto* stats = app.add_subcommand("stats", "request counts, latencies, partitions and sizes of a running mnemod");
  add_server_options(stats);
  stats->callback([&] { exit_code = mnemo::cli::Stats(address); });
  auto* partitions = app.add_subcommand("partitions", "list the month partitions of a running mnemod");
  add_server_options(partitions);
  partitions->callback([&] { exit_code = mnemo::cli::Partitions(address); });
  std::string target;
  auto* backup = app.add_subcommand("backup", "write an online backup (path on the server's machine)");
  add_server_options(backup);
  backup->add_option("path", target, "backup directory; must not exist")->required();
  backup->callback([&] { exit_code = mnemo::cli::Backup(address, target); });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  return exit_code;
}
