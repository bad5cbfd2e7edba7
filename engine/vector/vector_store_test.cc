// Chunks and vector search through the Engine API: validation, atomicity, freshness,
// isolation, deletes, filters, thresholds, persistence and catch-up.  Recall against exact
// ground truth is in vector_recall_test.cc.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <thread>

#include "testing/engine_fixture.h"
#include "testing/vectors.h"
#include "vector/hnsw/hnsw_index.h"

namespace mnemo {
namespace {

using testing::Unwrap;

constexpr uint32_t kDim = 32;

std::vector<float> RandomVector(std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> v(kDim);
  for (float& x : v) x = normal(rng);
  return v;
}

class VectorTest : public testing::EngineTest {
 protected:
  void SetUp() override {
    EngineOptions options;
    options.dimension = kDim;
    Reopen(options);
  }
  void ReopenSame() {
    EngineOptions options;
    options.dimension = kDim;
    Reopen(options);
  }

  Document Doc(const std::string& user, const std::string& file_type = "md") {
    NewDocument input;
    input.filename = "doc." + file_type;
    input.file_type = file_type;
    return Unwrap(engine_->CreateDocument(user, input));
  }

  NewChunk MakeChunk(const Uuid& document, int64_t index, std::vector<float> embedding) {
    NewChunk chunk;
    chunk.document_id = document;
    chunk.chunk_index = index;
    chunk.chunk_text = "chunk " + std::to_string(index);
    chunk.embedding = std::move(embedding);
    return chunk;
  }

  // Adds `count` random chunks to `document`; returns their vectors by chunk index.
  std::vector<std::vector<float>> AddRandom(const std::string& user, const Uuid& document,
                                            int count, int64_t first_index = 0,
                                            std::optional<Timestamp> created_at = {}) {
    std::vector<NewChunk> chunks;
    std::vector<std::vector<float>> vectors;
    for (int i = 0; i < count; ++i) {
      vectors.push_back(RandomVector(rng_));
      chunks.push_back(MakeChunk(document, first_index + i, vectors.back()));
      chunks.back().created_at = created_at;
    }
    Unwrap(engine_->AddChunks(user, chunks));
    return vectors;
  }

  SearchResponse Search(const std::string& user, const std::vector<float>& query, int64_t k = 10,
                        SearchFilters filters = {}) {
    SearchRequest request;
    request.query = query;
    request.top_k = k;
    request.filters = std::move(filters);
    return Unwrap(engine_->Search(user, request));
  }

  std::mt19937 rng_{1234};
};

TEST_F(VectorTest, ChunkFieldRules) {
  const Document doc = Doc("alice");
  std::vector<float> good = RandomVector(rng_);
  const auto expect_error = [&](NewChunk chunk, StatusCode code, const char* field) {
    auto result = engine_->AddChunks("alice", {chunk});
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), code) << result.status().ToString();
    EXPECT_EQ(result.status().field(), field) << result.status().ToString();
    EXPECT_TRUE(result.status().message().starts_with("chunk 0: ")) << result.status().ToString();
  };
  expect_error(MakeChunk(doc.id, 0, std::vector<float>(kDim - 1, 1.0f)),
               StatusCode::kValidationError, "embedding");
  expect_error(MakeChunk(doc.id, 0, std::vector<float>(kDim + 1, 1.0f)),
               StatusCode::kValidationError, "embedding");
  expect_error(MakeChunk(doc.id, 0, std::vector<float>(kDim, 0.0f)), StatusCode::kValidationError,
               "embedding");
  std::vector<float> nan = good;
  nan[3] = std::nanf("");
  expect_error(MakeChunk(doc.id, 0, nan), StatusCode::kValidationError, "embedding");
  std::vector<float> inf = good;
  inf[0] = INFINITY;
  expect_error(MakeChunk(doc.id, 0, inf), StatusCode::kValidationError, "embedding");
  expect_error(MakeChunk(doc.id, -1, good), StatusCode::kValidationError, "chunk_index");
  NewChunk empty_text = MakeChunk(doc.id, 0, good);
  empty_text.chunk_text = "";
  expect_error(empty_text, StatusCode::kValidationError, "chunk_text");
  NewChunk bad_meta = MakeChunk(doc.id, 0, good);
  bad_meta.metadata = "[1]";
  expect_error(bad_meta, StatusCode::kValidationError, "metadata");
  NewChunk bad_time = MakeChunk(doc.id, 0, good);
  bad_time.created_at = -5;
  expect_error(bad_time, StatusCode::kValidationError, "created_at");
  expect_error(MakeChunk(Uuid::Generate(), 0, good), StatusCode::kNotFound, "");
  EXPECT_STATUS(engine_->AddChunks("bob", {MakeChunk(doc.id, 0, good)}), StatusCode::kNotFound, "");
  EXPECT_STATUS(engine_->AddChunks("alice", {}), StatusCode::kValidationError, "chunks");
  EXPECT_EQ(Unwrap(engine_->GetDocument("alice", doc.id)).total_chunks, 0);
}

TEST_F(VectorTest, DuplicatesAndIdempotentRetry) {
  const Document doc = Doc("alice");
  NewChunk chunk = MakeChunk(doc.id, 0, RandomVector(rng_));
  chunk.id = Uuid::Generate();
  Unwrap(engine_->AddChunks("alice", {chunk}));
  Unwrap(engine_->AddChunks("alice", {chunk}));  // the same chunk again: a retry, not a new row
  EXPECT_EQ(Unwrap(engine_->GetDocument("alice", doc.id)).total_chunks, 1);
  NewChunk same_index = MakeChunk(doc.id, 0, RandomVector(rng_));
  EXPECT_STATUS(engine_->AddChunks("alice", {same_index}), StatusCode::kDuplicateRecord,
                "chunk_index");
  NewChunk same_id = MakeChunk(doc.id, 1, RandomVector(rng_));
  same_id.id = chunk.id;
  EXPECT_STATUS(engine_->AddChunks("alice", {same_id}), StatusCode::kDuplicateRecord, "");
  // Two chunks with one index in a single request: the second collides with the first.
  EXPECT_STATUS(engine_->AddChunks("alice", {MakeChunk(doc.id, 5, RandomVector(rng_)),
                                             MakeChunk(doc.id, 5, RandomVector(rng_))}),
                StatusCode::kDuplicateRecord, "chunk_index");
  EXPECT_EQ(Unwrap(engine_->GetDocument("alice", doc.id)).total_chunks, 1);
}

TEST_F(VectorTest, OneBadChunkLeavesNothingBehind) {
  const Document doc = Doc("alice");
  std::vector<NewChunk> chunks;
  for (int i = 0; i < 10; ++i) chunks.push_back(MakeChunk(doc.id, i, RandomVector(rng_)));
  chunks.push_back(MakeChunk(doc.id, 10, std::vector<float>(kDim, 0.0f)));
  auto result = engine_->AddChunks("alice", chunks);
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(result.status().message().starts_with("chunk 10: "));
  EXPECT_EQ(Unwrap(engine_->GetDocument("alice", doc.id)).total_chunks, 0);
  const SearchResponse response = Search("alice", chunks[0].embedding);
  EXPECT_TRUE(response.hits.empty());
  EXPECT_TRUE(response.fewer_than_top_k);
  for (const auto& p : engine_->ListPartitions()) EXPECT_EQ(p.rows, 0);
}

TEST_F(VectorTest, FreshWritesAreSearchableBeforeIndexing) {
  const Document doc = Doc("alice");
  const auto vectors = AddRandom("alice", doc.id, 1000);
  // No WaitForIndexing(): every chunk must already be found by its own vector.
  for (int i = 0; i < 1000; i += 97) {
    const SearchResponse response = Search("alice", vectors[i], 1);
    ASSERT_EQ(response.hits.size(), 1u);
    EXPECT_EQ(response.hits[0].chunk_index, i);
    EXPECT_NEAR(response.hits[0].similarity, 1.0f, 1e-4);
  }
  EXPECT_EQ(Unwrap(engine_->GetDocument("alice", doc.id)).total_chunks, 1000);
  engine_->WaitForIndexing();
  for (const auto& p : engine_->ListPartitions()) EXPECT_EQ(p.pending_rows, 0);
  const SearchResponse indexed = Search("alice", vectors[500], 1);
  ASSERT_EQ(indexed.hits.size(), 1u);
  EXPECT_EQ(indexed.hits[0].chunk_index, 500);
}

// One write whose rows interleave two months and two documents: the commit publishes them in
// runs per partition, and every row is searchable at once, under its own month and document.
TEST_F(VectorTest, OneWriteAcrossMonthsAndDocumentsIsSearchableAtOnce) {
  const Document md = Doc("alice", "md");
  const Document pdf = Doc("alice", "pdf");
  const Timestamp jan = *ParseTimestamp("2026-01-15T00:00:00Z");
  const Timestamp feb = *ParseTimestamp("2026-02-15T00:00:00Z");
  std::vector<NewChunk> chunks;
  for (int i = 0; i < 12; ++i) {
    chunks.push_back(MakeChunk(i % 3 == 0 ? pdf.id : md.id, i, RandomVector(rng_)));
    chunks.back().created_at = (i / 2) % 2 == 0 ? jan : feb;  // runs of two rows per month
  }
  const std::vector<Chunk> written = Unwrap(engine_->AddChunks("alice", chunks));
  ASSERT_EQ(written.size(), chunks.size());
  for (size_t i = 0; i < chunks.size(); ++i) {
    const SearchResponse response = Search("alice", chunks[i].embedding, 1);
    ASSERT_EQ(response.hits.size(), 1u) << "chunk " << i;
    EXPECT_EQ(response.hits[0].chunk_id, written[i].id);
    EXPECT_EQ(response.hits[0].document_id, chunks[i].document_id);
    EXPECT_EQ(response.hits[0].filename, i % 3 == 0 ? "doc.pdf" : "doc.md");
    EXPECT_EQ(response.hits[0].created_at, *chunks[i].created_at);
  }
  std::map<std::string, int64_t> rows_by_month;
  for (const auto& p : engine_->ListPartitions()) rows_by_month[p.month] = p.rows;
  EXPECT_EQ(rows_by_month, (std::map<std::string, int64_t>{{"2026-01", 6}, {"2026-02", 6}}));
  EXPECT_EQ(Unwrap(engine_->GetDocument("alice", pdf.id)).total_chunks, 4);
  EXPECT_EQ(Unwrap(engine_->GetDocument("alice", md.id)).total_chunks, 8);
  // Retrying the whole write changes nothing (every row already stored; no hook work).
  for (size_t i = 0; i < chunks.size(); ++i) chunks[i].id = written[i].id;
  Unwrap(engine_->AddChunks("alice", chunks));
  EXPECT_EQ(Unwrap(engine_->GetDocument("alice", md.id)).total_chunks, 8);
  size_t rows = 0;
  for (const auto& p : engine_->ListPartitions()) rows += static_cast<size_t>(p.rows);
  EXPECT_EQ(rows, chunks.size());
}

TEST_F(VectorTest, UsersNeverSeeEachOthersChunks) {
  const Document a = Doc("alice");
  const Document b = Doc("bob");
  const auto alice_vectors = AddRandom("alice", a.id, 50);
  AddRandom("bob", b.id, 50);
  engine_->WaitForIndexing();
  for (int i = 0; i < 50; i += 7) {
    const SearchResponse response = Search("bob", alice_vectors[i], 50);
    EXPECT_EQ(response.hits.size(), 50u);
    for (const auto& hit : response.hits) EXPECT_EQ(hit.document_id, b.id);
  }
  const SearchResponse none = Search("carol", alice_vectors[0]);
  EXPECT_TRUE(none.hits.empty());
  EXPECT_TRUE(none.fewer_than_top_k);
}

TEST_F(VectorTest, HitsCarryRowFieldsAndExactSimilarity) {
  const Document doc = Doc("alice", "pdf");
  std::vector<float> v = RandomVector(rng_);
  NewChunk chunk = MakeChunk(doc.id, 7, v);
  chunk.chunk_text = "the seventh chunk";
  Unwrap(engine_->AddChunks("alice", {chunk}));
  std::vector<float> q = v;
  for (float& x : q) x *= 3.0f;  // scale does not change cosine
  const SearchResponse response = Search("alice", q, 5);
  ASSERT_EQ(response.hits.size(), 1u);
  EXPECT_TRUE(response.fewer_than_top_k);
  EXPECT_TRUE(response.exact);
  const SearchHit& hit = response.hits[0];
  EXPECT_EQ(hit.chunk_text, "the seventh chunk");
  EXPECT_EQ(hit.filename, "doc.pdf");
  EXPECT_EQ(hit.document_id, doc.id);
  EXPECT_EQ(hit.chunk_index, 7);
  EXPECT_NEAR(hit.similarity, 1.0f, 1e-5);
  for (float& x : q) x = -x;
  EXPECT_NEAR(Search("alice", q, 1).hits[0].similarity, -1.0f, 1e-5);
}

TEST_F(VectorTest, SoftDeleteHidesAtOnceAndHardDeleteRemoves) {
  const Document keep = Doc("alice");
  const Document drop = Doc("alice");
  AddRandom("alice", keep.id, 30);
  const auto dropped = AddRandom("alice", drop.id, 30);
  engine_->WaitForIndexing();

  Unwrap(engine_->SoftDeleteDocument("alice", drop.id));
  for (int i = 0; i < 30; i += 5) {
    const SearchResponse found = Search("alice", dropped[i], 40);
    EXPECT_EQ(found.hits.size(), 30u);  // every kept row, none of the deleted ones
    for (const auto& hit : found.hits) EXPECT_EQ(hit.document_id, keep.id);
  }
  Unwrap(engine_->UndeleteDocument("alice", drop.id));
  EXPECT_EQ(Search("alice", dropped[3], 1).hits[0].document_id, drop.id);

  ASSERT_TRUE(engine_->HardDeleteDocument("alice", drop.id).ok());
  const SearchResponse after = Search("alice", dropped[3], 60);
  EXPECT_EQ(after.hits.size(), 30u);
  for (const auto& hit : after.hits) EXPECT_EQ(hit.document_id, keep.id);
  int64_t rows = 0;
  for (const auto& p : engine_->ListPartitions()) rows += p.rows;
  EXPECT_EQ(rows, 30);
}

// A search without filters walks the graph unfiltered and checks its hits; when the nearest rows
// belong to a soft-deleted document it walks again, filtered, and still answers top_k live rows,
// the nearest ones.
TEST_F(VectorTest, UnfilteredGraphSearchSkipsSoftDeletedRowsAndStillFillsTopK) {
  const Document keep = Doc("alice");
  const Document drop = Doc("alice");
  std::vector<std::vector<float>> kept;
  for (int first = 0; first < 3000; first += 500) {
    const auto added = AddRandom("alice", keep.id, 500, first);
    kept.insert(kept.end(), added.begin(), added.end());
  }
  const auto dropped = AddRandom("alice", drop.id, 500);
  engine_->WaitForIndexing();
  Unwrap(engine_->SoftDeleteDocument("alice", drop.id));
  constexpr int kTopK = 10;
  int found_true = 0;
  int queries = 0;
  for (int q = 0; q < 500; q += 25, ++queries) {
    SearchRequest request;
    request.query = dropped[q];
    request.top_k = kTopK;
    request.ef = 32;  // a walk cheaper than scanning the 3,500 rows
    const SearchResponse found = Unwrap(engine_->Search("alice", request));
    EXPECT_FALSE(found.exact) << "the graph path is what this test is about";
    ASSERT_EQ(found.hits.size(), static_cast<size_t>(kTopK));
    for (const auto& hit : found.hits) ASSERT_EQ(hit.document_id, keep.id);
    std::vector<std::pair<double, int64_t>> truth;
    for (size_t i = 0; i < kept.size(); ++i)
      truth.emplace_back(-testing::Cosine(dropped[q], kept[i]), static_cast<int64_t>(i));
    std::partial_sort(truth.begin(), truth.begin() + kTopK, truth.end());
    for (const auto& hit : found.hits) {
      for (int j = 0; j < kTopK; ++j) found_true += truth[j].second == hit.chunk_index ? 1 : 0;
    }
  }
  // Approximate search: most of the true nearest live rows, not all.
  EXPECT_GE(found_true, queries * kTopK * 8 / 10);
}

TEST_F(VectorTest, FiltersByDocumentTypeTimeAndMetadata) {
  const Document md = Doc("alice", "md");
  const Document pdf = Doc("alice", "pdf");
  const Timestamp jan = *ParseTimestamp("2026-01-15T00:00:00Z");
  const Timestamp mar = *ParseTimestamp("2026-03-15T00:00:00Z");
  AddRandom("alice", md.id, 20, 0, jan);
  AddRandom("alice", pdf.id, 20, 0, mar);
  std::vector<NewChunk> tagged;
  for (int i = 0; i < 5; ++i) {
    tagged.push_back(MakeChunk(md.id, 100 + i, RandomVector(rng_)));
    tagged.back().metadata = i % 2 ? R"({"lang":"en","page":1})" : R"({"lang":"de"})";
    tagged.back().created_at = jan;
  }
  Unwrap(engine_->AddChunks("alice", tagged));
  const std::vector<float> q = RandomVector(rng_);

  SearchFilters by_doc;
  by_doc.document_ids = {pdf.id};
  SearchResponse r = Search("alice", q, 100, by_doc);
  EXPECT_EQ(r.hits.size(), 20u);
  for (const auto& h : r.hits) EXPECT_EQ(h.document_id, pdf.id);

  SearchFilters by_type;
  by_type.file_types = {"md"};
  r = Search("alice", q, 100, by_type);
  EXPECT_EQ(r.hits.size(), 25u);

  SearchFilters by_time;
  by_time.created_from = *ParseTimestamp("2026-03-01T00:00:00Z");
  r = Search("alice", q, 100, by_time);
  EXPECT_EQ(r.hits.size(), 20u);
  EXPECT_EQ(r.partitions_searched, 1);  // January is pruned without being searched
  for (const auto& h : r.hits) EXPECT_GE(h.created_at, *by_time.created_from);

  SearchFilters by_meta;
  by_meta.metadata_equals = {{"lang", "\"en\""}};
  r = Search("alice", q, 100, by_meta);
  EXPECT_EQ(r.hits.size(), 2u);
  by_meta.metadata_equals.push_back({"page", "1"});
  EXPECT_EQ(Search("alice", q, 100, by_meta).hits.size(), 2u);
  by_meta.metadata_equals.back().second = "2";
  EXPECT_EQ(Search("alice", q, 100, by_meta).hits.size(), 0u);

  SearchFilters bad;
  bad.file_types = {"exe"};
  SearchRequest request;
  request.query = q;
  request.filters = bad;
  EXPECT_STATUS(engine_->Search("alice", request), StatusCode::kValidationError,
                "filters.file_types");
  request.filters = {};
  request.filters.created_from = mar;
  request.filters.created_until = jan;
  EXPECT_STATUS(engine_->Search("alice", request), StatusCode::kValidationError,
                "filters.created_until");
}

TEST_F(VectorTest, RequestRules) {
  const Document doc = Doc("alice");
  AddRandom("alice", doc.id, 5);
  SearchRequest request;
  request.query = RandomVector(rng_);
  request.top_k = 0;
  EXPECT_STATUS(engine_->Search("alice", request), StatusCode::kValidationError, "top_k");
  request.top_k = kMaxTopK + 1;
  EXPECT_STATUS(engine_->Search("alice", request), StatusCode::kValidationError, "top_k");
  request.top_k = kMaxTopK;
  EXPECT_TRUE(engine_->Search("alice", request).ok());
  request.top_k = 10;
  request.query.pop_back();
  EXPECT_STATUS(engine_->Search("alice", request), StatusCode::kValidationError, "query");
  request.query = std::vector<float>(kDim, 0.0f);
  EXPECT_STATUS(engine_->Search("alice", request), StatusCode::kValidationError, "query");
  request.query = RandomVector(rng_);
  request.query[1] = NAN;
  EXPECT_STATUS(engine_->Search("alice", request), StatusCode::kValidationError, "query");
  request.query = RandomVector(rng_);
  request.min_similarity = 1.5f;
  EXPECT_STATUS(engine_->Search("alice", request), StatusCode::kValidationError, "min_similarity");
  request.min_similarity.reset();
  request.ef = 0;
  EXPECT_STATUS(engine_->Search("alice", request), StatusCode::kValidationError, "ef");
  EXPECT_STATUS(engine_->Search("", request), StatusCode::kValidationError, "user_id");
}

TEST_F(VectorTest, MinSimilarityBoundsTheAnswer) {
  const Document doc = Doc("alice");
  const auto vectors = AddRandom("alice", doc.id, 200);
  engine_->WaitForIndexing();
  SearchRequest request;
  request.query = vectors[0];
  request.top_k = 200;
  request.min_similarity = 0.3f;
  const SearchResponse response = Unwrap(engine_->Search("alice", request));
  ASSERT_FALSE(response.hits.empty());
  EXPECT_LT(response.hits.size(), 200u);
  EXPECT_TRUE(response.fewer_than_top_k);
  for (const auto& hit : response.hits) EXPECT_GE(hit.similarity, 0.3f);
  // Nothing above the threshold was left out.
  request.min_similarity.reset();
  const SearchResponse all = Unwrap(engine_->Search("alice", request));
  size_t above = 0;
  for (const auto& hit : all.hits) above += hit.similarity >= 0.3f;
  EXPECT_EQ(response.hits.size(), above);
}

TEST_F(VectorTest, BatchSearchAndBatchWritesWithDocuments) {
  const Uuid doc_id = Uuid::Generate();
  NewDocument doc;
  doc.id = doc_id;
  doc.filename = "batch.txt";
  doc.file_type = "txt";
  std::vector<WriteOp> ops = {CreateDocumentOp{doc}};
  std::vector<std::vector<float>> vectors;
  for (int i = 0; i < 20; ++i) {
    vectors.push_back(RandomVector(rng_));
    ops.push_back(AddChunkOp{MakeChunk(doc_id, i, vectors.back())});
  }
  const BatchResult result = Unwrap(engine_->ApplyBatch("alice", ops));
  EXPECT_EQ(result.ids.size(), 21u);
  EXPECT_EQ(Unwrap(engine_->GetDocument("alice", doc_id)).total_chunks, 20);

  std::vector<SearchRequest> requests(3);
  for (int i = 0; i < 3; ++i) {
    requests[i].query = vectors[i * 5];
    requests[i].top_k = 1;
  }
  const std::vector<SearchResponse> responses = Unwrap(engine_->SearchBatch("alice", requests));
  ASSERT_EQ(responses.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(responses[i].hits[0].chunk_index, i * 5);
  requests[1].top_k = 0;
  auto failed = engine_->SearchBatch("alice", requests);
  EXPECT_EQ(failed.status().field(), "top_k");
  EXPECT_TRUE(failed.status().message().starts_with("query 1: "));

  // A batch whose last op is bad leaves neither the document nor its chunks.
  const Uuid other = Uuid::Generate();
  doc.id = other;
  std::vector<WriteOp> bad = {CreateDocumentOp{doc}, AddChunkOp{MakeChunk(other, 0, vectors[0])},
                              AddChunkOp{MakeChunk(other, 1, std::vector<float>(3, 1.0f))}};
  EXPECT_FALSE(engine_->ApplyBatch("alice", bad).ok());
  EXPECT_STATUS(engine_->GetDocument("alice", other, true), StatusCode::kNotFound, "");
  for (const auto& hit : Search("alice", vectors[0], 30).hits) EXPECT_EQ(hit.document_id, doc_id);
}

// Bytes the memtables hold, all families together.
uint64_t MemtableBytes(Engine& engine) {
  uint64_t bytes = 0;
  for (const StorageFamilyMetrics& family : engine.GetMetrics().families)
    bytes += family.memtable_bytes;
  return bytes;
}

TEST_F(VectorTest, TheIndexerFlushesTheMemtablesOnceALargeBacklogIsLinked) {
  // Every vector in the segments: 500 small vectors would otherwise be written inline and moved
  // to the segments in the background, and a move landing after the flush refills a memtable.
  EngineOptions options;
  options.dimension = kDim;
  options.vector_inline_max_bytes = 0;
  Reopen(options);
  // Below the default threshold (64 MiB of vectors), the rows stay in the memtables.
  AddRandom("alice", Doc("alice").id, 500);
  engine_->WaitForIndexing();
  const uint64_t held = MemtableBytes(*engine_);
  ASSERT_GT(held, 64u << 10) << "the rows were expected in the memtables";

  options.release_after_linked_bytes = 500 * kDim * sizeof(float);
  Reopen(options);
  AddRandom("alice", Doc("alice").id, 500);
  engine_->WaitForIndexing();
  // The flush follows the linking on the indexer's thread: waited for, within a bound.
  uint64_t bytes = MemtableBytes(*engine_);
  for (int i = 0; i < 200 && bytes >= held / 4; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    bytes = MemtableBytes(*engine_);
  }
  EXPECT_LT(bytes, held / 4) << "memtables not flushed after the backlog was linked";
  EXPECT_EQ(Search("alice", RandomVector(rng_), 10).hits.size(), 10u);
}

TEST_F(VectorTest, ReopenLoadsSavedGraphsWithoutRelinking) {
  const Document doc = Doc("alice");
  const auto vectors = AddRandom("alice", doc.id, 300);
  engine_->WaitForIndexing();
  ReopenSame();
  const auto partitions = engine_->ListPartitions();
  ASSERT_EQ(partitions.size(), 1u);
  EXPECT_EQ(partitions[0].rows, 300);
  EXPECT_EQ(partitions[0].pending_rows, 0);  // the saved graph covered every row
  EXPECT_EQ(Search("alice", vectors[123], 1).hits[0].chunk_index, 123);
  // New rows after reopen get fresh labels and are found too.
  const auto more = AddRandom("alice", doc.id, 10, 1000);
  EXPECT_EQ(Search("alice", more[4], 1).hits[0].chunk_index, 1004);
  EXPECT_EQ(Search("alice", vectors[7], 1).hits[0].chunk_index, 7);
}

TEST_F(VectorTest, BatchStagesRunsOfChunkOpsTogetherAndNamesTheFailingOp) {
  const Uuid doc_id = Uuid::Generate();
  NewDocument document;
  document.id = doc_id;
  document.filename = "big.md";
  document.file_type = "md";
  document.content = std::string(100'000, 'x');
  std::vector<std::vector<float>> vectors;
  std::vector<WriteOp> ops{CreateDocumentOp{document}};
  for (int i = 0; i < 3; ++i) {
    vectors.push_back(RandomVector(rng_));
    ops.push_back(AddChunkOp{MakeChunk(doc_id, i, vectors.back())});
  }
  NewConversation conversation;
  conversation.title = "between the chunk runs";
  ops.push_back(CreateConversationOp{conversation});
  vectors.push_back(RandomVector(rng_));
  ops.push_back(AddChunkOp{MakeChunk(doc_id, 3, vectors.back())});

  const BatchResult result = Unwrap(engine_->ApplyBatch("alice", ops));
  ASSERT_EQ(result.ids.size(), ops.size());
  EXPECT_EQ(result.ids[0], doc_id);
  EXPECT_EQ(Unwrap(engine_->GetDocument("alice", doc_id)).total_chunks, 4);
  EXPECT_TRUE(engine_->GetConversation("alice", result.ids[4]).ok());
  for (int i = 0; i < 4; ++i) {
    const auto hits = Search("alice", vectors[static_cast<size_t>(i)], 1).hits;
    ASSERT_EQ(hits.size(), 1u);
    EXPECT_EQ(hits[0].chunk_id, result.ids[i < 3 ? static_cast<size_t>(i) + 1 : 5]);
  }

  // A bad chunk in the middle of a run fails the whole batch, naming its op.
  const Uuid other = Uuid::Generate();
  document.id = other;
  std::vector<WriteOp> failing{CreateDocumentOp{document},
                               AddChunkOp{MakeChunk(other, 0, RandomVector(rng_))},
                               AddChunkOp{MakeChunk(other, 1, std::vector<float>(kDim - 1, 1.0f))}};
  auto failed = engine_->ApplyBatch("alice", failing);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().field(), "embedding");
  EXPECT_TRUE(failed.status().message().starts_with("op 2: ")) << failed.status().ToString();
  EXPECT_EQ(engine_->GetDocument("alice", other).status().code(),
            StatusCode::kNotFound);  // nothing applied
}

TEST_F(VectorTest, CloseLinksPendingRowsIntoTheSavedGraph) {
  const Document doc = Doc("alice");
  AddRandom("alice", doc.id, 2000);  // no WaitForIndexing(): most rows are still pending
  ASSERT_TRUE(engine_->Close().ok());
  engine_.reset();
  std::vector<std::filesystem::path> graphs;
  for (const auto& entry :
       std::filesystem::directory_iterator(dir_.path() / "data" / "hnsw" / "tenants")) {
    graphs.push_back(entry.path());
  }
  ASSERT_EQ(graphs.size(), 1u);  // one graph: alice's
  // The graph points at the vectors in the segment files (they read as zeros here).
  auto loaded = hnsw::HnswIndex::Load(graphs[0].string(), {}, PosixFileSystem(),
                                      [](uint64_t) -> const float* { return nullptr; });
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->index->size(), 2000u);        // every row linked before the save
  EXPECT_EQ(loaded->index->owned_vectors(), 0u);  // and none of their vectors copied into it
}

TEST_F(VectorTest, CorruptOrMissingGraphIsRebuiltFromStorage) {
  const Document doc = Doc("alice");
  const auto vectors = AddRandom("alice", doc.id, 200);
  engine_->WaitForIndexing();
  engine_.reset();  // saves graphs
  const auto hnsw_dir = dir_.path() / "data" / "hnsw" / "tenants";
  size_t corrupted = 0;
  for (const auto& entry : std::filesystem::directory_iterator(hnsw_dir)) {
    std::fstream file(entry.path(), std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(100);
    file.put('\x5a');
    ++corrupted;
  }
  ASSERT_EQ(corrupted, 1u);
  ReopenSame();
  for (int i = 0; i < 200; i += 37)
    EXPECT_EQ(Search("alice", vectors[i], 1).hits[0].chunk_index, i);
  engine_->WaitForIndexing();
  EXPECT_EQ(engine_->ListPartitions()[0].pending_rows, 0);
}

TEST_F(VectorTest, DamagedGraphRecordsFoundAfterOpenAreRebuilt) {
  const Document doc = Doc("alice");
  const auto vectors = AddRandom("alice", doc.id, 300);
  engine_->WaitForIndexing();
  engine_.reset();  // saves graphs
  const auto hnsw_dir = dir_.path() / "data" / "hnsw" / "tenants";
  std::vector<std::filesystem::path> graphs;
  for (const auto& entry : std::filesystem::directory_iterator(hnsw_dir))
    graphs.push_back(entry.path());
  ASSERT_EQ(graphs.size(), 1u);
  // A byte in the node records (past the first page, before the range checksums): the open does
  // not read it, the indexer's check after the open does.
  const auto size = std::filesystem::file_size(graphs[0]);
  ASSERT_GT(size, 3 * 4096u);
  {
    std::fstream file(graphs[0], std::ios::in | std::ios::out | std::ios::binary);
    file.seekg(static_cast<std::streamoff>(size / 2));
    const char byte = static_cast<char>(file.get());
    file.seekp(static_cast<std::streamoff>(size / 2));
    file.put(static_cast<char>(byte ^ 0x21));
  }
  ASSERT_FALSE(hnsw::HnswIndex::Load(graphs[0].string(), {}, PosixFileSystem(),
                                     [](uint64_t) -> const float* { return nullptr; })
                   .ok());
  ReopenSame();
  engine_->WaitForIndexing();  // includes the check, and the rebuild it calls for
  for (int i = 0; i < 300; i += 37)
    EXPECT_EQ(Search("alice", vectors[i], 1).hits[0].chunk_index, i);
  engine_.reset();  // the rebuilt graph is saved: a sound file again
  auto reloaded = hnsw::HnswIndex::Load(graphs[0].string(), {}, PosixFileSystem(),
                                        [](uint64_t) -> const float* { return nullptr; });
  ASSERT_TRUE(reloaded.ok()) << reloaded.status().ToString();
  EXPECT_EQ(reloaded->index->size(), 300u);
}

TEST_F(VectorTest, DeletedRowsStayHiddenAcrossReopenAndRebuild) {
  const Document keep = Doc("alice");
  const Document drop = Doc("alice");
  const auto kept = AddRandom("alice", keep.id, 100);
  const auto dropped = AddRandom("alice", drop.id, 100);
  engine_->WaitForIndexing();
  ReopenSame();  // the saved graph holds the rows about to be deleted
  ASSERT_TRUE(engine_->HardDeleteDocument("alice", drop.id).ok());
  ReopenSame();
  for (int i = 0; i < 100; i += 9) {
    for (const auto& hit : Search("alice", dropped[i], 10).hits)
      EXPECT_EQ(hit.document_id, keep.id);
  }
  const auto before = engine_->ListPartitions();
  ASSERT_EQ(before.size(), 1u);
  ASSERT_TRUE(engine_->RebuildPartition(before[0].month).ok());
  const auto after = engine_->ListPartitions();
  EXPECT_EQ(after[0].deleted_in_index, 0);
  EXPECT_EQ(after[0].rows, 100);
  for (int i = 0; i < 100; i += 11) EXPECT_EQ(Search("alice", kept[i], 1).hits[0].chunk_index, i);
  EXPECT_STATUS(engine_->RebuildPartition("1999-01"), StatusCode::kNotFound, "");
}

}  // namespace
}  // namespace mnemo

namespace mnemo {
namespace {

class PartitionAdminTest : public VectorTest {};

TEST_F(PartitionAdminTest, ArchiveDropAndReattach) {
  const Document doc = Doc("alice");
  const Document bobs = Doc("bob");
  const Timestamp old_month = *ParseTimestamp("2025-01-20T00:00:00Z");
  const Timestamp new_month = *ParseTimestamp("2026-06-20T00:00:00Z");
  const auto old_vectors = AddRandom("alice", doc.id, 40, 0, old_month);
  AddRandom("alice", doc.id, 10, 100, new_month);
  AddRandom("bob", bobs.id, 5, 0, old_month);
  EXPECT_EQ(engine_->ListPartitions().size(), 2u);
  const std::string archive = dir_.Sub("2025-01.arc");

  EXPECT_EQ(Unwrap(engine_->ArchivePartition("2025-01", archive)), 45);
  EXPECT_EQ(Unwrap(engine_->DropPartition("2025-01")), 45);
  ASSERT_EQ(engine_->ListPartitions().size(), 1u);
  EXPECT_EQ(Unwrap(engine_->GetDocument("alice", doc.id)).total_chunks, 10);
  EXPECT_EQ(Unwrap(engine_->GetDocument("bob", bobs.id)).total_chunks, 0);
  for (const auto& hit : Search("alice", old_vectors[3], 20).hits) EXPECT_GE(hit.chunk_index, 100);

  // Bob's document goes away before the re-attach: his rows are skipped, Alice's return.
  ASSERT_TRUE(engine_->HardDeleteDocument("bob", bobs.id).ok());
  const AttachResult attached = Unwrap(engine_->AttachArchive(archive));
  EXPECT_EQ(attached.attached, 40);
  EXPECT_EQ(attached.skipped, 5);
  EXPECT_EQ(Unwrap(engine_->GetDocument("alice", doc.id)).total_chunks, 50);
  const SearchResponse back = Search("alice", old_vectors[3], 1);
  ASSERT_EQ(back.hits.size(), 1u);
  EXPECT_EQ(back.hits[0].chunk_index, 3);
  EXPECT_EQ(back.hits[0].created_at, old_month);
  // Attaching twice adds nothing: every slot is taken.
  EXPECT_EQ(Unwrap(engine_->AttachArchive(archive)).attached, 0);
}

TEST_F(PartitionAdminTest, BadArchivesAndMonthsAreRejected) {
  EXPECT_STATUS(engine_->ArchivePartition("2025-13", dir_.Sub("x")), StatusCode::kValidationError,
                "month");
  EXPECT_STATUS(engine_->DropPartition("January"), StatusCode::kValidationError, "month");
  EXPECT_STATUS(engine_->AttachArchive(dir_.Sub("missing.arc")), StatusCode::kNotFound, "");
  const Document doc = Doc("alice");
  AddRandom("alice", doc.id, 3, 0, *ParseTimestamp("2025-02-01T00:00:00Z"));
  const std::string archive = dir_.Sub("a.arc");
  ASSERT_TRUE(engine_->ArchivePartition("2025-02", archive).ok());
  {
    std::fstream file(archive, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(40);
    file.put('\x01');
  }
  auto corrupt = engine_->AttachArchive(archive);
  ASSERT_FALSE(corrupt.ok());
  EXPECT_NE(corrupt.status().message().find("checksum"), std::string_view::npos)
      << corrupt.status().ToString();
  std::ofstream(dir_.Sub("junk.arc")) << "not an archive";
  EXPECT_STATUS(engine_->AttachArchive(dir_.Sub("junk.arc")), StatusCode::kValidationError, "path");
  // An empty month archives to a valid, empty file.
  EXPECT_EQ(Unwrap(engine_->ArchivePartition("2001-01", dir_.Sub("empty.arc"))), 0);
  EXPECT_EQ(Unwrap(engine_->AttachArchive(dir_.Sub("empty.arc"))).attached, 0);
}

}  // namespace
}  // namespace mnemo

namespace mnemo {
namespace {

TEST_F(VectorTest, BackupIsAConsistentOpenableCopy) {
  const Conversation c = MakeConversation("alice", "backed up");
  Append("alice", c.id, "user", "hello", 3);
  const Document doc = Doc("alice");
  const auto vectors = AddRandom("alice", doc.id, 50);
  const std::string backup = dir_.Sub("backup");
  ASSERT_TRUE(engine_->CreateBackup(backup).ok());
  EXPECT_STATUS(engine_->CreateBackup(backup), StatusCode::kValidationError, "path");
  // Writes after the backup are not in it.
  Append("alice", c.id, "user", "after backup", 1);

  EngineOptions options;
  options.data_dir = backup;
  auto restored = Engine::Open(options);
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ((*restored)->dimension(), kDim);
  const Conversation copy = Unwrap((*restored)->GetConversation("alice", c.id));
  EXPECT_EQ(copy.message_count, 1);
  EXPECT_EQ(copy.total_tokens, 3);
  SearchRequest request;
  request.query = vectors[17];
  request.top_k = 1;
  const SearchResponse found = Unwrap((*restored)->Search("alice", request));
  ASSERT_EQ(found.hits.size(), 1u);
  EXPECT_EQ(found.hits[0].chunk_index, 17);
}

}  // namespace
}  // namespace mnemo

namespace mnemo {
namespace {

// An engine opened on inline vectors moves them to the segments at once, on the log's thread (here
// creating the first segment), and each move updates a graph.  A backup's copy also opens with rows
// to link, which its close links first: its moves and its close overlap.  The close must end the
// moves before the graphs go.  A race, so the test repeats it (without that order, about one round
// in ten aborts or, in the sanitizer builds, reports a use after free).
TEST_F(VectorTest, ClosingRightAfterOpenEndsTheVectorMovesFirst) {
  const Document doc = Doc("alice");
  std::vector<std::vector<float>> vectors;
  for (int round = 0; round < 20; ++round) {
    const auto added = AddRandom("alice", doc.id, 5, static_cast<int>(vectors.size()));
    vectors.insert(vectors.end(), added.begin(), added.end());  // fewer than a spill's worth
    const std::string backup = dir_.Sub("backup" + std::to_string(round));
    ASSERT_TRUE(engine_->CreateBackup(backup).ok());
    EngineOptions options;
    options.data_dir = backup;
    auto restored = Engine::Open(options);  // queues the inline vectors and starts moving them
    ASSERT_TRUE(restored.ok()) << restored.status().ToString();
    const int i = round * 3 % static_cast<int>(vectors.size());
    const SearchResponse found = Unwrap((*restored)->Search("alice", [&] {
      SearchRequest request;
      request.query = vectors[i];
      request.top_k = 1;
      return request;
    }()));
    ASSERT_EQ(found.hits.size(), 1u);
    EXPECT_EQ(found.hits[0].chunk_index, i);
  }  // each copy closes while its vectors move
}

TEST_F(VectorTest, TombstonesAboveTheThresholdAreCompactedInTheBackground) {
  const Document keep = Doc("alice");
  const Document drop = Doc("alice");
  const auto kept = AddRandom("alice", keep.id, 120);
  AddRandom("alice", drop.id, 80);
  engine_->WaitForIndexing();
  ASSERT_TRUE(engine_->HardDeleteDocument("alice", drop.id).ok());  // 40% of the graph
  ASSERT_EQ(engine_->ListPartitions()[0].deleted_in_index, 80);
  // The idle indexer rebuilds the graph; poll for it, bounded in time.
  int64_t deleted = -1;
  for (int attempt = 0; attempt < 100 && deleted != 0; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    deleted = engine_->ListPartitions()[0].deleted_in_index;
  }
  EXPECT_EQ(deleted, 0);
  EXPECT_EQ(engine_->ListPartitions()[0].rows, 120);
  for (int i = 0; i < 120; i += 13) EXPECT_EQ(Search("alice", kept[i], 1).hits[0].chunk_index, i);
}

// Graphs read the vectors in place, in the segment files: when compaction moves a record, its
// node follows; a removed segment's vectors are never read for a live row.
TEST_F(VectorTest, GraphsFollowVectorsThatCompactionMoves) {
  constexpr uint64_t kRecordBytes = 192;  // 32-byte header + 32 floats, on a cache line
  constexpr int kPerSegment = 64;
  EngineOptions options;
  options.dimension = kDim;
  options.vector_segment_bytes = kRecordBytes * kPerSegment;
  options.vector_inline_max_bytes = 0;  // every vector in the segments
  Reopen(options);
  const Document first = Doc("alice");
  const Document second = Doc("alice");
  const Document third = Doc("alice");
  AddRandom("alice", first.id, kPerSegment);                          // segment 1
  const auto kept = AddRandom("alice", second.id, kPerSegment);       // segment 2
  const auto others = AddRandom("alice", third.id, kPerSegment / 2);  // segment 3, active
  engine_->WaitForIndexing();
  const auto segment_files = [&] {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(dir_.Sub("data") + "/vectors"))
      names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  };
  ASSERT_EQ(segment_files().front(), "00000001.vseg");

  // Segment 1 empties; segment 2 keeps 24 of its 64 records, which moves them.
  ASSERT_TRUE(engine_->HardDeleteDocument("alice", first.id).ok());
  const ChunkPage page = Unwrap(engine_->ListChunks("alice", second.id));
  std::map<int64_t, Uuid> ids;
  for (const Chunk& chunk : page.items) ids[chunk.chunk_index] = chunk.id;
  ASSERT_EQ(ids.size(), static_cast<size_t>(kPerSegment));
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(engine_->DeleteChunk("alice", ids[i]).ok());
  bool compacted = false;
  for (int attempt = 0; attempt < 200 && !compacted; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const auto names = segment_files();
    compacted = std::find(names.begin(), names.end(), "00000001.vseg") == names.end() &&
                std::find(names.begin(), names.end(), "00000002.vseg") == names.end();
  }
  ASSERT_TRUE(compacted) << "segments 1 and 2 were not compacted away";

  const auto expect_exact = [&] {
    for (int i = 40; i < kPerSegment; ++i) {
      const SearchResponse response = Search("alice", kept[i], 1);
      ASSERT_EQ(response.hits.size(), 1u) << i;
      EXPECT_EQ(response.hits[0].chunk_index, i);
      EXPECT_NEAR(response.hits[0].similarity, 1.0f, 1e-5) << i;
    }
    for (int i = 0; i < kPerSegment / 2; i += 5) {
      const SearchResponse response = Search("alice", others[i], 1);
      ASSERT_EQ(response.hits.size(), 1u) << i;
      EXPECT_NEAR(response.hits[0].similarity, 1.0f, 1e-5) << i;
    }
  };
  expect_exact();
  ASSERT_TRUE(engine_->Close().ok());
  Reopen(options);  // the saved graph finds the moved vectors where the rows point now
  EXPECT_EQ(engine_->ListPartitions()[0].pending_rows, 0);
  expect_exact();
}

}  // namespace
}  // namespace mnemo
