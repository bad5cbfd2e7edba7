// Float32 similarity kernels with run-time SIMD dispatch (AVX-512, AVX2+FMA, SSE4.2, scalar).
//
// Vectors are normalized once at write time, so cosine similarity = dot product.  The best level
// the CPU supports is chosen once, on first use; MNEMO_SIMD_LEVEL (scalar|sse4.2|avx2|avx512)
// or SetMaxSimdLevel() caps it, so one machine can exercise every path.
//
// Thread-safety: all functions are thread-safe.  SetMaxSimdLevel() is meant for start-up and
// tests; calls racing with kernels in flight see either the old or the new level.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace mnemo::kernels {

enum class SimdLevel : uint8_t { kScalar = 0, kSse42 = 1, kAvx2 = 2, kAvx512 = 3 };

std::string_view SimdLevelName(SimdLevel level);
// Parses "scalar", "sse4.2", "avx2", "avx512"; returns false on anything else.
bool ParseSimdLevel(std::string_view name, SimdLevel* level);

// The best level this CPU supports (ignores any cap).
SimdLevel DetectedSimdLevel();
// The level kernels currently run at: min(detected, cap).
SimdLevel ActiveSimdLevel();
// Caps the level (clamped to what the CPU supports); returns the level now active.
SimdLevel SetMaxSimdLevel(SimdLevel cap);

// Dot product of a[0..d) and b[0..d).  No alignment required.
float Dot(const float* a, const float* b, size_t d);

// out[i] = Dot(query, rows + i * d, d) for i in [0, n): a query against a contiguous block.
void DotMany(const float* query, const float* rows, size_t n, size_t d, float* out);

// out[i] = Dot(query, rows[i], d) for i in [0, n): a query against scattered rows (graph
// neighbours); prefetches upcoming rows.
void DotGather(const float* query, const float* const* rows, size_t n, size_t d, float* out);

// Squared L2 norm of v[0..d).
float SquaredNorm(const float* v, size_t d);

// Scales v to unit length in place.  Returns false (v unchanged) when the norm is zero or any
// component is NaN/Inf.
bool Normalize(float* v, size_t d);

// The factor by which Normalize(v) multiplies every component when the norm is finite and not
// tiny; 0 otherwise (Normalize then computes in double precision, or refuses).  Scale(copy, d,
// UnitScale(v, d)) of a copy of v gives exactly what Normalize gives, so a writer can normalize
// while copying v to where it goes.
float UnitScale(const float* v, size_t d);
// v[i] *= s for i in [0, d).
void Scale(float* v, size_t d, float s);

}  // namespace mnemo::kernels
