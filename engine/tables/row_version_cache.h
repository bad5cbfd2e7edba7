// RowVersionCache: decoded conversation rows in memory, each under the version it was read at,
// so that listing a user's recent conversations does not look its rows up in RocksDB again.
//
// A version is (id, updated_at).  Every change of a conversation row moves its updated_at
// strictly forward (NextTimestamp) in the same transaction that moves its by-updated index entry
// ([0x11][user][scope][updated desc][uuid]), so a by-updated entry read from a snapshot names
// exactly one state of the row: the one in that snapshot.  Find() answers only for that version;
// an older cached state is never returned in place of a newer one, so the cache needs no
// invalidation on updates, readers may fill it from any snapshot, and writers fill it with the
// versions they commit.
//
// The one way two states could share a version is a hard delete followed by a re-create with the
// same id and the same microsecond.  Forget() (called when a hard delete commits) drops the row
// and moves the epoch on; a Fill() whose snapshot may predate that (its epoch, read before the
// snapshot was taken, is older) is ignored.
//
// Memory: at most `max_bytes` (an estimate of the rows' heap use); beyond it a shard drops its
// oldest rows, sparing once those found since they were filled (second chance).  Zero disables
// the cache.
//
// Thread-safety: thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "mnemo/base/uuid.h"
#include "mnemo/records.h"

namespace mnemo::tables {

class RowVersionCache {
 public:
  explicit RowVersionCache(size_t max_bytes);
  RowVersionCache(const RowVersionCache&) = delete;
  RowVersionCache& operator=(const RowVersionCache&) = delete;
  ~RowVersionCache();

  // The epoch to pass to Fill().  Read it before taking the snapshot the filled rows come from.
  uint64_t epoch() const { return epoch_.load(std::memory_order_acquire); }

  // True, with the row copied to *out, when the row `id` is cached at `updated_at`.
  bool Find(const Uuid& id, Timestamp updated_at, Conversation* out) const;

  // Caches `row` (read from a snapshot taken after epoch() returned `epoch`), unless a newer
  // version of it is cached or a Forget() happened since `epoch`.
  void Fill(const Conversation& row, uint64_t epoch);

  // Drops the row `id`: a hard delete of it committed.
  void Forget(const Uuid& id);

  // How many rows and estimated bytes are cached (for tests and metrics).
  size_t rows() const;
  size_t bytes() const;

 private:
  struct Shard;
  static constexpr size_t kShards = 16;

  Shard& ShardOf(const Uuid& id) const;

  const size_t max_shard_bytes_;
  std::atomic<uint64_t> epoch_{0};
  std::array<std::unique_ptr<Shard>, kShards> shards_;
};

}  // namespace mnemo::tables
