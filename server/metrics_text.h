// mnemod's metrics in the Prometheus text exposition format (version 0.0.4), served by the
// optional metrics listener (metrics_http.h).
//
// Families (every name starts with "mnemo_"):
//   requests_total, request_errors_total       counters by op (the protocol operation)
//   request_duration_seconds                   histogram by op; buckets at 2^n - 1 microseconds,
//                                              exact because latencies are whole microseconds
//   uptime_seconds, connections                gauges
//   storage_keys_estimated, storage_sst_bytes,
//   storage_memtable_bytes                     gauges by family (RocksDB column family)
//   data_dir_bytes                             gauge: files under the data directory
//   storage_compactions_running, storage_pending_compaction_bytes     gauges
//   storage_compactions_total, storage_flushes_total, index_compactions_total  counters
//   partitions, chunks, pending_rows           gauges (chunks: live chunks in all partitions)
//   message_vectors, message_vectors_pending   gauges (messages stored with an embedding)
//   message_terms, message_terms_backfill_done gauges (messages with keyword-index terms; 1 when
//                                              the backfill of older messages has ended)
//   partition_rows, partition_vector_bytes, partition_index_bytes,
//   partition_pending_rows, partition_deleted_in_index     gauges by month ("YYYY-MM")
//   retention_runs_total, retention_failures_total, retention_months_retired_total,
//   retention_rows_retired_total                counters
//   purged_rows_total                           counter by kind (conversation|document|chunk)
//
// Thread-safety: stateless.
#pragma once

#include <cstdint>
#include <string>

#include "mnemo/maintenance.h"
#include "server/stats.h"

namespace mnemo::server {

std::string RenderPrometheus(const EngineMetrics& engine, const ServerStats& stats,
                             uint64_t data_dir_bytes);

// Escapes a label value: backslash, double quote and newline.
std::string EscapeLabelValue(std::string_view value);

}  // namespace mnemo::server
