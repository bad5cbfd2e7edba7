// The compressed traversal of HnswIndex: quantizer fitting, recall of compressed walk + exact
// re-rank against the float32 walk at the same ef, exact returned similarities, filters and
// deletes, persistence (format 2 and loading format 1 files), and data added after the fit and
// after a refit by Compact().
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "kernels/distance.h"
#include "mnemo/base/crc32c.h"
#include "vector/hnsw/hnsw_index.h"
#include "vector/hnsw/label_filter.h"
#include "vector/hnsw/test_data.h"

namespace mnemo::hnsw {
namespace {

using testing::TestData;

constexpr size_t kDim = 96;
constexpr size_t kRows = 4000;  // above kQuantizerMinNodes
constexpr size_t kK = 10;
constexpr size_t kEf = 40;

HnswParams Params() {
  HnswParams params;
  params.m = 12;
  params.ef_construction = 60;
  params.seed = 77;
  return params;
}

const TestData& Data() {
  static const TestData data = testing::MakeClustered(kRows, 100, kDim, 40, 2024);
  return data;
}

std::vector<float> Unit(std::span<const float> v) {
  std::vector<float> unit(v.begin(), v.end());
  EXPECT_TRUE(kernels::Normalize(unit.data(), unit.size()));
  return unit;
}

// Mean recall@k over the queries of `data`, with the given traversal.
double MeanRecall(const HnswIndex& index, const TestData& data, bool compressed,
                  const std::function<bool(uint64_t)>& allow = {},
                  const LabelFilter* filter = nullptr) {
  double sum = 0;
  for (size_t q = 0; q < data.query_count(); ++q) {
    SearchOptions options;
    options.k = kK;
    options.ef = kEf;
    options.compressed = compressed;
    options.filter = filter;
    options.strategy = SearchStrategy::kGraph;
    SearchResult result;
    EXPECT_TRUE(index.Search(data.Query(q), options, &result).ok());
    EXPECT_EQ(result.stats.compressed, compressed && !result.stats.fell_back_to_exact);
    sum += testing::Recall(result.hits, testing::BruteForceTopK(data, data.Query(q), kK, allow));
  }
  return sum / static_cast<double>(data.query_count());
}

class HnswCompressedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("mnemo_hnsw_compressed_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string PathOf(const std::string& name) const { return (dir_ / name).string(); }

  std::filesystem::path dir_;
};

TEST_F(HnswCompressedTest, QuantizerIsFittedOnceTheIndexIsLargeEnough) {
  auto index = testing::BuildIndex(Data(), Params(), HnswIndex::kQuantizerMinNodes - 1);
  EXPECT_FALSE(index->has_quantizer());
  SearchOptions options;
  options.strategy = SearchStrategy::kGraph;
  SearchResult result;
  ASSERT_TRUE(index->Search(Data().Query(0), options, &result).ok());
  EXPECT_FALSE(result.stats.compressed);  // no quantizer yet: float32 walk

  ASSERT_TRUE(
      index->Add(HnswIndex::kQuantizerMinNodes - 1, Data().Row(HnswIndex::kQuantizerMinNodes - 1))
          .ok());
  ASSERT_TRUE(index->has_quantizer());
  EXPECT_EQ(index->quantizer()->dim(), kDim);
  ASSERT_TRUE(index->Search(Data().Query(0), options, &result).ok());
  EXPECT_TRUE(result.stats.compressed);
  EXPECT_GT(result.stats.code_computations, 0u);
  const HnswIndex::MemoryPerVector memory = index->memory_per_vector();
  EXPECT_EQ(memory.code_bytes, 128u);    // 96 bytes, padded to cache lines
  EXPECT_EQ(memory.vector_bytes, 384u);  // 96 floats
}

TEST_F(HnswCompressedTest, RecallMatchesTheFloatWalkAndSimilaritiesAreExact) {
  auto index = testing::BuildIndex(Data(), Params());
  ASSERT_TRUE(index->has_quantizer());
  const double float_recall = MeanRecall(*index, Data(), false);
  const double compressed_recall = MeanRecall(*index, Data(), true);
  EXPECT_GE(compressed_recall, float_recall - 0.01)
      << "float " << float_recall << " compressed " << compressed_recall;
  EXPECT_GT(compressed_recall, 0.9);

  for (size_t q = 0; q < 20; ++q) {
    auto result = index->Search(Data().Query(q), kK, kEf);
    ASSERT_TRUE(result.ok());
    ASSERT_EQ(result->hits.size(), kK);
    EXPECT_TRUE(result->stats.compressed);
    const std::vector<float> query = Unit(Data().Query(q));
    for (size_t i = 0; i < result->hits.size(); ++i) {
      const SearchHit& hit = result->hits[i];
      const std::vector<float> row = Unit(Data().Row(hit.label));
      EXPECT_NEAR(hit.similarity, kernels::Dot(query.data(), row.data(), kDim), 1e-5);
      if (i > 0) {
        EXPECT_GE(result->hits[i - 1].similarity, hit.similarity);
      }
    }
  }
}

TEST_F(HnswCompressedTest, FiltersDeletesAndThresholdsHold) {
  auto index = testing::BuildIndex(Data(), Params());
  for (uint64_t label = 0; label < kRows; label += 3) ASSERT_TRUE(index->MarkDeleted(label).ok());
  LabelSetFilter filter([] {
    std::vector<uint64_t> even;
    for (uint64_t label = 0; label < kRows; label += 2) even.push_back(label);
    return even;
  }());
  auto allow = [](uint64_t label) { return label % 2 == 0 && label % 3 != 0; };
  const double compressed = MeanRecall(*index, Data(), true, allow, &filter);
  const double exact_walk = MeanRecall(*index, Data(), false, allow, &filter);
  EXPECT_GE(compressed, exact_walk - 0.01);
  for (size_t q = 0; q < 20; ++q) {
    SearchOptions options;
    options.k = kK;
    options.ef = kEf;
    options.filter = &filter;
    options.min_similarity = 0.5f;
    options.strategy = SearchStrategy::kGraph;
    SearchResult result;
    ASSERT_TRUE(index->Search(Data().Query(q), options, &result).ok());
    for (const SearchHit& hit : result.hits) {
      EXPECT_TRUE(allow(hit.label)) << hit.label;
      EXPECT_GE(hit.similarity, 0.5f);
    }
  }
}

// Rows added after the fit (from another distribution, so partly outside the fitted range) are
// found; Compact() refits on the live rows and keeps every guarantee.
TEST_F(HnswCompressedTest, DataAddedAfterTheFitAndAfterARefitIsFound) {
  const TestData early = testing::MakeClustered(2500, 0, kDim, 20, 5);
  const TestData late = testing::MakeClustered(2500, 100, kDim, 20, 6);
  TestData all;
  all.dim = kDim;
  all.base = early.base;
  all.base.insert(all.base.end(), late.base.begin(), late.base.end());
  all.queries = late.queries;
  HnswParams params = Params();
  params.dim = kDim;
  auto index = std::move(HnswIndex::Create(params)).value();
  for (size_t i = 0; i < all.size(); ++i) ASSERT_TRUE(index->Add(i, all.Row(i)).ok());
  ASSERT_TRUE(index->has_quantizer());
  const std::vector<float> first_lo(index->quantizer()->lo().begin(),
                                    index->quantizer()->lo().end());
  const double float_recall = MeanRecall(*index, all, false);
  const double compressed_recall = MeanRecall(*index, all, true);
  EXPECT_GE(compressed_recall, float_recall - 0.01) << "float " << float_recall;

  for (uint64_t label = 0; label < all.size(); label += 4)
    ASSERT_TRUE(index->MarkDeleted(label).ok());
  auto compacted = index->Compact(2);
  ASSERT_TRUE(compacted.ok()) << compacted.status().ToString();
  const HnswIndex& fresh = **compacted;
  ASSERT_TRUE(fresh.has_quantizer());
  EXPECT_NE(std::vector<float>(fresh.quantizer()->lo().begin(), fresh.quantizer()->lo().end()),
            first_lo);
  auto live = [](uint64_t label) { return label % 4 != 0; };
  const double fresh_float = MeanRecall(fresh, all, false, live);
  EXPECT_GE(MeanRecall(fresh, all, true, live), fresh_float - 0.01);
  for (size_t q = 0; q < all.query_count(); ++q) {
    auto result = fresh.Search(all.Query(q), kK, kEf);
    ASSERT_TRUE(result.ok());
    for (const SearchHit& hit : result->hits) EXPECT_TRUE(live(hit.label)) << hit.label;
  }
}

TEST_F(HnswCompressedTest, SaveAndLoadKeepTheQuantizer) {
  auto index = testing::BuildIndex(Data(), Params());
  const std::string path = PathOf("index.hnsw");
  ASSERT_TRUE(index->Save(path, 5).ok());
  auto loaded = HnswIndex::Load(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  const HnswIndex& copy = *loaded->index;
  ASSERT_TRUE(copy.has_quantizer());
  const auto same = [](std::span<const float> a, std::span<const float> b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size_bytes()) == 0;
  };
  EXPECT_TRUE(same(copy.quantizer()->lo(), index->quantizer()->lo()));
  EXPECT_TRUE(same(copy.quantizer()->step(), index->quantizer()->step()));
  EXPECT_TRUE(same(copy.quantizer()->mean_code(), index->quantizer()->mean_code()));
  for (size_t q = 0; q < Data().query_count(); ++q) {
    auto a = index->Search(Data().Query(q), kK, kEf);
    auto b = copy.Search(Data().Query(q), kK, kEf);
    ASSERT_TRUE(a.ok() && b.ok());
    ASSERT_EQ(a->hits.size(), b->hits.size());
    for (size_t i = 0; i < a->hits.size(); ++i) {
      EXPECT_EQ(a->hits[i].label, b->hits[i].label);
      EXPECT_EQ(a->hits[i].similarity, b->hits[i].similarity);
    }
  }
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
void WriteAll(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}
// Replaces the CRC trailer by the checksum of the preceding bytes.
void Reseal(std::string* bytes) {
  const uint32_t crc = Crc32c(bytes->data(), bytes->size() - 4);
  std::memcpy(bytes->data() + bytes->size() - 4, &crc, 4);
}

constexpr size_t kHeaderBytes = 64;
constexpr size_t kVersionOffset = 8;

// Rewrites a file of format 3 (owned vectors only) in format 2 (no codes in the node records) or
// 1 (no quantizer section either), with a valid checksum.
std::string Downgrade(const std::string& bytes, uint32_t version, uint32_t dim) {
  auto u32 = [&](size_t at) {
    uint32_t value;
    std::memcpy(&value, bytes.data() + at, 4);
    return value;
  };
  std::string out = bytes.substr(0, kHeaderBytes);
  std::memcpy(out.data() + kVersionOffset, &version, 4);
  size_t at = kHeaderBytes;
  const bool quantizer = u32(at) == 1;
  const size_t section = 8 + (quantizer ? 3 * sizeof(float) * dim : 0);
  if (version >= 2) out += bytes.substr(at, section);
  at += section;
  constexpr size_t kNodeCountOffset = 40;
  const uint32_t nodes = u32(kNodeCountOffset);
  for (uint32_t node = 0; node < nodes; ++node) {
    const size_t begin = at;
    const uint8_t level = static_cast<uint8_t>(bytes[at + 9]);
    EXPECT_EQ(bytes[at + 8] & 2, 0) << "external vectors have no older format";
    at += 12;
    for (int l = 0; l <= level; ++l) at += 4 + 4 * size_t{u32(at)};
    out += bytes.substr(begin, at - begin);
    if (quantizer) at += 4 + dim;  // the code error bound and the code
    out += bytes.substr(at, sizeof(float) * dim);
    at += sizeof(float) * dim;
  }
  EXPECT_EQ(at + 4, bytes.size());
  out += std::string(4, '\0');
  Reseal(&out);
  return out;
}

TEST_F(HnswCompressedTest, VersionOneFilesLoadAndGetAQuantizer) {
  auto index = testing::BuildIndex(Data(), Params());
  const std::string path = PathOf("index.hnsw");
  ASSERT_TRUE(index->Save(path, 9).ok());
  WriteAll(path, Downgrade(testing::ToVersion3(ReadAll(path)), 1, kDim));

  auto loaded = HnswIndex::Load(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  const HnswIndex& copy = *loaded->index;
  EXPECT_EQ(loaded->applied_seqno, 9u);
  ASSERT_TRUE(copy.has_quantizer());  // fitted at load
  EXPECT_GE(MeanRecall(copy, Data(), true), MeanRecall(copy, Data(), false) - 0.01);
  // Saved again, it is a file of the current format.
  ASSERT_TRUE(copy.Save(path, 9).ok());
  uint32_t version;
  std::memcpy(&version, ReadAll(path).data() + kVersionOffset, 4);
  EXPECT_EQ(version, HnswIndex::kFormatVersion);
}

TEST_F(HnswCompressedTest, VersionTwoFilesLoadWithTheirQuantizerAndCodes) {
  auto index = testing::BuildIndex(Data(), Params());
  ASSERT_TRUE(index->has_quantizer());
  const std::string path = PathOf("index.hnsw");
  ASSERT_TRUE(index->Save(path, 9).ok());
  WriteAll(path, Downgrade(testing::ToVersion3(ReadAll(path)), 2, kDim));
  auto loaded = HnswIndex::Load(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  // The codes are encoded at load with the stored quantizer: the same answers as the original.
  for (size_t q = 0; q < Data().query_count(); ++q) {
    auto a = index->Search(Data().Query(q), kK, kEf);
    auto b = loaded->index->Search(Data().Query(q), kK, kEf);
    ASSERT_TRUE(a.ok() && b.ok());
    ASSERT_EQ(a->hits.size(), b->hits.size());
    for (size_t i = 0; i < a->hits.size(); ++i) EXPECT_EQ(a->hits[i].label, b->hits[i].label);
  }
}

TEST_F(HnswCompressedTest, SmallIndexesSaveWithoutAQuantizer) {
  auto index = testing::BuildIndex(Data(), Params(), 100);
  const std::string path = PathOf("small.hnsw");
  ASSERT_TRUE(index->Save(path, 1).ok());
  auto loaded = HnswIndex::Load(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_FALSE(loaded->index->has_quantizer());
  EXPECT_EQ(loaded->index->size(), 100u);
}

TEST_F(HnswCompressedTest, DamagedQuantizerSectionIsRejected) {
  auto index = testing::BuildIndex(Data(), Params());
  const std::string path = PathOf("index.hnsw");
  ASSERT_TRUE(index->Save(path, 1).ok());
  const std::string good = ReadAll(path);
  auto load_with = [&](const std::function<void(std::string*)>& damage) {
    std::string bytes = good;
    damage(&bytes);
    Reseal(&bytes);
    WriteAll(path, bytes);
    auto loaded = HnswIndex::Load(path);
    EXPECT_FALSE(loaded.ok());
    return loaded.ok() ? std::string() : std::string(loaded.status().message());
  };
  EXPECT_NE(load_with([](std::string* b) { (*b)[kHeaderBytes] = 2; }).find("quantizer section"),
            std::string::npos);
  EXPECT_NE(load_with([](std::string* b) { (*b)[kHeaderBytes + 4] = 1; }).find("quantizer"),
            std::string::npos);
  // A negative step for dimension 0.
  EXPECT_NE(load_with([](std::string* b) {
              const float bad = -1.0f;
              std::memcpy(b->data() + kHeaderBytes + 8 + sizeof(float) * kDim, &bad, 4);
            }).find("bad parameters"),
            std::string::npos);
  // Cut inside the quantizer section (checksum trailer kept at the end).
  {
    std::string bytes = good.substr(0, kHeaderBytes + 8 + 100) + good.substr(good.size() - 4);
    Reseal(&bytes);
    WriteAll(path, bytes);
    EXPECT_FALSE(HnswIndex::Load(path).ok());
  }
}

}  // namespace
}  // namespace mnemo::hnsw
