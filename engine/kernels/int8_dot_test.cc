// Checks every int8 kernel variant this CPU supports against a plain int64 reference: results
// must match exactly (integer arithmetic), on dimensions that exercise the unrolled loop, the
// single-step loop and the (masked or scalar) tail, with misaligned, exactly-sized inputs so ASan
// catches any over-read.  Also checks the extreme values (255 x -128) and the dispatcher.
#include "kernels/int8_dot.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "kernels/distance.h"
#include "kernels/int8_dot_kernels.h"

namespace mnemo::kernels {
namespace {

using internal::Int8Kernels;
using internal::Int8Variant;

constexpr std::array<size_t, 20> kDims = {0,  1,  7,  8,   15,  16,  17,   31,   32,   33,
                                          63, 64, 65, 127, 128, 129, 1535, 1536, 1537, 4099};
constexpr std::array<Int8Variant, 5> kAllVariants = {Int8Variant::kScalar, Int8Variant::kSse42,
                                                     Int8Variant::kAvx2, Int8Variant::kAvx512Bw,
                                                     Int8Variant::kAvx512Vnni};
constexpr size_t kGatherRows = 9;  // more than kInt8GatherAhead, not a multiple of it
constexpr uint32_t kSeed = 99173;
constexpr int32_t kSentinel = -777;

// Exactly `size` bytes starting one byte past the allocation's start: misaligned for every
// vector width, and any read past the end hits ASan's redzone.
template <typename T>
class MisalignedBytes {
 public:
  explicit MisalignedBytes(size_t size) : storage_(size + 1) {}
  T* data() { return storage_.data() + 1; }
  size_t size() const { return storage_.size() - 1; }

 private:
  std::vector<T> storage_;
};

template <typename Weight>
int64_t ReferenceDot(const uint8_t* codes, const Weight* query, size_t d) {
  int64_t sum = 0;
  for (size_t i = 0; i < d; ++i) sum += int64_t{codes[i]} * query[i];
  return sum;
}

std::string VariantTestName(const ::testing::TestParamInfo<Int8Variant>& info) {
  std::string name(internal::Int8VariantName(info.param));
  for (char& c : name) {
    if (c == '.') c = '_';
  }
  return name;
}

class Int8VariantTest : public ::testing::TestWithParam<Int8Variant> {
 protected:
  void SetUp() override {
    kernels_ = internal::Int8KernelsFor(GetParam());
    if (kernels_ == nullptr) {
      GTEST_SKIP() << "CPU or build lacks " << internal::Int8VariantName(GetParam());
    }
  }

  template <typename T>
  void Fill(MisalignedBytes<T>* buffer, int lo, int hi) {
    std::uniform_int_distribution<int> dist(lo, hi);
    for (size_t i = 0; i < buffer->size(); ++i) buffer->data()[i] = static_cast<T>(dist(rng_));
  }

  const Int8Kernels* kernels_ = nullptr;
  std::mt19937 rng_{kSeed};
};

TEST_P(Int8VariantTest, Dot16MatchesReference) {
  for (size_t d : kDims) {
    SCOPED_TRACE(d);
    MisalignedBytes<uint8_t> codes(d);
    MisalignedBytes<int16_t> query(d);
    Fill(&codes, 0, 255);
    Fill(&query, -5482, 5482);  // the bound ScalarQuantizer uses at d = 1536
    EXPECT_EQ(kernels_->dot16(codes.data(), query.data(), d),
              ReferenceDot(codes.data(), query.data(), d));
  }
}

TEST_P(Int8VariantTest, Dot16ExtremesWithinTheDocumentedBound) {
  const size_t d = 1536;
  const int16_t bound = static_cast<int16_t>(((int64_t{1} << 31) - 1) / (255 * int64_t(d)));
  MisalignedBytes<uint8_t> codes(d);
  MisalignedBytes<int16_t> query(d);
  for (size_t i = 0; i < d; ++i) {
    codes.data()[i] = 255;
    query.data()[i] = static_cast<int16_t>(-bound);
  }
  EXPECT_EQ(kernels_->dot16(codes.data(), query.data(), d), -int64_t{255} * bound * int64_t(d));
  // Full int16 range on a short vector.
  MisalignedBytes<int16_t> wide(64);
  for (size_t i = 0; i < 64; ++i) wide.data()[i] = i % 2 == 0 ? 32767 : -32768;
  EXPECT_EQ(kernels_->dot16(codes.data(), wide.data(), 64),
            ReferenceDot(codes.data(), wide.data(), 64));
}

TEST_P(Int8VariantTest, Gather16MatchesDotPerRow) {
  for (size_t d : kDims) {
    SCOPED_TRACE(d);
    MisalignedBytes<int16_t> query(d);
    Fill(&query, -2000, 2000);
    std::vector<MisalignedBytes<uint8_t>> pool;
    for (size_t r = 0; r < 4; ++r) {
      pool.emplace_back(d);
      Fill(&pool.back(), 0, 255);
    }
    for (size_t n : {size_t{0}, size_t{1}, kGatherRows}) {
      std::vector<const uint8_t*> rows(n);
      for (size_t r = 0; r < n; ++r) rows[r] = pool[(r * 3) % pool.size()].data();
      std::vector<int32_t> out(n + 1, kSentinel);
      kernels_->gather16(query.data(), rows.data(), n, d, out.data());
      for (size_t r = 0; r < n; ++r) {
        EXPECT_EQ(out[r], ReferenceDot(rows[r], query.data(), d)) << "row " << r;
      }
      EXPECT_EQ(out[n], kSentinel) << "wrote past n";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllVariants, Int8VariantTest, ::testing::ValuesIn(kAllVariants),
                         VariantTestName);

TEST(Int8DispatchTest, FollowsTheFloatLevelCap) {
  const SimdLevel saved = ActiveSimdLevel();
  SetMaxSimdLevel(SimdLevel::kScalar);
  EXPECT_EQ(Int8KernelName(), "scalar");
  std::vector<uint8_t> codes(100, 3);
  const std::vector<int16_t> query16(100, 1000);
  EXPECT_EQ(DotU8S16(codes.data(), query16.data(), codes.size()), 300000);
  SetMaxSimdLevel(saved);
  EXPECT_EQ(DotU8S16(codes.data(), query16.data(), codes.size()), 300000);
  if (DetectedSimdLevel() == SimdLevel::kAvx512) {
    EXPECT_TRUE(Int8KernelName() == "avx512bw" || Int8KernelName() == "avx512vnni");
  }
}

TEST(Int8DispatchTest, UnknownVariantHasNoKernels) {
  EXPECT_EQ(internal::Int8KernelsFor(static_cast<Int8Variant>(200)), nullptr);
  EXPECT_EQ(internal::Int8VariantName(static_cast<Int8Variant>(200)), "unknown");
}

}  // namespace
}  // namespace mnemo::kernels
