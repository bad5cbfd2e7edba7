// Google Benchmark suite for engine/kernels, run at every SIMD level this CPU supports.
//
//   Dot/<level>            one 1536-d dot product, inputs in L1: FLOP/s (2 flops per element).
//   DotManyL2/<level>      a query against a block that fits in L2: FLOP/s.
//   DotManyDram/<level>    a query against a block far larger than the last-level cache: bytes/s,
//   MemoryRead             next to a plain vectorised sum over the same buffer (the bandwidth
//                          one core can pull), so DotMany's fraction of it is visible.
//   DotGather/<level>      a query against random rows of that block, as in HNSW neighbour
//   DotLoop/<level>        visits: bytes/s, next to calling Dot row by row (no prefetching).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kernels/distance.h"

namespace mnemo::kernels {
namespace {

constexpr size_t kDim = 1536;
constexpr double kFlopsPerElement = 2.0;  // one multiply and one add
constexpr size_t kAlignment = 64;         // rows start on cache lines, as in a real store
constexpr size_t kDramBytes = size_t{256} << 20;
constexpr size_t kDramRows = kDramBytes / (kDim * sizeof(float));
constexpr size_t kL2Rows = 128;            // 768 KiB
constexpr size_t kGatherRowsPerCall = 32;  // 2 * M neighbours at M = 16 on layer 0
constexpr size_t kGatherCalls = 4096;      // distinct neighbour lists cycled through
constexpr uint32_t kSeed = 7;

struct AlignedDelete {
  void operator()(float* p) const { ::operator delete[](p, std::align_val_t{kAlignment}); }
};
using AlignedFloats = std::unique_ptr<float[], AlignedDelete>;

AlignedFloats RandomFloats(size_t count, std::mt19937* rng) {
  AlignedFloats buffer(
      static_cast<float*>(::operator new[](count * sizeof(float), std::align_val_t{kAlignment})));
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (size_t i = 0; i < count; ++i) {
    buffer[i] = dist(*rng);
  }
  return buffer;
}

// Shared inputs, built once on first use (outside any timed region).
struct Inputs {
  Inputs() : rng(kSeed) {
    query = RandomFloats(kDim, &rng);
    other = RandomFloats(kDim, &rng);
    block = RandomFloats(kDramRows * kDim, &rng);
    std::uniform_int_distribution<size_t> pick(0, kDramRows - 1);
    gather.resize(kGatherCalls * kGatherRowsPerCall);
    for (const float*& row : gather) {
      row = block.get() + pick(rng) * kDim;
    }
  }

  std::mt19937 rng;
  AlignedFloats query;
  AlignedFloats other;
  AlignedFloats block;  // kDramRows rows of kDim
  std::vector<const float*> gather;
};

const Inputs& GetInputs() {
  static const Inputs inputs;
  return inputs;
}

// Runs a benchmark at one level and restores the previous one.
class LevelScope {
 public:
  explicit LevelScope(SimdLevel level) : saved_(ActiveSimdLevel()) { SetMaxSimdLevel(level); }
  ~LevelScope() { SetMaxSimdLevel(saved_); }
  LevelScope(const LevelScope&) = delete;
  LevelScope& operator=(const LevelScope&) = delete;

 private:
  const SimdLevel saved_;
};

void SetFlopRate(benchmark::State& state, double elements_per_iteration) {
  state.counters["FLOP/s"] = benchmark::Counter(
      kFlopsPerElement * elements_per_iteration * static_cast<double>(state.iterations()),
      benchmark::Counter::kIsRate);
}

void SetByteRate(benchmark::State& state, size_t floats_per_iteration) {
  state.SetBytesProcessed(static_cast<int64_t>(floats_per_iteration * sizeof(float)) *
                          state.iterations());
}

void BmDot(benchmark::State& state, SimdLevel level) {
  const Inputs& in = GetInputs();
  LevelScope scope(level);
  for (auto _ : state) {
    benchmark::DoNotOptimize(Dot(in.query.get(), in.other.get(), kDim));
  }
  SetFlopRate(state, kDim);
}

void BmDotManyL2(benchmark::State& state, SimdLevel level) {
  const Inputs& in = GetInputs();
  std::vector<float> out(kL2Rows);
  LevelScope scope(level);
  for (auto _ : state) {
    DotMany(in.query.get(), in.block.get(), kL2Rows, kDim, out.data());
    benchmark::ClobberMemory();
  }
  SetFlopRate(state, kL2Rows * kDim);
}

void BmDotManyDram(benchmark::State& state, SimdLevel level) {
  const Inputs& in = GetInputs();
  std::vector<float> out(kDramRows);
  LevelScope scope(level);
  for (auto _ : state) {
    DotMany(in.query.get(), in.block.get(), kDramRows, kDim, out.data());
    benchmark::ClobberMemory();
  }
  SetByteRate(state, kDramRows * kDim);
}

// The bandwidth baseline: a vectorised sum of the DotMany buffer with baseline 16-byte vectors
// (GCC vector extension) and four accumulators, far more than one core's memory bandwidth needs.
void BmMemoryRead(benchmark::State& state) {
  using Vec = float __attribute__((vector_size(16)));
  constexpr size_t kLanes = sizeof(Vec) / sizeof(float);
  constexpr size_t kStep = 4 * kLanes;
  const Inputs& in = GetInputs();
  const float* data = in.block.get();
  const size_t count = kDramRows * kDim;
  auto load = [](const float* p) {
    Vec v;
    std::memcpy(&v, p, sizeof(v));
    return v;
  };
  for (auto _ : state) {
    Vec s0 = {};
    Vec s1 = {};
    Vec s2 = {};
    Vec s3 = {};
    for (size_t i = 0; i + kStep <= count; i += kStep) {
      s0 += load(data + i);
      s1 += load(data + i + kLanes);
      s2 += load(data + i + 2 * kLanes);
      s3 += load(data + i + 3 * kLanes);
    }
    const Vec sum = (s0 + s1) + (s2 + s3);
    benchmark::DoNotOptimize(sum[0] + sum[1] + sum[2] + sum[3]);
  }
  SetByteRate(state, count);
}

void BmDotGather(benchmark::State& state, SimdLevel level) {
  const Inputs& in = GetInputs();
  std::vector<float> out(kGatherRowsPerCall);
  LevelScope scope(level);
  size_t call = 0;
  for (auto _ : state) {
    DotGather(in.query.get(), in.gather.data() + call * kGatherRowsPerCall, kGatherRowsPerCall,
              kDim, out.data());
    benchmark::ClobberMemory();
    call = (call + 1) % kGatherCalls;
  }
  SetByteRate(state, kGatherRowsPerCall * kDim);
}

void BmDotLoop(benchmark::State& state, SimdLevel level) {
  const Inputs& in = GetInputs();
  std::vector<float> out(kGatherRowsPerCall);
  LevelScope scope(level);
  size_t call = 0;
  for (auto _ : state) {
    const float* const* rows = in.gather.data() + call * kGatherRowsPerCall;
    for (size_t r = 0; r < kGatherRowsPerCall; ++r) {
      out[r] = Dot(in.query.get(), rows[r], kDim);
    }
    benchmark::ClobberMemory();
    call = (call + 1) % kGatherCalls;
  }
  SetByteRate(state, kGatherRowsPerCall * kDim);
}

void RegisterAll() {
  using LevelBenchmark = void (*)(benchmark::State&, SimdLevel);
  const std::pair<const char*, LevelBenchmark> per_level[] = {
      {"Dot", BmDot},
      {"DotManyL2", BmDotManyL2},
      {"DotManyDram", BmDotManyDram},
      {"DotGather", BmDotGather},
      {"DotLoop", BmDotLoop},
  };
  const SimdLevel detected = DetectedSimdLevel();
  for (const auto& [name, fn] : per_level) {
    for (auto level = static_cast<int>(SimdLevel::kScalar); level <= static_cast<int>(detected);
         ++level) {
      const std::string full_name =
          std::string(name) + "/" + std::string(SimdLevelName(static_cast<SimdLevel>(level)));
      benchmark::RegisterBenchmark(full_name.c_str(), fn, static_cast<SimdLevel>(level));
    }
    if (std::string_view(name) == "DotManyDram") {
      benchmark::RegisterBenchmark("MemoryRead", BmMemoryRead);
    }
  }
}

}  // namespace
}  // namespace mnemo::kernels

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
    return 1;
  }
  mnemo::kernels::RegisterAll();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
