// The stored form of the keyword index: rows written in groups, groups rewritten when some of
// their rows go, and data written one row and one term per key (text row v1, before groups)
// still read, searched and removed.
#include "text/text_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "common/coding.h"
#include "storage/db.h"
#include "storage/key_codec.h"
#include "storage/write_txn.h"
#include "testing/temp_dir.h"
#include "text/analyzer.h"

namespace mnemo::text {
namespace {

using storage::Cf;

class TextIndexTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  void Open() {
    index_.reset();
    db_.reset();
    storage::DbOptions options;
    options.path = dir_.Sub("data");
    options.sync_writes = false;
    db_ = std::move(storage::Db::Open(options)).value();
    auto opened = TextIndex::Open(*db_, Bm25Params{});
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    index_ = std::move(opened).value();
  }

  void Add(const std::vector<TextRow>& rows, const std::string& user = "u") {
    storage::WriteTxn txn(*db_);
    ASSERT_TRUE(index_->StageAdd(txn, RowKind::kChunk, user, rows).ok());
    ASSERT_TRUE(txn.Commit().ok());
  }

  // The user's hits for `terms`, as (label, score) pairs ordered by label.
  std::vector<std::pair<uint64_t, double>> Hits(const std::string& user,
                                                const std::vector<std::string>& terms) {
    auto answer =
        index_->Search(RowKind::kChunk, user, terms, 100000, [](uint64_t) { return true; });
    EXPECT_TRUE(answer.ok());
    std::vector<std::pair<uint64_t, double>> hits;
    if (!answer.ok()) return hits;
    for (const TextHit& hit : answer->hits) hits.emplace_back(hit.label, hit.score);
    std::sort(hits.begin(), hits.end());
    return hits;
  }

  void Remove(const std::vector<RowRef>& rows) {
    storage::WriteTxn txn(*db_);
    ASSERT_TRUE(index_->StageRemove(txn, RowKind::kChunk, "u", rows).ok());
    ASSERT_TRUE(txn.Commit().ok());
  }

  // The labels of every row holding `term`, ascending.
  std::vector<uint64_t> Holding(const std::string& term) {
    auto answer =
        index_->Search(RowKind::kChunk, "u", {term}, 10000, [](uint64_t) { return true; });
    EXPECT_TRUE(answer.ok());
    std::vector<uint64_t> labels;
    for (const TextHit& hit : answer->hits) labels.push_back(hit.label);
    std::sort(labels.begin(), labels.end());
    return labels;
  }

  // Stored text row keys and dictionary keys.
  size_t CountKeys(const std::string& prefix) {
    size_t count = 0;
    storage::ScanRange range;
    range.prefix = prefix;
    EXPECT_TRUE(db_->Scan(Cf::kIndex, range,
                          [&](std::string_view, std::string_view) {
                            ++count;
                            return true;
                          })
                    .ok());
    return count;
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::Db> db_;
  std::unique_ptr<TextIndex> index_;
};

constexpr uint32_t kMonth = 202612;

TEST_F(TextIndexTest, ABatchIsStoredInGroupsThatShrinkAsRowsGo) {
  // 150 rows: "common" in all, "even" in even labels, "solo<label>" in each.
  std::vector<std::string> texts;
  for (uint64_t label = 1; label <= 150; ++label) {
    texts.push_back("common solo" + std::to_string(label) + (label % 2 == 0 ? " even" : ""));
  }
  std::vector<TextRow> rows;
  for (uint64_t label = 1; label <= 150; ++label)
    rows.push_back(TextRow{label, kMonth, texts[label - 1]});
  Add(rows);
  EXPECT_EQ(CountKeys(keys::TextRowPrefix()), 3u);   // 64 + 64 + 22 rows
  EXPECT_EQ(CountKeys(keys::TextTermPrefix()), 1u);  // the batch's new terms in one entry
  EXPECT_EQ(Holding("common").size(), 150u);

  // A group's first row, a middle row, and every row of the last group (labels 129..150).
  std::vector<RowRef> gone = {{kMonth, 1}, {kMonth, 70}};
  for (uint64_t label = 129; label <= 150; ++label) gone.push_back(RowRef{kMonth, label});
  Remove(gone);
  EXPECT_EQ(CountKeys(keys::TextRowPrefix()), 2u);
  const std::vector<uint64_t> common = Holding("common");
  EXPECT_EQ(common.size(), 150u - gone.size());
  EXPECT_TRUE(Holding("solo1").empty());
  EXPECT_EQ(Holding("solo2"), (std::vector<uint64_t>{2}));
  EXPECT_TRUE(Holding("solo70").empty());
  EXPECT_EQ(Holding("solo71"), (std::vector<uint64_t>{71}));

  // The groups as rewritten read back the same, stored size included; a later removal finds
  // its rows in them.
  const uint64_t stored = index_->Stats().stored_bytes;
  EXPECT_GT(stored, 0u);
  Open();
  EXPECT_EQ(index_->Stats().stored_bytes, stored);
  EXPECT_EQ(Holding("common"), common);
  EXPECT_EQ(Holding("solo71"), (std::vector<uint64_t>{71}));
  Remove({{kMonth, 2}, {kMonth, 3}, {kMonth, 71}});
  EXPECT_TRUE(Holding("solo2").empty());
  EXPECT_TRUE(Holding("solo71").empty());
  EXPECT_EQ(Holding("common").size(), common.size() - 3);
  EXPECT_EQ(index_->Stats().rows, common.size() - 3);

  std::vector<RowRef> rest;
  for (uint64_t label = 1; label <= 150; ++label) rest.push_back(RowRef{kMonth, label});
  Remove(rest);
  EXPECT_EQ(CountKeys(keys::TextRowPrefix()), 0u);
  EXPECT_EQ(index_->Stats().stored_bytes, 0u);
  Open();
  EXPECT_TRUE(Holding("common").empty());
}

// Texts with repeated, shared, rare and Chinese words, some with none at all.
std::vector<std::string> MixedTexts(size_t n, size_t salt) {
  std::vector<std::string> texts;
  for (size_t i = 0; i < n; ++i) {
    const size_t k = i + salt;
    std::string text = "common word" + std::to_string(k % 37) + " word" + std::to_string(k % 11) +
                       " row" + std::to_string(k);
    if (k % 3 == 0) text += " 机器学习 word" + std::to_string(k % 37);
    if (k % 5 == 0) text += " Searching SEARCHES searched";
    if (k % 7 == 0) text = "the of and";  // stop words only: no terms
    texts.push_back(std::move(text));
  }
  return texts;
}

TEST_F(TextIndexTest, LargeBatchesIndexAsTheirRowsOneByOne) {
  // "u" gets the rows in batches large enough to be analyzed on two threads, "v" one row per
  // write; twice, so that the second batches meet terms the threads have seen before.
  std::vector<std::string> texts = MixedTexts(300, 0);
  const std::vector<std::string> more = MixedTexts(300, 1000);
  texts.insert(texts.end(), more.begin(), more.end());
  for (size_t half = 0; half < 2; ++half) {
    std::vector<TextRow> batch;
    for (size_t i = half * 300; i < (half + 1) * 300; ++i) {
      batch.push_back(TextRow{i + 1, kMonth, texts[i]});
      Add({TextRow{i + 1, kMonth, texts[i]}}, "v");
    }
    Add(batch, "u");
  }
  size_t compared = 0;
  for (const char* term : {"common", "word3", "word5", "row17", "row1299", "机器", "search"}) {
    const auto batched = Hits("u", {term});
    EXPECT_FALSE(batched.empty()) << term;
    EXPECT_EQ(batched, Hits("v", {term})) << term;
    compared += batched.size();
  }
  EXPECT_GT(compared, 600u);
  EXPECT_EQ(Hits("u", {"word7", "row1007", "学习"}), Hits("v", {"word7", "row1007", "学习"}));
  Open();  // and as stored
  EXPECT_EQ(Hits("u", {"common", "word9"}), Hits("v", {"common", "word9"}));
}

TEST_F(TextIndexTest, AnalysisStartedAheadStagesTheRowsOfTheTextsTheyName) {
  // 300 texts analyzed ahead of their transaction (on the analysis thread too); only every
  // other one is staged, under labels in another order than the texts'.  "v" gets the same
  // rows one per write.
  const std::vector<std::string> texts = MixedTexts(300, 0);
  std::vector<std::string_view> views(texts.begin(), texts.end());
  std::shared_ptr<TextIndex::Analysis> analysis = index_->StartAnalysis(views);
  std::vector<TextRow> rows;
  std::vector<size_t> sources;
  for (size_t i = 0; i < texts.size(); i += 2) {
    const uint64_t label = 1000 - i;
    rows.push_back(TextRow{label, kMonth, texts[i]});
    sources.push_back(i);
    Add({TextRow{label, kMonth, texts[i]}}, "v");
  }
  {
    storage::WriteTxn txn(*db_);
    size_t stored = 0;
    ASSERT_TRUE(
        index_->StageAdd(txn, RowKind::kChunk, "u", rows, *analysis, sources, &stored).ok());
    ASSERT_TRUE(txn.Commit().ok());
    EXPECT_GT(stored, 100u);
  }
  for (const char* term : {"common", "word3", "row17", "row18", "row299", "机器", "search"}) {
    EXPECT_EQ(Hits("u", {term}), Hits("v", {term})) << term;
  }
  EXPECT_TRUE(Hits("u", {"row17"}).empty());  // an odd text: analyzed, never staged
  EXPECT_EQ(Hits("u", {"row18"}).size(), 1u);

  // A source out of range is refused, staging nothing.
  analysis = index_->StartAnalysis(views);
  storage::WriteTxn bad(*db_);
  const std::vector<size_t> out_of_range = {texts.size()};
  EXPECT_EQ(index_
                ->StageAdd(bad, RowKind::kChunk, "u", {TextRow{5000, kMonth, texts[0]}}, *analysis,
                           out_of_range)
                .code(),
            StatusCode::kInternalError);

  // An analysis dropped before staging (its writer failed) stops, and the next batch runs.
  analysis = index_->StartAnalysis(views);
  analysis.reset();
  Add({TextRow{2000, kMonth, "qqq word3"}});
  Add({TextRow{2000, kMonth, "qqq word3"}}, "v");
  EXPECT_EQ(Hits("u", {"qqq"}).size(), 1u);
  Open();  // and as stored
  EXPECT_EQ(Hits("u", {"common", "word9"}), Hits("v", {"common", "word9"}));
}

TEST_F(TextIndexTest, RemovingMostRowsRebuildsTheListsWithTheSameAnswers) {
  // "u" loses 400 of its 600 rows, more than enough dead rows to rebuild its lists; "v" only
  // ever held the 200 that stay.  Then both get the same new rows, terms old and new.
  const std::vector<std::string> texts = MixedTexts(600, 0);
  std::vector<TextRow> all;
  std::vector<TextRow> kept;
  std::vector<RowRef> gone;
  for (size_t i = 0; i < texts.size(); ++i) {
    const TextRow row{i + 1, kMonth, texts[i]};
    all.push_back(row);
    if (i % 3 == 0) {
      kept.push_back(row);
    } else {
      gone.push_back(RowRef{kMonth, row.label});
    }
  }
  Add(all, "u");
  const uint64_t u_postings = index_->Stats().postings;
  Add(kept, "v");
  const uint64_t v_postings = index_->Stats().postings - u_postings;
  Remove(gone);
  EXPECT_LT(index_->Stats().postings, u_postings + v_postings);  // rebuilt without dead ones
  const std::vector<TextRow> later = {{1001, kMonth, "common word3 fresh"},
                                      {1002, kMonth, "fresh 机器学习 row3"}};
  Add(later, "u");
  Add(later, "v");
  for (const std::vector<std::string>& terms : std::vector<std::vector<std::string>>{
           {"common"}, {"word3", "word5"}, {"row3"}, {"row4"}, {"机器"}, {"search"}, {"fresh"}}) {
    EXPECT_EQ(Hits("u", terms), Hits("v", terms)) << terms[0];
  }
  EXPECT_TRUE(Hits("u", {"row4"}).empty());
  EXPECT_EQ(Hits("u", {"fresh"}).size(), 2u);
}

TEST_F(TextIndexTest, ConcurrentLargeBatchesOfDifferentUsers) {
  // Three writers: at most one batch at a time gets the analysis thread, the others analyze alone.
  constexpr size_t kRounds = 6;
  constexpr size_t kRows = 200;
  std::vector<std::thread> writers;
  for (int w = 0; w < 3; ++w) {
    writers.emplace_back([this, w] {
      const std::string user = "w" + std::to_string(w);
      for (size_t round = 0; round < kRounds; ++round) {
        const std::vector<std::string> texts = MixedTexts(kRows, round * kRows);
        std::vector<TextRow> batch;
        for (size_t i = 0; i < kRows; ++i)
          batch.push_back(TextRow{round * kRows + i + 1, kMonth, texts[i]});
        storage::WriteTxn txn(*db_);
        EXPECT_TRUE(index_->StageAdd(txn, RowKind::kChunk, user, batch).ok());
        EXPECT_TRUE(txn.Commit().ok());
      }
    });
  }
  for (std::thread& writer : writers) writer.join();
  // Every row but the stop-word ones holds "common"; the users' rows are the same texts.
  const size_t rows = kRounds * kRows - (kRounds * kRows + 6) / 7;
  const auto first = Hits("w0", {"common", "row77", "机器"});
  EXPECT_EQ(Hits("w0", {"common"}).size(), rows);
  for (const char* user : {"w1", "w2"}) EXPECT_EQ(Hits(user, {"common", "row77", "机器"}), first);
}

TEST_F(TextIndexTest, RowsOfTwoMonthsGoToSeparateGroups) {
  Add({TextRow{1, kMonth, "alpha"}, TextRow{2, kMonth, "alpha beta"},
       TextRow{3, kMonth + 1, "alpha"}, TextRow{4, kMonth, "beta"}});
  EXPECT_EQ(CountKeys(keys::TextRowPrefix()), 3u);  // runs of one month
  Remove({{kMonth + 1, 3}});
  EXPECT_EQ(Holding("alpha"), (std::vector<uint64_t>{1, 2}));
  Open();
  EXPECT_EQ(Holding("alpha"), (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(Holding("beta"), (std::vector<uint64_t>{2, 4}));
}

// Text row v1 and one dictionary key per term, as earlier builds wrote them.
void PutOldRow(storage::WriteTxn& txn, uint64_t label,
               const std::vector<std::pair<uint32_t, uint32_t>>& terms) {
  std::string value(1, static_cast<char>(kAnalyzerVersion));
  uint32_t length = 0;
  for (const auto& [id, tf] : terms) length += tf;
  coding::PutVarint64(&value, length);
  coding::PutVarint64(&value, terms.size());
  uint32_t previous = 0;
  for (const auto& [id, tf] : terms) {
    coding::PutVarint64(&value, (static_cast<uint64_t>(id - previous) << 1) | (tf > 1 ? 1 : 0));
    if (tf > 1) coding::PutVarint64(&value, tf);
    previous = id;
  }
  txn.Put(Cf::kIndex, keys::TextRowKey(static_cast<uint8_t>(RowKind::kChunk), "u", kMonth, label),
          std::move(value));
}

void PutOldTerm(storage::WriteTxn& txn, const std::string& term, uint32_t id) {
  std::string value;
  coding::PutVarint64(&value, id);
  txn.Put(Cf::kIndex, keys::TextTermKey(term), std::move(value));
}

TEST_F(TextIndexTest, RowsAndTermsStoredOnePerKeyStillReadAndRemove) {
  {
    storage::WriteTxn txn(*db_);
    PutOldTerm(txn, "alpha", 1);
    PutOldTerm(txn, "beta", 2);
    PutOldRow(txn, 10, {{1, 2}});
    PutOldRow(txn, 11, {{1, 1}, {2, 1}});
    PutOldRow(txn, 12, {{2, 3}});
    ASSERT_TRUE(txn.Commit().ok());
  }
  Open();
  EXPECT_EQ(index_->Stats().terms, 2u);
  EXPECT_EQ(Holding("alpha"), (std::vector<uint64_t>{10, 11}));
  EXPECT_EQ(Holding("beta"), (std::vector<uint64_t>{11, 12}));

  // New rows beside the old ones reuse the old ids and add new terms after them.
  Add({TextRow{20, kMonth, "alpha gamma"}});
  EXPECT_EQ(index_->Stats().terms, 3u);
  EXPECT_EQ(Holding("alpha"), (std::vector<uint64_t>{10, 11, 20}));

  Remove({{kMonth, 11}});
  EXPECT_EQ(Holding("beta"), (std::vector<uint64_t>{12}));
  Open();
  EXPECT_EQ(index_->Stats().terms, 3u);
  EXPECT_EQ(Holding("alpha"), (std::vector<uint64_t>{10, 20}));
  EXPECT_EQ(Holding("beta"), (std::vector<uint64_t>{12}));
  EXPECT_EQ(Holding("gamma"), (std::vector<uint64_t>{20}));
  EXPECT_EQ(CountKeys(keys::TextRowPrefix()), 3u);  // 10, 12 and 20's group
}

TEST_F(TextIndexTest, ADamagedDictionaryFailsTheLoadAndEveryOperationOfALoadingIndex) {
  Add({TextRow{1, kMonth, "alpha beta"}});
  {
    storage::WriteTxn txn(*db_);
    txn.Put(Cf::kIndex, keys::TextTermPrefix() + "gamma", "\xff");  // a varint cut short
    ASSERT_TRUE(txn.Commit().ok());
  }
  index_.reset();
  // Opened and loaded at once: the open fails.
  auto opened = TextIndex::Open(*db_, Bm25Params{});
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kInternalError);
  EXPECT_NE(opened.status().message().find("keyword index did not load: corrupt text term entry"),
            std::string_view::npos)
      << opened.status().ToString();

  // Loading in the background: the open succeeds, every operation then reports the load's error.
  auto loading = TextIndex::OpenLoading(*db_, Bm25Params{});
  ASSERT_TRUE(loading.ok()) << loading.status().ToString();
  TextIndex& index = **loading;
  const auto damaged = [](const Status& status) {
    return status.code() == StatusCode::kInternalError &&
           status.message().find("corrupt text term entry") != std::string_view::npos;
  };
  auto search = index.Search(RowKind::kChunk, "u", {"alpha"}, 10, [](uint64_t) { return true; });
  ASSERT_FALSE(search.ok());
  EXPECT_TRUE(damaged(search.status())) << search.status().ToString();
  storage::WriteTxn txn(*db_);
  const Status added = index.StageAdd(txn, RowKind::kChunk, "u", {TextRow{2, kMonth, "alpha"}});
  EXPECT_TRUE(damaged(added)) << added.ToString();
  const Status removed = index.StageRemove(txn, RowKind::kChunk, "u", {{kMonth, 1}});
  EXPECT_TRUE(damaged(removed)) << removed.ToString();
  EXPECT_EQ(index.Stats().rows, 0u);
}

TEST_F(TextIndexTest, AnIndexLoadingInTheBackgroundAnswersAsOneLoadedAtOnce) {
  std::vector<TextRow> rows;
  std::vector<std::string> texts;
  for (uint64_t label = 1; label <= 500; ++label)
    texts.push_back("common word" + std::to_string(label % 37) + (label % 3 ? " third" : ""));
  for (uint64_t label = 1; label <= 500; ++label)
    rows.push_back(TextRow{label, kMonth, texts[label - 1]});
  Add(rows);
  const auto expected = Hits("u", {"common", "word5", "third"});
  index_.reset();
  auto loading = TextIndex::OpenLoading(*db_, Bm25Params{});
  ASSERT_TRUE(loading.ok()) << loading.status().ToString();
  index_ = std::move(loading).value();
  // A write right away waits for the load, then takes the next term ids.
  Add({TextRow{501, kMonth, "word5 fresh"}});
  auto after = Hits("u", {"common", "word5", "third"});
  ASSERT_EQ(after.size(), expected.size() + 1);
  EXPECT_EQ(after.back().first, 501u);
  EXPECT_EQ(Holding("fresh"), (std::vector<uint64_t>{501}));
  EXPECT_EQ(Holding("common").size(), 500u);
}

}  // namespace
}  // namespace mnemo::text
