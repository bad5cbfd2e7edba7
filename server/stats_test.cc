#include "server/stats.h"

#include <gtest/gtest.h>

namespace mnemo::server {
namespace {

TEST(LatencyHistogramTest, BucketsCoverTheRange) {
  for (uint64_t micros : {1ull, 2ull, 3ull, 5ull, 100ull, 1000ull, 123456ull, 1ull << 39}) {
    const int bucket = LatencyHistogram::BucketOf(micros);
    EXPECT_LE(LatencyHistogram::BucketLower(bucket), static_cast<double>(micros)) << micros;
    EXPECT_GT(LatencyHistogram::BucketUpper(bucket), static_cast<double>(micros)) << micros;
  }
  EXPECT_EQ(LatencyHistogram::BucketOf(0), LatencyHistogram::BucketOf(1));
  EXPECT_EQ(LatencyHistogram::BucketOf(~0ull), LatencyHistogram::kBuckets - 1);
}

TEST(LatencyHistogramTest, Quantiles) {
  LatencyHistogram histogram;
  EXPECT_EQ(histogram.Quantile(0.5), 0);
  for (int i = 0; i < 99; ++i) histogram.Record(100);
  histogram.Record(10'000);
  EXPECT_EQ(histogram.count(), 100u);
  EXPECT_NEAR(histogram.Quantile(0.5), 100, 15);
  EXPECT_NEAR(histogram.Quantile(0.99), 100, 15);
  EXPECT_NEAR(histogram.Quantile(1.0), 10'000, 1'500);
}

TEST(ServerStatsTest, PerOperationCounts) {
  ServerStats stats;
  stats.RecordRequest(wire::RequestBody::SearchRequest, std::chrono::microseconds(50), false);
  stats.RecordRequest(wire::RequestBody::SearchRequest, std::chrono::microseconds(70), true);
  stats.RecordRequest(wire::RequestBody::CreateConversationRequest, std::chrono::microseconds(5),
                      false);
  stats.RecordRequest(static_cast<wire::RequestBody>(200), std::chrono::microseconds(5),
                      true);  // ignored
  stats.ConnectionOpened();
  stats.ConnectionOpened();
  stats.ConnectionClosed();
  EXPECT_EQ(stats.connections(), 1u);
  const auto ops = stats.Snapshot();
  ASSERT_EQ(ops.size(), 2u);
  EXPECT_EQ(ops[0].name, "CreateConversation");
  EXPECT_EQ(ops[1].name, "Search");
  EXPECT_EQ(ops[1].count, 2u);
  EXPECT_EQ(ops[1].errors, 1u);
  EXPECT_GT(ops[1].p99_us, ops[0].p50_us);
}

}  // namespace
}  // namespace mnemo::server
