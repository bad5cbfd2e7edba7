// A throwaway PostgreSQL cluster (see postgres_server.h).
#include "postgres_server.h"

#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "mnemod_process.h"

namespace mnemo::bench {
namespace {

namespace fs = std::filesystem;

std::string FindBinDir() {
  if (const char* env = std::getenv("MNEMO_BENCH_PG_BIN"); env && *env) return env;
  std::string best;
  int best_version = -1;
  std::error_code ignored;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ignored)) {
    const std::string name = entry.path().filename().string();
    const int version = std::atoi(name.c_str());
    if (version > best_version && fs::exists(entry.path() / "bin" / "pg_ctl", ignored)) {
      best_version = version;
      best = (entry.path() / "bin").string();
    }
  }
  return best;
}

// A port that was free a moment ago on 127.0.0.1 (bound to 0, read, released).
uint16_t FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  ::close(fd);
  return port;
}

}  // namespace

PostgresServer::PostgresServer() = default;

PostgresServer::~PostgresServer() { Stop(); }

int PostgresServer::Run(const std::string& command) const {
  const std::string full = ::geteuid() == 0 ? "runuser -u postgres -- " + command : command;
  return std::system(full.c_str());
}

bool PostgresServer::Start(std::string* error) {
  bin_dir_ = FindBinDir();
  if (bin_dir_.empty()) {
    *error = "PostgreSQL binaries not found (install postgresql-15, or set MNEMO_BENCH_PG_BIN)";
    return false;
  }
  dir_ = std::make_unique<TempDir>("mnemo-bench-pg");
  const std::string& dir = dir_->path();
  if (::geteuid() == 0) {
    const passwd* user = ::getpwnam("postgres");
    if (user == nullptr) {
      *error = "running as root but there is no `postgres` user to run PostgreSQL as";
      return false;
    }
    if (::chown(dir.c_str(), user->pw_uid, user->pw_gid) != 0) {
      *error = "cannot hand " + dir + " to the postgres user";
      return false;
    }
  }
  // Output redirections are opened by our shell (possibly root), so they go to files other than
  // the server log, which PostgreSQL itself writes.
  const std::string init_log = dir + "/initdb.log";
  const std::string ctl_log = dir + "/pg_ctl.log";
  const std::string server_log = dir + "/server.log";
  if (Run(bin_dir_ + "/initdb -D " + dir + "/data -U postgres -A trust -E UTF8 --no-locale >> " +
          init_log + " 2>&1") != 0) {
    *error = "initdb failed: " + FileTail(init_log, 600);
    return false;
  }
  port_ = FreePort();
  const std::string settings =
      "-c listen_addresses=127.0.0.1 -p " + std::to_string(port_) + " -k " + dir +
      " -c fsync=on -c synchronous_commit=on -c full_page_writes=on -c shared_buffers=512MB"
      " -c max_connections=20";
  if (Run(bin_dir_ + "/pg_ctl -D " + dir + "/data -l " + server_log + " -w -t 60 -o '" + settings +
          "' start >> " + ctl_log + " 2>&1") != 0) {
    *error = "pg_ctl start failed: " + FileTail(ctl_log, 300) + FileTail(server_log, 600);
    return false;
  }
  running_ = true;
  return true;
}

void PostgresServer::Stop() {
  if (!running_) return;
  Run(bin_dir_ + "/pg_ctl -D " + dir_->path() + "/data -m fast -w -t 60 stop >> " + dir_->path() +
      "/pg_ctl.log 2>&1");
  running_ = false;
}

std::string PostgresServer::conninfo() const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " user=postgres dbname=postgres";
}

}  // namespace mnemo::bench
