// Top-k BM25 over a user's posting lists: block-max MaxScore (document at a time).
//
// Terms are ordered by their list-wide score bound.  Once k rows are held, the lightest terms
// whose bounds together cannot beat the k-th score are "non-essential": a row is only a
// candidate when an essential term holds it, and non-essential lists are only probed (with
// block skips) while the row can still make the top k.  Before a candidate is scored, the
// block bounds of the essential lists over the window up to their nearest block end are summed;
// when that cannot beat the k-th score, the whole window is skipped without decoding a score.
// The answer is exact: the same rows and scores as scoring every posting (ties at the k-th
// score excepted).
//
// Thread-safety: a pure function over borrowed lists that must not change during the call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "text/bm25.h"
#include "text/postings.h"

namespace mnemo::text {

struct QueryTerm {
  const PostingList* postings = nullptr;  // borrowed
  double weight = 0;                      // Bm25TermWeight of the term
};

struct ScoredDoc {
  uint32_t doc = 0;
  double score = 0;
};

struct TopKStats {
  uint64_t postings = 0;        // postings in the query's lists
  uint64_t docs_scored = 0;     // rows whose score was computed
  uint64_t windows_skipped = 0; // block windows passed over by their bounds
};

// The k best rows by BM25 among those holding any query term, best first (ties by lower doc).
// `lengths[doc]` is each row's term count; 0 marks a removed row, which never matches.
// `admit(doc)` filters rows and is called only for a row whose score would enter the top k.
std::vector<ScoredDoc> TopK(const std::vector<QueryTerm>& terms, size_t k, const std::vector<uint32_t>& lengths,
                            double avg_length, const Bm25Params& params,
                            const std::function<bool(uint32_t)>& admit, TopKStats* stats);

}  // namespace mnemo::text
