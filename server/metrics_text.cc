#include "server/metrics_text.h"

#include <algorithm>
#include <cstdio>

namespace mnemo::server {
namespace {

// Histogram bucket bounds: below 2^n microseconds for n in [kFirstPower, kLastPower], written as
// "le = (2^n - 1) us" (latencies are whole microseconds, so both mean the same samples).
constexpr int kFirstPower = 3;  // 7 us
constexpr int kLastPower = 25;  // 33.5 s

// Appends one family at a time: HELP, TYPE, then its samples.
class Writer {
 public:
  void Family(const char* name, const char* type, const char* help) {
    out_ += "# HELP mnemo_";
    out_ += name;
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE mnemo_";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }
  // One sample; `labels` is "" or `key="value",...` already escaped.
  void Sample(std::string_view name, std::string_view labels, std::string_view value) {
    out_ += "mnemo_";
    out_ += name;
    if (!labels.empty()) {
      out_ += '{';
      out_ += labels;
      out_ += '}';
    }
    out_ += ' ';
    out_ += value;
    out_ += '\n';
  }
  void Sample(std::string_view name, std::string_view labels, uint64_t value) {
    Sample(name, labels, std::to_string(value));
  }
  void Gauge(const char* name, const char* help, uint64_t value) {
    Family(name, "gauge", help);
    Sample(name, "", value);
  }
  void Counter(const char* name, const char* help, uint64_t value) {
    Family(name, "counter", help);
    Sample(name, "", value);
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

std::string Label(std::string_view key, std::string_view value) {
  return std::string(key) + "=\"" + EscapeLabelValue(value) + "\"";
}

std::string Seconds(double micros) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.6f", micros / 1e6);
  return text;
}

void RequestFamilies(const ServerStats& stats, Writer& w) {
  w.Family("requests_total", "counter", "Requests answered, by protocol operation.");
  stats.ForEachOp([&](const std::string& op, const LatencyHistogram& latency, uint64_t) {
    w.Sample("requests_total", Label("op", op), latency.count());
  });
  w.Family("request_errors_total", "counter",
           "Requests answered with an error, by protocol operation.");
  stats.ForEachOp([&](const std::string& op, const LatencyHistogram&, uint64_t errors) {
    w.Sample("request_errors_total", Label("op", op), errors);
  });
  w.Family("request_duration_seconds", "histogram",
           "Time from a request's arrival at a worker or I/O thread to its reply, by protocol "
           "operation.");
  stats.ForEachOp([&](const std::string& op, const LatencyHistogram& latency, uint64_t) {
    const std::string op_label = Label("op", op);
    // Counts only grow and each bucket is read after the ones below it, so the series stays
    // cumulative while requests are recorded; +Inf and _count are at least the last bucket.
    for (int power = kFirstPower; power <= kLastPower; ++power) {
      const uint64_t bound = uint64_t{1} << power;
      w.Sample("request_duration_seconds_bucket",
               op_label + "," + Label("le", Seconds(static_cast<double>(bound - 1))),
               latency.CountBelow(bound));
    }
    const uint64_t count = latency.count();
    const uint64_t sum = latency.sum_micros();
    const uint64_t in_buckets = latency.CountBelow(uint64_t{1} << kLastPower);
    const uint64_t total = std::max(count, in_buckets);
    w.Sample("request_duration_seconds_bucket", op_label + "," + Label("le", "+Inf"), total);
    w.Sample("request_duration_seconds_sum", op_label, Seconds(static_cast<double>(sum)));
    w.Sample("request_duration_seconds_count", op_label, total);
  });
}

void StorageFamilies(const EngineMetrics& m, uint64_t data_dir_bytes, Writer& w) {
  w.Family("storage_keys_estimated", "gauge",
           "RocksDB's estimate of the keys in each column family.");
  for (const auto& f : m.families)
    w.Sample("storage_keys_estimated", Label("family", f.name), f.estimated_keys);
  w.Family("storage_sst_bytes", "gauge", "Bytes of table files of each column family.");
  for (const auto& f : m.families)
    w.Sample("storage_sst_bytes", Label("family", f.name), f.sst_bytes);
  w.Family("storage_memtable_bytes", "gauge",
           "Bytes of unflushed memtables of each column family.");
  for (const auto& f : m.families)
    w.Sample("storage_memtable_bytes", Label("family", f.name), f.memtable_bytes);
  w.Gauge("storage_block_cache_bytes",
          "Bytes held by the storage block cache (data, index and filter blocks of every family).",
          m.block_cache_bytes);
  w.Gauge("data_dir_bytes", "Bytes of the files under the data directory.", data_dir_bytes);
  w.Gauge("storage_compactions_running", "Storage compactions in progress.", m.running_compactions);
  w.Gauge("storage_pending_compaction_bytes",
          "RocksDB's estimate of the bytes compactions still have to rewrite.",
          m.pending_compaction_bytes);
  w.Counter("storage_compactions_total", "Storage compactions completed since start.",
            m.storage_compactions);
  w.Counter("storage_flushes_total", "Memtable flushes completed since start.", m.storage_flushes);
  w.Counter("index_compactions_total", "Vector graph compactions and rebuilds since start.",
            m.graph_compactions);
}

void PartitionFamilies(const EngineMetrics& m, Writer& w) {
  uint64_t chunks = 0;
  uint64_t pending = 0;
  for (const auto& p : m.partitions) {
    chunks += static_cast<uint64_t>(p.rows);
    pending += static_cast<uint64_t>(p.pending_rows);
  }
  w.Gauge("partitions", "Month partitions of the vector store.", m.partitions.size());
  w.Gauge("chunks", "Live chunks in all partitions.", chunks);
  w.Gauge("pending_rows",
          "Chunks written but not yet linked into their partition's graph (searched exactly).",
          pending);
  w.Gauge("message_vectors", "Messages stored with an embedding.",
          static_cast<uint64_t>(m.message_vectors));
  w.Gauge("message_vectors_pending",
          "Message embeddings not yet linked into their user's graph (searched exactly).",
          static_cast<uint64_t>(m.message_vectors_pending));
  w.Gauge("message_terms", "Messages whose content terms are in the keyword index.",
          static_cast<uint64_t>(m.message_terms));
  w.Gauge("message_terms_backfill_done",
          "1 when every message stored without terms has been given them (0 while the backfill "
          "runs, or with keyword search off).",
          m.message_terms_backfill_done ? 1 : 0);
  struct Column {
    const char* name;
    const char* help;
    int64_t PartitionInfo::*field;
  };
  const Column columns[] = {
      {"partition_rows", "Live chunks of a month partition.", &PartitionInfo::rows},
      {"partition_vector_bytes", "Stored vector bytes of a month partition.",
       &PartitionInfo::vector_bytes},
      {"partition_index_bytes", "In-memory graph bytes of a month partition.",
       &PartitionInfo::index_bytes},
      {"partition_pending_rows", "Chunks of a month partition not yet in its graph.",
       &PartitionInfo::pending_rows},
      {"partition_deleted_in_index", "Graph tombstones of a month partition awaiting compaction.",
       &PartitionInfo::deleted_in_index},
  };
  for (const Column& column : columns) {
    w.Family(column.name, "gauge", column.help);
    for (const auto& p : m.partitions) {
      w.Sample(column.name, Label("month", p.month),
               static_cast<uint64_t>(std::max<int64_t>(0, p.*column.field)));
    }
  }
}

void RetentionFamilies(const EngineMetrics& m, Writer& w) {
  w.Counter("retention_runs_total", "Retention runs since start.", m.retention_runs);
  w.Counter("retention_failures_total", "Retention runs that stopped on an error.",
            m.retention_failures);
  w.Counter("retention_months_retired_total", "Month partitions retired by retention.",
            m.months_retired);
  w.Counter("retention_rows_retired_total", "Chunk rows deleted by retiring months.",
            m.rows_retired);
  w.Family("purged_rows_total", "counter",
           "Soft-deleted rows deleted for good after the purge age, by kind.");
  w.Sample("purged_rows_total", Label("kind", "conversation"), m.conversations_purged);
  w.Sample("purged_rows_total", Label("kind", "document"), m.documents_purged);
  w.Sample("purged_rows_total", Label("kind", "chunk"), m.chunks_purged);
}

}  // namespace

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string RenderPrometheus(const EngineMetrics& engine, const ServerStats& stats,
                             uint64_t data_dir_bytes) {
  Writer w;
  w.Gauge("uptime_seconds", "Seconds since mnemod started.", stats.uptime_seconds());
  w.Gauge("connections", "Open protocol connections.", stats.connections());
  w.Counter("replica_ack_timeouts_total",
            "Semi-sync writes answered UNAVAILABLE: applied here, no replica acknowledged in time.",
            stats.replica_ack_timeouts());
  RequestFamilies(stats, w);
  StorageFamilies(engine, data_dir_bytes, w);
  PartitionFamilies(engine, w);
  RetentionFamilies(engine, w);
  return w.Take();
}

}  // namespace mnemo::server
