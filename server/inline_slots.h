// InlineSlots: how many I/O threads may run a CPU-heavy request (a search, a single-row write)
// themselves at once instead of handing it to the worker pool.  The hand-off costs two thread
// wake-ups (I/O → worker → I/O, ~25 µs each on a small VM) — more than a small request takes.
// Each I/O thread owns its connections, so one running heavy work delays its other connections by
// that one request; the server grants io_threads − 1 slots, so the connections of at least one
// I/O thread are always served at once.  With one I/O thread there are no slots.
//
// Thread-safety: every member may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>

namespace mnemo::server {

class InlineSlots {
 public:
  explicit InlineSlots(uint32_t capacity) : capacity_(capacity) {}
  InlineSlots(const InlineSlots&) = delete;
  InlineSlots& operator=(const InlineSlots&) = delete;

  // Takes a slot if one is free; the caller must Release() it after the request.
  bool TryAcquire() {
    uint32_t used = used_.load(std::memory_order_relaxed);
    while (used < capacity_) {
      if (used_.compare_exchange_weak(used, used + 1, std::memory_order_acquire)) return true;
    }
    return false;
  }
  void Release() { used_.fetch_sub(1, std::memory_order_release); }

  // A slot held for one scope, if one was free: `if (InlineSlots::Lease lease(slots); lease) ...`.
  class Lease {
   public:
    explicit Lease(InlineSlots& slots) : slots_(slots.TryAcquire() ? &slots : nullptr) {}
    ~Lease() {
      if (slots_ != nullptr) slots_->Release();
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    explicit operator bool() const { return slots_ != nullptr; }

   private:
    InlineSlots* slots_;
  };

  uint32_t capacity() const { return capacity_; }
  uint32_t in_use() const { return used_.load(std::memory_order_relaxed); }

 private:
  const uint32_t capacity_;
  std::atomic<uint32_t> used_{0};
};

}  // namespace mnemo::server
