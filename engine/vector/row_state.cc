#include "vector/row_state.h"

#include <mutex>

namespace mnemo::vector {

uint32_t UserRegistry::Intern(std::string_view user_id) {
  {
    std::shared_lock lock(mutex_);
    auto it = refs_.find(std::string(user_id));
    if (it != refs_.end()) return it->second;
  }
  std::unique_lock lock(mutex_);
  auto [it, inserted] = refs_.emplace(std::string(user_id), static_cast<uint32_t>(refs_.size()));
  return it->second;
}

bool UserRegistry::Find(std::string_view user_id, uint32_t* ref) const {
  std::shared_lock lock(mutex_);
  auto it = refs_.find(std::string(user_id));
  if (it == refs_.end()) return false;
  *ref = it->second;
  return true;
}

std::shared_ptr<DocumentState> DocumentRegistry::Upsert(const Uuid& id, std::string_view file_type,
                                                        std::string_view filename, bool deleted) {
  std::unique_lock lock(mutex_);
  auto& state = documents_[id];
  if (!state) {
    state = std::make_shared<DocumentState>();
    state->id = id;
    state->file_type = std::string(file_type);
    state->filename = std::string(filename);
  }
  state->deleted.store(deleted, std::memory_order_release);
  return state;
}

std::shared_ptr<DocumentState> DocumentRegistry::Find(const Uuid& id) const {
  std::shared_lock lock(mutex_);
  auto it = documents_.find(id);
  return it == documents_.end() ? nullptr : it->second;
}

void DocumentRegistry::Erase(const Uuid& id) {
  std::unique_lock lock(mutex_);
  auto it = documents_.find(id);
  if (it == documents_.end()) return;
  it->second->deleted.store(true, std::memory_order_release);
  documents_.erase(it);
}

}  // namespace mnemo::vector
