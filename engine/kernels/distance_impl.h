// Definitions of ArchKernels<Arch> (declared in distance_kernels.h).
//
// Include this ONLY from a distance_<arch>.cc file, which is compiled with that architecture's
// flags and holds nothing but the explicit instantiation.  Everything here is a member of the
// class template, so its out-of-line code is named after its own architecture and cannot be
// merged with code built for another one.  Call only xsimd operations that stay on Arch: some
// drop to a narrower architecture (xsimd 8's hadd on avx512f instantiates the avx2 one, which
// would then exist compiled with AVX-512 flags), so horizontal sums use intrinsics instead.
// Checked with nm: at -O2 (also with sanitizers) these objects define only ArchKernels<Arch>
// symbols; at -O0 they also emit xsimd's register-conversion helpers of Arch's base
// architectures (simd_register<float, sse2>, <float, avx>), trivial moves with the same code at
// any of our levels.
#pragma once

// All x86 intrinsics are declared whatever the flags; each is used only in its own level's branch.
#include <immintrin.h>

#include <cstddef>
#include <type_traits>

#include <xsimd/xsimd.hpp>

#include "kernels/distance_kernels.h"

namespace mnemo::kernels::internal {

// Independent accumulators in the dot-product loop, to hide the FMA latency.
constexpr size_t kUnroll = 4;
constexpr size_t kCacheLineBytes = 64;
constexpr size_t kFloatsPerCacheLine = kCacheLineBytes / sizeof(float);
// DotGather prefetches the row this many entries after the one being computed, into L2
// (__builtin_prefetch locality 2: prefetcht1).  Measured at d=1536 over 256 MiB on the dev
// machine (AMD EPYC, AVX-512): 8 GB/s without prefetch, 10 GB/s prefetching into L1, 14-15 GB/s
// into L2 with 2-6 rows ahead.
constexpr size_t kGatherAheadRows = 4;
constexpr int kPrefetchLocality = 2;

template <class Arch>
constexpr bool kIsAvx512 = std::is_base_of_v<xsimd::avx512f, Arch>;
template <class Arch>
constexpr bool kIsAvx = std::is_base_of_v<xsimd::avx, Arch>;

template <class Arch>
typename ArchKernels<Arch>::Batch ArchKernels<Arch>::Fma(const Batch& x, const Batch& y,
                                                         const Batch& acc) {
  if constexpr (kIsAvx512<Arch>) {
    // xsimd 8 has no fused multiply-add for avx512f; it would emit a multiply and an add.
    return Batch(_mm512_fmadd_ps(x, y, acc));
  } else {
    return xsimd::fma(x, y, acc);
  }
}

template <class Arch>
float ArchKernels<Arch>::ReduceAdd(const Batch& v) {
  __m128 quad;
  if constexpr (kIsAvx512<Arch>) {
    // The zero-masking extracts avoid GCC 12's spurious -Wuninitialized in the unmasked
    // extract/cast intrinsics (and _mm512_reduce_add_ps, which uses them).
    constexpr __mmask8 kAllLanes = 0xFF;
    const __m256 oct = _mm256_add_ps(_mm512_maskz_extractf32x8_ps(kAllLanes, v, 0),
                                     _mm512_maskz_extractf32x8_ps(kAllLanes, v, 1));
    quad = _mm_add_ps(_mm256_castps256_ps128(oct), _mm256_extractf128_ps(oct, 1));
  } else if constexpr (kIsAvx<Arch>) {
    const __m256 oct = v;
    quad = _mm_add_ps(_mm256_castps256_ps128(oct), _mm256_extractf128_ps(oct, 1));
  } else {
    quad = v;
  }
  quad = _mm_add_ps(quad, _mm_movehl_ps(quad, quad));
  quad = _mm_add_ss(quad, _mm_shuffle_ps(quad, quad, 1));
  return _mm_cvtss_f32(quad);
}

template <class Arch>
void ArchKernels<Arch>::PrefetchFloats(const float* p, size_t count) {
  if (count == 0) {
    return;
  }
  for (size_t off = 0; off < count; off += kFloatsPerCacheLine) {
    __builtin_prefetch(p + off, 0, kPrefetchLocality);
  }
  // p need not be line-aligned, so the last element may sit one line further.
  __builtin_prefetch(p + count - 1, 0, kPrefetchLocality);
}

template <class Arch>
template <bool kPrefetch>
float ArchKernels<Arch>::DotImpl(const float* a, const float* b, size_t d, const float* ahead) {
  constexpr size_t kLanes = Batch::size;
  constexpr size_t kBlock = kUnroll * kLanes;
  Batch acc0(0.0f);
  Batch acc1(0.0f);
  Batch acc2(0.0f);
  Batch acc3(0.0f);
  size_t i = 0;
  for (; i + kBlock <= d; i += kBlock) {
    if constexpr (kPrefetch) {
      for (size_t off = 0; off < kBlock; off += kFloatsPerCacheLine) {
        __builtin_prefetch(ahead + i + off, 0, kPrefetchLocality);
      }
    }
    acc0 = Fma(Batch::load_unaligned(a + i), Batch::load_unaligned(b + i), acc0);
    acc1 = Fma(Batch::load_unaligned(a + i + kLanes), Batch::load_unaligned(b + i + kLanes), acc1);
    acc2 = Fma(Batch::load_unaligned(a + i + 2 * kLanes), Batch::load_unaligned(b + i + 2 * kLanes),
               acc2);
    acc3 = Fma(Batch::load_unaligned(a + i + 3 * kLanes), Batch::load_unaligned(b + i + 3 * kLanes),
               acc3);
  }
  if constexpr (kPrefetch) {
    PrefetchFloats(ahead + i, d - i);
  }
  for (; i + kLanes <= d; i += kLanes) {
    acc0 = Fma(Batch::load_unaligned(a + i), Batch::load_unaligned(b + i), acc0);
  }
  if constexpr (kIsAvx512<Arch>) {
    if (i < d) {
      // Masked loads read only the remaining (fewer than kLanes) floats and zero the rest.
      const auto mask = static_cast<__mmask16>((1u << (d - i)) - 1u);
      acc1 = Fma(Batch(_mm512_maskz_loadu_ps(mask, a + i)),
                 Batch(_mm512_maskz_loadu_ps(mask, b + i)), acc1);
      i = d;
    }
  }
  float sum = ReduceAdd((acc0 + acc1) + (acc2 + acc3));
  for (; i < d; ++i) {
    sum += a[i] * b[i];
  }
  return sum;
}

template <class Arch>
float ArchKernels<Arch>::Dot(const float* a, const float* b, size_t d) {
  return DotImpl<false>(a, b, d, nullptr);
}

// Rows are read back to back, a stream the hardware prefetchers follow on their own: software
// prefetching here measured no faster from DRAM and 10-15% slower from L2.
template <class Arch>
void ArchKernels<Arch>::DotMany(const float* query, const float* rows, size_t n, size_t d,
                                float* out) {
  for (size_t r = 0; r < n; ++r) {
    out[r] = DotImpl<false>(query, rows + r * d, d, nullptr);
  }
}

template <class Arch>
void ArchKernels<Arch>::DotGather(const float* query, const float* const* rows, size_t n, size_t d,
                                  float* out) {
  // Start the first rows' misses now; row r + kGatherAheadRows is then prefetched while row r
  // is computed.
  for (size_t r = 1; r < n && r < kGatherAheadRows; ++r) {
    PrefetchFloats(rows[r], d);
  }
  for (size_t r = 0; r < n; ++r) {
    out[r] = r + kGatherAheadRows < n ? DotImpl<true>(query, rows[r], d, rows[r + kGatherAheadRows])
                                      : DotImpl<false>(query, rows[r], d, nullptr);
  }
}

template <class Arch>
float ArchKernels<Arch>::SquaredNorm(const float* v, size_t d) {
  return DotImpl<false>(v, v, d, nullptr);
}

template <class Arch>
void ArchKernels<Arch>::Scale(float* v, size_t d, float factor) {
  constexpr size_t kLanes = Batch::size;
  const Batch scale(factor);
  size_t i = 0;
  for (; i + kLanes <= d; i += kLanes) {
    (Batch::load_unaligned(v + i) * scale).store_unaligned(v + i);
  }
  for (; i < d; ++i) {
    v[i] *= factor;
  }
}

}  // namespace mnemo::kernels::internal
