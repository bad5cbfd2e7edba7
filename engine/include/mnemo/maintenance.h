// Maintenance of a data directory: the retention policy (retire old months, purge soft-deleted
// rows) and the engine's metrics.
//
// Thread-safety: plain value types.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mnemo/records.h"
#include "mnemo/types.h"

namespace mnemo {

// What retention keeps.  A default policy keeps everything.
struct RetentionPolicy {
  // Chunks: keep the newest `keep_months` calendar months (UTC; the current month counts).
  // Older months are retired: their rows are deleted, after being written to an archive when
  // archive_dir is set.  A month is retired only when it ends at or before the cut-off, the
  // first microsecond of the oldest month kept.  0 keeps every month.
  int32_t keep_months = 0;
  // Where retired months are archived ("YYYY-MM.mnemoarc", or "YYYY-MM.N.mnemoarc" when that
  // name is taken); created when missing.  Empty: retired months are deleted without archive.
  std::string archive_dir;
  // Soft-deleted conversations (with their messages), documents (with their chunks) and chunks
  // are deleted for good once their deleted_at is this many seconds old.  0 never purges.  mnemod
  // purges after kDefaultPurgeAfterDays unless configured otherwise.
  int64_t purge_after_seconds = 0;

  bool enabled() const { return keep_months > 0 || purge_after_seconds > 0; }
};

// mnemod's purge age: 30 days, as the backend mnemo replaces.
inline constexpr int64_t kDefaultPurgeAfterDays = 30;

// What one retention run did.
struct RetentionReport {
  Timestamp now = 0;
  Timestamp month_cutoff = 0;  // rows created before this may be retired; 0: no month retention
  Timestamp purge_cutoff = 0;  // rows deleted before this were purged; 0: no purge
  struct RetiredMonth {
    std::string month;         // "YYYY-MM"
    int64_t rows = 0;          // rows deleted (live and soft-deleted)
    std::string archive_path;  // empty when not archived
  };
  std::vector<RetiredMonth> retired;
  int64_t conversations_purged = 0;
  int64_t documents_purged = 0;
  int64_t chunks_purged = 0;
};

// One line per retired month and a summary line, for logs and the CLI.
std::string DescribeRetention(const RetentionReport& report);

// RocksDB's view of one column family.
struct StorageFamilyMetrics {
  std::string name;             // "conversations", "messages", "documents", "index", ...
  uint64_t estimated_keys = 0;  // RocksDB's estimate (exact counts are per user)
  uint64_t sst_bytes = 0;       // table files on disk
  uint64_t memtable_bytes = 0;  // not yet flushed
};

struct EngineMetrics {
  std::vector<PartitionInfo> partitions;
  // Messages stored with an embedding (they are in no partition), and those of them not yet
  // linked into their user's graph (searched exactly meanwhile).
  int64_t message_vectors = 0;
  int64_t message_vectors_pending = 0;
  // Messages whose content terms are in the keyword index; whether every message stored without
  // terms has been given them (EngineOptions::backfill_message_terms; false when keyword search
  // is off), and how many the backfill indexed since open.
  int64_t message_terms = 0;
  bool message_terms_backfill_done = false;
  int64_t message_terms_backfilled = 0;
  std::vector<StorageFamilyMetrics> families;
  uint64_t running_compactions = 0;       // storage compactions in progress
  uint64_t pending_compaction_bytes = 0;  // RocksDB's estimate of bytes still to compact
  uint64_t block_cache_bytes = 0;         // held by the block cache all families share
  uint64_t storage_compactions = 0;       // storage compactions completed since open
  uint64_t storage_flushes = 0;           // memtable flushes completed since open
  uint64_t graph_compactions = 0;         // HNSW graph compactions and rebuilds since open
  // Retention since open.
  uint64_t retention_runs = 0;
  uint64_t retention_failures = 0;
  uint64_t months_retired = 0;
  uint64_t rows_retired = 0;
  uint64_t conversations_purged = 0;
  uint64_t documents_purged = 0;
  uint64_t chunks_purged = 0;
};

}  // namespace mnemo
