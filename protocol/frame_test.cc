#include "protocol/frame.h"

#include <gtest/gtest.h>

#include <random>

namespace mnemo::protocol {
namespace {

TEST(FrameTest, RoundTripsAndSplitsPipelinedFrames) {
  std::string stream;
  AppendFrame("first", &stream);
  AppendFrame(std::string(1000, 'x'), &stream);
  AppendFrame("z", &stream);
  EXPECT_EQ(static_cast<uint8_t>(stream[0]), 5);  // little-endian length
  EXPECT_EQ(stream[1], 0);

  std::vector<std::string> frames;
  std::string_view rest(stream);
  while (true) {
    std::string_view payload;
    size_t consumed = 0;
    const FrameResult result = ParseFrame(rest, 1 << 20, &payload, &consumed);
    if (result == FrameResult::kNeedMore) break;
    ASSERT_EQ(result, FrameResult::kFrame);
    frames.emplace_back(payload);
    rest.remove_prefix(consumed);
  }
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0], "first");
  EXPECT_EQ(frames[1].size(), 1000u);
  EXPECT_EQ(frames[2], "z");
  EXPECT_TRUE(rest.empty());
}

TEST(FrameTest, NeedsMoreUntilTheWholeFrameArrives) {
  std::string stream;
  AppendFrame("hello world", &stream);
  for (size_t cut = 0; cut < stream.size(); ++cut) {
    std::string_view payload;
    size_t consumed = 0;
    EXPECT_EQ(ParseFrame(std::string_view(stream).substr(0, cut), 1024, &payload, &consumed),
              FrameResult::kNeedMore)
        << cut;
  }
}

TEST(FrameTest, RejectsOversizedAndEmptyFrames) {
  std::string huge("\xff\xff\xff\xff", 4);  // a 4 GiB announcement
  std::string_view payload;
  size_t consumed = 0;
  uint32_t announced = 0;
  EXPECT_EQ(ParseFrame(huge, 64u << 20, &payload, &consumed, &announced), FrameResult::kTooLarge);
  EXPECT_EQ(announced, 0xffffffffu);
  std::string just_over;
  AppendFrame(std::string(101, 'a'), &just_over);
  EXPECT_EQ(ParseFrame(just_over, 100, &payload, &consumed), FrameResult::kTooLarge);
  EXPECT_EQ(ParseFrame(just_over, 101, &payload, &consumed), FrameResult::kFrame);
  EXPECT_EQ(ParseFrame(std::string(4, '\0'), 100, &payload, &consumed), FrameResult::kEmpty);
}

TEST(FrameTest, RandomBytesNeverReadOutOfBounds) {
  std::mt19937 rng(3);
  for (int round = 0; round < 2000; ++round) {
    std::string bytes(rng() % 64, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    std::string_view payload;
    size_t consumed = 0;
    if (ParseFrame(bytes, 1 << 16, &payload, &consumed) == FrameResult::kFrame) {
      EXPECT_LE(consumed, bytes.size());
      EXPECT_EQ(payload.size() + kFrameHeaderBytes, consumed);
    }
  }
}

}  // namespace
}  // namespace mnemo::protocol
