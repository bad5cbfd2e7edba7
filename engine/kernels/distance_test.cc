// Checks every kernel, at every SIMD level this CPU supports, against a double-precision scalar
// reference, on dimensions that exercise the unrolled loop, the single-batch loop and the tail.
// Inputs are deliberately misaligned and sized exactly, so ASan catches any over-read.
#include "kernels/distance.h"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <optional>
#include <ostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace mnemo::kernels {

// Shows levels by name in test failure messages.
void PrintTo(SimdLevel level, std::ostream* os) { *os << SimdLevelName(level); }

namespace {

constexpr std::array<size_t, 10> kDims = {1, 7, 15, 16, 17, 31, 33, 1535, 1536, 1537};
constexpr std::array<SimdLevel, 4> kAllLevels = {SimdLevel::kScalar, SimdLevel::kSse42,
                                                 SimdLevel::kAvx2, SimdLevel::kAvx512};
// Float accumulation error bound, per sqrt(d), relative to sum |a_i * b_i|.
constexpr double kRelTolerance = 1e-5;
// Unit-norm error bound of Normalize, per sqrt(d).
constexpr double kNormTolerance = 1e-6;
// Integer inputs in [-kMaxInt, kMaxInt]: every partial sum (|sum| <= 64 * 1537 < 2^24) is
// exact in float, so all levels must match the reference bit for bit.
constexpr int kMaxInt = 8;
// Rows per DotMany/DotGather call: more than the kernels' prefetch distance.
constexpr size_t kRows = 6;
// Distinct rows DotGather picks from (with repeats).
constexpr size_t kGatherPool = 4;
constexpr uint32_t kSeed = 20240611;
constexpr float kSentinel = -12345.0f;

// Caps the SIMD level for a scope and restores the previous level on exit.
class ScopedSimdLevel {
 public:
  explicit ScopedSimdLevel(SimdLevel cap) : saved_(ActiveSimdLevel()) { SetMaxSimdLevel(cap); }
  ~ScopedSimdLevel() { SetMaxSimdLevel(saved_); }
  ScopedSimdLevel(const ScopedSimdLevel&) = delete;
  ScopedSimdLevel& operator=(const ScopedSimdLevel&) = delete;

 private:
  const SimdLevel saved_;
};

// Exactly `size` floats starting one float past the allocation's (16-byte aligned) start, so
// the data is misaligned for every vector width and any read past the end hits ASan's redzone.
class MisalignedBuffer {
 public:
  explicit MisalignedBuffer(size_t size) : storage_(size + 1) {}
  float* data() { return storage_.data() + 1; }
  const float* data() const { return storage_.data() + 1; }
  size_t size() const { return storage_.size() - 1; }

 private:
  std::vector<float> storage_;
};

void FillRandom(MisalignedBuffer* buffer, std::mt19937* rng) {
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (size_t i = 0; i < buffer->size(); ++i) {
    buffer->data()[i] = dist(*rng);
  }
}

void FillIntegers(MisalignedBuffer* buffer, std::mt19937* rng) {
  std::uniform_int_distribution<int> dist(-kMaxInt, kMaxInt);
  for (size_t i = 0; i < buffer->size(); ++i) {
    buffer->data()[i] = static_cast<float>(dist(*rng));
  }
}

double ReferenceDot(const float* a, const float* b, size_t d) {
  double sum = 0.0;
  for (size_t i = 0; i < d; ++i) {
    sum += static_cast<double>(a[i]) * b[i];
  }
  return sum;
}

double Tolerance(const float* a, const float* b, size_t d) {
  double abs_sum = 0.0;
  for (size_t i = 0; i < d; ++i) {
    abs_sum += std::fabs(static_cast<double>(a[i]) * b[i]);
  }
  return kRelTolerance * std::sqrt(static_cast<double>(d)) * abs_sum;
}

std::string LevelTestName(const ::testing::TestParamInfo<SimdLevel>& info) {
  std::string name(SimdLevelName(info.param));
  for (char& c : name) {
    if (c == '.') {
      c = '_';
    }
  }
  return name;
}

// Runs each test at one SIMD level (skipped when the CPU lacks it).
class LevelTest : public ::testing::TestWithParam<SimdLevel> {
 protected:
  void SetUp() override {
    if (GetParam() > DetectedSimdLevel()) {
      GTEST_SKIP() << "CPU lacks " << SimdLevelName(GetParam());
    }
    level_.emplace(GetParam());
    ASSERT_EQ(ActiveSimdLevel(), GetParam());
  }

  std::mt19937 rng_{kSeed};

 private:
  std::optional<ScopedSimdLevel> level_;
};

TEST_P(LevelTest, DotMatchesReference) {
  for (size_t d : kDims) {
    SCOPED_TRACE(d);
    MisalignedBuffer a(d);
    MisalignedBuffer b(d);
    FillRandom(&a, &rng_);
    FillRandom(&b, &rng_);
    EXPECT_NEAR(Dot(a.data(), b.data(), d), ReferenceDot(a.data(), b.data(), d),
                Tolerance(a.data(), b.data(), d));
  }
}

TEST_P(LevelTest, DotExactOnIntegers) {
  for (size_t d : kDims) {
    SCOPED_TRACE(d);
    MisalignedBuffer a(d);
    MisalignedBuffer b(d);
    FillIntegers(&a, &rng_);
    FillIntegers(&b, &rng_);
    EXPECT_EQ(Dot(a.data(), b.data(), d), static_cast<float>(ReferenceDot(a.data(), b.data(), d)));
  }
}

TEST_P(LevelTest, DotOfEmptyIsZero) {
  const float x = 1.0f;
  EXPECT_EQ(Dot(&x, &x, 0), 0.0f);
  EXPECT_EQ(SquaredNorm(&x, 0), 0.0f);
}

TEST_P(LevelTest, SquaredNormMatchesReference) {
  for (size_t d : kDims) {
    SCOPED_TRACE(d);
    MisalignedBuffer v(d);
    FillRandom(&v, &rng_);
    EXPECT_NEAR(SquaredNorm(v.data(), d), ReferenceDot(v.data(), v.data(), d),
                Tolerance(v.data(), v.data(), d));
    FillIntegers(&v, &rng_);
    EXPECT_EQ(SquaredNorm(v.data(), d), static_cast<float>(ReferenceDot(v.data(), v.data(), d)));
  }
}

TEST_P(LevelTest, DotManyMatchesReference) {
  for (size_t d : kDims) {
    SCOPED_TRACE(d);
    for (bool integers : {false, true}) {
      MisalignedBuffer query(d);
      MisalignedBuffer rows(kRows * d);
      if (integers) {
        FillIntegers(&query, &rng_);
        FillIntegers(&rows, &rng_);
      } else {
        FillRandom(&query, &rng_);
        FillRandom(&rows, &rng_);
      }
      std::vector<float> out(kRows + 1, kSentinel);
      DotMany(query.data(), rows.data(), kRows, d, out.data());
      for (size_t r = 0; r < kRows; ++r) {
        const float* row = rows.data() + r * d;
        const double expected = ReferenceDot(query.data(), row, d);
        if (integers) {
          EXPECT_EQ(out[r], static_cast<float>(expected)) << "row " << r;
        } else {
          EXPECT_NEAR(out[r], expected, Tolerance(query.data(), row, d)) << "row " << r;
        }
      }
      EXPECT_EQ(out[kRows], kSentinel);
    }
  }
}

TEST_P(LevelTest, DotGatherMatchesReference) {
  for (size_t d : kDims) {
    SCOPED_TRACE(d);
    for (bool integers : {false, true}) {
      MisalignedBuffer query(d);
      std::vector<MisalignedBuffer> pool(kGatherPool, MisalignedBuffer(d));
      auto fill = integers ? FillIntegers : FillRandom;
      fill(&query, &rng_);
      for (MisalignedBuffer& row : pool) {
        fill(&row, &rng_);
      }
      std::uniform_int_distribution<size_t> pick(0, kGatherPool - 1);
      std::vector<const float*> rows(kRows);
      for (const float*& row : rows) {
        row = pool[pick(rng_)].data();
      }
      std::vector<float> out(kRows + 1, kSentinel);
      DotGather(query.data(), rows.data(), kRows, d, out.data());
      for (size_t r = 0; r < kRows; ++r) {
        const double expected = ReferenceDot(query.data(), rows[r], d);
        if (integers) {
          EXPECT_EQ(out[r], static_cast<float>(expected)) << "row " << r;
        } else {
          EXPECT_NEAR(out[r], expected, Tolerance(query.data(), rows[r], d)) << "row " << r;
        }
      }
      EXPECT_EQ(out[kRows], kSentinel);
    }
  }
}

// The batch entry points give exactly Dot's result for every row count (including those
// shorter than the prefetch distance, and zero).
TEST_P(LevelTest, ManyAndGatherAgreeWithDot) {
  for (size_t d : kDims) {
    SCOPED_TRACE(d);
    MisalignedBuffer query(d);
    MisalignedBuffer rows(kRows * d);
    FillRandom(&query, &rng_);
    FillRandom(&rows, &rng_);
    for (size_t n = 0; n <= kRows; ++n) {
      std::vector<const float*> pointers(n);
      for (size_t r = 0; r < n; ++r) {
        pointers[r] = rows.data() + (n - 1 - r) * d;
      }
      std::vector<float> many(n + 1, kSentinel);
      std::vector<float> gathered(n + 1, kSentinel);
      DotMany(query.data(), rows.data(), n, d, many.data());
      DotGather(query.data(), pointers.data(), n, d, gathered.data());
      for (size_t r = 0; r < n; ++r) {
        EXPECT_EQ(many[r], Dot(query.data(), rows.data() + r * d, d)) << "n " << n;
        EXPECT_EQ(gathered[r], Dot(query.data(), pointers[r], d)) << "n " << n;
      }
      EXPECT_EQ(many[n], kSentinel);
      EXPECT_EQ(gathered[n], kSentinel);
    }
  }
}

// Normalizes a copy of `input` and checks it is `input` scaled to unit length.
void ExpectNormalizes(const MisalignedBuffer& input) {
  const size_t d = input.size();
  MisalignedBuffer v = input;
  ASSERT_TRUE(Normalize(v.data(), d));
  const double tolerance = kNormTolerance * std::sqrt(static_cast<double>(d));
  EXPECT_NEAR(std::sqrt(ReferenceDot(v.data(), v.data(), d)), 1.0, tolerance);
  const double input_norm = std::sqrt(ReferenceDot(input.data(), input.data(), d));
  for (size_t i = 0; i < d; ++i) {
    const double expected = input.data()[i] / input_norm;
    ASSERT_NEAR(v.data()[i], expected, tolerance * std::fabs(expected)) << "i " << i;
  }
}

// Normalize must refuse the vector and leave every bit of it unchanged.
void ExpectRejected(const MisalignedBuffer& input) {
  MisalignedBuffer v = input;
  EXPECT_FALSE(Normalize(v.data(), v.size()));
  EXPECT_EQ(std::memcmp(v.data(), input.data(), v.size() * sizeof(float)), 0);
}

TEST_P(LevelTest, NormalizeGivesUnitVectors) {
  for (size_t d : kDims) {
    SCOPED_TRACE(d);
    MisalignedBuffer v(d);
    FillRandom(&v, &rng_);
    ExpectNormalizes(v);
  }
}

// Squared norms that underflow or overflow float still normalize (double fallback).
TEST_P(LevelTest, NormalizeHandlesExtremeMagnitudes) {
  constexpr float kTiny = 1e-30f;
  constexpr float kHuge = 1e30f;
  for (size_t d : kDims) {
    SCOPED_TRACE(d);
    for (float scale : {kTiny, kHuge}) {
      MisalignedBuffer v(d);
      FillRandom(&v, &rng_);
      for (size_t i = 0; i < d; ++i) {
        v.data()[i] *= scale;
      }
      ExpectNormalizes(v);
    }
  }
}

TEST_P(LevelTest, NormalizeRejectsZeroNanAndInf) {
  const std::array<float, 3> bad_values = {std::numeric_limits<float>::quiet_NaN(),
                                           std::numeric_limits<float>::infinity(),
                                           -std::numeric_limits<float>::infinity()};
  for (size_t d : kDims) {
    SCOPED_TRACE(d);
    MisalignedBuffer zero(d);
    ExpectRejected(zero);
    for (float bad : bad_values) {
      // First, middle and last position: the unrolled loop, the vector loop and the tail.
      for (size_t pos : {size_t{0}, d / 2, d - 1}) {
        MisalignedBuffer v(d);
        FillRandom(&v, &rng_);
        v.data()[pos] = bad;
        ExpectRejected(v);
      }
    }
  }
  float unused = 1.0f;
  EXPECT_FALSE(Normalize(&unused, 0));
}

INSTANTIATE_TEST_SUITE_P(AllLevels, LevelTest, ::testing::ValuesIn(kAllLevels), LevelTestName);

TEST(SimdLevelTest, NamesRoundTrip) {
  for (SimdLevel level : kAllLevels) {
    SimdLevel parsed = SimdLevel::kScalar;
    ASSERT_TRUE(ParseSimdLevel(SimdLevelName(level), &parsed)) << SimdLevelName(level);
    EXPECT_EQ(parsed, level);
  }
  EXPECT_EQ(SimdLevelName(SimdLevel::kSse42), "sse4.2");
}

TEST(SimdLevelTest, ParseRejectsBadNames) {
  for (const char* bad : {"", "AVX2", "avx", "sse2", "sse4", "sse42", "avx512f", " avx2", "avx2 ",
                          "scalar\n", "fma3+avx2"}) {
    SimdLevel level = SimdLevel::kAvx2;
    EXPECT_FALSE(ParseSimdLevel(bad, &level)) << '"' << bad << '"';
    EXPECT_EQ(level, SimdLevel::kAvx2) << "left unchanged";
  }
}

// Whatever the environment asked for, capped by the CPU (every test restores the level).
TEST(SimdLevelTest, EnvironmentCapApplied) {
  SimdLevel expected = DetectedSimdLevel();
  const char* env = std::getenv("MNEMO_SIMD_LEVEL");
  SimdLevel cap;
  if (env != nullptr && ParseSimdLevel(env, &cap) && cap < expected) {
    expected = cap;
  }
  EXPECT_EQ(ActiveSimdLevel(), expected);
}

TEST(SimdLevelTest, SetMaxClampsToDetected) {
  const SimdLevel before = ActiveSimdLevel();
  {
    ScopedSimdLevel level(SimdLevel::kAvx512);
    EXPECT_EQ(ActiveSimdLevel(), DetectedSimdLevel());
    EXPECT_EQ(SetMaxSimdLevel(SimdLevel::kAvx512), DetectedSimdLevel());
    EXPECT_EQ(SetMaxSimdLevel(SimdLevel::kScalar), SimdLevel::kScalar);
    EXPECT_EQ(ActiveSimdLevel(), SimdLevel::kScalar);
  }
  EXPECT_EQ(ActiveSimdLevel(), before);
}

// Kernels running while the level changes under them still give exact results.
TEST(SimdLevelTest, LevelChangesRaceSafely) {
  constexpr size_t kDim = 1537;
  constexpr int kThreads = 2;
  constexpr int kCallsPerThread = 20000;
  std::mt19937 rng(kSeed);
  MisalignedBuffer a(kDim);
  MisalignedBuffer b(kDim);
  FillIntegers(&a, &rng);
  FillIntegers(&b, &rng);
  const auto expected = static_cast<float>(ReferenceDot(a.data(), b.data(), kDim));
  ScopedSimdLevel restore(DetectedSimdLevel());
  std::atomic<int> running{kThreads};
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kCallsPerThread; ++i) {
        if (Dot(a.data(), b.data(), kDim) != expected) {
          mismatches.fetch_add(1);
        }
      }
      running.fetch_sub(1);
    });
  }
  for (size_t i = 0; running.load() > 0; ++i) {
    SetMaxSimdLevel(kAllLevels[i % kAllLevels.size()]);
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(mismatches.load(), 0);
}

}  // namespace
}  // namespace mnemo::kernels
