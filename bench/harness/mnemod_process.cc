// Spawning and stopping mnemod (see mnemod_process.h).
#include "mnemod_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "progress.h"

extern char** environ;

namespace mnemo::bench {
namespace {

using namespace std::chrono_literals;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Waits for `pid` up to `timeout_s`; its wait status, or -1 while it still runs.
int WaitFor(pid_t pid, double timeout_s) {
  const double deadline = NowSeconds() + timeout_s;
  while (true) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) return status;
    if (NowSeconds() >= deadline) return -1;
    std::this_thread::sleep_for(5ms);
  }
}

}  // namespace

std::string FileTail(const std::string& path, size_t bytes) {
  const std::string text = ReadAll(path);
  return text.size() <= bytes ? text : text.substr(text.size() - bytes);
}

MnemodProcess::MnemodProcess(std::string binary, std::string work_dir, size_t dimension,
                             const BenchOptions& options)
    : binary_(std::move(binary)),
      work_dir_(std::move(work_dir)),
      dimension_(dimension),
      hnsw_m_(options.m),
      hnsw_ef_construction_(options.ef_construction) {}

MnemodProcess::~MnemodProcess() {
  if (!running()) return;
  ::kill(pid_, SIGKILL);
  WaitFor(pid_, 10);
}

void MnemodProcess::Kill() {
  if (!running()) return;
  ::kill(pid_, SIGKILL);
  WaitFor(pid_, 10);
  pid_ = -1;
}

bool MnemodProcess::Exited() {
  if (!running()) return true;
  if (WaitFor(pid_, 0) == -1) return false;
  pid_ = -1;
  return true;
}

bool MnemodProcess::Start(double timeout_s, std::string* error) {
  const std::string port_file = work_dir_ + "/mnemod.port";
  std::error_code ignored;
  std::filesystem::remove(port_file, ignored);
  std::vector<std::string> argv = {binary_,
                                   "--data",
                                   data_dir(),
                                   "--listen",
                                   "127.0.0.1:0",
                                   "--port-file",
                                   port_file,
                                   "--dimension",
                                   std::to_string(dimension_),
                                   "--log-level",
                                   "warn",
                                   "--hnsw-m",
                                   std::to_string(hnsw_m_),
                                   "--hnsw-ef-construction",
                                   std::to_string(hnsw_ef_construction_)};
  argv.insert(argv.end(), extra_args_.begin(), extra_args_.end());
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_path().c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log_path().c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  const int rc = posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    pid_ = -1;
    *error = "cannot spawn " + binary_;
    return false;
  }
  const double deadline = NowSeconds() + timeout_s;
  while (NowSeconds() < deadline) {
    const std::string text = ReadAll(port_file);
    if (!text.empty() && text.back() == '\n') {
      port_ = static_cast<uint16_t>(std::stoi(text));
      return true;
    }
    const int status = WaitFor(pid_, 0);
    if (status != -1) {
      pid_ = -1;
      *error =
          "mnemod exited (status " + std::to_string(status) + "): " + FileTail(log_path(), 2000);
      return false;
    }
    std::this_thread::sleep_for(2ms);
  }
  ::kill(pid_, SIGKILL);
  WaitFor(pid_, 10);
  pid_ = -1;
  *error = "mnemod did not come up: " + FileTail(log_path(), 2000);
  return false;
}

bool MnemodProcess::Stop() {
  if (!running()) return false;
  ::kill(pid_, SIGTERM);
  int status = WaitFor(pid_, 60);
  if (status == -1) {
    ::kill(pid_, SIGKILL);
    status = WaitFor(pid_, 10);
  }
  pid_ = -1;
  return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

double MnemodProcess::WaitUntilIdle(double max_s) const {
  // Bytes the process has caused to be written to storage (/proc/<pid>/io), -1 when unknown.
  const auto written = [this]() -> double {
    std::ifstream io("/proc/" + std::to_string(pid_) + "/io");
    for (std::string line; std::getline(io, line);) {
      if (line.rfind("write_bytes:", 0) == 0) return std::stod(line.substr(12));
    }
    return -1;
  };
  const double start = NowSeconds();
  constexpr double kWindowS = 0.5;
  // A compaction can be bound by the disk rather than the CPU: both must be quiet.
  constexpr double kQuietCpuS = 0.05 * kWindowS;
  constexpr double kQuietBytes = 1 << 20;
  int quiet_windows = 0;
  double cpu_before = CpuSeconds();
  double bytes_before = written();
  while (running() && NowSeconds() - start < max_s) {
    std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int>(kWindowS * 1000)));
    const double cpu_after = CpuSeconds();
    const double bytes_after = written();
    const bool quiet = cpu_after - cpu_before <= kQuietCpuS &&
                       (bytes_before < 0 || bytes_after - bytes_before <= kQuietBytes);
    quiet_windows = quiet ? quiet_windows + 1 : 0;
    if (quiet_windows >= 2) return NowSeconds() - start;
    cpu_before = cpu_after;
    bytes_before = bytes_after;
  }
  return -1;
}

size_t MnemodProcess::ResidentBytes() const { return ResidentMemory().total; }

MnemodProcess::Resident MnemodProcess::ResidentMemory() const {
  Resident resident;
  if (!running()) return resident;
  std::ifstream status("/proc/" + std::to_string(pid_) + "/status");
  const auto kib = [](const std::string& line, const char* name, size_t* out) {
    const size_t length = std::strlen(name);
    if (line.compare(0, length, name) == 0) *out = std::stoull(line.substr(length)) * 1024;
  };
  for (std::string line; std::getline(status, line);) {
    kib(line, "VmRSS:", &resident.total);
    kib(line, "RssAnon:", &resident.anon);
    kib(line, "RssFile:", &resident.file);
  }
  return resident;
}

double MnemodProcess::CpuSeconds() const {
  if (!running()) return 0;
  std::ifstream stat("/proc/" + std::to_string(pid_) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  // Fields after the parenthesized command name: state is field 3, utime 14, stime 15.
  const size_t close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  double ticks = 0;
  for (int index = 3; index <= 15 && fields >> field; ++index) {
    if (index == 14 || index == 15) ticks += std::stod(field);
  }
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

TempDir::TempDir(const std::string& prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base && *base ? base : "/tmp") + "/" + prefix + "-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) std::abort();
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

}  // namespace mnemo::bench
