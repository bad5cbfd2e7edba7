#include "vector/row_state.h"

#include <mutex>

#include "tables/validation.h"

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

std::shared_ptr<const nlohmann::json> ParseChunkMetadata(std::string_view metadata) {
  if (metadata == "{}") return nullptr;  // most rows: no parser needed
  auto parsed = nlohmann::json::parse(metadata, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object() || parsed.empty()) return nullptr;
  return std::make_shared<const nlohmann::json>(std::move(parsed));
}

std::string_view DocumentState::file_type() const {
  return tables::FileTypeName(file_type_.load(std::memory_order_acquire));
}

void DocumentState::SetNames(std::string_view file_type, std::string_view filename) {
  file_type_.store(tables::FileTypeCode(file_type).value_or(0), std::memory_order_release);
  std::lock_guard lock(filename_mutex_);
  filename_.assign(filename);
}

std::string DocumentState::filename() const {
  std::lock_guard lock(filename_mutex_);
  return filename_;
}

std::shared_ptr<DocumentState> DocumentRegistry::Upsert(const Uuid& id, std::string_view file_type,
                                                        std::string_view filename, bool deleted) {
  std::unique_lock lock(mutex_);
  auto& state = documents_[id];
  if (!state) {
    state = std::make_shared<DocumentState>();
    state->id = id;
  }
  state->SetNames(file_type, filename);
  state->deleted.store(deleted, std::memory_order_release);
  return state;
}

std::shared_ptr<DocumentState> DocumentRegistry::Find(const Uuid& id) const {
  std::shared_lock lock(mutex_);
  auto it = documents_.find(id);
  return it == documents_.end() ? nullptr : it->second;
}

std::shared_ptr<DocumentState> DocumentRegistry::FindOrAdd(const Uuid& id, bool deleted) {
  if (auto found = Find(id)) return found;
  std::unique_lock lock(mutex_);
  auto& state = documents_[id];
  if (!state) {
    state = std::make_shared<DocumentState>();
    state->id = id;
    state->deleted.store(deleted, std::memory_order_release);
  }
  return state;
}

void DocumentRegistry::SetDeleted(const Uuid& id, bool deleted) {
  if (auto found = Find(id)) found->deleted.store(deleted, std::memory_order_release);
}

void DocumentRegistry::Erase(const Uuid& id) {
  std::unique_lock lock(mutex_);
  auto it = documents_.find(id);
  if (it == documents_.end()) return;
  it->second->deleted.store(true, std::memory_order_release);
  documents_.erase(it);
}

}  // namespace mnemo::vector
