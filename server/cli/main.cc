// mnemo: the admin CLI of mnemod.
//   mnemo keys create --data DIR --kind service|user [--user ID]
//   mnemo keys list --data DIR
//   mnemo keys revoke --data DIR ID
//   mnemo restore --backup PATH --data DIR
//   mnemo stats | partitions | backup PATH   [--server HOST:PORT] [--api-key KEY]
//   mnemo snapshot fetch DIR                 [--server HOST:PORT] [--api-key KEY]
//   mnemo archive MONTH PATH | drop MONTH --yes | attach PATH | rebuild MONTH
//   mnemo retention [--keep-months N] [--archive-dir DIR] [--purge-after-days D]
//   mnemo purge --older-than-days D
//   mnemo cluster status [--etcd URLS --cluster NAME] [--nodes HOST:PORT,...] [--api-key KEY]
#include <cstdlib>

#include <CLI/CLI.hpp>

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
  create->add_option("--kind", kind, "service (acts for any user) or user (pinned to --user)")
      ->required();
  create->add_option("--user", user, "the user id a user key is pinned to");
  create->callback([&] { exit_code = mnemo::cli::KeysCreate(data_dir, kind, user); });
  auto* list = keys->add_subcommand("list", "list keys (never their secrets)");
  list->add_option("--data", data_dir, "data directory")->capture_default_str();
  list->callback([&] { exit_code = mnemo::cli::KeysList(data_dir); });
  std::string key_id;
  auto* revoke =
      keys->add_subcommand("revoke", "revoke a key; connections using it are refused from then on");
  revoke->add_option("--data", data_dir, "data directory")->capture_default_str();
  revoke->add_option("id", key_id, "the key id (see keys list)")->required();
  revoke->callback([&] { exit_code = mnemo::cli::KeysRevoke(data_dir, key_id); });

  std::string backup_path;
  auto* restore =
      app.add_subcommand("restore", "put a backup in place as a data directory (mnemod stopped)");
  restore->add_option("--backup", backup_path, "backup directory")->required();
  restore->add_option("--data", data_dir, "data directory to create (must not exist or be empty)")
      ->required();
  restore->callback([&] { exit_code = mnemo::cli::Restore(backup_path, data_dir); });

  mnemo::cli::ServerAddress address;
  if (const char* env = std::getenv("MNEMO_API_KEY")) address.api_key = env;
  const auto add_server_options = [&](CLI::App* command) {
    command->add_option("--server", address.server, "mnemod address host:port")
        ->capture_default_str();
    command->add_option("--api-key", address.api_key, "service API key (default: $MNEMO_API_KEY)");
  };
  auto* stats = app.add_subcommand(
      "stats", "request counts, latencies, partitions and sizes of a running mnemod");
  add_server_options(stats);
  stats->callback([&] { exit_code = mnemo::cli::Stats(address); });
  auto* partitions =
      app.add_subcommand("partitions", "list the month partitions of a running mnemod");
  add_server_options(partitions);
  partitions->callback([&] { exit_code = mnemo::cli::Partitions(address); });
  std::string target;
  auto* backup =
      app.add_subcommand("backup", "write an online backup (path on the server's machine)");
  add_server_options(backup);
  backup->add_option("path", target, "backup directory; must not exist")->required();
  backup->callback([&] { exit_code = mnemo::cli::Backup(address, target); });

  auto* snapshot = app.add_subcommand("snapshot", "snapshots of a running mnemod's data");
  snapshot->require_subcommand(1);
  auto* fetch = snapshot->add_subcommand(
      "fetch", "copy a consistent snapshot of a running mnemod over the connection into DIR");
  add_server_options(fetch);
  fetch->add_option("dir", target, "local directory to create; must not exist")->required();
  fetch->callback([&] { exit_code = mnemo::cli::SnapshotFetch(address, target); });

  std::string month;
  std::string archive_path;
  auto* archive = app.add_subcommand(
      "archive", "write a month's chunks to an archive file (the partition stays)");
  add_server_options(archive);
  archive->add_option("month", month, "YYYY-MM")->required();
  archive->add_option("path", archive_path, "archive file to write, on the server's machine")
      ->required();
  archive->callback([&] { exit_code = mnemo::cli::Archive(address, month, archive_path); });
  bool confirmed = false;
  auto* drop =
      app.add_subcommand("drop", "delete a month's chunks (live and soft-deleted) for good");
  add_server_options(drop);
  drop->add_option("month", month, "YYYY-MM")->required();
  drop->add_flag("--yes", confirmed, "confirm: the rows are gone unless archived before")
      ->required();
  drop->callback([&] { exit_code = mnemo::cli::Drop(address, month); });
  auto* attach =
      app.add_subcommand("attach", "re-attach an archive written by archive or retention");
  add_server_options(attach);
  attach->add_option("path", archive_path, "archive file, on the server's machine")->required();
  attach->callback([&] { exit_code = mnemo::cli::Attach(address, archive_path); });
  auto* rebuild = app.add_subcommand("rebuild", "rebuild a month's vector graph online");
  add_server_options(rebuild);
  rebuild->add_option("month", month, "YYYY-MM")->required();
  rebuild->callback([&] { exit_code = mnemo::cli::Rebuild(address, month); });

  mnemo::cli::RetentionArgs retention_args;
  auto* retention = app.add_subcommand(
      "retention",
      "run retention once: the server's configured policy, or the one given by the options");
  add_server_options(retention);
  auto* keep = retention
                   ->add_option("--keep-months", retention_args.keep_months,
                                "keep the newest N calendar months of chunks (0 keeps all)")
                   ->check(CLI::Range(0, 100000));
  auto* archive_dir = retention->add_option("--archive-dir", retention_args.archive_dir,
                                            "archive retired months here first (server's machine)");
  auto* purge_days = retention
                         ->add_option("--purge-after-days", retention_args.purge_after_days,
                                      "purge rows soft-deleted more than D days ago (0 never)")
                         ->check(CLI::Range(int64_t{0}, int64_t{100000}));
  retention->callback([&] {
    retention_args.policy_given =
        keep->count() > 0 || archive_dir->count() > 0 || purge_days->count() > 0;
    exit_code = mnemo::cli::Retention(address, retention_args);
  });
  int64_t older_than_days = 0;
  auto* purge =
      app.add_subcommand("purge", "delete rows soft-deleted more than D days ago, for good");
  add_server_options(purge);
  purge->add_option("--older-than-days", older_than_days, "purge age in days (the seeds use 30)")
      ->required()
      ->check(CLI::Range(int64_t{1}, int64_t{100000}));
  purge->callback([&] {
    mnemo::cli::RetentionArgs args;
    args.policy_given = true;
    args.purge_after_days = older_than_days;
    exit_code = mnemo::cli::Retention(address, args);
  });

  mnemo::cli::ClusterStatusArgs cluster_args;
  auto* cluster = app.add_subcommand("cluster", "cluster mode (etcd): who is primary");
  cluster->require_subcommand(1);
  auto* cluster_status = cluster->add_subcommand(
      "status", "the primary and epoch from etcd, and each node's role as it reports it");
  cluster_status->add_option("--etcd", cluster_args.etcd,
                             "etcd client URLs, comma-separated (http://host:port)");
  cluster_status->add_option("--cluster", cluster_args.cluster, "the cluster's name");
  cluster_status->add_option("--nodes", cluster_args.nodes, "mnemod addresses host:port to ask")
      ->delimiter(',');
  cluster_status->add_option("--api-key", address.api_key,
                             "service API key for the nodes (default: $MNEMO_API_KEY)");
  cluster_status->callback([&] {
    cluster_args.api_key = address.api_key;
    exit_code = mnemo::cli::ClusterStatus(cluster_args);
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  return exit_code;
}
