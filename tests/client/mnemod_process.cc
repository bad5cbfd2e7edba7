#include "mnemod_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace mnemo::client::testing {
namespace {

using namespace std::chrono_literals;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string Tail(const std::string& text, size_t bytes) {
  return text.size() <= bytes ? text : text.substr(text.size() - bytes);
}

// posix_spawn of argv with stdout/stderr sent to the given files (or inherited when empty).
pid_t Spawn(const std::vector<std::string>& argv, const std::string& stdout_path,
            const std::string& stderr_path) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (!stdout_path.empty()) {
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, stdout_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
  }
  if (!stderr_path.empty()) {
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_path.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
  }
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : -1;
}

// Waits for `pid` up to `timeout`; the exit status, or -1 when it is still running.
int WaitFor(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) return status;
    if (std::chrono::steady_clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(10ms);
  }
}

}  // namespace

std::string MnemodPath() { return MNEMO_TEST_MNEMOD_PATH; }
std::string MnemoCliPath() { return MNEMO_TEST_CLI_PATH; }

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base && *base ? base : "/tmp") + "/mnemo-client-test-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) std::abort();
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

MnemodProcess::MnemodProcess(std::string work_dir) : work_dir_(std::move(work_dir)) {}

MnemodProcess::~MnemodProcess() {
  if (running()) Kill();
}

bool MnemodProcess::Start(uint16_t port, std::string* error) {
  const std::string port_file = work_dir_ + "/mnemod.port";
  std::error_code ignored;
  std::filesystem::remove(port_file, ignored);
  std::vector<std::string> argv = {MnemodPath(),
                                   "--data",
                                   data_dir(),
                                   "--listen",
                                   "127.0.0.1:" + std::to_string(port),
                                   "--port-file",
                                   port_file,
                                   "--dimension",
                                   std::to_string(dimension_),
                                   "--log-level",
                                   "warn",
                                   "--io-threads",
                                   "2",
                                   "--workers",
                                   "2"};
  argv.insert(argv.end(), extra_args_.begin(), extra_args_.end());
  pid_ = Spawn(argv, log_path(), log_path());
  if (pid_ <= 0) {
    if (error) *error = "cannot spawn " + MnemodPath();
    return false;
  }
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    const std::string text = ReadFile(port_file);
    if (!text.empty() && text.back() == '\n') {
      port_ = static_cast<uint16_t>(std::stoi(text));
      return true;
    }
    const int status = WaitFor(pid_, 0ms);
    if (status != -1) {
      pid_ = -1;
      if (error)
        *error = "mnemod exited (status " + std::to_string(status) +
                 "): " + Tail(ReadFile(log_path()), 2000);
      return false;
    }
    std::this_thread::sleep_for(20ms);
  }
  Kill();
  if (error)
    *error = "mnemod did not write its port file within 20 s: " + Tail(ReadFile(log_path()), 2000);
  return false;
}

int MnemodProcess::Stop() {
  if (!running()) return -1;
  ::kill(pid_, SIGTERM);
  int status = WaitFor(pid_, 10'000ms);
  if (status == -1) {
    ::kill(pid_, SIGKILL);
    status = WaitFor(pid_, 10'000ms);
  }
  pid_ = -1;
  return status;
}

std::string MnemodProcess::Diagnosis(size_t bytes) const {
  const std::string log = ReadFile(log_path());
  for (const char* marker :
       {"WARNING: ThreadSanitizer", "ERROR: AddressSanitizer", "runtime error:"}) {
    const size_t at = log.find(marker);
    if (at != std::string::npos) return log.substr(at, bytes);
  }
  return Tail(log, bytes);
}

int MnemodProcess::AwaitExit(std::chrono::milliseconds bound) {
  if (!running()) return -1;
  const int status = WaitFor(pid_, bound);
  if (status != -1) pid_ = -1;
  return status;
}

void MnemodProcess::Kill() {
  if (!running()) return;
  ::kill(pid_, SIGKILL);
  WaitFor(pid_, 10'000ms);
  pid_ = -1;
}

int RunCommand(const std::vector<std::string>& argv, std::string* out) {
  TempDir dir;
  const std::string out_path = dir.path() + "/stdout";
  const pid_t pid = Spawn(argv, out_path, dir.path() + "/stderr");
  if (pid <= 0) return -1;
  const int status = WaitFor(pid, 30'000ms);
  if (status == -1) {
    ::kill(pid, SIGKILL);
    WaitFor(pid, 5'000ms);
    return -1;
  }
  if (out) *out = ReadFile(out_path);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace mnemo::client::testing
