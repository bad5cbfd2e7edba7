// LockTable: striped mutexes that serialize the writes of one user.
//
// Every write in mnemo is scoped to one user_id (SPEC §2), so holding that user's stripe while
// reading, computing and committing a WriteTxn makes read-modify-write (counters, indexes)
// atomic with respect to every other writer of the same user.  Different users mostly map to
// different stripes and commit in parallel (RocksDB groups their WAL syncs).
//
// Thread-safety: thread-safe.
#pragma once

#include <array>
#include <functional>
#include <mutex>
#include <string_view>

namespace mnemo::storage {

class LockTable {
 public:
  // Blocks until the stripe of `user_id` is free; released when the guard is destroyed.
  std::unique_lock<std::mutex> LockUser(std::string_view user_id) {
    return std::unique_lock<std::mutex>(
        stripes_[std::hash<std::string_view>()(user_id) % kStripes]);
  }

 private:
  static constexpr size_t kStripes = 256;
  std::array<std::mutex, kStripes> stripes_;
};

}  // namespace mnemo::storage
