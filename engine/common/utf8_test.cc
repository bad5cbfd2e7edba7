#include "common/utf8.h"

#include <gtest/gtest.h>

namespace mnemo::utf8 {
namespace {

TEST(Utf8Test, Validity) {
  EXPECT_TRUE(IsValid(""));
  EXPECT_TRUE(IsValid("hello"));
  EXPECT_TRUE(IsValid("héllo wörld"));
  EXPECT_TRUE(IsValid("天气怎么样"));
  EXPECT_TRUE(IsValid("emoji \xF0\x9F\x98\x80"));
  EXPECT_FALSE(IsValid("\xC3"));              // truncated
  EXPECT_FALSE(IsValid("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(IsValid("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(IsValid("\xF4\x90\x80\x80"));  // > U+10FFFF
  EXPECT_FALSE(IsValid("\xFF"));
  EXPECT_FALSE(IsValid("a\x80z"));  // stray continuation
}

TEST(Utf8Test, CountsCodePointsNotBytes) {
  EXPECT_EQ(CountCodePoints(""), 0u);
  EXPECT_EQ(CountCodePoints("abc"), 3u);
  EXPECT_EQ(CountCodePoints("天气"), 2u);
  EXPECT_EQ(CountCodePoints("\xF0\x9F\x98\x80"), 1u);
}

TEST(Utf8Test, Blank) {
  EXPECT_TRUE(IsBlank(""));
  EXPECT_TRUE(IsBlank("  \t\n"));
  EXPECT_TRUE(IsBlank("\xE3\x80\x80"));  // ideographic space
  EXPECT_TRUE(IsBlank("\xC2\xA0"));      // no-break space
  EXPECT_FALSE(IsBlank(" x "));
}

TEST(Utf8Test, FoldCaseAcrossScripts) {
  EXPECT_EQ(FoldCase("Hello WORLD"), "hello world");
  EXPECT_EQ(FoldCase("ÄÖÜ Éclair"), "äöü éclair");
  EXPECT_EQ(FoldCase("ΑΘΗΝΑ"), "αθηνα");
  EXPECT_EQ(FoldCase("МОСКВА"), "москва");
  EXPECT_EQ(FoldCase("ŁÓDŹ"), "łódź");
  EXPECT_EQ(FoldCase("天气 ABC"), "天气 abc");  // uncased scripts pass through
}

TEST(Utf8Test, FoldedContainment) {
  EXPECT_TRUE(ContainsFolded(FoldCase("Trip to MÜNCHEN"), FoldCase("münchen")));
  EXPECT_TRUE(ContainsFolded(FoldCase("关于天气的对话"), FoldCase("天气")));
  EXPECT_FALSE(ContainsFolded(FoldCase("abc"), FoldCase("abd")));
  EXPECT_TRUE(ContainsFolded(FoldCase("anything"), ""));
}

}  // namespace
}  // namespace mnemo::utf8
