// Keyword and hybrid search through the Engine API: BM25 scores against a plain implementation
// written here and against Xapian's BM25Weight; Chinese, English and mixed text; per-user
// statistics; deletes, soft deletes, partitions (drop, archive, attach), reopen, filters,
// atomicity and bad input.
#include <gtest/gtest.h>
#include <xapian.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>

#include "storage/db.h"
#include "storage/key_codec.h"
#include "storage/write_txn.h"
#include "testing/engine_fixture.h"
#include "text/analyzer.h"
#include "text/bm25.h"

namespace mnemo {
namespace {

using testing::Unwrap;

constexpr uint32_t kDim = 8;

std::vector<float> RandomVector(std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> v(kDim);
  for (float& x : v) x = normal(rng);
  return v;
}

// A stored chunk as the reference implementations see it.
struct RefRow {
  Uuid chunk_id;
  std::map<std::string, uint32_t> tf;
  uint32_t length = 0;
};

RefRow Analyzed(const Uuid& id, const std::string& text) {
  text::Analysis analysis;
  EXPECT_TRUE(text::Analyze(text, &analysis).ok());
  RefRow row;
  row.chunk_id = id;
  for (const std::string& term : analysis.terms) ++row.tf[term];
  row.length = static_cast<uint32_t>(analysis.terms.size());
  return row;
}

struct RefHit {
  Uuid chunk_id;
  double score;
};

// BM25 as written in text/bm25.h, computed from scratch over `rows`.
std::vector<RefHit> PlainBm25(const std::vector<RefRow>& rows,
                              const std::vector<std::string>& terms, double k1, double b) {
  double n = 0;
  double total = 0;
  for (const RefRow& row : rows) {
    if (row.length == 0) continue;
    n += 1;
    total += row.length;
  }
  const double avgdl = total / n;
  std::vector<RefHit> hits;
  for (const RefRow& row : rows) {
    double score = 0;
    bool matched = false;
    for (const std::string& term : terms) {
      auto it = row.tf.find(term);
      if (it == row.tf.end()) continue;
      double df = 0;
      for (const RefRow& other : rows) df += other.tf.contains(term) ? 1 : 0;
      double w = (n - df + 0.5) / (df + 0.5);
      if (w < 2) w = w / 2 + 1;
      const double tf = it->second;
      score += std::log(w) * (k1 + 1) * tf / (tf + k1 * (1 - b + b * row.length / avgdl));
      matched = true;
    }
    if (matched) hits.push_back(RefHit{row.chunk_id, score});
  }
  std::sort(hits.begin(), hits.end(),
            [](const RefHit& a, const RefHit& b) { return a.score > b.score; });
  return hits;
}

// The same rows in a Xapian in-memory database, ranked by Xapian::BM25Weight(k1, 0, 0, b, 0).
std::vector<RefHit> XapianBm25(const std::vector<RefRow>& rows,
                               const std::vector<std::string>& terms, double k1, double b,
                               size_t k) {
  Xapian::WritableDatabase db(std::string(), Xapian::DB_BACKEND_INMEMORY);
  for (const RefRow& row : rows) {
    if (row.length == 0) continue;
    Xapian::Document doc;
    for (const auto& [term, tf] : row.tf) doc.add_term(term, tf);
    doc.set_data(std::string(row.chunk_id.bytes()));
    db.add_document(doc);
  }
  Xapian::Enquire enquire(db);
  enquire.set_query(Xapian::Query(Xapian::Query::OP_OR, terms.begin(), terms.end()));
  enquire.set_weighting_scheme(Xapian::BM25Weight(k1, 0, 0, b, 0));
  Xapian::MSet mset = enquire.get_mset(0, static_cast<Xapian::doccount>(k));
  std::vector<RefHit> hits;
  for (auto it = mset.begin(); it != mset.end(); ++it) {
    hits.push_back(RefHit{Uuid::FromBytes(it.get_document().get_data()), it.get_weight()});
  }
  return hits;
}

// Scores rank by rank within 1e-4 relative; the ids agree except among tied scores.
void ExpectSameHits(const std::vector<RefHit>& expected, const std::vector<RankedHit>& actual,
                    size_t k, const std::string& what) {
  const size_t n = std::min(expected.size(), k);
  ASSERT_EQ(actual.size(), n) << what;
  for (size_t i = 0; i < n; ++i) {
    EXPECT_NEAR(actual[i].score, expected[i].score, 1e-4 * expected[i].score)
        << what << " rank " << i;
    ASSERT_TRUE(actual[i].bm25.has_value());
    EXPECT_EQ(*actual[i].bm25, actual[i].score);
    const bool tied =
        (i > 0 && std::abs(expected[i - 1].score - expected[i].score) < 1e-9) ||
        (i + 1 < expected.size() && std::abs(expected[i + 1].score - expected[i].score) < 1e-9);
    if (!tied) {
      EXPECT_EQ(actual[i].hit.chunk_id, expected[i].chunk_id) << what << " rank " << i;
    }
  }
}

const std::vector<std::string> kEnglish = {
    "search",   "index",    "vector", "postgres", "latency", "throughput", "memory", "cluster",
    "replica",  "failover", "tenant", "month",    "archive", "compact",    "token",  "embedding",
    "server",   "client",   "python", "rocksdb",  "graph",   "beam",       "recall", "filter",
    "metadata", "document", "chunk",  "message",  "summary", "prompt",     "model",  "answer",
    "question", "context",  "budget", "window"};
const std::vector<std::string> kChinese = {"机器", "学习", "数据库", "向量",  "检索", "用户",
                                           "对话", "模型", "北京",   "大学",  "文档", "搜索",
                                           "性能", "延迟", "内存",   "服务器"};

// Text of `words` words drawn with Zipf-like weights from both vocabularies.
std::string RandomText(std::mt19937& rng, int words) {
  std::vector<double> weights;
  const size_t vocabulary = kEnglish.size() + kChinese.size();
  for (size_t i = 0; i < vocabulary; ++i) weights.push_back(1.0 / static_cast<double>(i + 1));
  std::discrete_distribution<size_t> pick(weights.begin(), weights.end());
  std::string text;
  for (int i = 0; i < words; ++i) {
    const size_t w = pick(rng);
    if (!text.empty()) text += ' ';
    text += w < kEnglish.size() ? kEnglish[w] : kChinese[w - kEnglish.size()];
    if (rng() % 7 == 0) text += rng() % 2 ? "," : " the";
  }
  return text;
}

class TextSearchTest : public testing::EngineTest {
 protected:
  void SetUp() override { ReopenSame(); }
  void ReopenSame() {
    EngineOptions options;
    options.dimension = kDim;
    options.bm25_k1 = k1_;
    options.bm25_b = b_;
    Reopen(options);
  }

  Document Doc(const std::string& user, const std::string& file_type = "md") {
    NewDocument input;
    input.filename = "doc." + file_type;
    input.file_type = file_type;
    return Unwrap(engine_->CreateDocument(user, input));
  }

  // Adds chunks with the given texts to `document`; returns their ids.
  std::vector<Uuid> Add(const std::string& user, const Uuid& document,
                        const std::vector<std::string>& texts,
                        std::optional<Timestamp> created_at = std::nullopt,
                        const std::string& metadata = "{}") {
    std::vector<NewChunk> chunks;
    for (const std::string& t : texts) {
      NewChunk chunk;
      chunk.document_id = document;
      chunk.chunk_index = next_index_[document]++;
      chunk.chunk_text = t;
      chunk.embedding = RandomVector(rng_);
      chunk.created_at = created_at;
      chunk.metadata = metadata;
      chunks.push_back(std::move(chunk));
    }
    std::vector<Uuid> ids;
    for (const Chunk& c : Unwrap(engine_->AddChunks(user, chunks))) ids.push_back(c.id);
    return ids;
  }

  RankedSearchResponse Text(const std::string& user, const std::string& query, int64_t top_k = 10,
                            SearchFilters filters = {}) {
    TextSearchRequest request;
    request.query = query;
    request.top_k = top_k;
    request.filters = std::move(filters);
    return Unwrap(engine_->SearchText(user, request));
  }

  std::vector<Uuid> Ids(const RankedSearchResponse& response) {
    std::vector<Uuid> ids;
    for (const RankedHit& hit : response.hits) ids.push_back(hit.hit.chunk_id);
    return ids;
  }

  double k1_ = 1.2;
  double b_ = 0.75;
  std::mt19937 rng_{42};
  std::map<Uuid, int64_t> next_index_;
};

// ---- scores against references ----------------------------------------------------------------

class Bm25ReferenceTest : public TextSearchTest,
                          public ::testing::WithParamInterface<std::pair<double, double>> {
 protected:
  void SetUp() override {
    k1_ = GetParam().first;
    b_ = GetParam().second;
    TextSearchTest::SetUp();
  }
};

TEST_P(Bm25ReferenceTest, ScoresMatchPlainBm25AndXapian) {
  // Alice: 1200 chunks over three documents; Bob: 800 chunks of the same vocabulary, which must
  // not move Alice's scores.
  std::vector<RefRow> alice_rows;
  for (int d = 0; d < 3; ++d) {
    const Document doc = Doc("alice");
    std::vector<std::string> texts;
    for (int i = 0; i < 400; ++i)
      texts.push_back(RandomText(rng_, 3 + static_cast<int>(rng_() % 80)));
    const std::vector<Uuid> ids = Add("alice", doc.id, texts);
    for (size_t i = 0; i < ids.size(); ++i) alice_rows.push_back(Analyzed(ids[i], texts[i]));
  }
  const Document bob_doc = Doc("bob");
  for (int batch = 0; batch < 2; ++batch) {
    std::vector<std::string> texts;
    for (int i = 0; i < 400; ++i)
      texts.push_back(RandomText(rng_, 1 + static_cast<int>(rng_() % 20)));
    Add("bob", bob_doc.id, texts);
  }

  std::vector<std::vector<std::string>> queries = {
      {"search"}, {"机器", "学习"}, {"window"}, {"search", "window"}};
  for (int q = 0; q < 30; ++q) {
    std::vector<std::string> words;
    const int count = 1 + static_cast<int>(rng_() % 4);
    for (int i = 0; i < count; ++i) {
      const size_t w = rng_() % (kEnglish.size() + kChinese.size());
      words.push_back(w < kEnglish.size() ? kEnglish[w] : kChinese[w - kEnglish.size()]);
    }
    queries.push_back(words);
  }
  for (const auto& words : queries) {
    std::string query;
    for (const auto& w : words) query += w + " ";
    const RankedSearchResponse response = Text("alice", query, 20);
    ASSERT_TRUE(response.text.ran);
    EXPECT_EQ(response.text.rows, static_cast<int64_t>(alice_rows.size()));
    EXPECT_LE(response.text.rows_scored, response.text.postings);
    const std::vector<std::string>& terms = response.text.terms;
    ExpectSameHits(PlainBm25(alice_rows, terms, k1_, b_), response.hits, 20, "plain: " + query);
    ExpectSameHits(XapianBm25(alice_rows, terms, k1_, b_, 20), response.hits, 20,
                   "xapian: " + query);
  }
}

INSTANTIATE_TEST_SUITE_P(Parameters, Bm25ReferenceTest,
                         ::testing::Values(std::make_pair(1.2, 0.75), std::make_pair(2.0, 0.3),
                                           std::make_pair(0.8, 1.0)));

TEST_F(TextSearchTest, OtherUsersRowsChangeNeitherScoresNorAnswers) {
  const Document doc = Doc("alice");
  Add("alice", doc.id,
      {"rocksdb compaction tuning", "rocksdb block cache", "graph search beam width"});
  const RankedSearchResponse before = Text("alice", "rocksdb cache");
  const Document bob_doc = Doc("bob");
  std::vector<std::string> texts(500, "rocksdb rocksdb cache cache cache");
  Add("bob", bob_doc.id, texts);
  const RankedSearchResponse after = Text("alice", "rocksdb cache");
  ASSERT_EQ(after.hits.size(), before.hits.size());
  for (size_t i = 0; i < after.hits.size(); ++i) {
    EXPECT_EQ(after.hits[i].hit.chunk_id, before.hits[i].hit.chunk_id);
    EXPECT_EQ(after.hits[i].score, before.hits[i].score);
  }
  EXPECT_EQ(after.text.rows, 3);
  EXPECT_EQ(after.text.postings, before.text.postings);
  // Bob's query sees only Bob's rows; a third user sees nothing and is told the terms are unknown.
  for (const RankedHit& hit : Text("bob", "rocksdb", 1000).hits)
    EXPECT_EQ(hit.hit.document_id, bob_doc.id);
  const RankedSearchResponse carol = Text("carol", "rocksdb cache");
  EXPECT_TRUE(carol.hits.empty());
  EXPECT_EQ(carol.text.unknown_terms, (std::vector<std::string>{"rocksdb", "cach"}));
}

// ---- languages --------------------------------------------------------------------------------

TEST_F(TextSearchTest, ChineseEnglishAndMixedText) {
  const Document doc = Doc("u");
  const std::vector<Uuid> ids = Add(
      "u", doc.id,
      {"我们在北京大学学习机器学习和深度学习。", "向量数据库的检索性能很重要",
       "Searching connections is slow", "Error ERR_CONNECTION_REFUSED when connecting to 10.0.0.1",
       "iPhone 15价格是多少？", "ＦＵＬＬ－ＷＩＤＴＨ text here", "日本語のテキストを検索する"});
  EXPECT_EQ(Ids(Text("u", "机器学习")).front(), ids[0]);
  EXPECT_EQ(Text("u", "机器学习").hits.front().hit.chunk_text,
            "我们在北京大学学习机器学习和深度学习。");
  EXPECT_EQ(Text("u", "机器学习").hits.front().hit.document_id, doc.id);
  EXPECT_EQ(Text("u", "机器学习").hits.front().hit.filename, doc.filename);
  EXPECT_EQ(Ids(Text("u", "北京大学")).front(), ids[0]);
  EXPECT_EQ(Ids(Text("u", "数据库检索")).front(), ids[1]);
  EXPECT_EQ(Ids(Text("u", "search connection")).front(), ids[2]);  // stemming both ways
  EXPECT_EQ(Ids(Text("u", "err_connection_refused")), (std::vector<Uuid>{ids[3]}));
  EXPECT_EQ(Ids(Text("u", "iphone 价格")).front(), ids[4]);
  EXPECT_EQ(Ids(Text("u", "full width")).front(), ids[5]);
  EXPECT_EQ(Ids(Text("u", "テキスト")).front(), ids[6]);
  // A query word found in no row.
  const RankedSearchResponse none = Text("u", "量子计算");
  EXPECT_TRUE(none.hits.empty());
  EXPECT_TRUE(none.text.ran);
  EXPECT_FALSE(none.text.unknown_terms.empty());
}

// ---- deletes and soft deletes -----------------------------------------------------------------

TEST_F(TextSearchTest, HardDeleteRemovesRowsAndTheirStatistics) {
  const Document keep = Doc("u");
  const Document gone = Doc("u");
  const std::vector<Uuid> kept =
      Add("u", keep.id, {"alpha beta", "alpha gamma delta", "beta beta"});
  const std::vector<Uuid> removed = Add("u", gone.id, {"alpha alpha alpha", "alpha beta"});
  ASSERT_EQ(Text("u", "alpha").hits.front().hit.chunk_id, removed[0]);
  ASSERT_TRUE(engine_->HardDeleteDocument("u", gone.id).ok());
  const std::vector<RefRow> rows = {Analyzed(kept[0], "alpha beta"),
                                    Analyzed(kept[1], "alpha gamma delta"),
                                    Analyzed(kept[2], "beta beta")};
  for (int round = 0; round < 2; ++round) {
    const RankedSearchResponse response = Text("u", "alpha beta");
    EXPECT_EQ(response.text.rows, 3);
    ExpectSameHits(PlainBm25(rows, response.text.terms, k1_, b_), response.hits, 10,
                   "after delete");
    ReopenSame();  // the same after the index is rebuilt from storage
  }
}

TEST_F(TextSearchTest, SoftDeletedDocumentsAreHiddenAndComeBack) {
  const Document live = Doc("u");
  const Document hidden = Doc("u");
  const std::vector<Uuid> live_ids = Add("u", live.id, {"tenant isolation", "tenant tenant"});
  const std::vector<Uuid> hidden_ids = Add("u", hidden.id, {"tenant tenant tenant tenant"});
  const RankedSearchResponse before = Text("u", "tenant");
  ASSERT_EQ(before.hits.front().hit.chunk_id, hidden_ids[0]);
  ASSERT_TRUE(engine_->SoftDeleteDocument("u", hidden.id).ok());
  const RankedSearchResponse during = Text("u", "tenant");
  EXPECT_EQ(Ids(during), (std::vector<Uuid>{live_ids[1], live_ids[0]}));
  // The hidden rows' postings stay (a restore needs no re-indexing) and still count in the
  // statistics: the live rows keep their scores.
  EXPECT_EQ(during.text.rows, 3);
  EXPECT_EQ(during.hits[0].score, before.hits[1].score);
  ASSERT_TRUE(engine_->UndeleteDocument("u", hidden.id).ok());
  EXPECT_EQ(Ids(Text("u", "tenant")), Ids(before));
}

// ---- partitions, reopen -----------------------------------------------------------------------

TEST_F(TextSearchTest, DropArchiveAndAttachCarryTheIndex) {
  const Document doc = Doc("u");
  const Timestamp january = *ParseTimestamp("2024-01-15T00:00:00Z");
  const Timestamp february = *ParseTimestamp("2024-02-15T00:00:00Z");
  const std::vector<Uuid> old_ids =
      Add("u", doc.id, {"archive quarterly report", "report draft"}, january);
  const std::vector<Uuid> new_ids = Add("u", doc.id, {"report final"}, february);
  EXPECT_EQ(Text("u", "report").hits.size(), 3u);
  SearchFilters february_only;
  february_only.created_from = february - 1;
  EXPECT_EQ(Ids(Text("u", "report", 10, february_only)), new_ids);

  const std::string archive = dir_.Sub("2024-01.archive");
  ASSERT_EQ(Unwrap(engine_->ArchivePartition("2024-01", archive)), 2);
  ASSERT_EQ(Unwrap(engine_->DropPartition("2024-01")), 2);
  RankedSearchResponse dropped = Text("u", "report");
  EXPECT_EQ(Ids(dropped), new_ids);
  EXPECT_EQ(dropped.text.rows, 1);
  EXPECT_TRUE(Text("u", "quarterly").hits.empty());

  ASSERT_EQ(Unwrap(engine_->AttachArchive(archive)).attached, 2);
  EXPECT_EQ(Ids(Text("u", "quarterly")), (std::vector<Uuid>{old_ids[0]}));
  EXPECT_EQ(Text("u", "report").text.rows, 3);
  ReopenSame();
  EXPECT_EQ(Ids(Text("u", "quarterly")), (std::vector<Uuid>{old_ids[0]}));
  EXPECT_EQ(Text("u", "report").hits.size(), 3u);
}

TEST_F(TextSearchTest, ReopenGivesTheSameAnswers) {
  for (int d = 0; d < 2; ++d) {
    const Document doc = Doc("u");
    std::vector<std::string> texts;
    for (int i = 0; i < 300; ++i)
      texts.push_back(RandomText(rng_, 5 + static_cast<int>(rng_() % 40)));
    Add("u", doc.id, texts);
  }
  const std::vector<std::string> queries = {"search", "机器 学习", "window budget context",
                                            "graph beam recall"};
  std::vector<RankedSearchResponse> before;
  for (const auto& q : queries) before.push_back(Text("u", q, 30));
  ReopenSame();
  for (size_t i = 0; i < queries.size(); ++i) {
    const RankedSearchResponse after = Text("u", queries[i], 30);
    ASSERT_EQ(after.hits.size(), before[i].hits.size());
    for (size_t j = 0; j < after.hits.size(); ++j) {
      EXPECT_EQ(after.hits[j].hit.chunk_id, before[i].hits[j].hit.chunk_id);
      EXPECT_DOUBLE_EQ(after.hits[j].score, before[i].hits[j].score);
      EXPECT_EQ(after.hits[j].hit.chunk_text, before[i].hits[j].hit.chunk_text);
      EXPECT_FALSE(after.hits[j].hit.chunk_text.empty());
    }
  }
}

// ---- filters ----------------------------------------------------------------------------------

TEST_F(TextSearchTest, FiltersApplyToTheTextLeg) {
  const Document md = Doc("u", "md");
  const Document pdf = Doc("u", "pdf");
  const std::vector<Uuid> md_ids =
      Add("u", md.id, {"latency budget", "latency latency"}, std::nullopt, R"({"lang":"en"})");
  const std::vector<Uuid> pdf_ids =
      Add("u", pdf.id, {"latency report"}, std::nullopt, R"({"lang":"de"})");
  SearchFilters by_type;
  by_type.file_types = {"pdf"};
  EXPECT_EQ(Ids(Text("u", "latency", 10, by_type)), pdf_ids);
  SearchFilters by_document;
  by_document.document_ids = {md.id};
  EXPECT_EQ(Ids(Text("u", "latency", 10, by_document)), (std::vector<Uuid>{md_ids[1], md_ids[0]}));
  SearchFilters by_metadata;
  by_metadata.metadata_equals = {{"lang", "\"de\""}};
  EXPECT_EQ(Ids(Text("u", "latency", 10, by_metadata)), pdf_ids);
  SearchFilters future;
  future.created_from = NowMicros() + 3'600'000'000;
  const RankedSearchResponse empty = Text("u", "latency", 10, future);
  EXPECT_TRUE(empty.hits.empty());
  EXPECT_TRUE(empty.fewer_than_top_k);
}

// ---- atomicity --------------------------------------------------------------------------------

TEST_F(TextSearchTest, AFailedWriteLeavesNoPostings) {
  const Document doc = Doc("u");
  Add("u", doc.id, {"anchor words"});
  NewChunk good;
  good.document_id = doc.id;
  good.chunk_index = 5;
  good.chunk_text = "phantom words";
  good.embedding = RandomVector(rng_);
  NewChunk bad = good;
  bad.chunk_index = 1;
  bad.embedding.assign(kDim, 0.0f);  // zero norm: the whole write fails
  EXPECT_FALSE(engine_->AddChunks("u", {good, bad}).ok());
  std::vector<WriteOp> ops = {AddChunkOp{good}, AddChunkOp{bad}};
  EXPECT_FALSE(engine_->ApplyBatch("u", ops).ok());
  // The chunk is staged (terms included) before a later op of the batch fails.
  NewMessage orphan;
  orphan.conversation_id = Uuid::Generate();
  orphan.role = "user";
  orphan.content = "no such conversation";
  ops = {AddChunkOp{good}, AppendMessageOp{orphan}};
  EXPECT_FALSE(engine_->ApplyBatch("u", ops).ok());
  const RankedSearchResponse response = Text("u", "phantom");
  EXPECT_TRUE(response.hits.empty());
  EXPECT_EQ(response.text.rows, 1);  // the anchor only
  EXPECT_EQ(response.text.unknown_terms, (std::vector<std::string>{"phantom"}));
  EXPECT_EQ(Text("u", "words").hits.size(), 1u);
  ReopenSame();
  EXPECT_TRUE(Text("u", "phantom").hits.empty());
  EXPECT_EQ(Text("u", "phantom").text.rows, 1);
  // The same chunk, written alone, is found.
  ASSERT_TRUE(engine_->AddChunks("u", {good}).ok());
  EXPECT_EQ(Text("u", "phantom").hits.size(), 1u);
  EXPECT_EQ(Text("u", "words").hits.size(), 2u);
}

TEST_F(TextSearchTest, LargeBatchesWithRetriedAndFailingChunksIndexEachRowOnce) {
  // Batches large enough for the texts to be analyzed on the index's thread while the rows are
  // staged: a retry of a stored batch with new chunks between its chunks, then a batch that
  // fails at its last chunk.
  const Document doc = Doc("u");
  std::vector<NewChunk> first;
  for (int i = 0; i < 200; ++i) {
    NewChunk chunk;
    chunk.id = Uuid::Generate();
    chunk.document_id = doc.id;
    chunk.chunk_index = 2 * i;
    chunk.chunk_text = "stored tag" + std::to_string(i);
    chunk.embedding = RandomVector(rng_);
    first.push_back(std::move(chunk));
  }
  ASSERT_TRUE(engine_->AddChunks("u", first).ok());
  std::vector<NewChunk> retry;
  for (int i = 0; i < 200; ++i) {
    retry.push_back(first[i]);
    NewChunk fresh = first[i];
    fresh.id.reset();
    fresh.chunk_index = 2 * i + 1;
    fresh.chunk_text = "fresh tag" + std::to_string(i);
    retry.push_back(std::move(fresh));
  }
  ASSERT_TRUE(engine_->AddChunks("u", retry).ok());
  EXPECT_EQ(Text("u", "stored", 1000).hits.size(), 200u);
  EXPECT_EQ(Text("u", "fresh", 1000).hits.size(), 200u);
  EXPECT_EQ(Text("u", "tag7", 10).hits.size(), 2u);  // the stored row and the fresh one

  std::vector<NewChunk> failing;
  for (int i = 0; i < 200; ++i) {
    NewChunk chunk = first[i];
    chunk.id.reset();
    chunk.chunk_index = 1000 + i;
    chunk.chunk_text = "phantom tag" + std::to_string(i);
    failing.push_back(std::move(chunk));
  }
  failing.back().embedding.assign(kDim, 0.0f);  // zero norm: the whole write fails
  EXPECT_FALSE(engine_->AddChunks("u", failing).ok());
  EXPECT_TRUE(Text("u", "phantom").hits.empty());
  failing.back().embedding = RandomVector(rng_);
  ASSERT_TRUE(engine_->AddChunks("u", failing).ok());
  EXPECT_EQ(Text("u", "phantom", 1000).hits.size(), 200u);
  ReopenSame();
  EXPECT_EQ(Text("u", "tag7", 10).hits.size(), 3u);
  EXPECT_EQ(Text("u", "fresh", 1000).hits.size(), 200u);
}

// ---- bad input --------------------------------------------------------------------------------

TEST_F(TextSearchTest, BadQueriesAreRejectedWithTheFieldNamed) {
  const Document doc = Doc("u");
  Add("u", doc.id, {"some text"});
  const auto search = [&](std::string query, int64_t top_k = 10) {
    TextSearchRequest request;
    request.query = std::move(query);
    request.top_k = top_k;
    return engine_->SearchText("u", request);
  };
  EXPECT_STATUS(search(""), StatusCode::kValidationError, "query");
  EXPECT_STATUS(search(" \t\n\u3000"), StatusCode::kValidationError, "query");
  EXPECT_STATUS(search("bad \xff\xfe utf8"), StatusCode::kValidationError, "query");
  EXPECT_STATUS(search(std::string(kMaxTextQueryBytes + 1, 'a')), StatusCode::kValidationError,
                "query");
  std::string many;
  for (size_t i = 0; i <= kMaxTextQueryTerms; ++i) many += "w" + std::to_string(i) + " ";
  EXPECT_STATUS(search(many), StatusCode::kValidationError, "query");
  EXPECT_STATUS(search("text", 0), StatusCode::kValidationError, "top_k");
  EXPECT_STATUS(search("text", kMaxTopK + 1), StatusCode::kValidationError, "top_k");
  EXPECT_STATUS(engine_->SearchText("", TextSearchRequest{"text", 10, {}}),
                StatusCode::kValidationError, "user_id");
  TextSearchRequest bad_filter{"text", 10, {}};
  bad_filter.filters.file_types = {"exe"};
  EXPECT_STATUS(engine_->SearchText("u", bad_filter), StatusCode::kValidationError,
                "filters.file_types");
  // At the limits: accepted.
  EXPECT_TRUE(search(std::string(kMaxTextQueryBytes, 'a')).ok());
  EXPECT_TRUE(search("text", kMaxTopK).ok());
}

TEST_F(TextSearchTest, StopWordsOnlyOrUnknownTermsGiveAnEmptyAnswerThatSaysSo) {
  const Document doc = Doc("u");
  Add("u", doc.id, {"the search of it"});
  const RankedSearchResponse stop = Text("u", "the of and 的");
  EXPECT_TRUE(stop.hits.empty());
  EXPECT_FALSE(stop.text.ran);
  EXPECT_TRUE(stop.text.terms.empty());
  EXPECT_EQ(stop.text.stopwords_ignored, 4);
  EXPECT_TRUE(stop.fewer_than_top_k);
  const RankedSearchResponse unknown = Text("u", "zebra quokka");
  EXPECT_TRUE(unknown.hits.empty());
  EXPECT_TRUE(unknown.text.ran);
  EXPECT_EQ(unknown.text.unknown_terms, (std::vector<std::string>{"zebra", "quokka"}));
  const RankedSearchResponse partly = Text("u", "zebra search");
  EXPECT_EQ(partly.hits.size(), 1u);
  EXPECT_EQ(partly.text.unknown_terms, (std::vector<std::string>{"zebra"}));
}

// ---- sizes and the switch ---------------------------------------------------------------------

TEST_F(TextSearchTest, IndexStatsCountRowsAndBytes) {
  const Document doc = Doc("u");
  const std::vector<Uuid> ids =
      Add("u", doc.id, {"alpha beta gamma", "alpha", "the of"});  // no terms in the last
  std::optional<TextIndexInfo> info = engine_->TextIndexStats();
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->rows, 2);
  EXPECT_EQ(info->terms, 3);
  EXPECT_EQ(info->postings, 4);
  EXPECT_GT(info->stored_bytes, 0);
  EXPECT_GT(info->memory_bytes, 0);
  const int64_t stored = info->stored_bytes;
  ASSERT_TRUE(engine_->HardDeleteDocument("u", doc.id).ok());
  info = engine_->TextIndexStats();
  EXPECT_EQ(info->rows, 0);
  EXPECT_EQ(info->stored_bytes, 0);
  ReopenSame();
  EXPECT_EQ(engine_->TextIndexStats()->rows, 0);
  EXPECT_GT(stored, 0);
}

TEST_F(TextSearchTest, ADamagedKeywordIndexFailsKeywordWorkNotTheRestOfTheStore) {
  const Document doc = Doc("u");
  Add("u", doc.id, {"alpha beta", "gamma"});
  engine_.reset();
  {
    storage::DbOptions options;
    options.path = dir_.Sub("data");
    auto db = storage::Db::Open(options);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    storage::WriteTxn txn(**db);
    txn.Put(storage::Cf::kIndex, keys::TextTermPrefix() + "delta", "\xff");  // cut short
    ASSERT_TRUE(txn.Commit().ok());
  }
  // The store opens (the keyword index loads beside it) and serves what does not need it.
  ReopenSame();
  SearchRequest vector;
  vector.query = RandomVector(rng_);
  EXPECT_EQ(Unwrap(engine_->Search("u", vector)).hits.size(), 2u);
  MakeConversation("u");
  // Keyword search and writes of keyword terms fail with the damage named; nothing is stored.
  const auto search = engine_->SearchText("u", TextSearchRequest{"alpha", 10, {}});
  ASSERT_FALSE(search.ok());
  EXPECT_EQ(search.status().code(), StatusCode::kInternalError);
  EXPECT_NE(search.status().message().find("keyword index did not load"), std::string_view::npos)
      << search.status().ToString();
  NewChunk chunk;
  chunk.document_id = doc.id;
  chunk.chunk_index = 99;
  chunk.chunk_text = "epsilon";
  chunk.embedding = RandomVector(rng_);
  EXPECT_STATUS(engine_->AddChunks("u", {chunk}), StatusCode::kInternalError, "");
  EXPECT_EQ(Unwrap(engine_->Search("u", vector)).hits.size(), 2u);
}

TEST_F(TextSearchTest, KeywordSearchOffAnswersUnavailable) {
  EngineOptions options;
  options.dimension = kDim;
  options.keyword_search = false;
  Reopen(options);
  const Document doc = Doc("u");
  Add("u", doc.id, {"alpha"});
  EXPECT_FALSE(engine_->TextIndexStats().has_value());
  EXPECT_STATUS(engine_->SearchText("u", TextSearchRequest{"alpha", 10, {}}),
                StatusCode::kUnavailable, "");
  HybridSearchRequest hybrid;
  hybrid.query_text = "alpha";
  hybrid.query_embedding = RandomVector(rng_);
  EXPECT_STATUS(engine_->SearchHybrid("u", hybrid), StatusCode::kUnavailable, "");
  // Vector search is unaffected.
  SearchRequest vector;
  vector.query = RandomVector(rng_);
  EXPECT_EQ(Unwrap(engine_->Search("u", vector)).hits.size(), 1u);
}

// ---- hybrid -----------------------------------------------------------------------------------

TEST_F(TextSearchTest, HybridFusesBothLegsByReciprocalRankOrWeights) {
  const Document doc = Doc("u");
  std::vector<std::string> texts;
  for (int i = 0; i < 200; ++i)
    texts.push_back(RandomText(rng_, 5 + static_cast<int>(rng_() % 30)));
  Add("u", doc.id, texts);
  const std::vector<float> embedding = RandomVector(rng_);
  const std::string query = "search window 机器";

  // The two legs on their own, as deep as the hybrid search asks them.
  const RankedSearchResponse text_leg = Text("u", query, 40);
  SearchRequest vector_request;
  vector_request.query = embedding;
  vector_request.top_k = 40;
  const SearchResponse vector_leg = Unwrap(engine_->Search("u", vector_request));
  std::map<Uuid, int> text_rank;
  std::map<Uuid, int> vector_rank;
  for (size_t i = 0; i < text_leg.hits.size(); ++i)
    text_rank[text_leg.hits[i].hit.chunk_id] = static_cast<int>(i + 1);
  for (size_t i = 0; i < vector_leg.hits.size(); ++i)
    vector_rank[vector_leg.hits[i].chunk_id] = static_cast<int>(i + 1);

  HybridSearchRequest request;
  request.query_text = query;
  request.query_embedding = embedding;
  request.top_k = 15;
  request.candidates = 40;
  const RankedSearchResponse rrf = Unwrap(engine_->SearchHybrid("u", request));
  ASSERT_EQ(rrf.hits.size(), 15u);
  EXPECT_TRUE(rrf.text.ran);
  EXPECT_TRUE(rrf.vector.ran);
  EXPECT_EQ(rrf.vector.candidates, 40);
  EXPECT_EQ(rrf.text.candidates, static_cast<int64_t>(text_leg.hits.size()));
  double previous = 1e9;
  for (const RankedHit& hit : rrf.hits) {
    const Uuid& id = hit.hit.chunk_id;
    double expected = 0;
    if (text_rank.contains(id)) expected += 1.0 / (60 + text_rank[id]);
    if (vector_rank.contains(id)) expected += 1.0 / (60 + vector_rank[id]);
    EXPECT_NEAR(hit.score, expected, 1e-12);
    EXPECT_EQ(hit.text_rank, text_rank.contains(id) ? text_rank[id] : 0);
    EXPECT_EQ(hit.vector_rank, vector_rank.contains(id) ? vector_rank[id] : 0);
    EXPECT_EQ(hit.bm25.has_value(), text_rank.contains(id));
    EXPECT_EQ(hit.similarity.has_value(), vector_rank.contains(id));
    EXPECT_FALSE(hit.hit.chunk_text.empty());
    EXPECT_LE(hit.score, previous);
    previous = hit.score;
  }
  // Every row in both legs' top 5 outranks every row in neither's top 15 ... and the best fused
  // row is at least as good as the best of either leg alone.
  const double best_single = 1.0 / 61;
  EXPECT_GE(rrf.hits.front().score, best_single);

  request.fusion = Fusion::kWeighted;
  request.text_weight = 1.0;  // the text leg alone decides
  const RankedSearchResponse text_only = Unwrap(engine_->SearchHybrid("u", request));
  for (size_t i = 0; i < 5; ++i)
    EXPECT_EQ(text_only.hits[i].hit.chunk_id, text_leg.hits[i].hit.chunk_id);
  request.text_weight = 0.0;  // the vector leg alone decides
  const RankedSearchResponse vector_only = Unwrap(engine_->SearchHybrid("u", request));
  for (size_t i = 0; i < 5; ++i)
    EXPECT_EQ(vector_only.hits[i].hit.chunk_id, vector_leg.hits[i].chunk_id);
  EXPECT_EQ(vector_only.fusion, Fusion::kWeighted);
}

TEST_F(TextSearchTest, HybridWithoutTextTermsIsTheVectorLegAndSaysSo) {
  const Document doc = Doc("u");
  Add("u", doc.id, {"one", "two", "three"});
  HybridSearchRequest request;
  request.query_text = "the of";
  request.query_embedding = RandomVector(rng_);
  request.top_k = 3;
  const RankedSearchResponse response = Unwrap(engine_->SearchHybrid("u", request));
  EXPECT_FALSE(response.text.ran);
  EXPECT_EQ(response.text.stopwords_ignored, 2);
  EXPECT_TRUE(response.vector.ran);
  EXPECT_EQ(response.hits.size(), 3u);
  for (const RankedHit& hit : response.hits) EXPECT_EQ(hit.text_rank, 0);
}

TEST_F(TextSearchTest, HybridBadInputNamesTheField) {
  const Document doc = Doc("u");
  Add("u", doc.id, {"some text"});
  HybridSearchRequest good;
  good.query_text = "text";
  good.query_embedding = RandomVector(rng_);
  EXPECT_TRUE(engine_->SearchHybrid("u", good).ok());
  const auto expect = [&](HybridSearchRequest request, const char* field) {
    EXPECT_STATUS(engine_->SearchHybrid("u", request), StatusCode::kValidationError, field);
  };
  HybridSearchRequest r = good;
  r.query_text = "  ";
  expect(r, "query_text");
  r = good;
  r.query_text = "\xc3\x28";
  expect(r, "query_text");
  r = good;
  r.query_embedding = {1, 2};
  expect(r, "query_embedding");
  r = good;
  r.query_embedding.assign(kDim, 0.0f);
  expect(r, "query_embedding");
  r = good;
  r.query_embedding[0] = std::nanf("");
  expect(r, "query_embedding");
  r = good;
  r.rrf_k = 0;
  expect(r, "rrf_k");
  r = good;
  r.text_weight = 1.5;
  expect(r, "text_weight");
  r = good;
  r.candidates = 5;  // below top_k
  expect(r, "candidates");
  r = good;
  r.candidates = kMaxTopK + 1;
  expect(r, "candidates");
  r = good;
  r.top_k = 0;
  expect(r, "top_k");
  r = good;
  r.fusion = static_cast<Fusion>(7);
  expect(r, "fusion");
  r = good;
  r.min_similarity = 2;
  expect(r, "min_similarity");
}

}  // namespace
}  // namespace mnemo
