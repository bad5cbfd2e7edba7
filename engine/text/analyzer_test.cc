// The analyzer on English, Chinese, Japanese and mixed text: normalisation, case folding,
// segmentation, stop words, stemming and term length.
#include "text/analyzer.h"

#include <gtest/gtest.h>
#include <unicode/normalizer2.h>

#include <random>
#include <string>
#include <vector>

namespace mnemo::text {
namespace {

std::vector<std::string> Terms(std::string_view text, size_t* stopwords = nullptr) {
  Analysis analysis;
  Status status = Analyze(text, &analysis);
  EXPECT_TRUE(status.ok()) << status.ToString();
  if (stopwords != nullptr) *stopwords = analysis.stopwords;
  return analysis.terms;
}

using Strings = std::vector<std::string>;

TEST(AnalyzerTest, EnglishIsFoldedStemmedAndStopped) {
  size_t stopwords = 0;
  EXPECT_EQ(Terms("The Searching of CONNECTIONS is running", &stopwords),
            (Strings{"search", "connect", "run"}));
  EXPECT_EQ(stopwords, 3u);                            // the, of, is
  EXPECT_EQ(Terms("It's a test"), (Strings{"test"}));  // "it's" stems to the stop word "it"
  EXPECT_EQ(Terms("It’s fine"), (Strings{"fine"}));    // typographic apostrophe
}

TEST(AnalyzerTest, CompatibilityFormsAndCaseFold) {
  EXPECT_EQ(Terms("ＨＥＬＬＯ Ｗｏｒｌｄ"), Terms("hello world"));  // full-width forms
  EXPECT_EQ(Terms("ﬁle"), Terms("file"));                           // ligature
  EXPECT_EQ(Terms("Straße"), Terms("STRASSE"));                     // full case folding
}

TEST(AnalyzerTest, IdentifiersAndNumbersStayWhole) {
  EXPECT_EQ(Terms("ERR_CONNECTION_REFUSED at 10.0.0.1 v1.2.3"),
            (Strings{"err_connection_refus", "10.0.0.1", "v1.2.3"}));
  EXPECT_EQ(Terms("SKU-4711"), (Strings{"sku", "4711"}));
}

TEST(AnalyzerTest, ChineseIsSegmentedIntoWords) {
  size_t stopwords = 0;
  EXPECT_EQ(Terms("我们在北京大学学习机器学习。", &stopwords),
            (Strings{"我们", "北京", "大学", "学习", "机器", "学习"}));
  EXPECT_EQ(stopwords, 1u);  // 在
  // The same words segment the same way in a query as in a longer text.
  EXPECT_EQ(Terms("机器学习"), (Strings{"机器", "学习"}));
  EXPECT_EQ(Terms("中华人民共和国的首都"), (Strings{"中华", "人民", "共和国", "首都"}));
}

TEST(AnalyzerTest, MixedAndJapaneseText) {
  EXPECT_EQ(Terms("iPhone 15价格是多少？"), (Strings{"iphon", "15", "价格", "多少"}));
  EXPECT_EQ(Terms("日本語のテキスト"), (Strings{"日本語", "の", "テキスト"}));
}

TEST(AnalyzerTest, PunctuationAndStopWordsOnlyGiveNoTerms) {
  size_t stopwords = 0;
  EXPECT_TRUE(Terms("... !!! ???", &stopwords).empty());
  EXPECT_EQ(stopwords, 0u);
  EXPECT_TRUE(Terms("the of and 的 了", &stopwords).empty());
  EXPECT_EQ(stopwords, 5u);
  EXPECT_TRUE(Terms("").empty());
}

TEST(AnalyzerTest, LongTermsAreCutAtACharacterBoundary) {
  const std::string ascii(200, 'x');
  ASSERT_EQ(Terms(ascii).size(), 1u);
  EXPECT_EQ(Terms(ascii)[0].size(), kMaxTermBytes);
  // 3-byte characters: the cut never splits one.
  std::string wide;
  for (int i = 0; i < 40; ++i) wide += "ä";  // 2 bytes each, one word of letters
  const Strings terms = Terms(wide);
  ASSERT_EQ(terms.size(), 1u);
  EXPECT_LE(terms[0].size(), kMaxTermBytes);
  EXPECT_EQ(terms[0].size() % 2, 0u);
}

TEST(AnalyzerTest, IsStopword) {
  EXPECT_TRUE(IsStopword("the"));
  EXPECT_TRUE(IsStopword("的"));
  EXPECT_FALSE(IsStopword("search"));
  EXPECT_FALSE(IsStopword(""));
}

// ASCII text skips ICU; its terms must be exactly ICU's.  Random strings stress the word rules at
// every kind of character boundary (letters, digits, '_', the joining marks, quotes, spaces,
// controls); the sentences are ordinary prose and identifiers.
void ExpectSameAsIcu(const std::string& text) {
  Analysis fast;
  Analysis icu;
  ASSERT_TRUE(Analyze(text, &fast).ok());
  ASSERT_TRUE(internal::AnalyzeWithIcu(text, &icu).ok());
  ASSERT_EQ(fast.terms, icu.terms) << "text: \"" << text << "\"";
  ASSERT_EQ(fast.stopwords, icu.stopwords) << "text: \"" << text << "\"";
}

TEST(AnalyzerTest, AsciiShortcutGivesIcusTerms) {
  for (const char* text :
       {"The quick brown fox's tail, e.g. 3.14 or 1,000,000; ok?",
        "ERR_CONNECTION_REFUSED at 10.0.0.1:8080 (v1.2.3) __init__ a_b_ _x x__y",
        "don't can't it's 'quoted' \"double\" a.b. .a a..b 1..2 1.a a.1 1,a a:b 1:2",
        "Running runs RAN runner's C++ C# node.js foo-bar foo/bar x=1 y==2 #42 @user", "", " ", "_",
        "__", "a", "1", "'", ".", "a'", "'a", "1'2", "a'1"}) {
    ExpectSameAsIcu(text);
  }
  std::string alphabet;
  for (int c = 0; c < 128; ++c) alphabet.push_back(static_cast<char>(c));
  alphabet += "aZq09_@.,;:'aaa111";
  std::mt19937 rng(20261202);
  std::uniform_int_distribution<size_t> pick(0, alphabet.size() - 1);
  std::uniform_int_distribution<size_t> length(1, 40);
  for (int i = 0; i < 100000; ++i) {
    std::string text(length(rng), ' ');
    for (char& c : text) c = alphabet[pick(rng)];
    ExpectSameAsIcu(text);
    if (HasFatalFailure()) return;
  }
}

// Text with non-ASCII words takes its ASCII words the ASCII way, which relies on every ASCII
// character starting a normalization segment.
TEST(AnalyzerTest, AsciiCharactersStartNormalizationSegments) {
  UErrorCode error = U_ZERO_ERROR;
  const icu::Normalizer2* normalizer = icu::Normalizer2::getNFKCCasefoldInstance(error);
  ASSERT_TRUE(U_SUCCESS(error));
  for (UChar32 c = 0; c < 0x80; ++c) EXPECT_TRUE(normalizer->hasBoundaryBefore(c)) << c;
}

// Mixed text: its terms must be exactly ICU's, in the same order.  Random words from pieces that
// meet the word rules and normalization at their edges (combining marks, joiners, ignorables,
// full-width and compatibility forms, apostrophes, kana, Hangul jamo, emoji, flags), joined by
// one or two spaces or by none.
TEST(AnalyzerTest, MixedTextGivesIcusTerms) {
  for (const char* text : {"access \\- 确定文件是否可以存取访问 SYNOPSIS(总览) access -mode file",
                           "如果 file 可以在特定模式下存取访问,那么成功退出. mode 为 rwx 中的一个",
                           "Ｆｕｌｌ width ＡＢＣ and ﬁle ligatures, Straße STRASSE",
                           "it’s Müller's café, naïve résumé",
                           "e \u0301x a \u200dz \u00ad soft hy\u00adphen ‘quoted’ “double” 3,14 ٣٤",
                           "日本語のテキスト カタカナ ｶﾀｶﾅ 한국어 텍스트 \u1100\u1161 x",
                           "emoji 👍🏽 x 🇩🇪🇫🇷 y a\u200db", "x \u0301", "\u0301 x",
                           "é", " é ", "a é b", "中 ab  文", "١,9 ٢.9 é.a a.é é'a a’é 中,a"}) {
    ExpectSameAsIcu(text);
  }
  const std::vector<std::string> pieces = {
      "a",      "Z",      "0",  "9",  "_",      ".",      ",",      "'",      ":",
      ";",      "@",      "-",  "(",  ")",      "é",      "É",      "ß",      "ﬁ",
      "Ａ",     "１",     "，", "。", "’",      "‘",      "\u0301", "\u0308", "\u200d",
      "\u200b", "\u00ad", "中", "文", "学",     "习",     "机",     "器",     "的",
      "の",     "カ",     "ｶ",  "한", "\u1100", "\u1161", "👍",      "🏽",   "🇩",
      "🇪",      "α",      "Σ",  "ς",  "ا",      "١"};
  std::mt19937 rng(20261203);
  std::uniform_int_distribution<size_t> pick(0, pieces.size() - 1);
  std::uniform_int_distribution<int> word_length(1, 5);
  std::uniform_int_distribution<int> words(1, 8);
  std::uniform_int_distribution<int> gap(0, 5);  // 0: no space, 5: two, else one
  for (int i = 0; i < 20000; ++i) {
    std::string text;
    for (int w = words(rng); w > 0; --w) {
      for (int c = word_length(rng); c > 0; --c) text += pieces[pick(rng)];
      const int spaces = gap(rng);
      text += spaces == 0 ? "" : spaces == 5 ? "  " : " ";
    }
    ExpectSameAsIcu(text);
    if (HasFatalFailure()) return;
  }
}

}  // namespace
}  // namespace mnemo::text
