// Private to engine/kernels: the per-level kernel sets that distance.cc dispatches to.
//
// ScalarKernels is a plain C++ loop built with the baseline flags.  ArchKernels<Arch> is one
// template written with xsimd batches; its members are defined in distance_impl.h and
// instantiated only in distance_<arch>.cc, each built with that architecture's flags alone, so
// no code compiled for a wider ISA can reach a caller on a narrower CPU (STYLE §7).  This header
// only declares them; never include distance_impl.h outside a per-architecture file.
//
// Every member has the contract of the same-named function in distance.h (Scale: v[i] *= factor)
// and is thread-safe (no state).  REQUIRES for ArchKernels<Arch>: the CPU supports Arch.
#pragma once

#include <cstddef>

#include <xsimd/xsimd.hpp>

namespace mnemo::kernels::internal {

// The xsimd architecture behind each SIMD level.  AVX-512 uses xsimd's avx512f batches, but
// its file is compiled with F/DQ/BW/VL, so the dispatcher requires all four.
using Sse42Arch = xsimd::sse4_2;
using Avx2Arch = xsimd::fma3<xsimd::avx2>;
using Avx512Arch = xsimd::avx512f;

struct ScalarKernels {
  static float Dot(const float* a, const float* b, size_t d);
  static void DotMany(const float* query, const float* rows, size_t n, size_t d, float* out);
  static void DotGather(const float* query, const float* const* rows, size_t n, size_t d,
                        float* out);
  static float SquaredNorm(const float* v, size_t d);
  static void Scale(float* v, size_t d, float factor);
};

template <class Arch>
struct ArchKernels {
  static float Dot(const float* a, const float* b, size_t d);
  static void DotMany(const float* query, const float* rows, size_t n, size_t d, float* out);
  static void DotGather(const float* query, const float* const* rows, size_t n, size_t d,
                        float* out);
  static float SquaredNorm(const float* v, size_t d);
  static void Scale(float* v, size_t d, float factor);

 private:
  using Batch = xsimd::batch<float, Arch>;

  // Dot product; when kPrefetch, also prefetches ahead[0..d) into L2, spread over the loop.
  template <bool kPrefetch>
  static float DotImpl(const float* a, const float* b, size_t d, const float* ahead);
  static Batch Fma(const Batch& x, const Batch& y, const Batch& acc);
  static float ReduceAdd(const Batch& v);
  // Prefetches the cache lines covering p[0..count) into L2.
  static void PrefetchFloats(const float* p, size_t count);
};

extern template struct ArchKernels<Sse42Arch>;
extern template struct ArchKernels<Avx2Arch>;
extern template struct ArchKernels<Avx512Arch>;

}  // namespace mnemo::kernels::internal
