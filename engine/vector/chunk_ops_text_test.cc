// The keyword index under single-chunk operations, document edits and retention: what keyword
// and hybrid search return, and the index's own rows and postings (BM25's statistics), right
// after each operation and again after a reopen, which rebuilds the index from the stored terms.
//
// Every text below is distinct non-stop words, so a chunk holds exactly as many postings as it
// has words.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "testing/engine_fixture.h"

namespace mnemo {
namespace {

using testing::Unwrap;

constexpr uint32_t kDim = 16;
constexpr int64_t kDay = int64_t{24} * 3600 * 1'000'000;

std::vector<float> Basis(int i) {
  std::vector<float> v(kDim, 0.0f);
  v[static_cast<size_t>(i) % kDim] = 1.0f;
  return v;
}

class ChunkTextTest : public testing::EngineTest {
 protected:
  void SetUp() override { ReopenSame(); }
  void ReopenSame() {
    EngineOptions options;
    options.dimension = kDim;
    Reopen(options);
  }

  // Adds one chunk per text to `document` (chunk i of the call has embedding Basis(basis + i)).
  std::vector<Chunk> Add(const Uuid& document, const std::vector<std::string>& texts, int basis = 0,
                         std::optional<Timestamp> created_at = std::nullopt) {
    std::vector<NewChunk> chunks;
    for (size_t i = 0; i < texts.size(); ++i) chunks.push_back(Make(document, texts[i], basis + static_cast<int>(i), created_at));
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
    for (const RankedHit& hit : Unwrap(engine_->SearchText("alice", request)).hits) ids.insert(hit.hit.chunk_id);
    return ids;
  }

  // Chunk ids hybrid search returns for `query` and embedding Basis(basis).
  std::set<Uuid> HybridHits(const std::string& query, int basis) {
    HybridSearchRequest request;
    request.query_text = query;
    request.query_embedding = Basis(basis);
    request.top_k = 50;
    std::set<Uuid> ids;
    for (const RankedHit& hit : Unwrap(engine_->SearchHybrid("alice", request)).hits) ids.insert(hit.hit.chunk_id);
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
  EXPECT_STATUS(engine_->ReplaceChunks("alice", doc.id, bad), StatusCode::kValidationError, "embedding");
  EXPECT_TRUE(TextHits("pumice").empty());
  EXPECT_EQ(TextHits("marble").size(), 2u);
  ExpectIndexed(3, 6, "failed replacement");

  next_index_[doc.id] = 0;
  const std::vector<Chunk> fresh =
      Unwrap(engine_->ReplaceChunks("alice", doc.id, {Make(doc.id, "pumice tuff", 3), Make(doc.id, "marble", 4)}));
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
  for (const RankedHit& hit : Unwrap(engine_->SearchText("alice", request)).hits) pdf.insert(hit.hit.chunk_id);
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
  const std::vector<Chunk> old_chunks = Add(doc.id, {"copper brass", "copper", "bronze pewter"}, 0, old_month);
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
