// EtcdCluster: real etcd members on 127.0.0.1 for tests, each with its own free ports and a
// data directory in a fresh temporary directory.  The destructor kills every member and removes
// the directory, also when a test fails halfway; members also die with the test process (they
// are started with a parent-death signal), so a crashed test leaves no etcd behind.
//
// The etcd binary is MNEMO_ETCD_BINARY when set, else `etcd` on PATH.  A missing binary is an
// error, not a reason to skip: scripts/install-deps.sh installs it (Debian's etcd-server).
//
// Thread-safety: not thread-safe; start it from the test's main thread (the parent-death signal
// follows the thread that started the member).
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "cluster/etcd_client.h"
#include "mnemo/result.h"

namespace mnemo::cluster::testing {

class EtcdCluster {
 public:
  // Starts `members` (1..5) members as one cluster and waits, at most about 20 s, until each
  // answers and they agree on a raft leader.  The error says what failed and carries the end of
  // the member's log.
  static Result<std::unique_ptr<EtcdCluster>> Start(size_t members);
  ~EtcdCluster();
  EtcdCluster(const EtcdCluster&) = delete;
  EtcdCluster& operator=(const EtcdCluster&) = delete;

  size_t size() const { return members_.size(); }
  // "http://127.0.0.1:<port>" of member `index`, whether it still runs or not.
  std::string ClientUrl(size_t index) const;
  std::vector<std::string> ClientUrls() const;
  // "http://127.0.0.1:<port>" of a port nothing listens on (it was free a moment ago).
  static std::string UnusedClientUrl();
  // Options for an EtcdClient that talks to `urls`, with timeouts that suit tests.
  static GatewayOptions ClientOptions(std::vector<std::string> urls);

  // SIGKILLs member `index` and reaps it.  Idempotent.
  void Kill(size_t index);
  // Starts killed member `index` again on its ports and data directory, so it rejoins the
  // cluster with what it had; does not wait for it to answer.  OK when it runs already.
  Status Restart(size_t index);
  bool Running(size_t index) const { return members_[index].pid > 0; }
  // The index of the member that is raft leader, as the running members report it.
  Result<size_t> LeaderIndex() const;
  // The last `bytes` of member `index`'s log.
  std::string LogTail(size_t index, size_t bytes = 4000) const;

 private:
  struct Member {
    std::string name;
    uint16_t client_port = 0;
    uint16_t peer_port = 0;
    pid_t pid = -1;
    uint64_t id = 0;                // raft member id, learned once it answers
    std::vector<std::string> args;  // how it was launched (args[0]: the binary)
  };
  explicit EtcdCluster(std::string directory) : directory_(std::move(directory)) {}

  Status Launch(const std::string& binary, const std::string& token);
  Status WaitHealthy();
  std::string LogPath(size_t index) const;

  std::string directory_;
  std::vector<Member> members_;
};

}  // namespace mnemo::cluster::testing
