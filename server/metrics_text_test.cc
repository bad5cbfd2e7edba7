#include "server/metrics_text.h"

#include <gtest/gtest.h>

#include <cmath>
#include <thread>

#include "server/testing/prometheus_parser.h"

namespace mnemo::server {
namespace {

using testing::ParsePrometheusText;
using testing::PrometheusDocument;

EngineMetrics SampleEngineMetrics() {
  EngineMetrics m;
  PartitionInfo p;
  p.month = "2026-03";
  p.rows = 120;
  p.vector_bytes = 120 * 4 * 8;
  p.index_bytes = 9000;
  p.pending_rows = 7;
  p.deleted_in_index = 3;
  m.partitions.push_back(p);
  p.month = "2026-04";
  p.rows = 5;
  p.pending_rows = 5;
  m.partitions.push_back(p);
  m.message_vectors = 40;
  m.message_vectors_pending = 6;
  m.message_terms = 55;
  m.message_terms_backfill_done = true;
  m.families.push_back({"conversations", 10, 4096, 100});
  m.families.push_back({"messages", 500, 65536, 200});
  m.running_compactions = 1;
  m.block_cache_bytes = 8192;
  m.storage_compactions = 4;
  m.storage_flushes = 9;
  m.graph_compactions = 2;
  m.retention_runs = 3;
  m.chunks_purged = 6;
  return m;
}

TEST(MetricsTextTest, ParsesStrictlyAndCarriesTheFigures) {
  ServerStats stats;
  stats.ConnectionOpened();
  stats.RecordRequest(wire::RequestBody::SearchRequest, std::chrono::microseconds(7),
                      false);  // le 7 us
  stats.RecordRequest(wire::RequestBody::SearchRequest, std::chrono::microseconds(8),
                      false);  // above 7 us
  stats.RecordRequest(wire::RequestBody::SearchRequest, std::chrono::microseconds(900), true);
  stats.RecordRequest(wire::RequestBody::SearchRequest, std::chrono::seconds(100),
                      false);  // only +Inf
  stats.RecordRequest(wire::RequestBody::CreateConversationRequest, std::chrono::microseconds(40),
                      false);
  const std::string text = RenderPrometheus(SampleEngineMetrics(), stats, 123456);

  PrometheusDocument doc;
  std::string error;
  ASSERT_TRUE(ParsePrometheusText(text, &doc, &error)) << error << "\n" << text;
  EXPECT_EQ(doc.families.at("mnemo_request_duration_seconds").type, "histogram");
  EXPECT_EQ(doc.Value("mnemo_requests_total", {{"op", "Search"}}), 4);
  EXPECT_EQ(doc.Value("mnemo_request_errors_total", {{"op", "Search"}}), 1);
  EXPECT_EQ(doc.Value("mnemo_request_errors_total", {{"op", "CreateConversation"}}), 0);
  EXPECT_EQ(
      doc.Value("mnemo_request_duration_seconds_bucket", {{"op", "Search"}, {"le", "0.000007"}}),
      1);
  EXPECT_EQ(
      doc.Value("mnemo_request_duration_seconds_bucket", {{"op", "Search"}, {"le", "0.000015"}}),
      2);
  EXPECT_EQ(
      doc.Value("mnemo_request_duration_seconds_bucket", {{"op", "Search"}, {"le", "0.001023"}}),
      3);
  EXPECT_EQ(
      doc.Value("mnemo_request_duration_seconds_bucket", {{"op", "Search"}, {"le", "33.554431"}}),
      3);
  EXPECT_EQ(doc.Value("mnemo_request_duration_seconds_bucket", {{"op", "Search"}, {"le", "+Inf"}}),
            4);
  EXPECT_EQ(doc.Value("mnemo_request_duration_seconds_count", {{"op", "Search"}}), 4);
  EXPECT_NEAR(doc.Value("mnemo_request_duration_seconds_sum", {{"op", "Search"}}), 100.000915,
              1e-6);
  EXPECT_EQ(doc.Value("mnemo_connections"), 1);
  EXPECT_EQ(doc.Value("mnemo_data_dir_bytes"), 123456);
  EXPECT_EQ(doc.Value("mnemo_storage_keys_estimated", {{"family", "messages"}}), 500);
  EXPECT_EQ(doc.Value("mnemo_storage_sst_bytes", {{"family", "conversations"}}), 4096);
  EXPECT_EQ(doc.Value("mnemo_storage_block_cache_bytes"), 8192);
  EXPECT_EQ(doc.Value("mnemo_partitions"), 2);
  EXPECT_EQ(doc.Value("mnemo_chunks"), 125);
  EXPECT_EQ(doc.Value("mnemo_pending_rows"), 12);
  EXPECT_EQ(doc.Value("mnemo_message_vectors"), 40);
  EXPECT_EQ(doc.Value("mnemo_message_vectors_pending"), 6);
  EXPECT_EQ(doc.Value("mnemo_message_terms"), 55);
  EXPECT_EQ(doc.Value("mnemo_message_terms_backfill_done"), 1);
  EXPECT_EQ(doc.Value("mnemo_partition_rows", {{"month", "2026-03"}}), 120);
  EXPECT_EQ(doc.Value("mnemo_partition_deleted_in_index", {{"month", "2026-03"}}), 3);
  EXPECT_EQ(doc.Value("mnemo_storage_compactions_total"), 4);
  EXPECT_EQ(doc.Value("mnemo_storage_compactions_running"), 1);
  EXPECT_EQ(doc.Value("mnemo_index_compactions_total"), 2);
  EXPECT_EQ(doc.Value("mnemo_purged_rows_total", {{"kind", "chunk"}}), 6);
  EXPECT_EQ(doc.Value("mnemo_retention_runs_total"), 3);
}

TEST(MetricsTextTest, StaysValidWhileRequestsAreRecorded) {
  ServerStats stats;
  std::atomic<bool> stop{false};
  std::thread recorder([&] {
    for (uint64_t i = 0; !stop.load(); ++i) {
      stats.RecordRequest(wire::RequestBody::GetMessageRequest, std::chrono::microseconds(i % 5000),
                          i % 7 == 0);
    }
  });
  for (int i = 0; i < 200; ++i) {
    PrometheusDocument doc;
    std::string error;
    ASSERT_TRUE(ParsePrometheusText(RenderPrometheus({}, stats, 0), &doc, &error)) << error;
  }
  stop = true;
  recorder.join();
}

TEST(MetricsTextTest, LabelValuesAreEscaped) {
  EXPECT_EQ(EscapeLabelValue("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  EngineMetrics m;
  m.families.push_back({"we\"ird\\name\n", 1, 2, 3});
  PrometheusDocument doc;
  std::string error;
  ASSERT_TRUE(ParsePrometheusText(RenderPrometheus(m, ServerStats(), 0), &doc, &error)) << error;
  EXPECT_EQ(doc.Value("mnemo_storage_keys_estimated", {{"family", "we\"ird\\name\n"}}), 1);
}

// The parser itself: each violation is refused with its line.
TEST(PrometheusParserTest, RefusesMalformedDocuments) {
  const auto refuses = [](const std::string& text, const std::string& reason) {
    PrometheusDocument doc;
    std::string error;
    EXPECT_FALSE(ParsePrometheusText(text, &doc, &error)) << "accepted: " << text;
    EXPECT_NE(error.find(reason), std::string::npos) << error;
  };
  refuses("a 1", "newline");
  refuses("1a 1\n", "bad metric name");
  refuses("a{b=\"x\",b=\"y\"} 1\n", "repeats");
  refuses("a{__b=\"x\"} 1\n", "bad label name");
  refuses("a{b=x} 1\n", "not quoted");
  refuses("a{b=\"\\t\"} 1\n", "bad escape");
  refuses("a{b=\"x\" c=\"y\"} 1\n", "separated");
  refuses("a one\n", "bad value");
  refuses("a 1 12.5\n", "bad timestamp");
  refuses("a 1\na 2\n", "series repeats");
  refuses("a 1\nb 1\na{x=\"1\"} 1\n", "not contiguous");
  refuses("a 1\n# TYPE a gauge\n", "after its samples");
  refuses("# TYPE a gauge\n# TYPE a gauge\na 1\n", "TYPE repeats");
  refuses("# TYPE a meter\na 1\n", "unknown type");
  refuses("# TYPE a counter\na -1\n", "counter");
  refuses("# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
          "cumulative");
  refuses(
      "# TYPE h histogram\nh_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} "
      "1\nh_sum 1\nh_count 1\n",
      "increase");
  refuses("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n", "+Inf");
  refuses("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 2\n", "+Inf");
  refuses("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n", "_sum");
  PrometheusDocument doc;
  std::string error;
  EXPECT_TRUE(ParsePrometheusText(
      "# a comment\n# HELP a the a\n# TYPE a gauge\na{x=\"\\\"\"} -Inf 1700000000\n\n", &doc,
      &error))
      << error;
  EXPECT_TRUE(std::isinf(doc.Value("a", {{"x", "\""}})));
}

}  // namespace
}  // namespace mnemo::server
