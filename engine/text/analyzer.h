// Analyzer: turns text into index terms, the same way for stored rows and for queries.
//
// Steps, in order:
//   1. Unicode normalization with case folding (ICU's NFKC_Casefold): full-width and
//      compatibility forms fold to their plain form ("Ｆｏｏ" -> "foo", "ﬁ" -> "fi"), case is
//      folded ("Straße" -> "strasse"), default-ignorable code points vanish.
//   2. Word segmentation (ICU word break, UAX #29): letters, numbers, kana and ideographs form
//      tokens; spaces and punctuation separate them.  Chinese and Japanese runs, which have no
//      spaces, are split into words by ICU's dictionary ("机器学习" -> "机器", "学习").
//   3. Stop words (a short English list and a few Chinese function words) are dropped.
//   4. Words of letters get the Snowball English stemmer ("searching" -> "search"); numbers,
//      ideographs and kana are kept as they are.
//   5. A term longer than kMaxTermBytes is cut at a character boundary to that length.
//
// The output defines what the stored index means: a change to any step changes the terms of
// queries but not those of rows already stored, so it needs a new analyzer version
// (kAnalyzerVersion, recorded with every stored row).
//
// ASCII text takes a shortcut that gives ICU's output without ICU, and so do the ASCII words of
// other text (cut from the rest where a space is followed by an ASCII character, a boundary for
// both of ICU's steps); both tested equal to ICU on random and real text.  Each thread remembers
// the outcome of the tokens it has seen (stop word, or which term), so a repeated word costs one
// hash probe.
//
// Thread-safety: thread-safe (each thread uses its own ICU break iterator, stemmer and cache).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mnemo/status.h"

namespace mnemo::text {

// FROZEN: stored with every row's postings; bump it (and re-index) when the output changes.
inline constexpr uint8_t kAnalyzerVersion = 1;
// Longest term, in bytes of UTF-8.
inline constexpr size_t kMaxTermBytes = 64;

struct Analysis {
  std::vector<std::string> terms;  // in text order, repeats included
  size_t stopwords = 0;            // tokens dropped as stop words
};

// Analyzes `utf8`, appending its terms to out->terms and adding its stop words to
// out->stopwords.  Invalid UTF-8 sequences are treated as U+FFFD (callers validate first and
// reject them with the field named).  INTERNAL_ERROR only if ICU fails.
Status Analyze(std::string_view utf8, Analysis* out);

// A text's terms as numbers in the calling thread's table of terms (AnalyzeNumbered).
struct TermNumbers {
  std::vector<uint32_t> numbers;  // in text order, repeats included
  // The table's state: within one thread, calls that give the same `table` number terms the
  // same way (the table starts over, under a new number, when it grows too large).
  uint64_t table = 0;
  size_t stopwords = 0;  // tokens dropped as stop words (added to)
};

// Analyze without copying the terms: replaces out->numbers and out->table.
Status AnalyzeNumbered(std::string_view utf8, TermNumbers* out);
// The term numbered `number` by this thread's last AnalyzeNumbered; valid until the thread's
// next call to an Analyze function.
std::string_view NumberedTerm(uint32_t number);

// True when `term` (already normalized) is a stop word.
bool IsStopword(std::string_view term);

namespace internal {
// Analyze without its ASCII shortcut: every text through ICU.  Tests hold Analyze equal to it.
Status AnalyzeWithIcu(std::string_view utf8, Analysis* out);
}  // namespace internal

}  // namespace mnemo::text
