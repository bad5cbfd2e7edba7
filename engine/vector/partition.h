// Partition: the searchable rows of one month.
//
// A partition holds an HNSW graph plus a "fresh" buffer of rows written but not yet linked
// into the graph.  Writes land in the fresh buffer when their transaction commits, so they are
// searchable before the write is acknowledged; a background indexer moves them into the graph.
// Search = graph search (or exact scan, chosen by the index) + exact scan of the fresh buffer.
// Per-user label lists make a small tenant's rows scannable without touching anyone else's.
//
// Thread-safety: thread-safe.  Readers (Search) share `mutex_`; Insert/Remove/IndexPending take
// it exclusively only briefly (never during a graph insert).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "mnemo/records.h"
#include "mnemo/result.h"
#include "vector/hnsw/hnsw_index.h"
#include "vector/row_state.h"

namespace mnemo::vector {

// A row's filter conditions beyond ownership, resolved once per query.
struct RowPredicate {
  uint32_t user_ref = 0;
  std::vector<Uuid> document_ids;        // sorted; empty = any
  std::vector<std::string> file_types;   // empty = any
  Timestamp created_from = kMinTimestamp;
  Timestamp created_until = kMaxTimestamp;  // exclusive
  std::vector<std::pair<std::string, nlohmann::json>> metadata_equals;

  bool Matches(const RowState& row) const;
};

struct PartitionQuery {
  const float* unit_query = nullptr;  // normalised, dim floats
  size_t k = 10;
  size_t ef = 64;
  float min_similarity = -1.0f;
  const RowPredicate* predicate = nullptr;
  // Compressed walk and its re-rank pool factor (hnsw::SearchOptions).
  bool compressed = true;
  size_t rerank_factor = hnsw::SearchOptions::kDefaultRerankFactor;
};

struct PartitionHit {
  uint64_t label = 0;
  float similarity = 0;
  RowState row;  // a copy, so the hit outlives concurrent deletes
};

struct PartitionAnswer {
  std::vector<PartitionHit> hits;  // best first, at most k
  bool exact = true;
  uint32_t ef_used = 0;
};

class Partition {
 public:
  Partition(uint32_t month, uint32_t dim, std::unique_ptr<hnsw::HnswIndex> index);

  uint32_t month() const { return month_; }

  // Makes a committed row searchable (fresh buffer).  `unit_vector` has dim floats.
  void Insert(uint64_t label, RowState row, std::vector<float> unit_vector);
  // A committed row for InsertBatch.
  struct FreshRow {
    uint64_t label;
    RowState row;
    std::vector<float> unit_vector;  // dim floats
  };
  // Insert() for many rows under one acquisition of the lock (a write of many chunks).
  void InsertBatch(std::vector<FreshRow> rows);
  // Records a row's state without its vector, for a row the graph already holds (reopen).
  void Restore(uint64_t label, RowState row);
  // Hides a row at once; its graph node becomes a tombstone.
  void Remove(uint64_t label);

  // Links up to `max_rows` fresh rows into the graph; returns how many were linked.
  size_t IndexPending(size_t max_rows);
  size_t pending() const;

  Result<PartitionAnswer> Search(const PartitionQuery& query) const;

  // True when the graph holds a live node for `label`.
  bool Indexed(uint64_t label) const;
  // Every label with row state (live rows).
  std::vector<uint64_t> Labels() const;

  // Saves the graph (not the fresh buffer: those rows are caught up from storage on open).
  // `label_watermark` exceeds every label the graph holds; Open() resumes labels above it.
  Status Save(const std::string& path, uint64_t label_watermark) const;
  // Replaces the graph by a compacted copy when tombstones exceed `max_deleted_fraction`;
  // true when it did.
  Result<bool> CompactIfNeeded(double max_deleted_fraction);
  // Rebuilds the graph from the live rows (online: searches continue on the old graph).
  Status Rebuild();

  PartitionInfo Info() const;

 private:
  std::shared_ptr<hnsw::HnswIndex> graph() const;
  // REQUIRES: mutex_ held exclusively.
  void DropFromUserList(uint32_t user_ref);

  const uint32_t month_;
  const uint32_t dim_;

  // Serialises graph maintenance (linking fresh rows, rebuilds) so no link lands in a graph
  // that is being replaced.
  std::mutex maintenance_mutex_;

  mutable std::shared_mutex mutex_;
  std::shared_ptr<hnsw::HnswIndex> graph_;  // replaced whole by compaction/rebuild
  std::unordered_map<uint64_t, RowState> rows_;
  std::unordered_map<uint64_t, std::vector<float>> fresh_;
  // Labels per owner; may hold labels removed since (pruned when they pile up).
  std::unordered_map<uint32_t, std::vector<uint64_t>> user_labels_;
  std::unordered_map<uint32_t, size_t> user_stale_;
  bool rebuilding_ = false;
  std::vector<uint64_t> removed_during_rebuild_;
};

}  // namespace mnemo::vector
