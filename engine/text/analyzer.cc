#include "text/analyzer.h"

#include <libstemmer.h>
#include <unicode/brkiter.h>
#include <unicode/normalizer2.h>
#include <unicode/ubrk.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "mnemo/result.h"
#include "text/string_table.h"

namespace mnemo::text {
namespace {

// English: the list Lucene's EnglishAnalyzer drops.  Chinese: structural particles, copula and
// conjunctions that ICU's dictionary segments as words of their own and that nearly every
// sentence holds.  Sorted (binary search).
constexpr std::array<std::string_view, 52> kStopwords = {
    "a",   "an",    "and",  "are",   "as",    "at",   "be",   "but", "by",  "for",  "if",
    "in",  "into",  "is",   "it",    "no",    "not",  "of",   "on",  "or",  "such", "that",
    "the", "their", "then", "there", "these", "they", "this", "to",  "was", "will", "with",
    "与",  "之",    "也",   "了",    "以及",  "其",   "及",   "和",  "在",  "就",   "并且",
    "或",  "把",    "是",   "的",    "着",    "而",   "被",   "都",
};

static_assert(std::is_sorted(kStopwords.begin(), kStopwords.end()),
              "IsStopword binary-searches the list");

constexpr size_t LongestStopword() {
  size_t longest = 0;
  for (const std::string_view word : kStopwords) longest = std::max(longest, word.size());
  return longest;
}
constexpr size_t kLongestStopword = LongestStopword();

// Distinct tokens a thread remembers the outcome of before its cache starts over (checked when an
// analysis starts).  Text repeats a small vocabulary (a few thousand words cover most tokens), so
// nearly every token after the first few chunks is a hit, and a hit costs one probe where a miss
// costs stop-word checks, Snowball and a copy.  Names, numbers and identifiers keep adding tokens
// (Debian's text: some 2000 new ones per 1000 chunks), and each start-over makes the next texts
// miss; 64k tokens cost a thread about 6 MB.
constexpr size_t kTokenCacheWords = 1 << 16;

// A cached token's outcome: a term (its number in ThreadState::terms) or one of these.
constexpr uint32_t kStopword = UINT32_MAX;
constexpr uint32_t kNoTerm = UINT32_MAX - 1;  // stemmed to nothing

// Token keys begin with one of these: whether the token is a word of letters (stemmed) or not.
constexpr char kLetterKey = 'L';
constexpr char kOtherKey = 'N';

// Per-thread ICU and Snowball state (neither a BreakIterator nor an sb_stemmer may be shared)
// and the token cache.
struct ThreadState {
  std::unique_ptr<icu::BreakIterator> words;
  sb_stemmer* stemmer = nullptr;
  StringTable tokens;             // kind key + token as segmented and folded; value: its outcome
  StringTable terms;              // the terms outcomes name
  std::string token;              // scratch: the key of the token being read (ICU)
  icu::UnicodeString normalized;  // scratch: the text ICU breaks into words
  struct Run {                    // a run of text that goes one way (AnalyzeMixed)
    uint32_t begin;
    uint32_t end;
    bool ascii;
    int32_t normalized_end;  // not ASCII: where its text ends in `normalized`
  };
  std::vector<Run> runs;  // scratch
  std::string keys;       // scratch: the keys of a text's tokens, one after another (ASCII)
  struct Key {
    uint32_t offset;  // in keys
    uint32_t length;
    uint64_t hash;
  };
  std::vector<Key> key_list;    // scratch: where each token's key is
  std::vector<uint32_t> found;  // scratch: the current text's terms, by number
  uint64_t table = 0;           // numbers the state of `terms` (NextTable)
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
  if (term.size() > kLongestStopword) return false;
  return std::binary_search(kStopwords.begin(), kStopwords.end(), term);
}

namespace {

// A number no thread's term table had before.
uint64_t NextTable() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

ThreadState& Thread() {
  thread_local ThreadState state;
  return state;
}

ThreadState* State(Status* status) {
  ThreadState& state = Thread();
  if (!state.words) {
    *status = Init(&state);
    state.table = NextTable();
  }
  if (!status->ok()) return nullptr;
  state.found.clear();
  if (state.tokens.size() >= kTokenCacheWords) {
    state.tokens.Clear();
    state.terms.Clear();
    state.table = NextTable();
  }
  return &state;
}

// Stop words, stemming and truncation of one token.  `letters`: the token is a word of letters
// (ICU's UBRK_WORD_LETTER), which is stemmed; numbers and ideographs are not.
uint32_t Outcome(ThreadState& state, std::string_view token, bool letters) {
  if (IsStopword(token)) return kStopword;
  std::string term(token);
  if (letters) {
    const sb_symbol* stemmed =
        sb_stemmer_stem(state.stemmer, reinterpret_cast<const sb_symbol*>(term.data()),
                        static_cast<int>(term.size()));
    if (stemmed != nullptr) {
      term.assign(reinterpret_cast<const char*>(stemmed),
                  static_cast<size_t>(sb_stemmer_length(state.stemmer)));
    }
    if (term.empty()) return kNoTerm;
    if (IsStopword(term)) return kStopword;  // "it's" -> "it"
  }
  Truncate(&term);
  bool added = false;
  return state.terms.Add(term, &added);
}

// Adds the token of key `key` (its kind key, then its bytes; `hash` = HashBytes(key)) to the
// text's terms or stop words.
void AddToken(ThreadState& state, std::string_view key, uint64_t hash, size_t* stopwords) {
  bool added = false;
  const uint32_t number = state.tokens.Add(key, hash, &added);
  if (added) {
    state.tokens.value(number) = Outcome(state, key.substr(1), key[0] == kLetterKey);
  }
  const uint32_t outcome = state.tokens.value(number);
  if (outcome == kStopword) {
    ++*stopwords;
  } else if (outcome != kNoTerm) {
    state.found.push_back(outcome);
  }
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
  if (before == AsciiClass::kLetter && after == AsciiClass::kLetter)
    return mid == '.' || mid == '\'';
  if (before == AsciiClass::kDigit && after == AsciiClass::kDigit) {
    return mid == '.' || mid == '\'' || mid == ',' || mid == ';';
  }
  return false;
}

// Reads every token first, then looks them up, so that the cache lines the lookups need are all
// being loaded at once rather than one after another.
void AnalyzeAscii(ThreadState& state, std::string_view text, size_t* stopwords) {
  // Each token's key is its bytes after one kind byte, and tokens are separated in the text, so
  // the keys fit in text.size() + 1 bytes.
  std::string& keys = state.keys;
  keys.resize(text.size() + 1);
  char* const out = keys.data();
  size_t size = 0;
  state.key_list.clear();
  size_t i = 0;
  while (i < text.size()) {
    if (kAsciiClasses[static_cast<uint8_t>(text[i])] == AsciiClass::kOther) {
      ++i;
      continue;
    }
    const size_t begin = size;
    out[size++] = kOtherKey;
    bool letters = false;
    bool digits = false;
    for (; i < text.size(); ++i) {
      const char c = text[i];
      const AsciiClass cls = kAsciiClasses[static_cast<uint8_t>(c)];
      if (cls == AsciiClass::kOther) {
        if (!Joins(text, i)) break;
        out[size++] = c;
        continue;
      }
      letters |= cls == AsciiClass::kLetter;
      digits |= cls == AsciiClass::kDigit;
      out[size++] = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    }
    if (!letters && !digits && size - begin < 3) {  // a lone '_' is not a word
      size = begin;
      continue;
    }
    if (letters || !digits) out[begin] = kLetterKey;
    const std::string_view key(out + begin, size - begin);
    const uint64_t hash = HashBytes(key);
    state.tokens.PrefetchSlot(hash);
    state.key_list.push_back(
        ThreadState::Key{static_cast<uint32_t>(begin), static_cast<uint32_t>(key.size()), hash});
  }
  for (const ThreadState::Key& key : state.key_list) state.tokens.PrefetchEntry(key.hash);
  for (const ThreadState::Key& key : state.key_list) {
    AddToken(state, std::string_view(out + key.offset, key.length), key.hash, stopwords);
  }
}

Status Normalizer(const icu::Normalizer2** normalizer) {
  UErrorCode error = U_ZERO_ERROR;
  *normalizer = icu::Normalizer2::getNFKCCasefoldInstance(error);
  if (U_FAILURE(error))
    return Status::Internal(std::string("ICU NFKC_Casefold: ") + u_errorName(error));
  return Status::Ok();
}

// Sets the thread's break iterator on state.normalized, after the step that follows
// normalization: the typographic apostrophe becomes the ASCII one for the stemmer ("it’s" stems
// like "it's").  *start and *end: the first word's bounds.
void StartWords(ThreadState& state, int32_t* start, int32_t* end) {
  state.normalized.findAndReplace(icu::UnicodeString(static_cast<UChar>(0x2019)),
                                  icu::UnicodeString(u'\''));
  icu::BreakIterator& words = *state.words;
  words.setText(state.normalized);
  *start = words.first();
  *end = words.next();
}

// Adds the words of state.normalized that start before `limit` (UTF-16 offset), resuming at the
// word [*start, *end) and leaving them at the first word not added.
void AddIcuWords(ThreadState& state, int32_t limit, int32_t* start, int32_t* end,
                 size_t* stopwords) {
  icu::BreakIterator& words = *state.words;
  std::string& token = state.token;
  for (; *end != icu::BreakIterator::DONE && *start < limit; *start = *end, *end = words.next()) {
    const int32_t rule = words.getRuleStatus();
    if (rule >= UBRK_WORD_NONE && rule < UBRK_WORD_NONE_LIMIT) continue;  // spaces, punctuation
    token.assign(
        1, rule >= UBRK_WORD_LETTER && rule < UBRK_WORD_LETTER_LIMIT ? kLetterKey : kOtherKey);
    state.normalized.tempSubStringBetween(*start, *end).toUTF8String(token);
    AddToken(state, token, HashBytes(token), stopwords);
  }
}

Status AnalyzeIcuWith(ThreadState& state, std::string_view utf8, size_t* stopwords) {
  const icu::Normalizer2* normalizer = nullptr;
  MNEMO_RETURN_IF_ERROR(Normalizer(&normalizer));
  const icu::UnicodeString source = icu::UnicodeString::fromUTF8(
      icu::StringPiece(utf8.data(), static_cast<int32_t>(utf8.size())));
  UErrorCode error = U_ZERO_ERROR;
  state.normalized = normalizer->normalize(source, error);
  if (U_FAILURE(error))
    return Status::Internal(std::string("ICU normalization: ") + u_errorName(error));
  int32_t start = 0;
  int32_t end = 0;
  StartWords(state, &start, &end);
  AddIcuWords(state, INT32_MAX, &start, &end, stopwords);
  return Status::Ok();
}

// ---- Text with ASCII words between others ----
// A space followed by an ASCII character is a boundary for both of ICU's steps, whatever
// surrounds it: every ASCII character starts a normalization segment (a test holds that true of
// NFKC_Casefold), and in the word rules (UAX #29) a space joins no neighbour but another space
// or a combining mark after it, and no rule looks past a space.  So the text is cut after such
// spaces, and its runs of ASCII words go the ASCII way.  The other runs go through ICU as one
// text, their pieces joined at the same kind of boundary (each run but the last ends with a
// space, each but the first starts with an ASCII character): one normalization and one break
// iteration for the whole text, their words taken in text order between the ASCII runs'.
// internal::AnalyzeWithIcu is the reference: a test holds the two equal.
Status AnalyzeMixed(ThreadState& state, std::string_view text, size_t* stopwords) {
  std::vector<ThreadState::Run>& runs = state.runs;
  runs.clear();
  bool high = false;  // the current piece holds a non-ASCII byte
  size_t begin = 0;
  for (size_t p = 0; p <= text.size(); ++p) {
    if (p < text.size() &&
        (p == 0 || text[p - 1] != ' ' || static_cast<uint8_t>(text[p]) >= 0x80)) {
      high |= static_cast<uint8_t>(text[p]) >= 0x80;
      continue;
    }
    if (p == begin) continue;
    if (!runs.empty() && runs.back().ascii == !high) {
      runs.back().end = static_cast<uint32_t>(p);
    } else {
      runs.push_back(
          ThreadState::Run{static_cast<uint32_t>(begin), static_cast<uint32_t>(p), !high, 0});
    }
    begin = p;
    high = p < text.size() && static_cast<uint8_t>(text[p]) >= 0x80;
  }
  if (runs.size() <= 1) return AnalyzeIcuWith(state, text, stopwords);

  const icu::Normalizer2* normalizer = nullptr;
  MNEMO_RETURN_IF_ERROR(Normalizer(&normalizer));
  state.normalized.remove();
  for (ThreadState::Run& run : runs) {
    if (run.ascii) continue;
    const icu::UnicodeString source = icu::UnicodeString::fromUTF8(
        icu::StringPiece(text.data() + run.begin, static_cast<int32_t>(run.end - run.begin)));
    UErrorCode error = U_ZERO_ERROR;
    normalizer->normalizeSecondAndAppend(state.normalized, source, error);
    if (U_FAILURE(error))
      return Status::Internal(std::string("ICU normalization: ") + u_errorName(error));
    run.normalized_end = state.normalized.length();
  }
  int32_t start = 0;
  int32_t end = 0;
  StartWords(state, &start, &end);
  for (const ThreadState::Run& run : runs) {
    if (run.ascii) {
      AnalyzeAscii(state, text.substr(run.begin, run.end - run.begin), stopwords);
    } else {
      AddIcuWords(state, run.normalized_end, &start, &end, stopwords);
    }
  }
  return Status::Ok();
}

void CopyTerms(const ThreadState& state, Analysis* out) {
  out->terms.reserve(out->terms.size() + state.found.size());
  for (const uint32_t number : state.found) out->terms.emplace_back(state.terms.at(number));
}

// Analyzes `utf8` into the calling thread's state (its terms in state->found), adding its stop
// words to *stopwords.
Result<ThreadState*> AnalyzeIntoState(std::string_view utf8, size_t* stopwords) {
  Status status;
  ThreadState* state = State(&status);
  if (state == nullptr) return status;
  if (IsAscii(utf8)) {
    AnalyzeAscii(*state, utf8, stopwords);
  } else {
    MNEMO_RETURN_IF_ERROR(AnalyzeMixed(*state, utf8, stopwords));
  }
  return state;
}

}  // namespace

Status AnalyzeNumbered(std::string_view utf8, TermNumbers* out) {
  MNEMO_ASSIGN_OR_RETURN(ThreadState * state, AnalyzeIntoState(utf8, &out->stopwords));
  out->numbers.swap(state->found);
  out->table = state->table;
  return Status::Ok();
}

std::string_view NumberedTerm(uint32_t number) { return Thread().terms.at(number); }

Status Analyze(std::string_view utf8, Analysis* out) {
  MNEMO_ASSIGN_OR_RETURN(ThreadState * state, AnalyzeIntoState(utf8, &out->stopwords));
  CopyTerms(*state, out);
  return Status::Ok();
}

namespace internal {

Status AnalyzeWithIcu(std::string_view utf8, Analysis* out) {
  Status status;
  ThreadState* state = State(&status);
  if (state == nullptr) return status;
  MNEMO_RETURN_IF_ERROR(AnalyzeIcuWith(*state, utf8, &out->stopwords));
  CopyTerms(*state, out);
  return Status::Ok();
}

}  // namespace internal

}  // namespace mnemo::text
