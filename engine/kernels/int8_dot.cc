// Run-time dispatch for int8_dot.h: maps the float kernels' active SIMD level (distance.h) to an
// int8 variant, using VNNI at the avx512 level when the CPU has it.  Built with the baseline
// flags only; the SIMD code lives in int8_dot_<variant>.cc.
#include "kernels/int8_dot.h"

#include <array>

#include "kernels/distance.h"
#include "kernels/int8_dot_kernels.h"

namespace mnemo::kernels {
namespace internal {
namespace {

constexpr std::array<std::string_view, kNumInt8Variants> kVariantNames = {
    "scalar", "sse4.2", "avx2", "avx512bw", "avx512vnni"};

constexpr Int8Kernels kScalar = {&int8_scalar::DotU8S16, &int8_scalar::DotU8S16Gather};
#if MNEMO_KERNELS_X86
constexpr Int8Kernels kSse42 = {&int8_sse42::DotU8S16, &int8_sse42::DotU8S16Gather};
constexpr Int8Kernels kAvx2 = {&int8_avx2::DotU8S16, &int8_avx2::DotU8S16Gather};
constexpr Int8Kernels kAvx512Bw = {&int8_avx512bw::DotU8S16, &int8_avx512bw::DotU8S16Gather};
constexpr Int8Kernels kAvx512Vnni = {&int8_avx512vnni::DotU8S16, &int8_avx512vnni::DotU8S16Gather};
#endif

// True when the CPU has AVX-512 VNNI (checked once; the avx512 level itself is detected by
// distance.cc, which also verifies the OS saves the AVX-512 state).
bool CpuHasVnni() {
#if MNEMO_KERNELS_X86
  static const bool has_vnni = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512vnni") != 0;
  }();
  return has_vnni;
#else
  return false;
#endif
}

// The variant for the float kernels' active level.
Int8Variant ActiveVariant() {
  switch (ActiveSimdLevel()) {
    case SimdLevel::kAvx512:
      return CpuHasVnni() ? Int8Variant::kAvx512Vnni : Int8Variant::kAvx512Bw;
    case SimdLevel::kAvx2: return Int8Variant::kAvx2;
    case SimdLevel::kSse42: return Int8Variant::kSse42;
    case SimdLevel::kScalar: break;
  }
  return Int8Variant::kScalar;
}

const Int8Kernels& ActiveKernels() {
#if MNEMO_KERNELS_X86
  switch (ActiveVariant()) {
    case Int8Variant::kAvx512Vnni: return kAvx512Vnni;
    case Int8Variant::kAvx512Bw: return kAvx512Bw;
    case Int8Variant::kAvx2: return kAvx2;
    case Int8Variant::kSse42: return kSse42;
    case Int8Variant::kScalar: break;
  }
#endif
  return kScalar;
}

}  // namespace

const Int8Kernels* Int8KernelsFor(Int8Variant variant) {
  const SimdLevel detected = DetectedSimdLevel();
  switch (variant) {
    case Int8Variant::kScalar: return &kScalar;
#if MNEMO_KERNELS_X86
    case Int8Variant::kSse42: return detected >= SimdLevel::kSse42 ? &kSse42 : nullptr;
    case Int8Variant::kAvx2: return detected >= SimdLevel::kAvx2 ? &kAvx2 : nullptr;
    case Int8Variant::kAvx512Bw: return detected >= SimdLevel::kAvx512 ? &kAvx512Bw : nullptr;
    case Int8Variant::kAvx512Vnni:
      return detected >= SimdLevel::kAvx512 && CpuHasVnni() ? &kAvx512Vnni : nullptr;
#else
    default: (void)detected; return nullptr;
#endif
  }
  return nullptr;
}

std::string_view Int8VariantName(Int8Variant variant) {
  const auto index = static_cast<size_t>(variant);
  return index < kNumInt8Variants ? kVariantNames[index] : "unknown";
}

}  // namespace internal

int32_t DotU8S16(const uint8_t* codes, const int16_t* query, size_t d) {
  return internal::ActiveKernels().dot16(codes, query, d);
}

void DotU8S16Gather(const int16_t* query, const uint8_t* const* rows, size_t n, size_t d,
                    int32_t* out) {
  internal::ActiveKernels().gather16(query, rows, n, d, out);
}

std::string_view Int8KernelName() { return internal::Int8VariantName(internal::ActiveVariant()); }

}  // namespace mnemo::kernels
