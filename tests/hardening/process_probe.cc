// Reads /proc for the soak test: see process_probe.h.
#include "process_probe.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <vector>

namespace mnemo::hardening {
namespace {

std::vector<std::string> CommandLine(const std::filesystem::path& proc_dir) {
  std::ifstream in(proc_dir / "cmdline", std::ios::binary);
  const std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> args;
  std::string current;
  for (char c : raw) {
    if (c == '\0') {
      args.push_back(current);
      current.clear();
    } else {
      current.push_back(c);
    }
  }
  return args;
}

}  // namespace

pid_t FindProcess(const std::string& program, const std::string& needle) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const auto args = CommandLine(entry.path());
    if (args.empty() || !args[0].ends_with(program)) continue;
    for (const auto& arg : args) {
      if (arg == needle) return static_cast<pid_t>(std::atoi(name.c_str()));
    }
  }
  return -1;
}

int64_t ResidentBytes(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (!line.starts_with("VmRSS:")) continue;
    std::istringstream fields(line.substr(6));
    int64_t kib = -1;
    fields >> kib;
    return kib < 0 ? -1 : kib * 1024;
  }
  return -1;
}

namespace {

int CountFds(pid_t pid, bool sockets_only) {
  std::error_code ec;
  int count = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    std::error_code link_error;
    const auto target = std::filesystem::read_symlink(it->path(), link_error).string();
    if (!sockets_only || target.starts_with("socket:")) ++count;
  }
  return ec ? -1 : count;
}

}  // namespace

int OpenFileCount(pid_t pid) { return CountFds(pid, false); }
int OpenSocketCount(pid_t pid) { return CountFds(pid, true); }

}  // namespace mnemo::hardening
