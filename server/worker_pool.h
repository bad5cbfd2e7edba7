// WorkerPool: a fixed set of threads running engine work from a bounded queue (STYLE §7 rule 3).
// When the queue is full, TrySubmit refuses instead of growing it; the caller answers
// UNAVAILABLE "server busy".
//
// Thread-safety: thread-safe.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace mnemo::server {

class WorkerPool {
 public:
  using Task = std::function<void()>;

  // Starts `threads` workers; at most `queue_limit` tasks wait for a worker.
  WorkerPool(size_t threads, size_t queue_limit);
  // Runs the queued tasks, then joins (Shutdown()).
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `task`.  False (and `task` is dropped) when the queue is full or the pool is shut down.
  bool TrySubmit(Task task);
  // Stops accepting tasks, lets the workers finish every queued task and joins them.  Idempotent.
  void Shutdown();

  size_t queued() const;

 private:
  void Run();

  const size_t queue_limit_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Task> queue_;  // GUARDED_BY(mutex_)
  bool stopping_ = false;   // GUARDED_BY(mutex_)
  std::vector<std::thread> threads_;
};

}  // namespace mnemo::server
