// RecencyIndex: an in-memory copy of users' by-updated conversation index entries
// ([0x11][user][scope][updated desc][uuid], storage/key_codec.h), so that listing a user's most
// recently updated conversations reads a sorted array instead of the index column family.  Every
// change of a conversation moves its by-updated entry; the old entry stays in the memtable beside
// its SingleDelete until the next flush, so a scan for a user who is chatting walks two dead
// entries per message written since the flush.  The array holds only live entries.
//
// Exactness.  A user's entry is loaded from a snapshot on first use (a list, or a write's first
// Stage(), which loads the state committed before its transaction) and from then on changed by
// every committed write that moves one of the user's by-updated index entries;
// ConversationStore::StageIndexes is the only place that writes them, and it calls Stage() for
// each.  A writer locks the user's entry from its first Stage() until its transaction ends and
// applies its changes right after the commit (WriteTxn::OnCommit), before unlocking.  A reader
// takes its snapshot while holding the same lock, so the page it builds from the array and the
// rows it then reads from that snapshot describe one state.  A transaction that stages changes
// and then does not commit (an error later in a batch, a failed write) drops the user's entry,
// which is loaded again from storage on its next use.  A reader that finds the entry locked (a
// write of that user in progress, or another reader loading it) does not wait: Page() returns
// nullopt and the caller scans the index instead — the same answer, found the slow way.  Nothing
// is persisted: after a restart every entry is loaded again from storage.
//
// Memory.  A user whose scope holds more than `max_user_keys` entries is not cached (Page()
// returns nullopt).  Loaded entries hold 24 bytes per key; beyond `max_keys` keys in all, or
// `max_users` users, the least recently used idle users are dropped (a later use reloads them).
//
// Thread-safety: thread-safe.  REQUIRES (writers): the caller holds the user's LockTable stripe
// from the first Stage() until the transaction ends, and a transaction stages changes of one user
// (a second user in one transaction would take a second entry lock; with writers of both users
// doing the same in the other order this could deadlock).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "storage/db.h"
#include "storage/key_codec.h"
#include "storage/write_txn.h"
#include "tables/index_pager.h"

namespace mnemo::tables {

class RecencyIndex {
 public:
  struct Limits {
    size_t max_keys = size_t{1} << 18;  // all users together (~6 MB of keys)
    size_t max_users = size_t{1} << 14;
    size_t max_user_keys = 4096;  // per user and scope
  };

  // `db` must outlive the index.
  RecencyIndex(const storage::Db& db, Limits limits);
  RecencyIndex(const RecencyIndex&) = delete;
  RecencyIndex& operator=(const RecencyIndex&) = delete;
  ~RecencyIndex();

  // Writer side: `txn` puts (added) or deletes (!added) the by-updated index entry `key` of
  // `user_id`.  Locks the user's entry for the rest of the transaction (the first call per
  // transaction and user), loads it if it is not loaded, and queues the change to be applied
  // when `txn` commits.
  void Stage(storage::WriteTxn& txn, std::string_view user_id, std::string_view key, bool added);

  // Reader side: the page ScanPage(view, kIndex, request) would return for a by-updated listing
  // of `user_id` in `scope` (request.prefix must be that listing's prefix; forward order; no
  // bounds, no entry match), together with the snapshot it describes when `with_view` (without
  // it, the page describes the committed state at some moment during the call).  nullopt when
  // the entry is busy or too large to cache; the caller then scans.  `start` is the request's
  // decoded cursor (CursorStart), empty for the first page.  `total` is the number of entries
  // in the scope (the user's conversations, or active ones, in that state).
  struct CachedPage {
    std::optional<storage::ReadView> view;
    IndexPage page;
    int64_t total = 0;
  };
  std::optional<CachedPage> Page(std::string_view user_id, keys::Scope scope,
                                 const PageRequest& request, std::string_view start,
                                 bool with_view = true);

  // How many users and keys are cached (for tests).
  size_t cached_users() const;
  size_t cached_keys() const;

 private:
  struct Entry;
  struct Hold;
  struct Shard;
  static constexpr size_t kShards = 16;

  Shard& ShardOf(std::string_view user_id);
  // The user's entry (created when absent), marked most recently used.
  std::shared_ptr<Entry> Acquire(std::string_view user_id);
  // Drops least recently used idle entries of `shard` while it is over its share of the limits.
  // REQUIRES: the shard's mutex is held.
  void EvictIdle(Shard& shard);
  // Loads the entry from storage.  REQUIRES: entry's mutex is held.  False when too large.
  bool Load(Entry& entry, std::string_view user_id);

  const storage::Db& db_;
  const Limits limits_;
  std::array<std::unique_ptr<Shard>, kShards> shards_;
};

}  // namespace mnemo::tables
