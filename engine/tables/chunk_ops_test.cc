// Single-chunk operations through the Engine API: get, list, soft delete, restore, delete,
// replace, and their effect on search (vector, keyword, hybrid), total_chunks, partitions,
// retention and reopen.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "testing/engine_fixture.h"

namespace mnemo {
namespace {

using testing::Unwrap;

constexpr uint32_t kDim = 16;
constexpr int64_t kDay = int64_t{24} * 3600 * 1'000'000;

// The i-th basis vector: chunk i is the only exact match of query i.
std::vector<float> Basis(int i) { return testing::BasisVector(kDim, i); }

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

  static NewChunk NewChunkAt(const Uuid& document, int64_t index, int basis,
                             std::optional<Timestamp> created_at = {}) {
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
  EXPECT_STATUS(engine_->ListChunks("alice", doc.id, options), StatusCode::kValidationError,
                "limit");
  options.limit = kMaxChunkPageSize + 1;
  EXPECT_STATUS(engine_->ListChunks("alice", doc.id, options), StatusCode::kValidationError,
                "limit");
  options = {};
  options.skip = -1;
  EXPECT_STATUS(engine_->ListChunks("alice", doc.id, options), StatusCode::kValidationError,
                "skip");
  options = {};
  options.cursor = "zz";
  EXPECT_STATUS(engine_->ListChunks("alice", doc.id, options), StatusCode::kValidationError,
                "cursor");
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
  EXPECT_STATUS(engine_->AddChunks("alice", {NewChunkAt(doc.id, 2, 9)}),
                StatusCode::kDuplicateRecord, "chunk_index");
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
  EXPECT_STATUS(engine_->ReplaceChunks("alice", doc.id, elsewhere), StatusCode::kValidationError,
                "document_id");
  EXPECT_STATUS(engine_->ReplaceChunks("bob", doc.id, {NewChunkAt(doc.id, 0, 10)}),
                StatusCode::kNotFound, "");

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
  for (const Chunk& old : chunks)
    EXPECT_STATUS(engine_->GetChunk("alice", old.id, true), StatusCode::kNotFound, "");

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
  for (const Chunk& chunk : chunks)
    EXPECT_STATUS(engine_->GetChunk("alice", chunk.id, true), StatusCode::kNotFound, "");
  EXPECT_EQ(Unwrap(engine_->GetDocument("alice", doc.id)).total_chunks, 0);
  for (const auto& partition : engine_->ListPartitions()) EXPECT_NE(partition.month, month);

  auto [doc2, chunks2] = DocWithChunks("alice", 2);
  Unwrap(engine_->SoftDeleteChunk("alice", chunks2[1].id));
  ASSERT_TRUE(engine_->HardDeleteDocument("alice", doc2.id).ok());
  EXPECT_STATUS(engine_->GetChunk("alice", chunks2[1].id, true), StatusCode::kNotFound, "");
  // No purge-queue entry outlives its chunk.
  RetentionPolicy purge_all;
  purge_all.purge_after_seconds = 1;
  const RetentionReport report =
      Unwrap(engine_->ApplyRetention(purge_all, NowMicros() + 3600'000'000LL));
  EXPECT_EQ(report.chunks_purged, 0);
}

// ---- the keyword index --------------------------------------------------------------------
//
// What keyword and hybrid search return, and the index's own rows and postings (BM25's
// statistics), right after each operation and again after a reopen, which rebuilds the index
// from the stored terms.  Every text is distinct non-stop words, so a chunk holds exactly as
// many postings as it has words.
class ChunkTextTest : public ChunkOpsTest {
 protected:
  // Adds one chunk per text to `document` (chunk i of the call has embedding Basis(basis + i)).
  std::vector<Chunk> Add(const Uuid& document, const std::vector<std::string>& texts, int basis = 0,
                         std::optional<Timestamp> created_at = std::nullopt) {
    std::vector<NewChunk> chunks;
    for (size_t i = 0; i < texts.size(); ++i)
      chunks.push_back(Make(document, texts[i], basis + static_cast<int>(i), created_at));
    return Unwrap(engine_->AddChunks("alice", chunks));
  }

  NewChunk Make(const Uuid& document, const std::string& text, int basis,
                std::optional<Timestamp> created_at = std::nullopt) {
    NewChunk chunk;
    chunk.document_id = document;
    chunk.chunk_index = next_index_[document]++;
    chunk.chunk_text = text;
    chunk.embedding = Basis(basis);
    chunk.created_at = created_at;
    return chunk;
  }

  // Chunk ids keyword search returns for `query`.
  std::set<Uuid> TextHits(const std::string& query) {
    TextSearchRequest request;
    request.query = query;
    request.top_k = 50;
    std::set<Uuid> ids;
    for (const RankedHit& hit : Unwrap(engine_->SearchText("alice", request)).hits)
      ids.insert(hit.hit.chunk_id);
    return ids;
  }

  // Chunk ids hybrid search returns for `query` and embedding Basis(basis).
  std::set<Uuid> HybridHits(const std::string& query, int basis) {
    HybridSearchRequest request;
    request.query_text = query;
    request.query_embedding = Basis(basis);
    request.top_k = 50;
    std::set<Uuid> ids;
    for (const RankedHit& hit : Unwrap(engine_->SearchHybrid("alice", request)).hits)
      ids.insert(hit.hit.chunk_id);
    return ids;
  }

  // BM25's N for alice: her chunks with terms, as the text leg counts them.
  int64_t IndexedRows(const std::string& query = "zzzunknown") {
    TextSearchRequest request;
    request.query = query;
    request.top_k = 1;
    return Unwrap(engine_->SearchText("alice", request)).text.rows;
  }

  // The index holds exactly `rows` rows with `postings` postings: now (rows, stored bytes) and
  // after a reopen rebuilds it from the stored terms (rows, postings: no dead ones then).
  void ExpectIndexed(int64_t rows, int64_t postings, const std::string& when) {
    SCOPED_TRACE(when);
    std::optional<TextIndexInfo> info = engine_->TextIndexStats();
    ASSERT_TRUE(info.has_value());
    EXPECT_EQ(info->rows, rows);
    EXPECT_EQ(IndexedRows(), rows);
    EXPECT_EQ(info->stored_bytes == 0, rows == 0);
    const int64_t stored = info->stored_bytes;
    ReopenSame();
    info = engine_->TextIndexStats();
    EXPECT_EQ(info->rows, rows);
    EXPECT_EQ(info->postings, postings);
    EXPECT_EQ(info->stored_bytes, stored);
    EXPECT_EQ(IndexedRows(), rows);
  }

  std::map<Uuid, int64_t> next_index_;
};

TEST_F(ChunkTextTest, SoftDeleteTakesTermsOutAndRestorePutsThemBack) {
  const Document doc = MakeDocument("alice");
  const std::vector<Chunk> chunks = Add(doc.id, {"zebra quokka", "zebra lemur", "walrus"});
  ASSERT_EQ(TextHits("zebra"), (std::set<Uuid>{chunks[0].id, chunks[1].id}));

  Unwrap(engine_->SoftDeleteChunk("alice", chunks[0].id));
  EXPECT_EQ(TextHits("zebra"), (std::set<Uuid>{chunks[1].id}));
  EXPECT_TRUE(TextHits("quokka").empty());
  EXPECT_FALSE(HybridHits("quokka", 0).contains(chunks[0].id));
  // Out of the statistics too: the live rows score as if the chunk had never been written.
  ExpectIndexed(2, 3, "soft-deleted");
  EXPECT_TRUE(TextHits("quokka").empty());
  // Soft-deleting again changes nothing.
  Unwrap(engine_->SoftDeleteChunk("alice", chunks[0].id));
  ExpectIndexed(2, 3, "soft-deleted twice");

  Unwrap(engine_->RestoreChunk("alice", chunks[0].id));
  EXPECT_EQ(TextHits("quokka"), (std::set<Uuid>{chunks[0].id}));
  EXPECT_EQ(TextHits("zebra"), (std::set<Uuid>{chunks[0].id, chunks[1].id}));
  EXPECT_TRUE(HybridHits("quokka", 0).contains(chunks[0].id));
  ExpectIndexed(3, 5, "restored");
  EXPECT_EQ(TextHits("quokka"), (std::set<Uuid>{chunks[0].id}));
  // Restoring a live chunk adds nothing twice.
  Unwrap(engine_->RestoreChunk("alice", chunks[0].id));
  ExpectIndexed(3, 5, "restored twice");

  // A second round after the reopen: the restored row's new label is the one removed.
  Unwrap(engine_->SoftDeleteChunk("alice", chunks[0].id));
  EXPECT_TRUE(TextHits("quokka").empty());
  ExpectIndexed(2, 3, "soft-deleted again");
}

TEST_F(ChunkTextTest, DeleteForGoodRemovesTermsOfLiveAndSoftDeletedChunks) {
  const Document doc = MakeDocument("alice");
  const std::vector<Chunk> chunks = Add(doc.id, {"otter badger", "otter", "heron stork ibis"});
  Unwrap(engine_->DeleteChunk("alice", chunks[0].id));
  EXPECT_EQ(TextHits("otter"), (std::set<Uuid>{chunks[1].id}));
  EXPECT_TRUE(TextHits("badger").empty());
  EXPECT_FALSE(HybridHits("badger", 0).contains(chunks[0].id));
  ExpectIndexed(2, 4, "live chunk deleted");

  Unwrap(engine_->SoftDeleteChunk("alice", chunks[2].id));
  Unwrap(engine_->DeleteChunk("alice", chunks[2].id));
  EXPECT_TRUE(TextHits("heron").empty());
  ExpectIndexed(1, 1, "soft-deleted chunk deleted");
}

TEST_F(ChunkTextTest, ReplacedChunksAreFoundByTheirNewTextOnly) {
  const Document doc = MakeDocument("alice");
  const Document other = MakeDocument("alice");
  const std::vector<Chunk> kept = Add(other.id, {"granite basalt"}, 8);
  const std::vector<Chunk> old_chunks = Add(doc.id, {"marble quartz", "marble slate", "obsidian"});
  Unwrap(engine_->SoftDeleteChunk("alice", old_chunks[2].id));

  // A failed replacement leaves the old terms.
  std::vector<NewChunk> bad = {Make(doc.id, "pumice", 3), Make(doc.id, "pumice", 4)};
  bad[1].embedding.pop_back();
  EXPECT_STATUS(engine_->ReplaceChunks("alice", doc.id, bad), StatusCode::kValidationError,
                "embedding");
  EXPECT_TRUE(TextHits("pumice").empty());
  EXPECT_EQ(TextHits("marble").size(), 2u);
  ExpectIndexed(3, 6, "failed replacement");

  next_index_[doc.id] = 0;
  const std::vector<Chunk> fresh = Unwrap(engine_->ReplaceChunks(
      "alice", doc.id, {Make(doc.id, "pumice tuff", 3), Make(doc.id, "marble", 4)}));
  ASSERT_EQ(fresh.size(), 2u);
  EXPECT_EQ(TextHits("pumice"), (std::set<Uuid>{fresh[0].id}));
  EXPECT_EQ(TextHits("marble"), (std::set<Uuid>{fresh[1].id}));
  EXPECT_TRUE(TextHits("quartz slate obsidian").empty());
  const std::set<Uuid> hybrid = HybridHits("quartz slate marble", 0);
  for (const Chunk& old : old_chunks) EXPECT_FALSE(hybrid.contains(old.id));
  EXPECT_TRUE(hybrid.contains(fresh[1].id));
  ExpectIndexed(3, 5, "replaced");
  EXPECT_EQ(TextHits("pumice"), (std::set<Uuid>{fresh[0].id}));

  // Replacing with the same chunk id: the id is found by the new text, not the old.
  NewChunk same = Make(doc.id, "scoria", 5);
  same.chunk_index = 0;
  same.id = fresh[0].id;
  Unwrap(engine_->ReplaceChunks("alice", doc.id, {same}));
  EXPECT_EQ(TextHits("scoria"), (std::set<Uuid>{fresh[0].id}));
  EXPECT_TRUE(TextHits("pumice marble").empty());
  ExpectIndexed(2, 3, "replaced under the same id");

  Unwrap(engine_->ReplaceChunks("alice", doc.id, {}));
  EXPECT_TRUE(TextHits("scoria").empty());
  EXPECT_EQ(TextHits("granite"), (std::set<Uuid>{kept[0].id}));
  ExpectIndexed(1, 2, "replaced by nothing");
}

TEST_F(ChunkTextTest, DocumentEditsAndDeletesReachTheTextLeg) {
  const Document doc = MakeDocument("alice", "notes.md");
  const Document other = MakeDocument("alice", "other.md");
  const std::vector<Chunk> chunks = Add(doc.id, {"falcon kestrel", "falcon"});
  const std::vector<Chunk> others = Add(other.id, {"falcon osprey"}, 4);

  // An update changes what the text leg reports and filters on at once.
  DocumentUpdate update;
  update.filename = "birds.pdf";
  update.file_type = "pdf";
  Unwrap(engine_->UpdateDocument("alice", doc.id, update));
  TextSearchRequest request;
  request.query = "kestrel";
  const RankedSearchResponse renamed = Unwrap(engine_->SearchText("alice", request));
  ASSERT_EQ(renamed.hits.size(), 1u);
  EXPECT_EQ(renamed.hits[0].hit.filename, "birds.pdf");
  request.query = "falcon";
  request.filters.file_types = {"pdf"};
  std::set<Uuid> pdf;
  for (const RankedHit& hit : Unwrap(engine_->SearchText("alice", request)).hits)
    pdf.insert(hit.hit.chunk_id);
  EXPECT_EQ(pdf, (std::set<Uuid>{chunks[0].id, chunks[1].id}));
  ExpectIndexed(3, 5, "document updated");

  // A soft-deleted document's chunks are hidden but keep their terms (a restore needs none).
  Unwrap(engine_->SoftDeleteDocument("alice", doc.id));
  EXPECT_EQ(TextHits("falcon"), (std::set<Uuid>{others[0].id}));
  const std::set<Uuid> hybrid = HybridHits("kestrel", 0);
  EXPECT_FALSE(hybrid.contains(chunks[0].id));
  EXPECT_FALSE(hybrid.contains(chunks[1].id));
  ExpectIndexed(3, 5, "document soft-deleted");
  EXPECT_EQ(TextHits("falcon"), (std::set<Uuid>{others[0].id}));
  Unwrap(engine_->UndeleteDocument("alice", doc.id));
  EXPECT_EQ(TextHits("falcon").size(), 3u);

  // A hard delete takes the terms of its live and soft-deleted chunks.
  Unwrap(engine_->SoftDeleteChunk("alice", chunks[1].id));
  ASSERT_TRUE(engine_->HardDeleteDocument("alice", doc.id).ok());
  EXPECT_EQ(TextHits("falcon kestrel"), (std::set<Uuid>{others[0].id}));
  ExpectIndexed(1, 2, "document deleted for good");
}

TEST_F(ChunkTextTest, PurgedRowsLeaveNoTerms) {
  const Document doc = MakeDocument("alice");
  const Document hidden = MakeDocument("alice");
  const std::vector<Chunk> chunks = Add(doc.id, {"cobalt nickel", "cobalt", "zinc"});
  const std::vector<Chunk> hidden_chunks = Add(hidden.id, {"cobalt tin", "bismuth"}, 4);
  Unwrap(engine_->SoftDeleteChunk("alice", chunks[0].id));
  Unwrap(engine_->SoftDeleteChunk("alice", hidden_chunks[1].id));
  Unwrap(engine_->SoftDeleteDocument("alice", hidden.id));
  ExpectIndexed(3, 4, "before the purge");  // cobalt, zinc, and the hidden document's "cobalt tin"

  RetentionPolicy purge;
  purge.purge_after_seconds = 30 * 24 * 3600;
  // Not yet 30 days: nothing is purged, nothing changes.
  RetentionReport report = Unwrap(engine_->ApplyRetention(purge, NowMicros() + 29 * kDay));
  EXPECT_EQ(report.documents_purged + report.chunks_purged, 0);
  ExpectIndexed(3, 4, "purge before the purge age");

  report = Unwrap(engine_->ApplyRetention(purge, NowMicros() + 31 * kDay));
  EXPECT_EQ(report.documents_purged, 1);
  EXPECT_EQ(report.chunks_purged, 2);  // one of each document
  EXPECT_EQ(TextHits("cobalt nickel tin bismuth"), (std::set<Uuid>{chunks[1].id}));
  ExpectIndexed(2, 2, "purged");
  EXPECT_STATUS(engine_->UndeleteDocument("alice", hidden.id), StatusCode::kNotFound, "");
  EXPECT_EQ(TextHits("cobalt tin"), (std::set<Uuid>{chunks[1].id}));
}

TEST_F(ChunkTextTest, RetiredMonthsLeaveNoTermsAndAttachBringsThemBack) {
  const Timestamp now = NowMicros();
  const Timestamp old_month = MonthStart(MonthOf(now) - 3) + 1000;
  const Document doc = MakeDocument("alice");
  const std::vector<Chunk> old_chunks =
      Add(doc.id, {"copper brass", "copper", "bronze pewter"}, 0, old_month);
  const std::vector<Chunk> new_chunks = Add(doc.id, {"copper iron"}, 4);
  Unwrap(engine_->SoftDeleteChunk("alice", old_chunks[2].id));
  ExpectIndexed(3, 5, "before retirement");

  RetentionPolicy retire;
  retire.keep_months = 2;
  retire.archive_dir = dir_.Sub("archives");
  const RetentionReport report = Unwrap(engine_->ApplyRetention(retire, now));
  ASSERT_EQ(report.retired.size(), 1u);
  EXPECT_EQ(report.retired[0].rows, 3);
  EXPECT_EQ(TextHits("copper brass bronze"), (std::set<Uuid>{new_chunks[0].id}));
  EXPECT_FALSE(HybridHits("brass", 0).contains(old_chunks[0].id));
  ExpectIndexed(1, 2, "retired");

  // The archive holds the live rows; attaching it indexes their text again.
  ASSERT_EQ(Unwrap(engine_->AttachArchive(report.retired[0].archive_path)).attached, 2);
  EXPECT_EQ(TextHits("brass"), (std::set<Uuid>{old_chunks[0].id}));
  EXPECT_TRUE(TextHits("bronze").empty());
  ExpectIndexed(3, 5, "attached");
}

}  // namespace
}  // namespace mnemo
