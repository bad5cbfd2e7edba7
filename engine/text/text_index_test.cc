// The stored form of the keyword index: rows written in groups, groups rewritten when some of
// their rows go, and data written one row and one term per key (text row v1, before groups)
// still read, searched and removed.
#include "text/text_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
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

  void Add(const std::vector<TextRow>& rows) {
    storage::WriteTxn txn(*db_);
    ASSERT_TRUE(index_->StageAdd(txn, RowKind::kChunk, "u", rows).ok());
    ASSERT_TRUE(txn.Commit().ok());
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

}  // namespace
}  // namespace mnemo::text
