// BM25 (Robertson / Spärck Jones), the one formula every text score comes from.
//
//   score(d, q) = sum over distinct query terms t present in d of
//                 idf(t) * (k1 + 1) * tf / (tf + k1 * (1 - b + b * dl / avgdl))
//   idf(t)      = ln(w),  w = (N - df + 0.5) / (df + 0.5),  with w replaced by w / 2 + 1 when
//                 w < 2 (a term in more than about a third of the rows keeps a small positive
//                 weight instead of a negative one)
//
// N = the rows of the user (and row kind) that hold at least one term, df = those holding t,
// tf = t's occurrences in d, dl = d's term count, avgdl = the mean dl.  This is Xapian's
// BM25Weight with k2 = 0, k3 = 0 and min_normlen = 0, so Xapian reproduces it exactly.
//
// Thread-safety: pure functions and a value type.
#pragma once

#include <cmath>
#include <cstdint>

namespace mnemo::text {

struct Bm25Params {
  double k1 = 1.2;   // > 0: how much repeated occurrences add
  double b = 0.75;   // in [0, 1]: how strongly long rows are normalised
};

inline double Bm25Idf(uint64_t rows, uint64_t df) {
  double w = (static_cast<double>(rows) - static_cast<double>(df) + 0.5) / (static_cast<double>(df) + 0.5);
  if (w < 2) w = w * 0.5 + 1;
  return std::log(w);
}

// The per-query, per-term part of the score: idf * (k1 + 1).
inline double Bm25TermWeight(uint64_t rows, uint64_t df, const Bm25Params& params) {
  return Bm25Idf(rows, df) * (params.k1 + 1);
}

// Length normalisation of one row: k1 * (1 - b + b * dl / avgdl).
inline double Bm25LengthNorm(uint32_t length, double avg_length, const Bm25Params& params) {
  return params.k1 * (1 - params.b + params.b * static_cast<double>(length) / avg_length);
}

inline double Bm25Score(double term_weight, uint32_t tf, double length_norm) {
  return term_weight * static_cast<double>(tf) / (static_cast<double>(tf) + length_norm);
}

}  // namespace mnemo::text
