// Server: mnemod assembled — key store, engine, worker pool, listener and I/O threads — plus
// the graceful shutdown of SPEC §6: on SIGTERM/SIGINT (or RequestStop) stop accepting, let
// in-flight requests finish (bounded by shutdown_timeout), close the sessions, drain the
// workers, link pending vectors and Engine::Close() (saves graphs, flushes).
//
// Thread-safety: Create and Run from one thread; RequestStop from any thread.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "mnemo/engine.h"
#include "mnemo/result.h"
#include "server/auth/key_store.h"
#include "server/cluster_node.h"
#include "server/config.h"
#include "server/dispatcher.h"
#include "server/listener.h"
#include "server/metrics_http.h"
#include "server/replicator.h"
#include "server/session_registry.h"
#include "server/stats.h"
#include "server/worker_pool.h"

namespace mnemo::server {

class Server {
 public:
  // Checks the key store, opens the engine, binds the listen address and, in cluster mode, joins
  // the cluster (campaigns once; UNAVAILABLE when etcd cannot be reached).  VALIDATION_ERROR for
  // configuration problems (e.g. a non-loopback address without keys, a corrupt key file, a data
  // directory of another dimension); UNAVAILABLE for I/O problems (address in use, ...).
  static Result<std::unique_ptr<Server>> Create(const ServerConfig& config);
  ~Server();

  uint16_t port() const { return listener_->port(); }
  // The metrics listener's port; 0 when metrics are off.
  uint16_t metrics_port() const { return metrics_ ? metrics_->port() : 0; }

  // Serves until SIGTERM/SIGINT or RequestStop(), then shuts down.  Returns the process exit
  // code: 0 after a clean shutdown, 1 when closing the engine failed, kRebootstrapExitCode (3)
  // when a replica stopped because it must re-bootstrap (server/replicator.h).
  int Run();
  void RequestStop();

 private:
  explicit Server(const ServerConfig& config);
  void Shutdown();

  const ServerConfig config_;
  std::unique_ptr<KeyStore> keys_;
  std::unique_ptr<Engine> engine_;
  ServerStats stats_;
  std::unique_ptr<Replicator> replicator_;  // null: single-node
  std::unique_ptr<ClusterNode> cluster_;    // null: single-node
  std::unique_ptr<Dispatcher> dispatcher_;
  std::unique_ptr<WorkerPool> workers_;
  std::unique_ptr<WorkerPool> follow_workers_;  // cluster mode: replicas' FollowRequests
  std::unique_ptr<InlineSlots> inline_slots_;
  SessionRegistry registry_;
  std::unique_ptr<SessionServices> services_;
  // One io_context per I/O thread (each owns the connections bound to it; see listener.h).
  // Declared after everything sessions borrow: destroying a context destroys handlers that still
  // own sessions, whose destructors touch the registry and stats.
  std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;
  std::unique_ptr<boost::asio::signal_set> signals_;  // on contexts_[0]
  std::shared_ptr<Listener> listener_;
  std::shared_ptr<MetricsListener> metrics_;  // null unless configured
  std::vector<std::thread> io_threads_;

  std::mutex stop_mutex_;
  std::condition_variable stop_cv_;
  bool stop_requested_ = false;  // GUARDED_BY(stop_mutex_)
  int exit_code_ = 0;            // GUARDED_BY(stop_mutex_): Run's, unless closing fails
};

// Opens the engine for `config`.  The key store's "auth/" directory is declared a foreign entry,
// so a fresh data directory that so far holds only keys (`mnemo keys create` before the first
// start) is still a fresh directory for the engine.
Result<std::unique_ptr<Engine>> OpenEngine(const ServerConfig& config);

// Writes `text` to `path` atomically (temp file + rename).
Status WriteTextFile(const std::string& path, const std::string& text);

}  // namespace mnemo::server
