// StringTable: numbers strings densely in the order added, finds them again across growth, keeps
// a value with each, and starts over on Clear.
#include "text/string_table.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mnemo::text {
namespace {

TEST(StringTableTest, NumbersShortAndLongStringsAndFindsThemAfterGrowth) {
  StringTable table;
  std::vector<std::string> strings = {"", "a", std::string(24, 'x'), std::string(25, 'x'),
                                      std::string("a\0b", 3)};
  for (int i = 0; i < 5000; ++i)
    strings.push_back("w" + std::to_string(i) + std::string(i % 40, 'z'));
  for (size_t i = 0; i < strings.size(); ++i) {
    bool added = false;
    EXPECT_EQ(table.Add(strings[i], &added), i);
    EXPECT_TRUE(added);
    EXPECT_EQ(table.value(static_cast<uint32_t>(i)), 0u);
    table.value(static_cast<uint32_t>(i)) = static_cast<uint32_t>(i * 7);
  }
  ASSERT_EQ(table.size(), strings.size());
  for (size_t i = 0; i < strings.size(); ++i) {
    bool added = true;
    EXPECT_EQ(table.Add(strings[i], &added), i);
    EXPECT_FALSE(added);
    EXPECT_EQ(table.Find(strings[i]), i);
    EXPECT_EQ(table.at(static_cast<uint32_t>(i)), strings[i]);
    EXPECT_EQ(table.value(static_cast<uint32_t>(i)), i * 7);
  }
  EXPECT_EQ(table.Find("absent"), StringTable::kNone);
  EXPECT_EQ(table.Find(std::string(26, 'x')), StringTable::kNone);

  table.Clear();
  EXPECT_EQ(table.size(), 0u);
  EXPECT_EQ(table.Find("a"), StringTable::kNone);
  bool added = false;
  EXPECT_EQ(table.Add("b", &added), 0u);
  EXPECT_TRUE(added);
  EXPECT_EQ(table.value(0), 0u);
}

}  // namespace
}  // namespace mnemo::text
