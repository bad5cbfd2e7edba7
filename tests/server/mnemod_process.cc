#include "mnemod_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace mnemo::server::testing {
namespace {

using Clock = std::chrono::steady_clock;

pid_t Spawn(const std::string& binary, const std::vector<std::string>& args,
            const std::string& log_path) {
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(binary.c_str()));
  for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                   0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : -1;
}

// Waits for `pid` until `deadline`; the exit code, -1 when killed by a signal, -2 on timeout.
int WaitFor(pid_t pid, Clock::time_point deadline) {
  for (;;) {
    int status = 0;
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (done < 0) return -1;
    if (Clock::now() >= deadline) return -2;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

std::optional<MnemodProcess> MnemodProcess::Start(const std::string& data_dir,
                                                  const std::vector<std::string>& extra) {
  MnemodProcess process;
  process.log_path_ = data_dir + ".log";
  const std::string port_file = data_dir + ".port";
  std::filesystem::remove(port_file);
  std::vector<std::string> args = {"--data",        data_dir,  "--listen",     "127.0.0.1:0",
                                   "--port-file",   port_file, "--dimension",  "8",
                                   "--sync-writes", "false",   "--io-threads", "2",
                                   "--workers",     "2"};
  args.insert(args.end(), extra.begin(), extra.end());
  process.pid_ = Spawn(MNEMOD_PATH, args, process.log_path_);
  if (process.pid_ < 0) return std::nullopt;
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (Clock::now() < deadline) {
    const std::string text = ReadFile(port_file);
    if (!text.empty() && text.back() == '\n') {
      process.port_ = static_cast<uint16_t>(std::stoi(text));
      return process;
    }
    int status = 0;
    if (::waitpid(process.pid_, &status, WNOHANG) == process.pid_) {
      process.pid_ = -1;
      return std::nullopt;  // exited during start-up
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return std::nullopt;  // the destructor kills it
}

int MnemodProcess::RunToExit(const std::string& binary, const std::vector<std::string>& args,
                             std::chrono::seconds timeout, std::string* output) {
  const std::string log = std::filesystem::temp_directory_path() /
                          ("mnemo-run-" + std::to_string(::getpid()) + "-" +
                           std::to_string(Clock::now().time_since_epoch().count()));
  const pid_t pid = Spawn(binary, args, log);
  if (pid < 0) return -1;
  int code = WaitFor(pid, Clock::now() + timeout);
  if (code == -2) {
    ::kill(pid, SIGKILL);
    WaitFor(pid, Clock::now() + std::chrono::seconds(5));
    code = -1;
  }
  if (output != nullptr) *output = ReadFile(log);
  std::filesystem::remove(log);
  return code;
}

MnemodProcess::MnemodProcess(MnemodProcess&& other) noexcept
    : pid_(other.pid_), port_(other.port_), log_path_(std::move(other.log_path_)) {
  other.pid_ = -1;
}

MnemodProcess::~MnemodProcess() {
  if (pid_ > 0) Stop(SIGKILL, std::chrono::seconds(10));
}

std::string MnemodProcess::Log() const { return ReadFile(log_path_); }

bool MnemodProcess::Running() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

long MnemodProcess::RssKib() const {
  std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

int MnemodProcess::Stop(int signal, std::chrono::seconds timeout) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, signal);
  int code = WaitFor(pid_, Clock::now() + timeout);
  if (code == -2) {
    ::kill(pid_, SIGKILL);
    WaitFor(pid_, Clock::now() + std::chrono::seconds(10));
    code = -1;
  }
  pid_ = -1;
  return code;
}

}  // namespace mnemo::server::testing
