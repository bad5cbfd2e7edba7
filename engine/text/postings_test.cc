// Posting lists and block-max MaxScore top-k against brute force.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <span>

#include "text/postings.h"
#include "text/top_k.h"

namespace mnemo::text {
namespace {

TEST(PostingListTest, RoundTripsAcrossBlocks) {
  PostingList list;
  std::vector<std::pair<uint32_t, uint32_t>> expected;
  std::mt19937 rng(7);
  uint32_t doc = 0;
  for (int i = 0; i < 1000; ++i) {
    doc += 1 + rng() % (i % 3 == 0 ? 5000 : 3);
    const uint32_t tf = 1 + (rng() % 10 == 0 ? rng() % 300 : 0);
    list.Append(doc, tf, tf + rng() % 50);
    expected.emplace_back(doc, tf);
  }
  ASSERT_EQ(list.size(), expected.size());
  EXPECT_EQ(list.blocks().size(), (expected.size() + PostingList::kBlockSize - 1) / PostingList::kBlockSize);
  PostingCursor cursor(list);
  for (const auto& [d, tf] : expected) {
    ASSERT_EQ(cursor.doc(), d);
    ASSERT_EQ(cursor.tf(), tf);
    cursor.Next();
  }
  EXPECT_EQ(cursor.doc(), kEndDoc);
}

TEST(PostingListTest, AdvanceFindsTheFirstDocAtOrAfterTarget) {
  PostingList list;
  std::vector<uint32_t> docs;
  for (uint32_t d = 3; d < 100000; d += 7 + d % 13) {
    list.Append(d, 1, 10);
    docs.push_back(d);
  }
  std::mt19937 rng(11);
  for (int trial = 0; trial < 200; ++trial) {
    PostingCursor cursor(list);
    uint32_t target = 0;
    for (int step = 0; step < 20 && cursor.doc() != kEndDoc; ++step) {
      target += rng() % 3000;
      cursor.Advance(target);
      auto it = std::lower_bound(docs.begin(), docs.end(), std::max(target, 0u));
      // Advance never moves backwards: the expected doc is the first >= target.
      const uint32_t expected = it == docs.end() ? kEndDoc : *it;
      ASSERT_EQ(cursor.doc(), expected) << "target " << target;
    }
  }
}

TEST(PostingListTest, BlockBoundsCoverTheirPostings) {
  PostingList list;
  std::mt19937 rng(5);
  std::vector<std::pair<uint32_t, uint32_t>> lengths;
  for (uint32_t d = 0; d < 500; ++d) {
    const uint32_t tf = 1 + rng() % 4;
    const uint32_t length = tf + rng() % 100;
    list.Append(d, tf, length);
    lengths.emplace_back(tf, length);
  }
  // Every posting is matched or beaten (tf >= and length <=) by an impact of its block and of
  // the list, and no impact beats another.
  const auto covered = [](std::span<const PostingList::Impact> impacts, uint32_t tf, uint32_t length) {
    for (const auto& impact : impacts) {
      if (impact.tf >= tf && impact.length <= length) return true;
    }
    return false;
  };
  for (size_t b = 0; b < list.blocks().size(); ++b) {
    const auto impacts = list.block_impacts(b);
    for (size_t i = b * PostingList::kBlockSize; i < std::min<size_t>(500, (b + 1) * PostingList::kBlockSize); ++i) {
      EXPECT_TRUE(covered(impacts, lengths[i].first, lengths[i].second)) << "posting " << i;
      EXPECT_TRUE(covered(list.impacts(), lengths[i].first, lengths[i].second)) << "posting " << i;
    }
    for (const auto& a : impacts) {
      bool is_posting = false;
      for (size_t i = b * PostingList::kBlockSize; i < std::min<size_t>(500, (b + 1) * PostingList::kBlockSize); ++i) {
        is_posting |= lengths[i].first == a.tf && lengths[i].second == a.length;
      }
      EXPECT_TRUE(is_posting);
      for (const auto& other : impacts) {
        if (&a != &other) {
          EXPECT_FALSE(other.tf >= a.tf && other.length <= a.length);
        }
      }
    }
  }
}

// A corpus of `docs` rows over a Zipf-like vocabulary, as posting lists and row lengths.
struct Corpus {
  std::map<int, PostingList> lists;
  std::map<int, std::map<uint32_t, uint32_t>> tfs;  // term -> doc -> tf
  std::vector<uint32_t> lengths;
  uint64_t total_length = 0;
};

Corpus MakeCorpus(uint32_t docs, int vocabulary, uint32_t seed) {
  Corpus corpus;
  std::mt19937 rng(seed);
  std::vector<double> weights;
  for (int t = 0; t < vocabulary; ++t) weights.push_back(1.0 / (t + 1));
  std::discrete_distribution<int> term(weights.begin(), weights.end());
  for (uint32_t d = 0; d < docs; ++d) {
    const int length = 5 + static_cast<int>(rng() % 60);
    std::map<int, uint32_t> counts;
    for (int i = 0; i < length; ++i) ++counts[term(rng)];
    corpus.lengths.push_back(static_cast<uint32_t>(length));
    corpus.total_length += static_cast<uint64_t>(length);
    for (const auto& [t, tf] : counts) {
      corpus.lists[t].Append(d, tf, static_cast<uint32_t>(length));
      corpus.tfs[t][d] = tf;
    }
  }
  return corpus;
}

// The live rows (length > 0) and their summed length.
std::pair<uint64_t, uint64_t> LiveRows(const Corpus& corpus) {
  uint64_t live = 0;
  uint64_t total = 0;
  for (uint32_t length : corpus.lengths) {
    if (length > 0) {
      ++live;
      total += length;
    }
  }
  return {live, total};
}

std::vector<ScoredDoc> BruteForce(const Corpus& corpus, const std::vector<int>& terms, size_t k,
                                  const Bm25Params& params, const std::function<bool(uint32_t)>& admit) {
  const auto [live, total] = LiveRows(corpus);
  const double avg = static_cast<double>(total) / static_cast<double>(live);
  std::map<uint32_t, double> scores;
  for (int t : terms) {
    uint64_t df = 0;
    for (const auto& [d, tf] : corpus.tfs.at(t)) df += corpus.lengths[d] > 0 ? 1 : 0;
    const double weight = Bm25TermWeight(live, df, params);
    for (const auto& [d, tf] : corpus.tfs.at(t)) {
      if (corpus.lengths[d] == 0) continue;
      scores[d] += Bm25Score(weight, tf, Bm25LengthNorm(corpus.lengths[d], avg, params));
    }
  }
  std::vector<ScoredDoc> all;
  for (const auto& [d, s] : scores) {
    if (admit(d)) all.push_back(ScoredDoc{d, s});
  }
  std::sort(all.begin(), all.end(),
            [](const ScoredDoc& a, const ScoredDoc& b) { return a.score != b.score ? a.score > b.score : a.doc < b.doc; });
  if (all.size() > k) all.resize(k);
  return all;
}

std::vector<ScoredDoc> RunTopK(const Corpus& corpus, const std::vector<int>& terms, size_t k, const Bm25Params& params,
                           const std::function<bool(uint32_t)>& admit, TopKStats* stats) {
  const auto [live, total] = LiveRows(corpus);
  std::vector<QueryTerm> query;
  for (int t : terms) {
    uint64_t df = 0;
    for (const auto& [d, tf] : corpus.tfs.at(t)) df += corpus.lengths[d] > 0 ? 1 : 0;
    query.push_back(QueryTerm{&corpus.lists.at(t), Bm25TermWeight(live, df, params)});
  }
  return TopK(query, k, corpus.lengths, static_cast<double>(total) / static_cast<double>(live), params, admit, stats);
}

void ExpectSameRanking(const std::vector<ScoredDoc>& expected, const std::vector<ScoredDoc>& actual) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_NEAR(actual[i].score, expected[i].score, 1e-9 * expected[i].score) << "rank " << i;
    EXPECT_EQ(actual[i].doc, expected[i].doc) << "rank " << i;
  }
}

TEST(TopKTest, MatchesBruteForceOnRandomQueries) {
  Corpus corpus = MakeCorpus(5000, 400, 3);
  std::mt19937 rng(9);
  const Bm25Params params;
  const auto all = [](uint32_t) { return true; };
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<int> terms;
    const int count = 1 + static_cast<int>(rng() % 5);
    for (int i = 0; i < count; ++i) {
      const int t = static_cast<int>(rng() % 400);
      if (corpus.tfs.contains(t) && std::find(terms.begin(), terms.end(), t) == terms.end()) terms.push_back(t);
    }
    if (terms.empty()) continue;
    const size_t k = 1 + rng() % 30;
    TopKStats stats;
    ExpectSameRanking(BruteForce(corpus, terms, k, params, all), RunTopK(corpus, terms, k, params, all, &stats));
  }
}

TEST(TopKTest, FiltersRemovedRowsAndOtherParameters) {
  Corpus corpus = MakeCorpus(3000, 200, 4);
  for (uint32_t d = 0; d < corpus.lengths.size(); d += 3) corpus.lengths[d] = 0;  // removed rows
  const auto odd = [](uint32_t doc) { return doc % 2 == 1; };
  for (const Bm25Params params : {Bm25Params{1.2, 0.75}, Bm25Params{2.0, 0.0}, Bm25Params{0.5, 1.0}}) {
    for (const std::vector<int>& terms : {std::vector<int>{0}, std::vector<int>{0, 1, 7}, std::vector<int>{3, 150}}) {
      TopKStats stats;
      ExpectSameRanking(BruteForce(corpus, terms, 10, params, odd), RunTopK(corpus, terms, 10, params, odd, &stats));
    }
  }
}

TEST(TopKTest, CommonTermsAreNotScoredInFull) {
  // Term 0 is in most rows; a few rows repeat it often, so the top 10 are found early and the
  // rest of the list is skipped by its block bounds.
  Corpus corpus = MakeCorpus(20000, 50, 8);
  const Bm25Params params;
  TopKStats stats;
  const auto all = [](uint32_t) { return true; };
  ExpectSameRanking(BruteForce(corpus, {0}, 10, params, all), RunTopK(corpus, {0}, 10, params, all, &stats));
  EXPECT_GT(stats.postings, 10000u);
  EXPECT_LT(stats.docs_scored * 2, stats.postings) << "scored " << stats.docs_scored << " of " << stats.postings;
  EXPECT_GT(stats.windows_skipped, 0u);

  TopKStats two;
  ExpectSameRanking(BruteForce(corpus, {0, 1}, 10, params, all), RunTopK(corpus, {0, 1}, 10, params, all, &two));
  EXPECT_LT(two.docs_scored * 2, two.postings) << "scored " << two.docs_scored << " of " << two.postings;
}

TEST(TopKTest, AdmitIsOnlyAskedAboutRowsThatWouldEnter) {
  Corpus corpus = MakeCorpus(20000, 50, 8);
  size_t asked = 0;
  TopKStats stats;
  RunTopK(corpus, {0}, 10, Bm25Params{}, [&](uint32_t) { return ++asked, true; }, &stats);
  EXPECT_LT(asked, stats.postings / 10);
}

}  // namespace
}  // namespace mnemo::text
