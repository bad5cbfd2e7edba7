// The gather loop shared by the int8 kernel variants: include ONLY from an int8_dot_<variant>.cc
// file.  Everything here has internal linkage, so each variant gets its own copy compiled with
// its own flags and no copy can be merged into another variant's (STYLE §7).
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/int8_dot_kernels.h"

namespace mnemo::kernels::internal {
namespace {

constexpr size_t kInt8CacheLine = 64;
constexpr int kInt8PrefetchLocality = 2;  // prefetcht1: into L2, as the float gather does

// Starts loading the cache lines of row[0..d) into L2.
inline void PrefetchCodes(const uint8_t* row, size_t d) {
  for (size_t offset = 0; offset < d; offset += kInt8CacheLine) {
    __builtin_prefetch(row + offset, 0, kInt8PrefetchLocality);
  }
  // row need not be line-aligned, so its last byte may sit one line further.
  __builtin_prefetch(row + d - 1, 0, kInt8PrefetchLocality);
}

// out[r] = Dot(rows[r], query, d), prefetching row r + kInt8GatherAhead while row r is computed.
template <typename Weight, int32_t (*Dot)(const uint8_t*, const Weight*, size_t)>
inline void GatherRows(const Weight* query, const uint8_t* const* rows, size_t n, size_t d,
                       int32_t* out) {
  if (d == 0) {
    for (size_t r = 0; r < n; ++r) out[r] = 0;
    return;
  }
  for (size_t r = 1; r < n && r < kInt8GatherAhead; ++r) PrefetchCodes(rows[r], d);
  for (size_t r = 0; r < n; ++r) {
    if (r + kInt8GatherAhead < n) PrefetchCodes(rows[r + kInt8GatherAhead], d);
    out[r] = Dot(rows[r], query, d);
  }
}

}  // namespace
}  // namespace mnemo::kernels::internal
