// Run-time dispatch for distance.h: detects the CPU once, applies the MNEMO_SIMD_LEVEL cap, and
// forwards every call through the active level's table of entry points.  Built with the
// baseline flags only; the SIMD code lives in distance_<arch>.cc.
#include "kernels/distance.h"

#include <array>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "kernels/distance_kernels.h"

namespace mnemo::kernels {
namespace {

constexpr const char* kSimdLevelEnv = "MNEMO_SIMD_LEVEL";
constexpr size_t kNumLevels = 4;
constexpr std::array<std::string_view, kNumLevels> kLevelNames = {"scalar", "sse4.2", "avx2",
                                                                  "avx512"};
// Below this squared norm the float sum may have lost precision to subnormals (or be zero),
// so Normalize recomputes it in double.
constexpr float kMinFastSquaredNorm = 1e-20f;

// One level's entry points.
struct KernelTable {
  float (*dot)(const float*, const float*, size_t);
  void (*dot_many)(const float*, const float*, size_t, size_t, float*);
  void (*dot_gather)(const float*, const float* const*, size_t, size_t, float*);
  float (*squared_norm)(const float*, size_t);
  void (*scale)(float*, size_t, float);
};

template <class Kernels>
constexpr KernelTable MakeTable() {
  return {&Kernels::Dot, &Kernels::DotMany, &Kernels::DotGather, &Kernels::SquaredNorm,
          &Kernels::Scale};
}

// Indexed by SimdLevel.  Levels above what was built are never selected (DetectLevel).
#if MNEMO_KERNELS_X86
constexpr std::array<KernelTable, kNumLevels> kTables = {
    MakeTable<internal::ScalarKernels>(),
    MakeTable<internal::ArchKernels<internal::Sse42Arch>>(),
    MakeTable<internal::ArchKernels<internal::Avx2Arch>>(),
    MakeTable<internal::ArchKernels<internal::Avx512Arch>>(),
};
#else
constexpr std::array<KernelTable, 1> kTables = {MakeTable<internal::ScalarKernels>()};
#endif

// __builtin_cpu_supports (libgcc) also checks, via XGETBV, that the OS saves the AVX and
// AVX-512 register state; xsimd 8's available_architectures() checks CPUID bits only.
SimdLevel DetectLevel() {
#if MNEMO_KERNELS_X86
  __builtin_cpu_init();
  const bool avx2_fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (avx2_fma && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl")) {
    return SimdLevel::kAvx512;
  }
  if (avx2_fma) {
    return SimdLevel::kAvx2;
  }
  if (__builtin_cpu_supports("sse4.2")) {
    return SimdLevel::kSse42;
  }
#endif
  return SimdLevel::kScalar;
}

SimdLevel MinLevel(SimdLevel a, SimdLevel b) { return a < b ? a : b; }

// The detected level capped by MNEMO_SIMD_LEVEL; an unrecognised value is reported and ignored.
SimdLevel InitialLevel(SimdLevel detected) {
  const char* env = std::getenv(kSimdLevelEnv);
  if (env == nullptr || *env == '\0') {
    return detected;
  }
  SimdLevel cap;
  if (!ParseSimdLevel(env, &cap)) {
    std::fprintf(stderr, "mnemo: ignoring %s=%s (expected scalar, sse4.2, avx2 or avx512)\n",
                 kSimdLevelEnv, env);
    return detected;
  }
  return MinLevel(cap, detected);
}

// Thread-safe: built once (function-local static); the active level is an atomic.
class Dispatcher {
 public:
  Dispatcher() : detected_(DetectLevel()), active_(InitialLevel(detected_)) {}

  SimdLevel detected() const { return detected_; }
  SimdLevel active() const { return active_.load(std::memory_order_relaxed); }
  SimdLevel SetCap(SimdLevel cap) {
    const SimdLevel level = MinLevel(cap, detected_);
    active_.store(level, std::memory_order_relaxed);
    return level;
  }
  const KernelTable& table() const { return kTables[static_cast<size_t>(active())]; }

 private:
  const SimdLevel detected_;
  std::atomic<SimdLevel> active_;
};

Dispatcher& GetDispatcher() {
  static Dispatcher dispatcher;
  return dispatcher;
}

// Normalize when the float squared norm is unusable: zero, non-finite, or tiny.  Checks every
// component and sums in double, which cannot overflow or underflow for finite floats.
bool NormalizeSlow(float* v, size_t d) {
  double sum = 0.0;
  for (size_t i = 0; i < d; ++i) {
    if (!std::isfinite(v[i])) {
      return false;
    }
    sum += static_cast<double>(v[i]) * v[i];
  }
  if (sum == 0.0) {
    return false;
  }
  const double inv_norm = 1.0 / std::sqrt(sum);
  for (size_t i = 0; i < d; ++i) {
    v[i] = static_cast<float>(v[i] * inv_norm);
  }
  return true;
}

}  // namespace

std::string_view SimdLevelName(SimdLevel level) {
  const auto index = static_cast<size_t>(level);
  return index < kNumLevels ? kLevelNames[index] : "unknown";
}

bool ParseSimdLevel(std::string_view name, SimdLevel* level) {
  for (size_t i = 0; i < kNumLevels; ++i) {
    if (name == kLevelNames[i]) {
      *level = static_cast<SimdLevel>(i);
      return true;
    }
  }
  return false;
}

SimdLevel DetectedSimdLevel() { return GetDispatcher().detected(); }

SimdLevel ActiveSimdLevel() { return GetDispatcher().active(); }

SimdLevel SetMaxSimdLevel(SimdLevel cap) { return GetDispatcher().SetCap(cap); }

float Dot(const float* a, const float* b, size_t d) { return GetDispatcher().table().dot(a, b, d); }

void DotMany(const float* query, const float* rows, size_t n, size_t d, float* out) {
  GetDispatcher().table().dot_many(query, rows, n, d, out);
}

void DotGather(const float* query, const float* const* rows, size_t n, size_t d, float* out) {
  GetDispatcher().table().dot_gather(query, rows, n, d, out);
}

float SquaredNorm(const float* v, size_t d) { return GetDispatcher().table().squared_norm(v, d); }

float UnitScale(const float* v, size_t d) {
  // A finite float sum of squares implies every component is finite (NaN and Inf propagate).
  const float squared_norm = GetDispatcher().table().squared_norm(v, d);
  if (std::isfinite(squared_norm) && squared_norm >= kMinFastSquaredNorm) {
    return static_cast<float>(1.0 / std::sqrt(static_cast<double>(squared_norm)));
  }
  return 0.0f;
}

void Scale(float* v, size_t d, float s) { GetDispatcher().table().scale(v, d, s); }

bool Normalize(float* v, size_t d) {
  const float scale = UnitScale(v, d);
  if (scale != 0.0f) {
    Scale(v, d, scale);
    return true;
  }
  return NormalizeSlow(v, d);
}

}  // namespace mnemo::kernels
