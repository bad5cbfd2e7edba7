// MnemodProcess: runs one mnemod for the benchmark on 127.0.0.1 with an ephemeral port (learned
// through --port-file), durable writes (the default), the run's HNSW parameters (--M, --efc ->
// --hnsw-m, --hnsw-ef-construction), its log in `work_dir`/mnemod.log.  Also: its resident
// memory, and TempDir (a directory removed when it goes away).
//
// Thread-safety: not thread-safe; the harness's main thread drives it.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "options.h"

namespace mnemo::bench {

class MnemodProcess {
 public:
  // `binary`: the mnemod executable; `work_dir`: holds "data", the port file and the log;
  // `options`: the run's HNSW parameters.
  MnemodProcess(std::string binary, std::string work_dir, size_t dimension,
                const BenchOptions& options);
  ~MnemodProcess();  // kills a running server
  MnemodProcess(const MnemodProcess&) = delete;
  MnemodProcess& operator=(const MnemodProcess&) = delete;

  // Spawns mnemod and waits (up to `timeout_s`) for its port file.  False with a reason (and the
  // log's tail) in *error when it exits or does not come up.
  bool Start(double timeout_s, std::string* error);
  // SIGTERM and wait for the clean exit (SIGKILL after 60 s).  True on exit status 0.
  bool Stop();
  // SIGKILL and reap.  Nothing when not running.
  void Kill();
  // True (and reaped) when the server has exited by itself; false while it runs.
  bool Exited();
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  uint16_t port() const { return port_; }
  // VmRSS of the server process; 0 when not running.
  size_t ResidentBytes() const;
  // Its resident memory by kind (/proc/PID/status): anonymous (heap, stacks) and file-backed
  // (mapped files read through the page cache: the vector segments, libraries).  Zeros when
  // not running.
  struct Resident {
    size_t total = 0;
    size_t anon = 0;
    size_t file = 0;
  };
  Resident ResidentMemory() const;
  // Waits until mnemod's background work (flushes, compactions, graph linking) has settled: its
  // CPU use stays under 5% of a core and its writes under 1 MiB for two half-second windows in a
  // row.  Returns the seconds waited, or -1 after `max_s`.
  double WaitUntilIdle(double max_s) const;
  // CPU time (user + system) the server process has used, in seconds; 0 when not running.
  double CpuSeconds() const;
  std::string data_dir() const { return work_dir_ + "/data"; }
  std::string log_path() const { return work_dir_ + "/mnemod.log"; }
  // Flags added to mnemod's command line by the next Start().
  void set_extra_args(std::vector<std::string> args) { extra_args_ = std::move(args); }

 private:
  std::string binary_;
  std::string work_dir_;
  size_t dimension_;
  size_t hnsw_m_;
  size_t hnsw_ef_construction_;
  std::vector<std::string> extra_args_;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
};

class TempDir {
 public:
  // A fresh directory under $TMPDIR (or /tmp) named prefix-XXXXXX.  Aborts if it cannot be made.
  explicit TempDir(const std::string& prefix);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The last `bytes` bytes of a file ("" when unreadable).
std::string FileTail(const std::string& path, size_t bytes);

}  // namespace mnemo::bench
