#include "tables/recency_index.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <thread>
#include <vector>

#include "mnemo/base/hex.h"

namespace mnemo::tables {
namespace {

using keys::IndexTag;
using keys::Scope;

// [updated desc i64][uuid]: what follows the [tag][user][scope] prefix of a by-updated key.
constexpr size_t kSuffixBytes = 8 + Uuid::kSize;
using Suffix = std::array<char, kSuffixBytes>;

std::string_view View(const Suffix& suffix) { return {suffix.data(), suffix.size()}; }

// Index (bytewise) order of suffixes; the arrays below are kept in the reverse of it, so that the
// newest entry, which every change produces, is appended at the end.
struct IndexOrder {
  bool operator()(const Suffix& a, const Suffix& b) const { return View(a) < View(b); }
  bool operator()(const Suffix& a, std::string_view b) const { return View(a) < b; }
  bool operator()(std::string_view a, const Suffix& b) const { return a < View(b); }
};

size_t ScopeIndex(Scope scope) { return scope == Scope::kActive ? 0 : 1; }

}  // namespace

struct RecencyIndex::Shard {
  std::mutex mu;
  // GUARDED_BY(mu): the entries, most recently used first.
  std::unordered_map<std::string, std::shared_ptr<Entry>> entries;
  std::list<std::string> lru;
  std::atomic<int64_t> keys{0};  // keys held by the loaded entries of this shard
};

struct RecencyIndex::Entry {
  Entry(Shard& owner, std::string_view user_id, std::list<std::string>::iterator position)
      : shard(owner),
        prefixes{keys::UserScopePrefix(IndexTag::kConversationByUpdated, user_id, Scope::kActive),
                 keys::UserScopePrefix(IndexTag::kConversationByUpdated, user_id, Scope::kAll)},
        lru(position) {}

  // Forgets the keys; the next use loads them again.  REQUIRES: mu held.
  void Drop() {
    shard.keys.fetch_sub(static_cast<int64_t>(scopes[0].size() + scopes[1].size()));
    for (auto& keys : scopes) std::vector<Suffix>().swap(keys);
    loaded = false;
  }

  // Applies one committed change.  REQUIRES: mu held.  False when the change does not fit (a
  // malformed key, or the scope grew beyond `max_user_keys`): the entry is dropped then.
  bool Apply(std::string_view key, bool added, size_t max_user_keys) {
    if (!loaded) return true;
    for (size_t s = 0; s < 2; ++s) {
      if (!key.starts_with(prefixes[s]) || key.size() != prefixes[s].size() + kSuffixBytes)
        continue;
      Suffix suffix;
      std::memcpy(suffix.data(), key.data() + prefixes[s].size(), kSuffixBytes);
      std::vector<Suffix>& keys = scopes[s];
      // Descending order: the position of the first key not greater than `suffix`.
      const auto at =
          std::lower_bound(keys.begin(), keys.end(), suffix,
                           [](const Suffix& a, const Suffix& b) { return View(b) < View(a); });
      const bool present = at != keys.end() && *at == suffix;
      if (added && !present) {
        if (keys.size() >= max_user_keys) break;
        keys.insert(at, suffix);
        shard.keys.fetch_add(1);
      } else if (!added && present) {
        keys.erase(at);
        shard.keys.fetch_sub(1);
      }
      return true;
    }
    too_large = true;  // or malformed: do not cache this user again until evicted
    Drop();
    return false;
  }

  Shard& shard;
  const std::string prefixes[2];  // by-updated prefixes of the active and the all scope
  std::mutex mu;
  std::atomic<const storage::WriteTxn*> holder{nullptr};  // the transaction holding mu, if any
  std::atomic<std::thread::id> holder_thread{};           // the thread running it
  Hold* hold = nullptr;    // its Hold; used only by the thread running that transaction
  bool loaded = false;     // GUARDED_BY(mu)
  bool too_large = false;  // GUARDED_BY(mu)
  // GUARDED_BY(mu): the suffixes of each scope, in reverse index order (newest last).
  std::vector<Suffix> scopes[2];
  std::list<std::string>::iterator lru;  // GUARDED_BY(shard.mu)
};

// One transaction's lock on one user's entry, released when the transaction is destroyed.
struct RecencyIndex::Hold {
  Hold(std::shared_ptr<Entry> locked_entry, const storage::WriteTxn* txn)
      : entry(std::move(locked_entry)), lock(entry->mu) {
    entry->holder.store(txn, std::memory_order_release);
    entry->holder_thread.store(std::this_thread::get_id(), std::memory_order_release);
    entry->hold = this;
  }
  ~Hold() {
    // Changes staged but never applied (the transaction did not commit): storage is the truth.
    if (pending > 0) entry->Drop();
    entry->hold = nullptr;
    entry->holder_thread.store(std::thread::id(), std::memory_order_release);
    entry->holder.store(nullptr, std::memory_order_release);
  }  // `lock` is released after this body, `entry` after that

  std::shared_ptr<Entry> entry;
  std::unique_lock<std::mutex> lock;
  int pending = 0;  // staged changes not applied yet
};

RecencyIndex::RecencyIndex(const storage::Db& db, Limits limits) : db_(db), limits_(limits) {
  for (auto& shard : shards_) shard = std::make_unique<Shard>();
}

RecencyIndex::~RecencyIndex() = default;

RecencyIndex::Shard& RecencyIndex::ShardOf(std::string_view user_id) {
  return *shards_[std::hash<std::string_view>()(user_id) % kShards];
}

std::shared_ptr<RecencyIndex::Entry> RecencyIndex::Acquire(std::string_view user_id) {
  Shard& shard = ShardOf(user_id);
  std::lock_guard lock(shard.mu);
  std::string key(user_id);
  if (auto it = shard.entries.find(key); it != shard.entries.end()) {
    shard.lru.splice(shard.lru.begin(), shard.lru, it->second->lru);
    return it->second;
  }
  shard.lru.push_front(key);
  auto entry = std::make_shared<Entry>(shard, user_id, shard.lru.begin());
  shard.entries.emplace(std::move(key), entry);
  EvictIdle(shard);
  return entry;
}

void RecencyIndex::EvictIdle(Shard& shard) {
  constexpr int kMaxVisits = 8;  // bounded work per call; later calls continue
  const size_t max_users = std::max<size_t>(1, limits_.max_users / kShards);
  const int64_t max_keys = static_cast<int64_t>(std::max<size_t>(1, limits_.max_keys / kShards));
  auto it = shard.lru.end();
  for (int visit = 0; visit < kMaxVisits && it != shard.lru.begin(); ++visit) {
    if (shard.entries.size() <= max_users && shard.keys.load() <= max_keys) return;
    --it;
    auto found = shard.entries.find(*it);
    // Only the map refers to it: no reader or writer holds it, and none can start meanwhile (a
    // new reference is only taken under shard.mu).
    if (found->second.use_count() != 1) continue;
    Entry& entry = *found->second;
    {
      std::unique_lock entry_lock(entry.mu, std::try_to_lock);  // free: nobody holds the entry
      if (!entry_lock.owns_lock()) continue;
      shard.keys.fetch_sub(static_cast<int64_t>(entry.scopes[0].size() + entry.scopes[1].size()));
    }
    shard.entries.erase(found);
    it = shard.lru.erase(it);
  }
}

bool RecencyIndex::Load(Entry& entry, std::string_view /*user_id*/) {
  storage::ReadView view = db_.Snapshot();
  std::vector<Suffix> loaded[2];
  for (size_t s = 0; s < 2; ++s) {
    storage::ScanRange range;
    range.prefix = entry.prefixes[s];
    bool fits = true;
    const Status scanned =
        view.Scan(storage::Cf::kIndex, range, [&](std::string_view key, std::string_view) {
          if (key.size() != range.prefix.size() + kSuffixBytes ||
              loaded[s].size() >= limits_.max_user_keys) {
            fits = false;
            return false;
          }
          Suffix suffix;
          std::memcpy(suffix.data(), key.data() + range.prefix.size(), kSuffixBytes);
          loaded[s].push_back(suffix);
          return true;
        });
    if (!scanned.ok()) return false;  // the caller scans, and reports the error
    if (!fits) {
      entry.too_large = true;
      return false;
    }
    std::reverse(loaded[s].begin(), loaded[s].end());
  }
  for (size_t s = 0; s < 2; ++s) entry.scopes[s] = std::move(loaded[s]);
  entry.loaded = true;
  entry.shard.keys.fetch_add(static_cast<int64_t>(entry.scopes[0].size() + entry.scopes[1].size()));
  return true;
}

void RecencyIndex::Stage(storage::WriteTxn& txn, std::string_view user_id, std::string_view key,
                         bool added) {
  std::shared_ptr<Entry> entry = Acquire(user_id);
  Hold* hold = nullptr;
  if (entry->holder.load(std::memory_order_acquire) == &txn) {
    hold = entry->hold;  // this transaction locked it already
  } else {
    auto fresh = std::make_shared<Hold>(entry, &txn);
    hold = fresh.get();
    txn.Retain(std::move(fresh));
  }
  // Loaded now, before this transaction commits, the entry holds the committed state that the
  // changes queued below apply to (every earlier writer of the user has committed: the caller
  // holds the user's lock).  So a user who writes is listed from memory from then on.
  if (!entry->loaded && (entry->too_large || !Load(*entry, user_id))) return;
  ++hold->pending;
  const size_t max_user_keys = limits_.max_user_keys;
  txn.OnCommit([hold, key = std::string(key), added, max_user_keys] {
    hold->entry->Apply(key, added, max_user_keys);
    --hold->pending;
  });
}

std::optional<RecencyIndex::CachedPage> RecencyIndex::Page(std::string_view user_id, Scope scope,
                                                           const PageRequest& request,
                                                           std::string_view start, bool with_view) {
  std::shared_ptr<Entry> entry = Acquire(user_id);
  // A read inside one of this thread's own write transactions must not try the lock it holds.
  if (entry->holder_thread.load(std::memory_order_acquire) == std::this_thread::get_id())
    return std::nullopt;
  std::unique_lock lock(entry->mu, std::try_to_lock);
  if (!lock.owns_lock()) return std::nullopt;
  if (!entry->loaded && (entry->too_large || !Load(*entry, user_id))) return std::nullopt;
  const std::string& prefix = entry->prefixes[ScopeIndex(scope)];
  if (request.reverse || request.prefix != prefix || !request.first.empty() || !request.end.empty())
    return std::nullopt;

  std::optional<CachedPage> out(CachedPage{});
  if (with_view) out->view.emplace(db_.Snapshot());
  const std::vector<Suffix>& keys = entry->scopes[ScopeIndex(scope)];
  out->total = static_cast<int64_t>(keys.size());
  auto it = keys.rbegin();  // index order
  if (!start.empty())
    it = std::upper_bound(keys.rbegin(), keys.rend(), start.substr(prefix.size()), IndexOrder());
  const auto skip = std::min<int64_t>(std::max<int64_t>(request.skip, 0), keys.rend() - it);
  it += skip;
  IndexPage& page = out->page;
  while (it != keys.rend() && static_cast<int64_t>(page.entries.size()) < request.limit) {
    page.entries.emplace_back(prefix + std::string(View(*it)), std::string());
    ++it;
  }
  if (it != keys.rend() && !page.entries.empty())
    page.next_cursor = HexEncode(page.entries.back().first);
  return out;
}

size_t RecencyIndex::cached_users() const {
  size_t users = 0;
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard->mu);
    users += shard->entries.size();
  }
  return users;
}

size_t RecencyIndex::cached_keys() const {
  int64_t keys = 0;
  for (const auto& shard : shards_) keys += shard->keys.load();
  return static_cast<size_t>(keys);
}

}  // namespace mnemo::tables
