// MnemodProcess: starts the real mnemod for the client integration tests, on 127.0.0.1 with an
// ephemeral port (learned through --port-file) or a given one, in a given data directory; stops
// it with SIGTERM or kills it with SIGKILL.  TempDir: a directory removed when it goes away.
//
// Thread-safety: not thread-safe; one test thread drives it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace mnemo::client::testing {

// The mnemod binary and the mnemo CLI (empty when not built), set by CMake.
std::string MnemodPath();
std::string MnemoCliPath();

class TempDir {
 public:
  TempDir();  // a fresh directory under $TMPDIR (or /tmp)
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class MnemodProcess {
 public:
  static constexpr uint32_t kDimension = 16;

  // `work_dir` holds the data directory ("data"), the port file and the log.
  explicit MnemodProcess(std::string work_dir);
  ~MnemodProcess();  // kills a running server
  MnemodProcess(const MnemodProcess&) = delete;
  MnemodProcess& operator=(const MnemodProcess&) = delete;

  // Starts mnemod and waits (up to 20 s) until it listens.  port 0: ephemeral.  False (with the
  // log's tail in *error) when it exits or does not come up.
  bool Start(uint16_t port = 0, std::string* error = nullptr);
  // SIGTERM, then waits for a clean exit (SIGKILL after 10 s).  Returns the exit status.
  int Stop();
  // SIGKILL and reap.
  void Kill();
  // Waits up to `bound` for the server to exit by itself (e.g. asking for a re-bootstrap) and
  // reaps it: its wait status, or -1 while it still runs (or when it is not running).
  int AwaitExit(std::chrono::milliseconds bound);
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }  // -1 when not running
  // For the next Start(): the dimension of a new data directory (default kDimension) and extra
  // mnemod flags (e.g. {"--max-connections", "8"}).
  void set_dimension(uint32_t dimension) { dimension_ = dimension; }
  void set_extra_args(std::vector<std::string> args) { extra_args_ = std::move(args); }

  uint16_t port() const { return port_; }
  std::string data_dir() const { return work_dir_ + "/data"; }
  std::string log_path() const { return work_dir_ + "/mnemod.log"; }
  // What to show when the server failed: its log from the first sanitizer report on, or else
  // the log's last `bytes`.
  std::string Diagnosis(size_t bytes = 8000) const;

 private:
  std::string work_dir_;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
  uint32_t dimension_ = kDimension;
  std::vector<std::string> extra_args_;
};

// Runs a command (argv[0] is a path), returns its exit status and its stdout in *out.
int RunCommand(const std::vector<std::string>& argv, std::string* out);

}  // namespace mnemo::client::testing
