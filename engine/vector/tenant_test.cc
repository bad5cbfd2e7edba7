// Tenant: rows whose vectors are read in place are searchable before they are linked, follow a
// move of their vector whether they are linked yet or not, and are linked without a copy.
#include "vector/tenant.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "testing/vectors.h"
#include "vector/label_addresses.h"

namespace mnemo::vector {
namespace {

constexpr uint32_t kDim = 16;

std::vector<float> UnitVector(std::mt19937& rng) { return testing::RandomUnitVector(kDim, rng); }

class TenantTest : public ::testing::Test {
 protected:
  void SetUp() override {
    hnsw::HnswParams params;
    params.dim = kDim;
    tenant_ = std::make_unique<Tenant>("alice", 1, kDim,
                                       std::move(hnsw::HnswIndex::Create(params)).value());
    document_ = std::make_shared<DocumentState>();
    predicate_.user_ref = 1;
  }

  RowState Row(int64_t index) const {
    RowState row;
    row.user_ref = 1;
    row.created_at = 1'700'000'000'000'000;
    row.chunk_index = index;
    row.document = document_;
    return row;
  }

  // The best hit for `query` and its similarity.
  std::pair<uint64_t, float> Best(const std::vector<float>& query) const {
    TenantQuery request;
    request.unit_query = query.data();
    request.k = 1;
    request.predicate = &predicate_;
    auto answer = tenant_->Search(request);
    EXPECT_TRUE(answer.ok()) << answer.status().ToString();
    if (!answer.ok() || answer->hits.empty()) return {0, -2.0f};
    return {answer->hits[0].label, answer->hits[0].similarity};
  }

  std::unique_ptr<Tenant> tenant_;
  std::shared_ptr<DocumentState> document_;
  RowPredicate predicate_;
  std::mt19937 rng_{7};
};

TEST_F(TenantTest, RowsReadInPlaceFollowMovesBeforeAndAfterLinking) {
  constexpr int kRows = 50;
  std::vector<float> stored;  // where the rows' vectors are "stored"
  for (int i = 0; i < kRows; ++i) {
    const std::vector<float> v = UnitVector(rng_);
    stored.insert(stored.end(), v.begin(), v.end());
  }
  const std::vector<float> original = stored;
  std::vector<Tenant::FreshRow> rows;
  for (int i = 0; i < kRows; ++i)
    rows.push_back(Tenant::FreshRow{uint64_t(i + 1), Row(i), {}, stored.data() + i * kDim});
  tenant_->InsertBatch(std::move(rows));
  const auto row_vector = [&](int i) {
    return std::vector<float>(original.begin() + i * kDim, original.begin() + (i + 1) * kDim);
  };
  EXPECT_EQ(Best(row_vector(3)).first, 4u);  // searchable before linking, read in place

  // Move every vector while the rows are fresh, and overwrite the old place.
  std::vector<float> moved = stored;
  for (int i = 0; i < kRows; ++i) tenant_->RepointVector(i + 1, moved.data() + i * kDim);
  std::fill(stored.begin(), stored.end(), 0.0f);
  EXPECT_NEAR(Best(row_vector(3)).second, 1.0f, 1e-5);

  // Linked: the graph points at where the rows are now, and copies nothing.
  EXPECT_EQ(tenant_->IndexPending(kRows), static_cast<size_t>(kRows));
  EXPECT_EQ(tenant_->pending(), 0u);
  for (int i = 0; i < kRows; i += 7) {
    const auto [label, similarity] = Best(row_vector(i));
    EXPECT_EQ(label, uint64_t(i + 1));
    EXPECT_NEAR(similarity, 1.0f, 1e-5);
  }

  // Moved again once linked.
  std::vector<float> again = moved;
  for (int i = 0; i < kRows; ++i) tenant_->RepointVector(i + 1, again.data() + i * kDim);
  std::fill(moved.begin(), moved.end(), 0.0f);
  for (int i = 0; i < kRows; i += 7) EXPECT_NEAR(Best(row_vector(i)).second, 1.0f, 1e-5);
}

TEST_F(TenantTest, RowsWithACopyAreLinkedWithTheirCopy) {
  const std::vector<float> v = UnitVector(rng_);
  std::vector<Tenant::FreshRow> rows;
  rows.push_back(Tenant::FreshRow{9, Row(0), v});
  tenant_->InsertBatch(std::move(rows));
  EXPECT_EQ(tenant_->IndexPending(10), 1u);
  const auto [label, similarity] = Best(v);
  EXPECT_EQ(label, 9u);
  EXPECT_NEAR(similarity, 1.0f, 1e-5);
}

TEST(LabelAddressesTest, DenseLabelsGoToTheArrayAndFarOnesToTheMap) {
  LabelAddresses addresses(/*slots_per_address=*/2, /*min_slots=*/8);
  const std::vector<float> a(4), b(4), c(4), d(4);
  addresses.Add(3, a.data());    // below 2 * 1 + 8: the array
  addresses.Add(100, b.data());  // past 2 * 2 + 8: the map
  addresses.Add(11, c.data());   // below 2 * 3 + 8
  addresses.Add(0, d.data());
  EXPECT_EQ(addresses.Find(3), a.data());
  EXPECT_EQ(addresses.Find(100), b.data());
  EXPECT_EQ(addresses.Find(11), c.data());
  EXPECT_EQ(addresses.Find(0), d.data());
  for (uint64_t never : {1, 4, 12, 99, 101, 1000000}) EXPECT_EQ(addresses.Find(never), nullptr);
  EXPECT_LE(addresses.array_slots(), 2u * 4 + 8) << "the array grew past its bound";
  EXPECT_GE(addresses.array_slots(), 12u);
}

}  // namespace
}  // namespace mnemo::vector
