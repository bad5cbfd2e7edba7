#include "text/analyzer.h"

#include <libstemmer.h>
#include <unicode/brkiter.h>
#include <unicode/normalizer2.h>
#include <unicode/ubrk.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <array>
#include <memory>

namespace mnemo::text {
namespace {

// English: the list Lucene's EnglishAnalyzer drops.  Chinese: structural particles, copula and
// conjunctions that ICU's dictionary segments as words of their own and that nearly every
// sentence holds.  Sorted (binary search).
constexpr std::array<std::string_view, 52> kStopwords = {
    "a",    "an",   "and",  "are",  "as",    "at",   "be",    "but",  "by",   "for",
    "if",   "in",   "into", "is",   "it",    "no",   "not",   "of",   "on",   "or",
    "such", "that", "the",  "their", "then", "there", "these", "they", "this", "to",
    "was",  "will", "with", "与",   "之",    "也",   "了",    "以及", "其",   "及",
    "和",   "在",   "就",   "并且", "或",    "把",   "是",    "的",   "着",   "而",
    "被",   "都",
};

static_assert(std::is_sorted(kStopwords.begin(), kStopwords.end()), "IsStopword binary-searches the list");

// Per-thread ICU and Snowball state: neither a BreakIterator nor an sb_stemmer may be shared.
struct ThreadState {
  std::unique_ptr<icu::BreakIterator> words;
  sb_stemmer* stemmer = nullptr;
  ~ThreadState() {
    if (stemmer != nullptr) sb_stemmer_delete(stemmer);
  }
};

Status Init(ThreadState* state) {
  UErrorCode error = U_ZERO_ERROR;
  state->words.reset(icu::BreakIterator::createWordInstance(icu::Locale::getRoot(), error));
  if (U_FAILURE(error) || !state->words) {
    return Status::Internal(std::string("ICU word break iterator: ") + u_errorName(error));
  }
  state->stemmer = sb_stemmer_new("english", "UTF_8");
  if (state->stemmer == nullptr) return Status::Internal("Snowball English stemmer unavailable");
  return Status::Ok();
}

// Cuts `term` to at most kMaxTermBytes without splitting a UTF-8 sequence.
void Truncate(std::string* term) {
  if (term->size() <= kMaxTermBytes) return;
  size_t end = kMaxTermBytes;
  while (end > 0 && (static_cast<uint8_t>((*term)[end]) & 0xC0) == 0x80) --end;
  term->resize(end);
}

}  // namespace

bool IsStopword(std::string_view term) {
  return std::binary_search(kStopwords.begin(), kStopwords.end(), term);
}

Status Analyze(std::string_view utf8, Analysis* out) {
  thread_local ThreadState state;
  if (!state.words) MNEMO_RETURN_IF_ERROR(Init(&state));

  UErrorCode error = U_ZERO_ERROR;
  const icu::Normalizer2* normalizer = icu::Normalizer2::getNFKCCasefoldInstance(error);
  if (U_FAILURE(error)) return Status::Internal(std::string("ICU NFKC_Casefold: ") + u_errorName(error));
  const icu::UnicodeString source =
      icu::UnicodeString::fromUTF8(icu::StringPiece(utf8.data(), static_cast<int32_t>(utf8.size())));
  icu::UnicodeString normalized = normalizer->normalize(source, error);
  if (U_FAILURE(error)) return Status::Internal(std::string("ICU normalization: ") + u_errorName(error));
  // The typographic apostrophe is the ASCII one for the stemmer ("it’s" stems like "it's").
  normalized.findAndReplace(icu::UnicodeString(static_cast<UChar>(0x2019)), icu::UnicodeString(u'\''));

  icu::BreakIterator& words = *state.words;
  words.setText(normalized);
  std::string token;
  int32_t start = words.first();
  for (int32_t end = words.next(); end != icu::BreakIterator::DONE; start = end, end = words.next()) {
    const int32_t rule = words.getRuleStatus();
    if (rule >= UBRK_WORD_NONE && rule < UBRK_WORD_NONE_LIMIT) continue;  // spaces, punctuation
    token.clear();
    normalized.tempSubStringBetween(start, end).toUTF8String(token);
    if (IsStopword(token)) {
      ++out->stopwords;
      continue;
    }
    if (rule >= UBRK_WORD_LETTER && rule < UBRK_WORD_LETTER_LIMIT) {
      const sb_symbol* stemmed = sb_stemmer_stem(state.stemmer, reinterpret_cast<const sb_symbol*>(token.data()),
                                                 static_cast<int>(token.size()));
      if (stemmed != nullptr) {
        token.assign(reinterpret_cast<const char*>(stemmed), static_cast<size_t>(sb_stemmer_length(state.stemmer)));
      }
      if (token.empty()) continue;
      if (IsStopword(token)) {  // "it's" -> "it"
        ++out->stopwords;
        continue;
      }
    }
    Truncate(&token);
    out->terms.push_back(token);
  }
  return Status::Ok();
}

}  // namespace mnemo::text
