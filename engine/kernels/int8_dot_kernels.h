// Private to engine/kernels: the int8 kernel variants that int8_dot.cc dispatches to.
//
// Each variant lives in its own file built with its own ISA flags (int8_dot_<variant>.cc); the
// functions there use intrinsics only and internal-linkage helpers, so no code compiled for a
// wider ISA can be merged into a caller on a narrower CPU (STYLE §7).  Every function has the
// contract of the same-named one in int8_dot.h.  REQUIRES: the CPU supports the variant.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace mnemo::kernels::internal {

// Ordered from narrowest to widest.
enum class Int8Variant : uint8_t { kScalar, kSse42, kAvx2, kAvx512Bw, kAvx512Vnni };
inline constexpr size_t kNumInt8Variants = 5;

struct Int8Kernels {
  int32_t (*dot16)(const uint8_t* codes, const int16_t* query, size_t d);
  void (*gather16)(const int16_t* query, const uint8_t* const* rows, size_t n, size_t d,
                   int32_t* out);
};

// Rows DotU8S16Gather prefetches ahead of the one it computes (into L2).
inline constexpr size_t kInt8GatherAhead = 4;

// The kernels of `variant`, or nullptr when this build or this CPU lacks it.
const Int8Kernels* Int8KernelsFor(Int8Variant variant);
std::string_view Int8VariantName(Int8Variant variant);

// One namespace per variant, each defined in its own file.
namespace int8_scalar {
int32_t DotU8S16(const uint8_t* codes, const int16_t* query, size_t d);
void DotU8S16Gather(const int16_t* query, const uint8_t* const* rows, size_t n, size_t d,
                    int32_t* out);
}  // namespace int8_scalar
namespace int8_sse42 {
int32_t DotU8S16(const uint8_t* codes, const int16_t* query, size_t d);
void DotU8S16Gather(const int16_t* query, const uint8_t* const* rows, size_t n, size_t d,
                    int32_t* out);
}  // namespace int8_sse42
namespace int8_avx2 {
int32_t DotU8S16(const uint8_t* codes, const int16_t* query, size_t d);
void DotU8S16Gather(const int16_t* query, const uint8_t* const* rows, size_t n, size_t d,
                    int32_t* out);
}  // namespace int8_avx2
namespace int8_avx512bw {
int32_t DotU8S16(const uint8_t* codes, const int16_t* query, size_t d);
void DotU8S16Gather(const int16_t* query, const uint8_t* const* rows, size_t n, size_t d,
                    int32_t* out);
}  // namespace int8_avx512bw
namespace int8_avx512vnni {
int32_t DotU8S16(const uint8_t* codes, const int16_t* query, size_t d);
void DotU8S16Gather(const int16_t* query, const uint8_t* const* rows, size_t n, size_t d,
                    int32_t* out);
}  // namespace int8_avx512vnni

}  // namespace mnemo::kernels::internal
