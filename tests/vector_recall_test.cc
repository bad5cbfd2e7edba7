// Recall@10 of mnemo's search against exact FAISS IndexFlatIP ground truth on clustered data
// spread over three month partitions: a single-tenant collection (no filter), tenants owning
// ~20%, ~2% and ~0.1% of the rows, and a time-range filter.  Also: never fewer than k hits
// when k matching rows exist, and small tenants are answered exactly.
#include <faiss/IndexFlat.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>

#include "testing/engine_fixture.h"

namespace mnemo {
namespace {

using testing::Unwrap;

constexpr uint32_t kDim = 64;
constexpr int kRows = 20000;
constexpr int kQueries = 50;
constexpr int kTopK = 10;
constexpr double kMinRecall = 0.95;

// Text-embedding-like data: Zipf-sized topic clusters, an anisotropic spectrum, unit norm.
class ClusteredData {
 public:
  explicit ClusteredData(uint32_t seed) : rng_(seed) {
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (int c = 0; c < kClusters; ++c) {
      std::vector<float> centroid(kDim);
      for (float& x : centroid) x = normal(rng_);
      centroids_.push_back(std::move(centroid));
      weights_.push_back(1.0 / (c + 1));
    }
  }
  std::vector<float> Next() {
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::discrete_distribution<int> pick(weights_.begin(), weights_.end());
    const auto& centroid = centroids_[pick(rng_)];
    std::vector<float> v(kDim);
    double norm = 0;
    for (uint32_t i = 0; i < kDim; ++i) {
      const float scale = 1.0f / std::sqrt(1.0f + static_cast<float>(i) / 8.0f);
      v[i] = scale * (centroid[i] + 0.7f * normal(rng_));
      norm += double(v[i]) * v[i];
    }
    for (float& x : v) x = static_cast<float>(x / std::sqrt(norm));
    return v;
  }

 private:
  static constexpr int kClusters = 100;
  std::mt19937 rng_;
  std::vector<std::vector<float>> centroids_;
  std::vector<double> weights_;
};

struct Row {
  std::string user;
  int64_t chunk_index = 0;
  Timestamp created_at = 0;
  std::vector<float> vector;
};

class RecallTest : public testing::EngineTest {
 protected:
  void SetUp() override {
    EngineOptions options;
    options.dimension = kDim;
    Reopen(options);
  }

  // Stores `rows` (one document per user) in batches of 1000 and waits until all are linked.
  void Load(std::vector<Row>& rows) {
    std::map<std::string, Uuid> documents;
    std::map<std::string, std::vector<NewChunk>> pending;
    const auto flush = [&](const std::string& user) {
      Unwrap(engine_->AddChunks(user, pending[user]));
      pending[user].clear();
    };
    for (auto& row : rows) {
      if (!documents.contains(row.user)) {
        NewDocument doc;
        doc.filename = row.user + ".md";
        doc.file_type = "md";
        documents[row.user] = Unwrap(engine_->CreateDocument(row.user, doc)).id;
      }
      NewChunk chunk;
      chunk.document_id = documents[row.user];
      chunk.chunk_index = row.chunk_index;
      chunk.chunk_text = "row";
      chunk.embedding = row.vector;
      chunk.created_at = row.created_at;
      pending[row.user].push_back(std::move(chunk));
      if (pending[row.user].size() == 1000) flush(row.user);
    }
    for (auto& [user, chunks] : pending) {
      if (!chunks.empty()) flush(user);
    }
    engine_->WaitForIndexing();
  }

  // Mean recall@10 of `user`'s searches against exact search over the rows `allowed` admits.
  double MeasureRecall(const std::vector<Row>& rows, const std::string& user, SearchFilters filters,
                       const std::function<bool(const Row&)>& allowed, bool expect_exact) {
    std::vector<const Row*> candidates;
    for (const auto& row : rows) {
      if (row.user == user && allowed(row)) candidates.push_back(&row);
    }
    EXPECT_GE(candidates.size(), static_cast<size_t>(kTopK)) << user;
    faiss::IndexFlatIP exact(kDim);
    std::vector<float> flat;
    for (const Row* row : candidates)
      flat.insert(flat.end(), row->vector.begin(), row->vector.end());
    exact.add(static_cast<faiss::Index::idx_t>(candidates.size()), flat.data());

    ClusteredData queries(777);
    double recall_sum = 0;
    for (int q = 0; q < kQueries; ++q) {
      const std::vector<float> query = queries.Next();
      std::vector<float> distances(kTopK);
      std::vector<faiss::Index::idx_t> labels(kTopK);
      exact.search(1, query.data(), kTopK, distances.data(), labels.data());
      std::set<int64_t> truth;
      for (faiss::Index::idx_t label : labels)
        truth.insert(candidates[static_cast<size_t>(label)]->chunk_index);

      SearchRequest request;
      request.query = query;
      request.top_k = kTopK;
      request.filters = filters;
      const SearchResponse response = Unwrap(engine_->Search(user, request));
      EXPECT_EQ(response.hits.size(), static_cast<size_t>(kTopK)) << "under-return for " << user;
      EXPECT_FALSE(response.fewer_than_top_k);
      if (expect_exact) {
        EXPECT_TRUE(response.exact) << user;
      }
      int found = 0;
      for (const auto& hit : response.hits) found += truth.count(hit.chunk_index);
      recall_sum += static_cast<double>(found) / kTopK;
    }
    return recall_sum / kQueries;
  }
};

const Timestamp kMonths[] = {*ParseTimestamp("2026-08-10T00:00:00Z"),
                             *ParseTimestamp("2026-09-10T00:00:00Z"),
                             *ParseTimestamp("2026-10-10T00:00:00Z")};

TEST_F(RecallTest, SingleTenantWithoutFilters) {
  ClusteredData data(42);
  std::vector<Row> rows(kRows);
  for (int i = 0; i < kRows; ++i) rows[i] = Row{"solo", i, kMonths[i % 3], data.Next()};
  Load(rows);
  EXPECT_EQ(engine_->ListPartitions().size(), 3u);
  const double recall = MeasureRecall(
      rows, "solo", {}, [](const Row&) { return true; }, false);
  EXPECT_GE(recall, kMinRecall);
  std::printf("recall@10 single tenant, 3 partitions: %.3f\n", recall);
}

TEST_F(RecallTest, TenantsAtEverySelectivityAndTimeRange) {
  ClusteredData data(43);
  std::vector<Row> rows(kRows);
  std::mt19937 rng(5);
  for (int i = 0; i < kRows; ++i) {
    // 0.1% / 2% / 20% tenants; the rest belongs to one large tenant.
    const int bucket = static_cast<int>(rng() % 1000);
    const char* user = bucket < 1 ? "p0.1" : bucket < 21 ? "p2" : bucket < 221 ? "p20" : "rest";
    rows[i] = Row{user, i, kMonths[rng() % 3], data.Next()};
  }
  Load(rows);
  const auto all = [](const Row&) { return true; };
  for (const char* user : {"p20", "p2", "p0.1"}) {
    const double recall =
        MeasureRecall(rows, user, {}, all, /*expect_exact=*/std::string(user) == "p0.1");
    EXPECT_GE(recall, kMinRecall) << user;
    std::printf("recall@10 tenant %s: %.3f\n", user, recall);
  }
  SearchFilters recent;
  recent.created_from = *ParseTimestamp("2026-09-01T00:00:00Z");
  const double recall = MeasureRecall(
      rows, "rest", recent, [&](const Row& r) { return r.created_at >= *recent.created_from; },
      false);
  EXPECT_GE(recall, kMinRecall);
  std::printf("recall@10 time range (2 of 3 months): %.3f\n", recall);
}

}  // namespace
}  // namespace mnemo
