// PostgresServer: a throwaway PostgreSQL cluster for the benchmark.  initdb into a temp
// directory, then pg_ctl start listening only on 127.0.0.1 at a free port, with durable settings
// (fsync, synchronous_commit and full_page_writes on).  PostgreSQL refuses to run as root, so
// when the harness runs as root every PostgreSQL command runs as the `postgres` system user
// (runuser), which owns the directory.  Binaries: $MNEMO_BENCH_PG_BIN, else the newest
// /usr/lib/postgresql/<version>/bin.
//
// Thread-safety: not thread-safe; the harness's main thread drives it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace mnemo::bench {

class TempDir;

class PostgresServer {
 public:
  PostgresServer();
  ~PostgresServer();  // stops a running server and removes its directory
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // False with a reason (and the log's tail) in *error.
  bool Start(std::string* error);
  void Stop();
  // libpq connection string for the running server.
  std::string conninfo() const;

 private:
  // Runs a PostgreSQL binary (as `postgres` when we are root); its exit status.
  int Run(const std::string& command) const;

  std::unique_ptr<TempDir> dir_;
  std::string bin_dir_;
  uint16_t port_ = 0;
  bool running_ = false;
};

}  // namespace mnemo::bench
