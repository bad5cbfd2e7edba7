#include "vector/hnsw/scratch_pool.h"

namespace mnemo::hnsw::internal {

size_t ThreadSlotHint() {
  static std::atomic<size_t> next{0};
  thread_local const size_t hint = next.fetch_add(1, std::memory_order_relaxed);
  return hint;
}

}  // namespace mnemo::hnsw::internal
