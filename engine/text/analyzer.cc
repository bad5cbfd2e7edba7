#include "text/analyzer.h"

#include <libstemmer.h>
#include <unicode/brkiter.h>
#include <unicode/normalizer2.h>
#include <unicode/ubrk.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <array>
#include <memory>
#include <string>
#include <unordered_map>

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

constexpr size_t LongestStopword() {
  size_t longest = 0;
  for (const std::string_view word : kStopwords) longest = std::max(longest, word.size());
  return longest;
}
constexpr size_t kLongestStopword = LongestStopword();

// Words stemmed per thread before the cache starts over.  Text repeats a small vocabulary (a few
// thousand words cover most tokens), so nearly every word after the first few chunks is a hit,
// and Snowball costs several times a lookup.
constexpr size_t kStemCacheWords = 1 << 15;

// Per-thread ICU and Snowball state: neither a BreakIterator nor an sb_stemmer may be shared.
struct ThreadState {
  std::unique_ptr<icu::BreakIterator> words;
  sb_stemmer* stemmer = nullptr;
  std::unordered_map<std::string, std::string> stems;  // word -> Snowball's stem of it
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

// The stem of `word` (a token of letters), through the thread's cache.
const std::string& Stem(ThreadState& state, const std::string& word) {
  const auto found = state.stems.find(word);
  if (found != state.stems.end()) return found->second;
  if (state.stems.size() >= kStemCacheWords) state.stems.clear();
  std::string stem = word;
  const sb_symbol* stemmed = sb_stemmer_stem(state.stemmer, reinterpret_cast<const sb_symbol*>(word.data()),
                                             static_cast<int>(word.size()));
  if (stemmed != nullptr) {
    stem.assign(reinterpret_cast<const char*>(stemmed), static_cast<size_t>(sb_stemmer_length(state.stemmer)));
  }
  return state.stems.emplace(word, std::move(stem)).first->second;
}

}  // namespace

bool IsStopword(std::string_view term) {
  if (term.size() > kLongestStopword) return false;
  return std::binary_search(kStopwords.begin(), kStopwords.end(), term);
}

namespace {

ThreadState* State(Status* status) {
  thread_local ThreadState state;
  if (!state.words) *status = Init(&state);
  return status->ok() ? &state : nullptr;
}

// Stop words, stemming and truncation of one word token.  `letters`: the token is a word of
// letters (ICU's UBRK_WORD_LETTER), which is stemmed; numbers and ideographs are not.
void AddToken(ThreadState& state, std::string& token, bool letters, Analysis* out) {
  if (IsStopword(token)) {
    ++out->stopwords;
    return;
  }
  if (letters) {
    token = Stem(state, token);
    if (token.empty()) return;
    if (IsStopword(token)) {  // "it's" -> "it"
      ++out->stopwords;
      return;
    }
  }
  Truncate(&token);
  out->terms.push_back(token);
}

// ---- ASCII text without ICU ----
// For ASCII, NFKC_Casefold is ASCII lower-casing, and ICU's word rules (UAX #29) reduce to:
// letters, digits and '_' run together; '.', '\'' (and, between digits, ',' and ';') join the
// letters or the digits on both sides of them; every other character is a word of its own that
// is not indexed.  A token holding a letter is a word of letters, one of digits (and '_') a
// number.  internal::AnalyzeWithIcu is the reference: a test holds the two equal.

enum class AsciiClass : uint8_t { kOther, kLetter, kDigit, kConnector };

constexpr std::array<AsciiClass, 128> AsciiClasses() {
  std::array<AsciiClass, 128> classes{};
  for (int c = 'a'; c <= 'z'; ++c) classes[c] = AsciiClass::kLetter;
  for (int c = 'A'; c <= 'Z'; ++c) classes[c] = AsciiClass::kLetter;
  for (int c = '0'; c <= '9'; ++c) classes[c] = AsciiClass::kDigit;
  classes['_'] = AsciiClass::kConnector;
  classes['@'] = AsciiClass::kLetter;  // ICU's word rules count '@' as a letter
  return classes;
}
constexpr std::array<AsciiClass, 128> kAsciiClasses = AsciiClasses();

bool IsAscii(std::string_view text) {
  uint8_t any = 0;
  for (const char c : text) any |= static_cast<uint8_t>(c);
  return any < 0x80;
}

// True when the character at `i` (between text[i-1] and text[i+1]) joins its neighbours.
bool Joins(std::string_view text, size_t i) {
  if (i == 0 || i + 1 >= text.size()) return false;
  const char mid = text[i];
  const AsciiClass before = kAsciiClasses[static_cast<uint8_t>(text[i - 1])];
  const AsciiClass after = kAsciiClasses[static_cast<uint8_t>(text[i + 1])];
  if (before == AsciiClass::kLetter && after == AsciiClass::kLetter) return mid == '.' || mid == '\'';
  if (before == AsciiClass::kDigit && after == AsciiClass::kDigit) {
    return mid == '.' || mid == '\'' || mid == ',' || mid == ';';
  }
  return false;
}

void AnalyzeAscii(ThreadState& state, std::string_view text, Analysis* out) {
  std::string token;
  size_t i = 0;
  while (i < text.size()) {
    if (kAsciiClasses[static_cast<uint8_t>(text[i])] == AsciiClass::kOther) {
      ++i;
      continue;
    }
    token.clear();
    bool letters = false;
    bool digits = false;
    for (; i < text.size(); ++i) {
      const char c = text[i];
      const AsciiClass cls = kAsciiClasses[static_cast<uint8_t>(c)];
      if (cls == AsciiClass::kOther) {
        if (!Joins(text, i)) break;
        token.push_back(c);
        continue;
      }
      letters |= cls == AsciiClass::kLetter;
      digits |= cls == AsciiClass::kDigit;
      token.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
    }
    if (!letters && !digits && token.size() < 2) continue;  // a lone '_' is not a word
    AddToken(state, token, letters || !digits, out);
  }
}

Status AnalyzeIcuWith(ThreadState& state, std::string_view utf8, Analysis* out) {
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
    AddToken(state, token, rule >= UBRK_WORD_LETTER && rule < UBRK_WORD_LETTER_LIMIT, out);
  }
  return Status::Ok();
}

}  // namespace

Status Analyze(std::string_view utf8, Analysis* out) {
  Status status;
  ThreadState* state = State(&status);
  if (state == nullptr) return status;
  if (IsAscii(utf8)) {
    AnalyzeAscii(*state, utf8, out);
    return Status::Ok();
  }
  return AnalyzeIcuWith(*state, utf8, out);
}

namespace internal {

Status AnalyzeWithIcu(std::string_view utf8, Analysis* out) {
  Status status;
  ThreadState* state = State(&status);
  if (state == nullptr) return status;
  return AnalyzeIcuWith(*state, utf8, out);
}

}  // namespace internal

}  // namespace mnemo::text
