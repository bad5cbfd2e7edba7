// SessionRegistry: the live sessions, so that shutdown can reach every one.  Sessions add
// themselves when they start and remove themselves when they close; the registry holds only
// weak references, so it never keeps a session alive.
//
// Thread-safety: thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace mnemo::server {

class Session;

class SessionRegistry {
 public:
  // Returns the id to Remove() with, or 0 (not added) once shutdown has begun.
  uint64_t Add(const std::shared_ptr<Session>& session);
  void Remove(uint64_t id);
  size_t size() const;
  // The sessions still alive.
  std::vector<std::shared_ptr<Session>> Live() const;
  // Refuses further Add()s and returns the sessions alive now: every session is either in the
  // result or refused.
  std::vector<std::shared_ptr<Session>> BeginShutdown();

 private:
  mutable std::mutex mutex_;
  uint64_t next_id_ = 1;                                           // GUARDED_BY(mutex_)
  bool shutting_down_ = false;                                     // GUARDED_BY(mutex_)
  std::unordered_map<uint64_t, std::weak_ptr<Session>> sessions_;  // GUARDED_BY(mutex_)
};

}  // namespace mnemo::server
