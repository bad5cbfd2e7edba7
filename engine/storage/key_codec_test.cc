#include "storage/key_codec.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <tuple>
#include <vector>

namespace mnemo::keys {
namespace {

// Random strings over a small alphabet that includes the escape-relevant bytes 0x00, 0x01
// and 0xFF, so prefixes and escapes collide often.
std::string RandomString(std::mt19937_64& rng) {
  static constexpr char kAlphabet[] = {'\x00', '\x01', 'a', 'b', '\xff'};
  std::string s(rng() % 5, ' ');
  for (char& c : s) c = kAlphabet[rng() % sizeof(kAlphabet)];
  return s;
}

int64_t RandomInt(std::mt19937_64& rng) {
  switch (rng() % 4) {
    case 0: return static_cast<int64_t>(rng());  // any, incl. negative
    case 1: return static_cast<int64_t>(rng() % 5) - 2;
    case 2: return std::numeric_limits<int64_t>::min() + static_cast<int64_t>(rng() % 2);
    default: return std::numeric_limits<int64_t>::max() - static_cast<int64_t>(rng() % 2);
  }
}

using Tuple = std::tuple<std::string, int64_t, uint64_t, std::string>;

std::string Encode(const Tuple& t, bool time_desc) {
  KeyBuilder b;
  b.String(std::get<0>(t));
  time_desc ? b.I64Desc(std::get<1>(t)) : b.I64(std::get<1>(t));
  b.U64(std::get<2>(t)).String(std::get<3>(t));
  return b.Release();
}

TEST(KeyCodecTest, EncodedOrderMatchesTupleOrderRandomized) {
  std::mt19937_64 rng(20261123);
  for (bool time_desc : {false, true}) {
    std::vector<Tuple> tuples;
    for (int i = 0; i < 3000; ++i) {
      tuples.emplace_back(RandomString(rng), RandomInt(rng), rng() % 3 == 0 ? rng() : rng() % 4,
                          RandomString(rng));
    }
    for (size_t i = 0; i + 1 < tuples.size(); ++i) {
      const Tuple& a = tuples[i];
      const Tuple& b = tuples[i + 1];
      auto expected = a <=> b;
      if (time_desc && std::get<0>(a) == std::get<0>(b) && std::get<1>(a) != std::get<1>(b)) {
        expected = std::get<1>(b) <=> std::get<1>(a);
      }
      const auto actual = Encode(a, time_desc) <=> Encode(b, time_desc);
      ASSERT_EQ(expected, actual) << "tuple " << i << " time_desc=" << time_desc;
    }
  }
}

TEST(KeyCodecTest, SortedEncodingsDecodeToSortedTuples) {
  std::mt19937_64 rng(42);
  std::vector<Tuple> tuples;
  for (int i = 0; i < 2000; ++i) tuples.emplace_back(RandomString(rng), RandomInt(rng), rng(), RandomString(rng));
  std::vector<std::string> encoded;
  for (const auto& t : tuples) encoded.push_back(Encode(t, false));
  std::sort(tuples.begin(), tuples.end());
  std::sort(encoded.begin(), encoded.end());
  for (size_t i = 0; i < tuples.size(); ++i) {
    KeyReader reader(encoded[i]);
    Tuple decoded;
    ASSERT_TRUE(reader.String(&std::get<0>(decoded)));
    ASSERT_TRUE(reader.I64(&std::get<1>(decoded)));
    ASSERT_TRUE(reader.U64(&std::get<2>(decoded)));
    ASSERT_TRUE(reader.String(&std::get<3>(decoded)));
    EXPECT_TRUE(reader.done());
    EXPECT_EQ(decoded, tuples[i]);
  }
}

TEST(KeyCodecTest, StringComponentIsPrefixFree) {
  // "a" + anything must sort entirely before "a\x00" + anything and before "ab".
  const std::string a_then_max = KeyBuilder().String("a").U64(~uint64_t{0}).Release();
  const std::string a_zero = KeyBuilder().String(std::string("a\0", 2)).U64(0).Release();
  const std::string ab = KeyBuilder().String("ab").U64(0).Release();
  EXPECT_LT(a_then_max, a_zero);
  EXPECT_LT(a_zero, ab);
}

TEST(KeyCodecTest, DescendingTimestampsSortNewestFirst) {
  const Uuid id;
  const std::string older = UserTimeKey(IndexTag::kConversationByCreated, "u", Scope::kAll, 100, id);
  const std::string newer = UserTimeKey(IndexTag::kConversationByCreated, "u", Scope::kAll, 200, id);
  EXPECT_LT(newer, older);
  EXPECT_TRUE(older.starts_with(UserScopePrefix(IndexTag::kConversationByCreated, "u", Scope::kAll)));
  // One user's prefix never covers another user whose id extends it.
  EXPECT_FALSE(UserTimeKey(IndexTag::kConversationByCreated, "uv", Scope::kAll, 1, id)
                   .starts_with(UserScopePrefix(IndexTag::kConversationByCreated, "u", Scope::kAll)));
}

TEST(KeyCodecTest, ReaderRejectsTruncatedAndBadEscapes) {
  std::string s;
  KeyReader r1(std::string_view("abc", 3));
  EXPECT_FALSE(r1.String(&s));  // no terminator
  KeyReader r2(std::string_view("a\x00\x07", 3));
  EXPECT_FALSE(r2.String(&s));  // bad escape
  uint64_t v = 0;
  KeyReader r3(std::string_view("1234567", 7));
  EXPECT_FALSE(r3.U64(&v));
  Uuid id;
  KeyReader r4(std::string_view("short", 5));
  EXPECT_FALSE(r4.Id(&id));
}

TEST(KeyCodecTest, PrefixSuccessor) {
  EXPECT_EQ(PrefixSuccessor("ab"), "ac");
  EXPECT_EQ(PrefixSuccessor(std::string("a\xff", 2)), "b");
  EXPECT_EQ(PrefixSuccessor(std::string("\xff\xff", 2)), "");
}

}  // namespace
}  // namespace mnemo::keys
