// ScratchPool<T>: lock-free pool of per-query scratch objects (visited tables, heaps, buffers).
//
// Acquire() hands out an object no other caller holds, reusing one released earlier, so a query
// allocates nothing in the steady state.  A thread starts probing at its own preferred slot, so it
// usually gets back the object it used last (warm in its cache).  When every slot is taken, a
// temporary object is created for the lease and destroyed with it.
//
// Thread-safety: Acquire() and Lease destruction are thread-safe and never block.  The pool must
// outlive every Lease taken from it.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <memory>

namespace mnemo::hnsw {

namespace internal {
// A small per-thread number, used to spread threads over pool slots.
size_t ThreadSlotHint();
}  // namespace internal

template <typename T>
class ScratchPool {
  struct alignas(64) Slot {
    std::atomic<bool> busy{false};
    std::unique_ptr<T> object;
  };

 public:
  static constexpr size_t kSlots = 32;

  // Exclusive use of one scratch object until destruction.  Move-only.
  class Lease {
   public:
    Lease(Lease&& other) noexcept
        : object_(other.object_), slot_(other.slot_), owned_(std::move(other.owned_)) {
      other.object_ = nullptr;
      other.slot_ = nullptr;
    }
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() {
      if (slot_ != nullptr) slot_->busy.store(false, std::memory_order_release);
    }

    T& operator*() const { return *object_; }
    T* operator->() const { return object_; }

   private:
    friend class ScratchPool;
    Lease(T* object, Slot* slot, std::unique_ptr<T> owned)
        : object_(object), slot_(slot), owned_(std::move(owned)) {}

    T* object_;
    Slot* slot_;                // pooled lease: released on destruction
    std::unique_ptr<T> owned_;  // overflow lease: destroyed on destruction
  };

  Lease Acquire() {
    const size_t start = internal::ThreadSlotHint();
    for (size_t i = 0; i < kSlots; ++i) {
      Slot& slot = slots_[(start + i) % kSlots];
      if (slot.busy.load(std::memory_order_relaxed)) continue;
      if (slot.busy.exchange(true, std::memory_order_acquire)) continue;
      if (!slot.object) slot.object = std::make_unique<T>();
      return Lease(slot.object.get(), &slot, nullptr);
    }
    auto owned = std::make_unique<T>();
    T* raw = owned.get();
    return Lease(raw, nullptr, std::move(owned));
  }

 private:
  std::array<Slot, kSlots> slots_;
};

}  // namespace mnemo::hnsw
