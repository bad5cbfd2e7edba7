#include "server/session_registry.h"

namespace mnemo::server {

uint64_t SessionRegistry::Add(const std::shared_ptr<Session>& session) {
  std::lock_guard lock(mutex_);
  if (shutting_down_) return 0;
  const uint64_t id = next_id_++;
  sessions_.emplace(id, session);
  return id;
}

void SessionRegistry::Remove(uint64_t id) {
  std::lock_guard lock(mutex_);
  sessions_.erase(id);
}

size_t SessionRegistry::size() const {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

std::vector<std::shared_ptr<Session>> SessionRegistry::BeginShutdown() {
  {
    std::lock_guard lock(mutex_);
    shutting_down_ = true;
  }
  return Live();
}

std::vector<std::shared_ptr<Session>> SessionRegistry::Live() const {
  std::lock_guard lock(mutex_);
  std::vector<std::shared_ptr<Session>> out;
  out.reserve(sessions_.size());
  for (const auto& [id, weak] : sessions_) {
    if (auto session = weak.lock()) out.push_back(std::move(session));
  }
  return out;
}

}  // namespace mnemo::server
