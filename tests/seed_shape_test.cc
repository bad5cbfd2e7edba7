// Search on the seeds' deployment shape: many users sharing six month partitions, one of them
// holding half of all rows, every query scoped to one user.  Checked against exact answers (FAISS
// IndexFlatIP) over each user's live rows: recall@10 per bucket of users (the big tenant, > 5%, 1-5%,
// < 1% of the rows), isolation (no hit of another user, ever), never a short answer, time filters,
// soft and hard deletes, a dropped month, and a reopen whose saved graphs lack the newest rows.
#include <faiss/IndexFlat.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "testing/engine_fixture.h"

namespace mnemo {
namespace {

using testing::Unwrap;

constexpr uint32_t kDim = 32;
constexpr int kRows = 8000;
constexpr int kUsers = 60;
constexpr int kMonths = 6;
constexpr int kTopK = 10;
constexpr double kMinRecall = 0.95;
constexpr int kQueriesPerBucket = 40;

struct Row {
  std::string user;
  Uuid document;
  int64_t chunk_index = 0;
  Timestamp created_at = 0;
  std::vector<float> vector;
  bool live = true;
};

// Clustered unit vectors: topics shared by all users, as text embeddings are.
class Vectors {
 public:
  explicit Vectors(uint32_t seed) : rng_(seed) {
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (int c = 0; c < 50; ++c) {
      std::vector<float> centroid(kDim);
      for (float& x : centroid) x = normal(rng_);
      centroids_.push_back(std::move(centroid));
    }
  }
  std::vector<float> Next() {
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::uniform_int_distribution<size_t> pick(0, centroids_.size() - 1);
    const auto& centroid = centroids_[pick(rng_)];
    std::vector<float> v(kDim);
    double norm = 0;
    for (uint32_t i = 0; i < kDim; ++i) {
      v[i] = centroid[i] + 0.6f * normal(rng_);
      norm += double(v[i]) * v[i];
    }
    for (float& x : v) x = static_cast<float>(x / std::sqrt(norm));
    return v;
  }

 private:
  std::mt19937 rng_;
  std::vector<std::vector<float>> centroids_;
};

Timestamp MonthTime(int month, int row) {
  // Month m is 2026-01 + m; rows spread over its first 27 days.
  const Timestamp start = *ParseTimestamp("2026-0" + std::to_string(1 + month) + "-01T00:00:00Z");
  return start + static_cast<Timestamp>((static_cast<uint64_t>(row) * 2654435761u) % (27 * 86400)) * 1'000'000;
}

class SeedShapeTest : public testing::EngineTest {
 protected:
  void SetUp() override { Open(); }

  void Open() {
    EngineOptions options;
    options.dimension = kDim;
    options.max_rows_linked_on_close = 0;  // a reopen catches up rows the saved graphs lack
    Reopen(options);
  }

  void Load() {
    Vectors vectors(7);
    std::mt19937 rng(3);
    std::uniform_real_distribution<double> uniform(0, 1);
    std::vector<double> weights;
    for (int u = 1; u <= kUsers; ++u) weights.push_back(1.0 / u);
    std::discrete_distribution<int> zipf(weights.begin(), weights.end());
    std::map<std::string, std::vector<Uuid>> documents;
    std::map<std::pair<std::string, int>, std::vector<NewChunk>> pending;
    rows_.resize(kRows);
    for (int i = 0; i < kRows; ++i) {
      Row& row = rows_[i];
      row.user = uniform(rng) < 0.5 ? "big" : "u" + std::to_string(1 + zipf(rng));
      const int month = static_cast<int>(rng() % kMonths);
      row.created_at = MonthTime(month, i);
      row.vector = vectors.Next();
      row.chunk_index = i;
      // Three documents per user, so deletes can take part of a user's rows.
      auto& docs = documents[row.user];
      if (docs.empty()) {
        for (int d = 0; d < 3; ++d) docs.push_back(MakeDocument(row.user, "d" + std::to_string(d) + ".md").id);
      }
      row.document = docs[static_cast<size_t>(i) % 3];
      NewChunk chunk;
      chunk.document_id = row.document;
      chunk.chunk_index = i;
      chunk.chunk_text = row.user + "/" + std::to_string(i);
      chunk.embedding = row.vector;
      chunk.created_at = row.created_at;
      auto& batch = pending[{row.user, month}];
      batch.push_back(std::move(chunk));
      if (batch.size() == 500) {
        Unwrap(engine_->AddChunks(row.user, batch));
        batch.clear();
      }
    }
    for (auto& [key, batch] : pending) {
      if (!batch.empty()) Unwrap(engine_->AddChunks(key.first, batch));
    }
    engine_->WaitForIndexing();
  }

  std::map<std::string, int> Counts() const {
    std::map<std::string, int> counts;
    for (const Row& row : rows_) counts[row.user] += row.live ? 1 : 0;
    return counts;
  }

  // Users by bucket of their share of all rows.
  std::map<std::string, std::vector<std::string>> Buckets() const {
    std::map<std::string, std::vector<std::string>> buckets;
    for (const auto& [user, count] : Counts()) {
      const double share = static_cast<double>(count) / kRows;
      const std::string bucket = user == "big" ? "big" : share > 0.05 ? ">5%" : share >= 0.01 ? "1-5%" : "<1%";
      buckets[bucket].push_back(user);
    }
    return buckets;
  }

  // Recall@10 of `user`'s searches against brute force over their live rows that `admit` keeps;
  // checks isolation and that no answer is short.
  double Check(const std::string& user, int queries, const SearchFilters& filters,
               const std::function<bool(const Row&)>& admit, uint32_t seed) {
    std::vector<const Row*> allowed;
    for (const Row& row : rows_) {
      if (row.user == user && row.live && admit(row)) allowed.push_back(&row);
    }
    faiss::IndexFlatIP exact(kDim);
    std::vector<float> flat;
    for (const Row* row : allowed) flat.insert(flat.end(), row->vector.begin(), row->vector.end());
    exact.add(static_cast<faiss::Index::idx_t>(allowed.size()), flat.data());
    Vectors query_source(seed);
    double recall = 0;
    for (int q = 0; q < queries; ++q) {
      const std::vector<float> query = query_source.Next();
      const size_t want = std::min<size_t>(kTopK, allowed.size());
      std::set<int64_t> truth;
      if (want > 0) {
        std::vector<float> distances(want);
        std::vector<faiss::Index::idx_t> labels(want);
        exact.search(1, query.data(), static_cast<faiss::Index::idx_t>(want), distances.data(), labels.data());
        for (faiss::Index::idx_t label : labels) truth.insert(allowed[static_cast<size_t>(label)]->chunk_index);
      }

      SearchRequest request;
      request.query = query;
      request.top_k = kTopK;
      request.filters = filters;
      const SearchResponse response = Unwrap(engine_->Search(user, request));
      EXPECT_EQ(response.hits.size(), want) << user << ": a short (or long) answer";
      EXPECT_EQ(response.fewer_than_top_k, want < static_cast<size_t>(kTopK)) << user;
      size_t found = 0;
      for (const SearchHit& hit : response.hits) {
        const std::string prefix = user + "/";
        EXPECT_TRUE(hit.chunk_text.starts_with(prefix)) << user << " got " << hit.chunk_text;
        const Row& row = rows_[static_cast<size_t>(hit.chunk_index)];
        EXPECT_TRUE(row.live) << user << " got deleted row " << hit.chunk_text;
        EXPECT_TRUE(admit(row)) << user << " got a row the filter excludes: " << hit.chunk_text;
        found += truth.count(hit.chunk_index);
      }
      recall += want == 0 ? 1.0 : static_cast<double>(found) / static_cast<double>(want);
    }
    return recall / queries;
  }

  // Recall of every bucket, each at least kMinRecall.
  void CheckBuckets(const SearchFilters& filters, const std::function<bool(const Row&)>& admit,
                    const std::string& label) {
    uint32_t seed = 100;
    for (const auto& [bucket, users] : Buckets()) {
      double sum = 0;
      int runs = 0;
      for (size_t i = 0; i < users.size() && i < 8; ++i) {
        sum += Check(users[i], kQueriesPerBucket / static_cast<int>(std::min<size_t>(users.size(), 8)) + 1,
                     filters, admit, ++seed);
        ++runs;
      }
      const double recall = sum / runs;
      EXPECT_GE(recall, kMinRecall) << label << ", bucket " << bucket;
      std::printf("%s, bucket %s (%zu users): recall@10 %.3f\n", label.c_str(), bucket.c_str(), users.size(),
                  recall);
    }
  }

  std::vector<Row> rows_;
};

const auto kAll = [](const Row&) { return true; };

TEST_F(SeedShapeTest, EveryBucketWithAndWithoutTimeFilters) {
  Load();
  EXPECT_EQ(engine_->ListPartitions().size(), static_cast<size_t>(kMonths));
  const auto buckets = Buckets();
  ASSERT_TRUE(buckets.contains("big"));
  ASSERT_TRUE(buckets.contains("<1%"));
  CheckBuckets({}, kAll, "no filter");

  // The last month only, and two middle months.
  SearchFilters last;
  last.created_from = MonthTime(kMonths - 1, 0) - (MonthTime(kMonths - 1, 0) % 86'400'000'000);
  CheckBuckets(last, [&](const Row& row) { return row.created_at >= *last.created_from; }, "last month");
  SearchFilters middle;
  middle.created_from = *ParseTimestamp("2026-03-01T00:00:00Z");
  middle.created_until = *ParseTimestamp("2026-05-01T00:00:00Z");
  CheckBuckets(middle,
               [&](const Row& row) {
                 return row.created_at >= *middle.created_from && row.created_at < *middle.created_until;
               },
               "March and April");

  // An unknown user and a user without rows in the range: empty, never another user's rows.
  SearchRequest request;
  request.query = rows_[0].vector;
  request.top_k = kTopK;
  EXPECT_TRUE(Unwrap(engine_->Search("nobody", request)).hits.empty());
  request.filters.created_from = *ParseTimestamp("2030-01-01T00:00:00Z");
  EXPECT_TRUE(Unwrap(engine_->Search("big", request)).hits.empty());
}

TEST_F(SeedShapeTest, DeletesDroppedMonthsAndAReopenWithStaleGraphs) {
  Load();
  // Soft-delete one of the big tenant's documents and one of u1's; hard-delete one of u2's.
  const auto delete_rows = [&](const Uuid& document) {
    for (Row& row : rows_) {
      if (row.document == document) row.live = false;
    }
  };
  const Uuid big_doc = rows_[std::find_if(rows_.begin(), rows_.end(), [](const Row& r) { return r.user == "big"; }) -
                             rows_.begin()].document;
  const Uuid u1_doc = std::find_if(rows_.begin(), rows_.end(), [](const Row& r) { return r.user == "u1"; })->document;
  const Uuid u2_doc = std::find_if(rows_.begin(), rows_.end(), [](const Row& r) { return r.user == "u2"; })->document;
  Unwrap(engine_->SoftDeleteDocument("big", big_doc));
  Unwrap(engine_->SoftDeleteDocument("u1", u1_doc));
  ASSERT_TRUE(engine_->HardDeleteDocument("u2", u2_doc).ok());
  delete_rows(big_doc);
  delete_rows(u1_doc);
  delete_rows(u2_doc);
  CheckBuckets({}, kAll, "after deletes");

  // Drop the first month: none of its rows come back, for anyone.
  EXPECT_GT(Unwrap(engine_->DropPartition("2026-01")), 0);
  const Timestamp february = *ParseTimestamp("2026-02-01T00:00:00Z");
  for (Row& row : rows_) {
    if (row.created_at < february) row.live = false;
  }
  CheckBuckets({}, kAll, "after dropping 2026-01");

  // Save the graphs, write more rows, close without linking them: the reopen loads the saved graphs
  // and catches the newer rows up from storage.
  ASSERT_TRUE(engine_->SaveIndexes().ok());
  Vectors more(8);
  std::vector<NewChunk> chunks;
  const Uuid doc = MakeDocument("big", "late.md").id;
  for (int i = 0; i < 300; ++i) {
    Row row{"big", doc, static_cast<int64_t>(rows_.size()), MonthTime(kMonths - 1, i), more.Next(), true};
    NewChunk chunk;
    chunk.document_id = doc;
    chunk.chunk_index = row.chunk_index;
    chunk.chunk_text = "big/" + std::to_string(row.chunk_index);
    chunk.embedding = row.vector;
    chunk.created_at = row.created_at;
    chunks.push_back(std::move(chunk));
    rows_.push_back(std::move(row));
  }
  Unwrap(engine_->AddChunks("big", chunks));
  Open();
  CheckBuckets({}, kAll, "after reopen");
  // Restoring the soft-deleted document brings its rows back.
  Unwrap(engine_->UndeleteDocument("big", big_doc));
  for (Row& row : rows_) {
    if (row.document == big_doc && row.created_at >= february) row.live = true;
  }
  EXPECT_GE(Check("big", 20, {}, kAll, 999), kMinRecall);
}

}  // namespace
}  // namespace mnemo
