#include "tables/row_version_cache.h"

#include <algorithm>

namespace mnemo::tables {
namespace {

// Heap bytes of a cached row: the struct, its strings, its control block and the map and list
// nodes around it.
size_t EstimateBytes(const Conversation& row) {
  constexpr size_t kNodeBytes = 128;  // with the shared_ptr control block
  return sizeof(Conversation) + kNodeBytes + row.user_id.size() + row.title.size() +
         (row.summary ? row.summary->size() : 0) + row.model.size() + row.system_prompt.size() +
         row.metadata.size();
}

}  // namespace

struct RowVersionCache::Shard {
  struct Item {
    // Shared so that Find() copies the row after releasing the shard's lock.
    std::shared_ptr<const Conversation> row;
    size_t bytes = 0;
    bool found = false;  // by Find() since the row was filled or last given a second chance
    std::list<Uuid>::iterator lru;
  };

  // Drops rows, oldest first, until `bytes` fits `max_bytes`; a row found since it was last
  // passed over gets a second chance (moved to the front), so Find() need not reorder the list.
  // REQUIRES: mu held.
  void Trim(size_t max_bytes) {
    while (bytes > max_bytes && !lru.empty()) {
      auto found = items.find(lru.back());
      Item& item = found->second;
      if (item.found) {
        item.found = false;
        lru.splice(lru.begin(), lru, item.lru);
        continue;
      }
      bytes -= item.bytes;
      items.erase(found);
      lru.pop_back();
    }
  }

  mutable std::mutex mu;
  // GUARDED_BY(mu): the rows, and their ids most recently filled (or given a second chance)
  // first.
  std::unordered_map<Uuid, Item, UuidHash> items;
  std::list<Uuid> lru;
  size_t bytes = 0;  // GUARDED_BY(mu)
};

RowVersionCache::RowVersionCache(size_t max_bytes) : max_shard_bytes_(max_bytes / kShards) {
  for (auto& shard : shards_) shard = std::make_unique<Shard>();
}

RowVersionCache::~RowVersionCache() = default;

RowVersionCache::Shard& RowVersionCache::ShardOf(const Uuid& id) const {
  return *shards_[UuidHash()(id) % kShards];
}

bool RowVersionCache::Find(const Uuid& id, Timestamp updated_at, Conversation* out) const {
  Shard& shard = ShardOf(id);
  std::shared_ptr<const Conversation> row;
  {
    std::lock_guard lock(shard.mu);
    auto found = shard.items.find(id);
    if (found == shard.items.end() || found->second.row->updated_at != updated_at) return false;
    found->second.found = true;
    row = found->second.row;
  }
  *out = *row;
  return true;
}

void RowVersionCache::Fill(const Conversation& row, uint64_t epoch) {
  const size_t row_bytes = EstimateBytes(row);
  if (row_bytes > max_shard_bytes_) return;
  auto copy = std::make_shared<const Conversation>(row);
  Shard& shard = ShardOf(row.id);
  std::lock_guard lock(shard.mu);
  // Checked under the shard's lock, which Forget() holds while it moves the epoch on.
  if (epoch_.load(std::memory_order_acquire) != epoch) return;
  auto [found, inserted] = shard.items.try_emplace(row.id);
  Shard::Item& item = found->second;
  if (inserted) {
    shard.lru.push_front(row.id);
    item.lru = shard.lru.begin();
  } else {
    if (item.row->updated_at >= row.updated_at) return;  // as new or newer already
    shard.lru.splice(shard.lru.begin(), shard.lru, item.lru);
    shard.bytes -= item.bytes;
  }
  item.row = std::move(copy);
  item.bytes = row_bytes;
  item.found = false;
  shard.bytes += row_bytes;
  shard.Trim(max_shard_bytes_);
}

void RowVersionCache::Forget(const Uuid& id) {
  Shard& shard = ShardOf(id);
  std::lock_guard lock(shard.mu);
  epoch_.fetch_add(1, std::memory_order_acq_rel);
  auto found = shard.items.find(id);
  if (found == shard.items.end()) return;
  shard.bytes -= found->second.bytes;
  shard.lru.erase(found->second.lru);
  shard.items.erase(found);
}

size_t RowVersionCache::rows() const {
  size_t rows = 0;
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard->mu);
    rows += shard->items.size();
  }
  return rows;
}

size_t RowVersionCache::bytes() const {
  size_t bytes = 0;
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard->mu);
    bytes += shard->bytes;
  }
  return bytes;
}

}  // namespace mnemo::tables
