// Single-chunk operations through the Engine API: get, list, soft delete, restore, delete,
// replace, and their effect on search, total_chunks, partitions and reopen.
#include <gtest/gtest.h>

#include <set>

#include "testing/engine_fixture.h"

namespace mnemo {
namespace {

using testing::Unwrap;

constexpr uint32_t kDim = 16;

// The i-th basis vector: chunk i is the only exact match of query i.
std::vector<float> Basis(int i) {
  std::vector<float> v(kDim, 0.0f);
  v[static_cast<size_t>(i) % kDim] = 1.0f;
  return v;
}

class ChunkOpsTest : public testing::EngineTest {
 protected:
  void SetUp() override { ReopenSame(); }
  void ReopenSame() {
    EngineOptions options;
    options.dimension = kDim;
    Reopen(options);
  }

  // A document of `user` with `count` chunks; chunk i has embedding Basis(i).
  std::pair<Document, std::vector<Chunk>> DocWithChunks(const std::string& user, int count,
                                                        std::optional<Timestamp> created_at = {}) {
    const Document doc = MakeDocument(user);
    std::vector<NewChunk> chunks;
    for (int i = 0; i < count; ++i) chunks.push_back(NewChunkAt(doc.id, i, i, created_at));
    return {doc, Unwrap(engine_->AddChunks(user, chunks))};
  }

  static NewChunk NewChunkAt(const Uuid& document, int64_t index, int basis, std::optional<Timestamp> created_at = {}) {
    NewChunk chunk;
    chunk.document_id = document;
    chunk.chunk_index = index;
    chunk.chunk_text = "text " + std::to_string(index);
    chunk.embedding = Basis(basis);
    chunk.metadata = R"({"i":)" + std::to_string(index) + "}";
    chunk.created_at = created_at;
    return chunk;
  }

  // The chunk ids search returns for query Basis(i) with a threshold that only exact matches pass.
  std::set<Uuid> ExactHits(const std::string& user, int i) {
    SearchRequest request;
    request.query = Basis(i);
    request.top_k = 10;
    request.min_similarity = 0.99f;
    std::set<Uuid> ids;
    for (const auto& hit : Unwrap(engine_->Search(user, request)).hits) ids.insert(hit.chunk_id);
    return ids;
  }
};

TEST_F(ChunkOpsTest, ListAndGetInChunkIndexOrder) {
  auto [doc, chunks] = DocWithChunks("alice", 5);
  ChunkListOptions options;
  options.limit = 2;
  ChunkPage page = Unwrap(engine_->ListChunks("alice", doc.id, options));
  ASSERT_EQ(page.items.size(), 2u);
  EXPECT_EQ(page.total, 5);
  EXPECT_EQ(page.items[0].chunk_index, 0);
  EXPECT_EQ(page.items[1].chunk_text, "text 1");
  EXPECT_EQ(page.items[1].metadata, R"({"i":1})");
  EXPECT_FALSE(page.items[1].is_deleted);
  ASSERT_FALSE(page.next_cursor.empty());
  options.cursor = page.next_cursor;
  options.limit = 10;
  page = Unwrap(engine_->ListChunks("alice", doc.id, options));
  ASSERT_EQ(page.items.size(), 3u);
  EXPECT_EQ(page.items[0].chunk_index, 2);
  EXPECT_TRUE(page.next_cursor.empty());

  const Chunk got = Unwrap(engine_->GetChunk("alice", chunks[3].id));
  EXPECT_EQ(got.document_id, doc.id);
  EXPECT_EQ(got.chunk_index, 3);
  EXPECT_EQ(got.chunk_text, "text 3");
  EXPECT_EQ(got.created_at, chunks[3].created_at);

  // Bad input and other users.
  EXPECT_STATUS(engine_->GetChunk("bob", chunks[3].id), StatusCode::kNotFound, "");
  EXPECT_STATUS(engine_->GetChunk("alice", Uuid::Generate()), StatusCode::kNotFound, "");
  EXPECT_STATUS(engine_->ListChunks("bob", doc.id), StatusCode::kNotFound, "");
  EXPECT_STATUS(engine_->ListChunks("alice", Uuid::Generate()), StatusCode::kNotFound, "");
  options = {};
  options.limit = 0;
  EXPECT_STATUS(engine_->ListChunks("alice", doc.id, options), StatusCode::kValidationError, "limit");
  options.limit = kMaxChunkPageSize + 1;
  EXPECT_STATUS(engine_->ListChunks("alice", doc.id, options), StatusCode::kValidationError, "limit");
  options = {};
  options.skip = -1;
  EXPECT_STATUS(engine_->ListChunks("alice", doc.id, options), StatusCode::kValidationError, "skip");
  options = {};
  options.cursor = "zz";
  EXPECT_STATUS(engine_->ListChunks("alice", doc.id, options), StatusCode::kValidationError, "cursor");
  EXPECT_STATUS(engine_->GetChunk("", chunks[0].id), StatusCode::kValidationError, "user_id");
  // A soft-deleted document hides its chunks.
  Unwrap(engine_->SoftDeleteDocument("alice", doc.id));
  EXPECT_STATUS(engine_->GetChunk("alice", chunks[3].id), StatusCode::kNotFound, "");
  EXPECT_STATUS(engine_->ListChunks("alice", doc.id), StatusCode::kNotFound, "");
}

TEST_F(ChunkOpsTest, SoftDeleteHidesAndRestoreReturnsThroughGraphAndReopen) {
  auto [doc, chunks] = DocWithChunks("alice", 6);
  engine_->WaitForIndexing();  // the rows are in the graph, not only the fresh buffer
  ASSERT_EQ(ExactHits("alice", 2), std::set<Uuid>({chunks[2].id}));

  const Chunk deleted = Unwrap(engine_->SoftDeleteChunk("alice", chunks[2].id));
  EXPECT_TRUE(deleted.is_deleted);
  ASSERT_TRUE(deleted.deleted_at.has_value());
  EXPECT_TRUE(ExactHits("alice", 2).empty());
  // It no longer takes a top-k slot either: five live chunks answer a top-5 search.
  SearchRequest top5;
  top5.query = Basis(2);
  top5.top_k = 5;
  const SearchResponse five = Unwrap(engine_->Search("alice", top5));
  EXPECT_EQ(five.hits.size(), 5u);
  EXPECT_FALSE(five.fewer_than_top_k);
  EXPECT_EQ(Unwrap(engine_->GetDocument("alice", doc.id)).total_chunks, 5);
  EXPECT_STATUS(engine_->GetChunk("alice", chunks[2].id), StatusCode::kNotFound, "");
  const Chunk hidden = Unwrap(engine_->GetChunk("alice", chunks[2].id, /*include_deleted=*/true));
  EXPECT_TRUE(hidden.is_deleted);
  EXPECT_EQ(hidden.deleted_at, deleted.deleted_at);
  EXPECT_EQ(hidden.chunk_text, "text 2");
  EXPECT_EQ(Unwrap(engine_->ListChunks("alice", doc.id)).total, 5);
  EXPECT_EQ(Unwrap(engine_->ListChunks("alice", doc.id)).items.size(), 5u);
  ChunkListOptions all;
  all.include_deleted = true;
  const ChunkPage with_deleted = Unwrap(engine_->ListChunks("alice", doc.id, all));
  EXPECT_EQ(with_deleted.total, 6);
  ASSERT_EQ(with_deleted.items.size(), 6u);
  EXPECT_TRUE(with_deleted.items[2].is_deleted);
  // Its chunk_index stays taken; deleting again changes nothing; other users cannot touch it.
  EXPECT_STATUS(engine_->AddChunks("alice", {NewChunkAt(doc.id, 2, 9)}), StatusCode::kDuplicateRecord, "chunk_index");
  EXPECT_EQ(Unwrap(engine_->SoftDeleteChunk("alice", chunks[2].id)).deleted_at, deleted.deleted_at);
  EXPECT_EQ(Unwrap(engine_->GetDocument("alice", doc.id)).total_chunks, 5);
  EXPECT_STATUS(engine_->SoftDeleteChunk("bob", chunks[2].id), StatusCode::kNotFound, "");
  EXPECT_STATUS(engine_->RestoreChunk("bob", chunks[2].id), StatusCode::kNotFound, "");

  // Still hidden after a reopen; a second chunk is deleted after the reopen.
  ReopenSame();
  EXPECT_TRUE(ExactHits("alice", 2).empty());
  EXPECT_EQ(ExactHits("alice", 4), std::set<Uuid>({chunks[4].id}));
  Unwrap(engine_->SoftDeleteChunk("alice", chunks[4].id));
  EXPECT_TRUE(ExactHits("alice", 4).empty());

  const Chunk restored = Unwrap(engine_->RestoreChunk("alice", chunks[2].id));
  EXPECT_FALSE(restored.is_deleted);
  EXPECT_FALSE(restored.deleted_at.has_value());
  EXPECT_EQ(ExactHits("alice", 2), std::set<Uuid>({chunks[2].id}));
  EXPECT_EQ(Unwrap(engine_->GetDocument("alice", doc.id)).total_chunks, 5);
  EXPECT_EQ(Unwrap(engine_->RestoreChunk("alice", chunks[2].id)).chunk_index, 2);  // no-op
  engine_->WaitForIndexing();  // linked into the graph again, not only in the fresh buffer
  EXPECT_EQ(ExactHits("alice", 2), std::set<Uuid>({chunks[2].id}));
  ReopenSame();
  EXPECT_EQ(ExactHits("alice", 2), std::set<Uuid>({chunks[2].id}));
  EXPECT_TRUE(ExactHits("alice", 4).empty());
  Unwrap(engine_->RestoreChunk("alice", chunks[4].id));
  EXPECT_EQ(ExactHits("alice", 4), std::set<Uuid>({chunks[4].id}));
  EXPECT_EQ(Unwrap(engine_->GetDocument("alice", doc.id)).total_chunks, 6);
  EXPECT_EQ(Unwrap(engine_->GetChunk("alice", chunks[4].id)).chunk_text, "text 4");

  // A chunk of a soft-deleted document can be neither restored nor deleted one by one.
  Unwrap(engine_->SoftDeleteChunk("alice", chunks[1].id));
  Unwrap(engine_->SoftDeleteDocument("alice", doc.id));
  EXPECT_STATUS(engine_->RestoreChunk("alice", chunks[1].id), StatusCode::kNotFound, "");
  EXPECT_STATUS(engine_->DeleteChunk("alice", chunks[1].id), StatusCode::kNotFound, "");
}

TEST_F(ChunkOpsTest, DeleteForGoodFreesTheIndex) {
  auto [doc, chunks] = DocWithChunks("alice", 3);
  const Chunk gone = Unwrap(engine_->DeleteChunk("alice", chunks[1].id));
  EXPECT_EQ(gone.chunk_index, 1);
  EXPECT_STATUS(engine_->GetChunk("alice", chunks[1].id, true), StatusCode::kNotFound, "");
  EXPECT_STATUS(engine_->DeleteChunk("alice", chunks[1].id), StatusCode::kNotFound, "");
  EXPECT_TRUE(ExactHits("alice", 1).empty());
  EXPECT_EQ(Unwrap(engine_->GetDocument("alice", doc.id)).total_chunks, 2);
  // The index slot is free again.
  const Chunk again = Unwrap(engine_->AddChunks("alice", {NewChunkAt(doc.id, 1, 7)})).front();
  EXPECT_EQ(ExactHits("alice", 7), std::set<Uuid>({again.id}));
  // Deleting a soft-deleted chunk does not count it twice.
  Unwrap(engine_->SoftDeleteChunk("alice", chunks[2].id));
  EXPECT_EQ(Unwrap(engine_->GetDocument("alice", doc.id)).total_chunks, 2);
  Unwrap(engine_->DeleteChunk("alice", chunks[2].id));
  EXPECT_EQ(Unwrap(engine_->GetDocument("alice", doc.id)).total_chunks, 2);
  ChunkListOptions all;
  all.include_deleted = true;
  EXPECT_EQ(Unwrap(engine_->ListChunks("alice", doc.id, all)).total, 2);
  EXPECT_STATUS(engine_->DeleteChunk("bob", chunks[0].id), StatusCode::kNotFound, "");
  EXPECT_EQ(ExactHits("alice", 0), std::set<Uuid>({chunks[0].id}));
}

TEST_F(ChunkOpsTest, ReplaceChunksIsAtomic) {
  auto [doc, chunks] = DocWithChunks("alice", 3);
  Unwrap(engine_->SoftDeleteChunk("alice", chunks[2].id));

  // A bad replacement changes nothing.
  std::vector<NewChunk> bad = {NewChunkAt(doc.id, 0, 10), NewChunkAt(doc.id, 1, 11)};
  bad[1].embedding.pop_back();
  auto failed = engine_->ReplaceChunks("alice", doc.id, bad);
  EXPECT_STATUS(failed, StatusCode::kValidationError, "embedding");
  EXPECT_EQ(ExactHits("alice", 0), std::set<Uuid>({chunks[0].id}));
  EXPECT_TRUE(ExactHits("alice", 10).empty());
  EXPECT_EQ(Unwrap(engine_->GetDocument("alice", doc.id)).total_chunks, 2);
  std::vector<NewChunk> elsewhere = {NewChunkAt(Uuid::Generate(), 0, 10)};
  EXPECT_STATUS(engine_->ReplaceChunks("alice", doc.id, elsewhere), StatusCode::kValidationError, "document_id");
  EXPECT_STATUS(engine_->ReplaceChunks("bob", doc.id, {NewChunkAt(doc.id, 0, 10)}), StatusCode::kNotFound, "");

  // Chunk indexes of the old set (even soft-deleted ones) are free in the new one.
  std::vector<NewChunk> fresh = {NewChunkAt(doc.id, 0, 10), NewChunkAt(doc.id, 2, 12)};
  const std::vector<Chunk> added = Unwrap(engine_->ReplaceChunks("alice", doc.id, fresh));
  ASSERT_EQ(added.size(), 2u);
  EXPECT_TRUE(ExactHits("alice", 0).empty());
  EXPECT_EQ(ExactHits("alice", 10), std::set<Uuid>({added[0].id}));
  EXPECT_EQ(ExactHits("alice", 12), std::set<Uuid>({added[1].id}));
  EXPECT_EQ(Unwrap(engine_->GetDocument("alice", doc.id)).total_chunks, 2);
  ChunkListOptions all;
  all.include_deleted = true;
  const ChunkPage page = Unwrap(engine_->ListChunks("alice", doc.id, all));
  ASSERT_EQ(page.items.size(), 2u);
  EXPECT_EQ(page.items[1].chunk_index, 2);
  for (const Chunk& old : chunks) EXPECT_STATUS(engine_->GetChunk("alice", old.id, true), StatusCode::kNotFound, "");

  // Reusing a replaced chunk's id is allowed; an empty replacement removes every chunk.
  NewChunk reuse = NewChunkAt(doc.id, 0, 13);
  reuse.id = added[0].id;
  EXPECT_EQ(Unwrap(engine_->ReplaceChunks("alice", doc.id, {reuse})).front().id, added[0].id);
  EXPECT_TRUE(Unwrap(engine_->ReplaceChunks("alice", doc.id, {})).empty());
  EXPECT_EQ(Unwrap(engine_->GetDocument("alice", doc.id)).total_chunks, 0);
  EXPECT_TRUE(ExactHits("alice", 13).empty());
}

TEST_F(ChunkOpsTest, DocumentUpdateShowsInSearchAtOnce) {
  auto [doc, chunks] = DocWithChunks("alice", 2);
  engine_->WaitForIndexing();
  DocumentUpdate update;
  update.filename = "renamed.pdf";
  update.file_type = "pdf";
  Unwrap(engine_->UpdateDocument("alice", doc.id, update));
  SearchRequest request;
  request.query = Basis(1);
  request.top_k = 1;
  SearchResponse response = Unwrap(engine_->Search("alice", request));
  ASSERT_EQ(response.hits.size(), 1u);
  EXPECT_EQ(response.hits[0].filename, "renamed.pdf");
  request.filters.file_types = {"md"};
  EXPECT_TRUE(Unwrap(engine_->Search("alice", request)).hits.empty());
  request.filters.file_types = {"pdf"};
  EXPECT_EQ(Unwrap(engine_->Search("alice", request)).hits.size(), 1u);
  ReopenSame();
  response = Unwrap(engine_->Search("alice", request));
  ASSERT_EQ(response.hits.size(), 1u);
  EXPECT_EQ(response.hits[0].filename, "renamed.pdf");
}

TEST_F(ChunkOpsTest, DocumentHardDeleteAndPartitionDropTakeSoftDeletedChunks) {
  const Timestamp old_month = MonthStart(MonthOf(NowMicros()) - 3) + 1000;
  auto [doc, chunks] = DocWithChunks("alice", 3, old_month);
  Unwrap(engine_->SoftDeleteChunk("alice", chunks[0].id));
  const std::string month = MonthName(MonthOf(old_month));
  // Dropping the month removes live and soft-deleted rows alike.
  EXPECT_EQ(Unwrap(engine_->DropPartition(month)), 3);
  for (const Chunk& chunk : chunks) EXPECT_STATUS(engine_->GetChunk("alice", chunk.id, true), StatusCode::kNotFound, "");
  EXPECT_EQ(Unwrap(engine_->GetDocument("alice", doc.id)).total_chunks, 0);
  for (const auto& partition : engine_->ListPartitions()) EXPECT_NE(partition.month, month);

  auto [doc2, chunks2] = DocWithChunks("alice", 2);
  Unwrap(engine_->SoftDeleteChunk("alice", chunks2[1].id));
  ASSERT_TRUE(engine_->HardDeleteDocument("alice", doc2.id).ok());
  EXPECT_STATUS(engine_->GetChunk("alice", chunks2[1].id, true), StatusCode::kNotFound, "");
  // No purge-queue entry outlives its chunk.
  RetentionPolicy purge_all;
  purge_all.purge_after_seconds = 1;
  const RetentionReport report = Unwrap(engine_->ApplyRetention(purge_all, NowMicros() + 3600'000'000LL));
  EXPECT_EQ(report.chunks_purged, 0);
}

}  // namespace
}  // namespace mnemo
