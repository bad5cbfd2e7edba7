#include "server/server.h"

#include <sched.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>

#include <boost/asio/executor_work_guard.hpp>

#include "kernels/distance.h"
#include "server/metrics_text.h"

namespace mnemo::server {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;

constexpr auto kKeyRefreshInterval = std::chrono::seconds(1);
// Threads that serve replicas' FollowRequests (each may be held up to 100 ms): one per replica
// of a typical cluster, with room.
constexpr size_t kFollowWorkers = 4;

// Runs `context` until it is stopped.  With a non-zero `spin`, a thread that runs out of ready
// handlers keeps polling its sockets (epoll_wait with a zero timeout, then sched_yield) for up to
// `spin` before it sleeps: a client's next request usually follows its last reply within tens of
// microseconds, and taking it while awake saves the wake-up, which on a VM whose vCPU went idle
// costs tens of microseconds itself.  Yielding between polls leaves the core to any thread that
// wants it (often the very client whose request is awaited), so the spin only uses idle time.
void RunIoThread(asio::io_context& context, std::chrono::microseconds spin) {
  using Clock = std::chrono::steady_clock;
  if (spin.count() == 0) {
    context.run();
    return;
  }
  while (!context.stopped()) {
    if (context.poll() > 0) continue;
    const auto until = Clock::now() + spin;
    bool ran = false;
    while (!ran && !context.stopped() && Clock::now() < until) {
      ran = context.poll() > 0;
      // A thread that another one waits for on this core gets it: the poll only uses
      // time nobody else wants.
      if (!ran) sched_yield();
    }
    if (!ran) context.run_one();
  }
}

}  // namespace

Status WriteTextFile(const std::string& path, const std::string& text) {
  const std::string temp = path + ".tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) return Status::Unavailable("cannot write " + temp);
  }
  std::error_code ec;
  fs::rename(temp, path, ec);
  if (ec) return Status::Unavailable("cannot rename " + temp + " to " + path + ": " + ec.message());
  return Status::Ok();
}

Result<std::unique_ptr<Engine>> OpenEngine(const ServerConfig& config) {
  EngineOptions options;
  options.data_dir = config.data_dir;
  options.dimension = config.dimension;
  options.sync_writes = config.sync_writes;
  if (config.hnsw_m) options.hnsw_m = *config.hnsw_m;
  if (config.hnsw_ef_construction) options.hnsw_ef_construction = *config.hnsw_ef_construction;
  options.keyword_search = config.keyword_search;
  options.replication_log = config.replication_log;
  options.bm25_k1 = config.bm25_k1;
  options.bm25_b = config.bm25_b;
  options.token_estimate = config.token_estimate;
  // The key store and the snapshots live beside the engine's files.
  options.foreign_entries = {"auth", SnapshotStore::kDirName};
  options.retention.keep_months = config.retention_months;
  options.retention.archive_dir = config.retention_archive_dir;
  options.retention.purge_after_seconds = config.purge_after_days * 24 * 3600;
  options.retention_interval = config.retention_interval;
  return Engine::Open(options);
}

Server::Server(const ServerConfig& config) : config_(config) {
  // Concurrency hint 1: each context is run by one thread, so Asio never wakes another thread to
  // run a completion and takes its internal locks uncontended.
  for (uint32_t i = 0; i < std::max<uint32_t>(1, config.io_threads); ++i) {
    contexts_.push_back(std::make_unique<asio::io_context>(1));
  }
  signals_ = std::make_unique<asio::signal_set>(*contexts_.front(), SIGINT, SIGTERM);
}

Server::~Server() {
  // The follow loop reads cluster_, which is destroyed first (a Create that failed after starting
  // both never ran Shutdown).
  if (replicator_) replicator_->Stop();
  RequestStop();
  for (auto& thread : io_threads_) {
    if (thread.joinable()) thread.join();
  }
}

Result<std::unique_ptr<Server>> Server::Create(const ServerConfig& config) {
  // A replica's data, its key store included, comes from its primary before anything opens it.
  std::string replication_key;
  if (config.cluster.enabled()) {
    MNEMO_ASSIGN_OR_RETURN(replication_key, ReadReplicationKey(config.cluster));
    MNEMO_RETURN_IF_ERROR(PrepareReplicaData(config, replication_key));
  }
  std::unique_ptr<Server> server(new Server(config));
  server->keys_ = std::make_unique<KeyStore>(KeyStore::PathFor(config.data_dir));
  auto has_keys = server->keys_->HasKeys();
  if (!has_keys.ok()) return Status::ValidationError("keys", has_keys.status().message());
  const bool loopback = config.listen.IsLoopback();
  if (!*has_keys && !loopback) {
    return Status::ValidationError("listen",
                                   "refusing to listen on " + config.listen.ToString() +
                                       ": no API keys exist, and without keys (protected mode) "
                                       "mnemod only listens on a loopback "
                                       "address; create one with `mnemo keys create --data " +
                                       config.data_dir + " --kind service` or listen on 127.0.0.1");
  }

  MNEMO_ASSIGN_OR_RETURN(server->engine_, OpenEngine(config));
  server->dispatcher_ = std::make_unique<Dispatcher>(
      *server->engine_, server->stats_, DispatcherOptions{config.data_dir, config.max_frame_bytes});
  server->workers_ = std::make_unique<WorkerPool>(config.workers, config.worker_queue);
  server->inline_slots_ =
      std::make_unique<InlineSlots>(config.io_threads > 0 ? config.io_threads - 1 : 0);

  HelloSettings hello;
  hello.max_frame_bytes = config.max_frame_bytes;
  hello.max_in_flight = config.max_in_flight;
  hello.dimension = server->engine_->dimension();
  hello.listening_on_loopback = loopback;
  SessionLimits limits;
  limits.max_frame_bytes = config.max_frame_bytes;
  limits.max_in_flight = config.max_in_flight;
  limits.max_queued_bytes = config.max_queued_bytes;
  limits.idle_timeout = config.idle_timeout;
  limits.inline_writes =
      !config.cluster.enabled() || config.cluster.ack_policy == AckPolicy::kAsync;
  if (config.cluster.enabled()) {
    server->follow_workers_ =
        std::make_unique<WorkerPool>(kFollowWorkers, kFollowWorkers * config.max_in_flight);
  }
  server->services_.reset(new SessionServices{
      *server->keys_, *server->dispatcher_, *server->workers_, *server->inline_slots_,
      server->stats_, server->registry_, hello, limits, server->follow_workers_.get()});

  std::vector<asio::io_context*> contexts;
  for (const auto& context : server->contexts_) contexts.push_back(context.get());
  server->listener_ =
      std::make_shared<Listener>(std::move(contexts), *server->services_, config.max_connections);
  MNEMO_RETURN_IF_ERROR(server->listener_->Open(config.listen));
  // Before the port file: once it exists, the node has its role.
  if (config.cluster.enabled()) {
    ListenAddress bound = config.listen;
    bound.port = server->port();
    std::string advertise =
        config.cluster.advertise.empty() ? bound.ToString() : config.cluster.advertise;
    Server* raw = server.get();
    server->replicator_ =
        std::make_unique<Replicator>(*server->engine_, config, std::move(replication_key),
                                     server->dispatcher_->replica_acks(), [raw] {
                                       {
                                         std::lock_guard lock(raw->stop_mutex_);
                                         raw->exit_code_ = kRebootstrapExitCode;
                                       }
                                       raw->RequestStop();
                                     });
    ClusterHooks hooks;
    hooks.applied_seq = [raw] { return raw->engine_->LastLogSeq(); };
    hooks.on_promoted = [raw](uint64_t epoch) { return raw->replicator_->Promote(epoch); };
    hooks.lag = [raw] { return raw->replicator_->Lag(); };
    MNEMO_ASSIGN_OR_RETURN(server->cluster_,
                           ClusterNode::Start(config.cluster, std::move(advertise), hooks));
    server->dispatcher_->AttachCluster(server->cluster_.get(), config.cluster.ack_policy,
                                       config.cluster.replica_ack_timeout);
    server->replicator_->Start(*server->cluster_);
  }
  if (!config.port_file.empty()) {
    MNEMO_RETURN_IF_ERROR(WriteTextFile(config.port_file, std::to_string(server->port()) + "\n"));
  }
  if (config.metrics_listen) {
    Server* raw = server.get();
    server->metrics_ = std::make_shared<MetricsListener>(*server->contexts_.front(), [raw] {
      return RenderPrometheus(raw->engine_->GetMetrics(), raw->stats_,
                              DirectoryBytes(raw->config_.data_dir));
    });
    MNEMO_RETURN_IF_ERROR(server->metrics_->Open(*config.metrics_listen));
    ListenAddress bound_metrics = *config.metrics_listen;
    bound_metrics.port = server->metrics_->port();
    spdlog::info("metrics: GET http://{}/metrics", bound_metrics.ToString());
    if (!bound_metrics.IsLoopback()) {
      spdlog::warn(
          "metrics listen on {}, not a loopback address: anyone who can reach it reads the metrics",
          bound_metrics.ToString());
    }
    if (!config.metrics_port_file.empty()) {
      MNEMO_RETURN_IF_ERROR(
          WriteTextFile(config.metrics_port_file, std::to_string(server->metrics_port()) + "\n"));
    }
  }
  const RetentionPolicy& retention = server->engine_->retention_policy();
  if (retention.enabled()) {
    spdlog::info(
        "retention every {} s: keep {} month(s) of chunks{}{}; purge soft-deleted rows after {} "
        "day(s)",
        config.retention_interval.count(), retention.keep_months,
        retention.keep_months == 0 ? " (all)" : "",
        retention.archive_dir.empty() ? ""
                                      : ", archiving retired months to " + retention.archive_dir,
        config.purge_after_days);
  }

  ListenAddress bound = config.listen;
  bound.port = server->port();
  spdlog::info(
      "mnemod {} listening on {}; data {}; dimension {}; simd {}; {} io threads, {} workers",
      MNEMO_SERVER_VERSION, bound.ToString(), config.data_dir, server->engine_->dimension(),
      kernels::SimdLevelName(kernels::ActiveSimdLevel()), config.io_threads, config.workers);
  if (!*has_keys) {
    spdlog::warn(
        "protected mode: no API keys exist, so unauthenticated loopback clients act as a service "
        "principal; create a key with `mnemo keys create --data {} --kind service`",
        config.data_dir);
  }
  return server;
}

void Server::RequestStop() {
  {
    std::lock_guard lock(stop_mutex_);
    stop_requested_ = true;
  }
  stop_cv_.notify_all();
}

int Server::Run() {
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> work;
  for (const auto& context : contexts_) work.push_back(asio::make_work_guard(*context));
  signals_->async_wait([this](boost::system::error_code ec, int signal) {
    if (ec) return;
    spdlog::info("received {}; shutting down", signal == SIGTERM ? "SIGTERM" : "SIGINT");
    RequestStop();
  });
  listener_->Start();
  if (metrics_) metrics_->Start();
  for (const auto& context : contexts_) {
    io_threads_.emplace_back(
        [context = context.get(), spin = config_.io_spin] { RunIoThread(*context, spin); });
  }
  {
    // Re-read the key file now and then, so keys created or revoked with the CLI take effect on
    // live connections too (sessions re-check when KeyStore::generation() moves).
    std::unique_lock lock(stop_mutex_);
    std::string last_problem;
    while (!stop_cv_.wait_for(lock, kKeyRefreshInterval, [&] { return stop_requested_; })) {
      lock.unlock();
      const Status refreshed = keys_->Refresh();
      const std::string problem = refreshed.ok() ? "" : refreshed.ToString();
      if (problem != last_problem && !problem.empty())
        spdlog::warn("key file: {} (requests fail closed)", problem);
      if (problem != last_problem && problem.empty()) spdlog::info("key file readable again");
      last_problem = problem;
      lock.lock();
    }
  }
  Shutdown();
  work.clear();
  for (const auto& context : contexts_) context->stop();
  for (auto& thread : io_threads_) thread.join();
  io_threads_.clear();

  Status closed = engine_->Close();
  if (!closed.ok()) {
    spdlog::error("closing the engine failed: {}", closed.ToString());
    return 1;
  }
  spdlog::info("shutdown complete");
  std::lock_guard lock(stop_mutex_);
  return exit_code_;
}

void Server::Shutdown() {
  using Clock = std::chrono::steady_clock;
  boost::system::error_code ignored;
  signals_->cancel(ignored);
  listener_->Stop();
  if (metrics_) metrics_->Stop();
  // Give up the primary's lease first, so that another node can take over while this one drains;
  // from here on this node applies no new write.
  if (cluster_) cluster_->Resign();
  if (replicator_) replicator_->Stop();
  const auto live = registry_.BeginShutdown();
  spdlog::info("stopped accepting; waiting for {} connection(s) to finish their requests",
               live.size());
  for (const auto& session : live) session->BeginShutdown();

  const auto wait_until = [&](Clock::time_point deadline) {
    while (registry_.size() > 0 && Clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return registry_.size() == 0;
  };
  if (!wait_until(Clock::now() + config_.shutdown_timeout)) {
    spdlog::warn("{} connection(s) still busy after {} s; closing them", registry_.size(),
                 config_.shutdown_timeout.count());
    for (const auto& session : registry_.Live()) session->ForceClose();
    wait_until(Clock::now() + std::chrono::seconds(1));
  }
  // Requests of force-closed sessions may still be at the workers: let them finish (their
  // replies go nowhere) before the engine closes.
  workers_->Shutdown();
  if (follow_workers_) follow_workers_->Shutdown();
}

}  // namespace mnemo::server
