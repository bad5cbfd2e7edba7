#include "cluster/testing/etcd_cluster.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

namespace mnemo::cluster::testing {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kStartTimeout = std::chrono::seconds(20);
constexpr auto kPollInterval = std::chrono::milliseconds(100);
// A port found free can be taken by another process before etcd binds it; then start over.
constexpr int kLaunchAttempts = 3;
constexpr size_t kMaxMembers = 5;

std::optional<std::string> FindEtcd() {
  if (const char* path = std::getenv("MNEMO_ETCD_BINARY"); path != nullptr && *path != '\0') {
    return std::string(path);
  }
  const char* search = std::getenv("PATH");
  std::stringstream dirs(search != nullptr ? search : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const std::string candidate = (dir.empty() ? "." : dir) + "/etcd";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

// `count` distinct free ports on 127.0.0.1: bound to port 0 all at once, then released.
Result<std::vector<uint16_t>> FreePorts(size_t count) {
  std::vector<int> sockets;
  std::vector<uint16_t> ports;
  Status status;
  for (size_t i = 0; i < count && status.ok(); ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      status = Status::Internal("no free port on 127.0.0.1");
    } else {
      ports.push_back(ntohs(address.sin_port));
    }
    if (fd >= 0) sockets.push_back(fd);
  }
  for (const int fd : sockets) ::close(fd);
  if (!status.ok()) return status;
  return ports;
}

// Starts `args` (args[0] is the binary) with stdout and stderr appended to `log`.  The child gets
// SIGKILL when the thread that started it exits, so a crashed test leaves no member behind.
pid_t Spawn(const std::vector<std::string>& args, const std::string& log) {
  std::vector<char*> argv;
  for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid != 0) return pid;  // the parent (or -1)
  // The child: only async-signal-safe calls until exec.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(127);  // the parent died before prctl
  const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd >= 0) {
    ::dup2(fd, STDOUT_FILENO);
    ::dup2(fd, STDERR_FILENO);
    ::close(fd);
  }
  ::execv(argv[0], argv.data());
  ::_exit(127);
}

// True (and reaps it) when `pid` has exited.
bool Exited(pid_t pid) {
  int status = 0;
  return ::waitpid(pid, &status, WNOHANG) == pid;
}

// etcd fsyncs its log on every write; on a busy disk that delays raft heartbeats enough to make
// leadership flap.  Shared memory, where fsync costs nothing, keeps the tests steady.
std::filesystem::path ScratchRoot() {
  std::error_code ignored;
  if (std::filesystem::is_directory("/dev/shm", ignored) && ::access("/dev/shm", W_OK) == 0) {
    return "/dev/shm";
  }
  return std::filesystem::temp_directory_path();
}

}  // namespace

Result<std::unique_ptr<EtcdCluster>> EtcdCluster::Start(size_t members) {
  if (members == 0 || members > kMaxMembers) {
    return Status::ValidationError("members", "an etcd test cluster has 1 to 5 members");
  }
  const auto binary = FindEtcd();
  if (!binary) {
    return Status::Unavailable(
        "the etcd binary was not found on PATH (or MNEMO_ETCD_BINARY): "
        "scripts/install-deps.sh installs it (Debian's etcd-server)");
  }
  if (::access(binary->c_str(), X_OK) != 0) {
    return Status::Unavailable("the etcd binary " + *binary + " is not executable");
  }
  std::string pattern = (ScratchRoot() / "mnemo-etcd-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    return Status::Internal("cannot create a temporary directory like " + pattern);
  }
  std::unique_ptr<EtcdCluster> cluster(new EtcdCluster(pattern));
  cluster->members_.resize(members);
  Status status;
  for (int attempt = 0; attempt < kLaunchAttempts; ++attempt) {
    const std::string token = "mnemo-test-" + std::to_string(::getpid()) + "-" +
                              std::to_string(Clock::now().time_since_epoch().count());
    status = cluster->Launch(*binary, token);
    if (status.ok()) status = cluster->WaitHealthy();
    if (status.ok()) return cluster;
    // Start over only when a member exited (most likely a port taken meanwhile); a cluster that
    // runs but does not become healthy in time will not do better on a second try.
    bool exited = false;
    for (size_t i = 0; i < members; ++i) exited = exited || !cluster->Running(i);
    for (size_t i = 0; i < members; ++i) cluster->Kill(i);
    if (!exited) break;
    for (size_t i = 0; i < members; ++i) {
      std::error_code ignored;
      std::filesystem::remove_all(cluster->directory_ + "/" + cluster->members_[i].name, ignored);
    }
  }
  return status;
}

EtcdCluster::~EtcdCluster() {
  for (size_t i = 0; i < members_.size(); ++i) Kill(i);
  std::error_code ignored;
  std::filesystem::remove_all(directory_, ignored);
}

Status EtcdCluster::Launch(const std::string& binary, const std::string& token) {
  MNEMO_ASSIGN_OR_RETURN(const std::vector<uint16_t> ports, FreePorts(2 * members_.size()));
  std::string initial_cluster;
  for (size_t i = 0; i < members_.size(); ++i) {
    Member& member = members_[i];
    member.name = "m" + std::to_string(i);
    member.client_port = ports[2 * i];
    member.peer_port = ports[2 * i + 1];
    if (!initial_cluster.empty()) initial_cluster += ",";
    initial_cluster += member.name + "=http://127.0.0.1:" + std::to_string(member.peer_port);
  }
  for (size_t i = 0; i < members_.size(); ++i) {
    Member& member = members_[i];
    const std::string client_url = ClientUrl(i);
    const std::string peer_url = "http://127.0.0.1:" + std::to_string(member.peer_port);
    // The default heartbeat (100 ms) and election timeout (1 s), spelled out: they set etcd's
    // minimum lease TTL (2 s) and how long a lost leader goes unnoticed.
    member.args = {
        binary,
        "--name=" + member.name,
        "--data-dir=" + directory_ + "/" + member.name,
        "--listen-client-urls=" + client_url,
        "--advertise-client-urls=" + client_url,
        "--listen-peer-urls=" + peer_url,
        "--initial-advertise-peer-urls=" + peer_url,
        "--initial-cluster=" + initial_cluster,
        "--initial-cluster-state=new",
        "--initial-cluster-token=" + token,
        "--heartbeat-interval=100",
        "--election-timeout=1000",
        "--logger=zap",
        "--log-outputs=stderr",
    };
    member.pid = Spawn(member.args, LogPath(i));
    if (member.pid < 0) return Status::Internal("cannot start " + binary);
  }
  return Status::Ok();
}

Status EtcdCluster::WaitHealthy() {
  std::vector<EtcdClient> clients;
  for (size_t i = 0; i < members_.size(); ++i) {
    MNEMO_ASSIGN_OR_RETURN(EtcdClient client, EtcdClient::Create(ClientOptions({ClientUrl(i)})));
    clients.push_back(std::move(client));
  }
  const auto deadline = Clock::now() + kStartTimeout;
  std::string last_problem = "no member answered yet";
  while (Clock::now() < deadline) {
    for (size_t i = 0; i < members_.size(); ++i) {
      if (members_[i].pid > 0 && Exited(members_[i].pid)) {
        members_[i].pid = -1;
        return Status::Unavailable("etcd member " + members_[i].name +
                                   " exited during start-up; its log ends:\n" + LogTail(i));
      }
    }
    bool healthy = true;
    uint64_t leader = 0;
    for (size_t i = 0; i < members_.size() && healthy; ++i) {
      auto status = clients[i].GetMemberStatus();
      if (!status.ok()) {
        last_problem = status.status().ToString();
        healthy = false;
      } else if (status->leader_id == 0 || (leader != 0 && status->leader_id != leader)) {
        last_problem = "member " + members_[i].name + " knows no common leader yet";
        healthy = false;
      } else {
        leader = status->leader_id;
        members_[i].id = status->member_id;
        // A linearizable read proves the member serves requests through the leader.
        if (auto read = clients[i].Get("/mnemo-test/probe"); !read.ok()) {
          last_problem = read.status().ToString();
          healthy = false;
        }
      }
    }
    if (healthy) return Status::Ok();
    std::this_thread::sleep_for(kPollInterval);
  }
  return Status::Unavailable("etcd did not become healthy within " +
                             std::to_string(kStartTimeout.count()) + " s (" + last_problem +
                             "); member m0's log ends:\n" + LogTail(0));
}

std::string EtcdCluster::ClientUrl(size_t index) const {
  return "http://127.0.0.1:" + std::to_string(members_[index].client_port);
}

std::vector<std::string> EtcdCluster::ClientUrls() const {
  std::vector<std::string> urls;
  for (size_t i = 0; i < members_.size(); ++i) urls.push_back(ClientUrl(i));
  return urls;
}

std::string EtcdCluster::UnusedClientUrl() {
  auto ports = FreePorts(1);
  return "http://127.0.0.1:" + std::to_string(ports.ok() ? ports->front() : 1);
}

GatewayOptions EtcdCluster::ClientOptions(std::vector<std::string> urls) {
  GatewayOptions options;
  options.endpoints = std::move(urls);
  options.call_timeout = std::chrono::milliseconds(1000);
  options.connect_timeout = std::chrono::milliseconds(300);
  return options;
}

void EtcdCluster::Kill(size_t index) {
  Member& member = members_[index];
  if (member.pid <= 0) return;
  ::kill(member.pid, SIGKILL);
  int status = 0;
  ::waitpid(member.pid, &status, 0);
  member.pid = -1;
}

Status EtcdCluster::Restart(size_t index) {
  Member& member = members_[index];
  if (member.pid > 0) return Status::Ok();
  // With its data directory in place, etcd ignores the --initial-cluster flags and rejoins.
  member.pid = Spawn(member.args, LogPath(index));
  if (member.pid < 0) return Status::Internal("cannot start " + member.args.front());
  return Status::Ok();
}

Result<size_t> EtcdCluster::LeaderIndex() const {
  std::string problem = "no member is running";
  for (size_t i = 0; i < members_.size(); ++i) {
    if (!Running(i)) continue;
    MNEMO_ASSIGN_OR_RETURN(EtcdClient client, EtcdClient::Create(ClientOptions({ClientUrl(i)})));
    auto status = client.GetMemberStatus();
    if (!status.ok()) {
      problem = status.status().ToString();
      continue;
    }
    for (size_t j = 0; j < members_.size(); ++j) {
      if (members_[j].id != 0 && members_[j].id == status->leader_id) return j;
    }
    problem = "member " + members_[i].name + " knows no leader";
  }
  return Status::Unavailable("no etcd leader: " + problem);
}

std::string EtcdCluster::LogPath(size_t index) const {
  return directory_ + "/" + members_[index].name + ".log";
}

std::string EtcdCluster::LogTail(size_t index, size_t bytes) const {
  std::ifstream in(LogPath(index));
  std::stringstream text;
  text << in.rdbuf();
  const std::string all = text.str();
  return all.size() <= bytes ? all : all.substr(all.size() - bytes);
}

}  // namespace mnemo::cluster::testing
