// MnemodProcess: starts the real mnemod binary on 127.0.0.1 with an ephemeral port (read back
// from --port-file), and stops it.  Tests only.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/testing/raw_connection.h"

namespace mnemo::server::testing {

class MnemodProcess {
 public:
  // Starts `binary` (MNEMOD_PATH by default) with --data, --listen 127.0.0.1:0, --port-file,
  // --dimension 8 and `extra` flags; stdout/stderr go to `<data>.log`.
  static std::optional<MnemodProcess> Start(const std::string& data_dir,
                                            const std::vector<std::string>& extra = {});
  // Runs mnemod (or any binary) to completion and returns its exit code (-1 on timeout).
  static int RunToExit(const std::string& binary, const std::vector<std::string>& args,
                       std::chrono::seconds timeout, std::string* output = nullptr);

  MnemodProcess(MnemodProcess&& other) noexcept;
  MnemodProcess& operator=(MnemodProcess&&) = delete;
  ~MnemodProcess();  // SIGKILLs a process still running

  uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::string& log_path() const { return log_path_; }
  std::string Log() const;
  bool Running();
  // Resident memory in KiB (from /proc), 0 if unknown.
  long RssKib() const;

  // Sends `signal` and waits for the exit; returns the exit code, or -1 (killed by a signal or
  // still running after `timeout`, in which case it is SIGKILLed).
  int Stop(int signal, std::chrono::seconds timeout);

 private:
  MnemodProcess() = default;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
  std::string log_path_;
};

}  // namespace mnemo::server::testing
