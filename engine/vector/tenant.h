// Tenant: the searchable rows of one user, across every month.
//
// Every search names one user, so each user's rows form their own index: an HNSW graph of the
// user's linked rows plus a "fresh" buffer of rows written but not yet linked.  Writes land in the
// fresh buffer when their transaction commits, so they are searchable before the write is
// acknowledged; a background indexer moves them into the graph.  A search touches only its user's
// rows: its cost depends on that user's row count, not on other users or on how many months the
// store spans.  Months remain the unit of storage, archive and drop (VectorStore); within a tenant
// they are label lists, so a time filter selects its months' rows without a scan of the rest.
//
// Search = the planner's choice on the graph (exact scan of the allowed rows on codes, or a walk;
// hnsw::HnswIndex::Search) + an exact scan of the fresh buffer.
//
// Thread-safety: thread-safe.  Readers (Search) share `mutex_`; Insert/Remove/IndexPending take it
// exclusively only briefly (never during a graph insert).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "mnemo/file_system.h"
#include "mnemo/records.h"
#include "mnemo/result.h"
#include "vector/hnsw/hnsw_index.h"
#include "vector/hnsw/label_index.h"
#include "vector/row_state.h"

namespace mnemo::vector {

// A row's filter conditions beyond ownership, resolved once per query.
struct RowPredicate {
  uint32_t user_ref = 0;
  std::vector<Uuid> document_ids;       // sorted; empty = any
  std::vector<std::string> file_types;  // empty = any
  Timestamp created_from = kMinTimestamp;
  Timestamp created_until = kMaxTimestamp;  // exclusive
  std::vector<std::pair<std::string, nlohmann::json>> metadata_equals;
  // Message rows: bit r set admits Role r (RowState::chunk_index); 0 admits every role.
  uint32_t role_mask = 0;
  std::vector<Uuid> excluded_rows;  // sorted RowState::chunk_id values never admitted

  bool Matches(const RowState& row) const;
  // True when no condition but ownership and the deleted flags is set: Matches() then rejects only
  // rows of deleted documents or conversations (and of other users, never in a tenant's graph).
  bool OwnershipOnly() const;
  // True when rows of `month` may fall inside [created_from, created_until).
  bool OverlapsMonth(uint32_t month) const;
  // The fraction of `month`'s time span inside [created_from, created_until): with rows spread
  // evenly over the month, the fraction of its rows the time range admits.
  double MonthFraction(uint32_t month) const;
};

// Resolves a request's filters for `user_ref`.  VALIDATION_ERROR names the filter field.
Status BuildRowPredicate(const SearchFilters& filters, uint32_t user_ref, RowPredicate* predicate);

struct TenantQuery {
  const float* unit_query = nullptr;  // normalised, dim floats
  size_t k = 10;
  size_t ef = 64;
  float min_similarity = -1.0f;
  const RowPredicate* predicate = nullptr;
  // Compressed walk and its re-rank pool factor (hnsw::SearchOptions).
  bool compressed = true;
  size_t rerank_factor = hnsw::SearchOptions::kDefaultRerankFactor;
  // The planner's cost model (hnsw::SearchOptions::costs).  Borrowed, may be null.
  hnsw::CostModel* costs = nullptr;
};

struct TenantHit {
  uint64_t label = 0;
  float similarity = 0;
  RowState row;  // a copy, so the hit outlives concurrent deletes
};

struct TenantAnswer {
  std::vector<TenantHit> hits;  // best first, at most k
  bool exact = true;
  uint32_t ef_used = 0;
  int32_t months_searched = 0;  // months of this user's rows the filter let in
};

// Per-month figures of one tenant (VectorStore sums them into PartitionInfo).
struct TenantMonthStats {
  int64_t rows = 0;
  int64_t pending = 0;
  int64_t tombstones = 0;  // rows removed from the graph since it was last rebuilt
};

class Tenant {
 public:
  Tenant(std::string user_id, uint32_t user_ref, uint32_t dim,
         std::unique_ptr<hnsw::HnswIndex> graph, OwnerKind kind = OwnerKind::kChunk);

  const std::string& user_id() const { return user_id_; }
  OwnerKind kind() const { return kind_; }
  uint32_t user_ref() const { return user_ref_; }

  // A committed row for InsertBatch: its unit vector (dim floats) where it is stored, in place
  // (VectorLog::Address), or else a copy.
  struct FreshRow {
    uint64_t label;
    RowState row;
    std::vector<float> unit_vector;  // empty when `stored` is set
    const float* stored = nullptr;
  };
  // Makes committed rows searchable (fresh buffer), under one acquisition of the lock.
  void InsertBatch(std::vector<FreshRow> rows);
  // A stored row at reopen: its state is moved from when the graph holds the row.
  struct RestoredRow {
    uint64_t label;
    RowState* row;
  };
  // Records the states of the rows the graph already holds, without their vectors, under one
  // acquisition of the lock (reopen); returns the indexes of the others, ascending, for
  // InsertBatch.
  std::vector<size_t> RestoreIndexed(std::span<const RestoredRow> rows);
  // Hides a row at once; its graph node becomes a tombstone.  False when the row is not here.
  bool Remove(uint64_t label);

  // Links up to `max_rows` fresh rows into the graph; returns how many were linked.  A row read in
  // place is linked to its vector there; any other gets a copy of its vector in the graph.
  // REQUIRES: in-place vectors stay where they are while the graph may read them (the caller holds
  // vector moves off until RepointVector can reach the new nodes).
  size_t IndexPending(size_t max_rows);
  // The row `label` (fresh, or its graph node) now reads its vector at `unit` (a move of the stored
  // vector, or an inline one moved to the segments: its copy is freed).  REQUIRES: no Rebuild() in
  // progress and no reader of the row's vector (the caller holds vector readers off).
  void RepointVector(uint64_t label, const float* unit);
  size_t pending() const;
  size_t rows() const;

  // A query with an ownership-only predicate walks the graph without a filter (most rows pass it,
  // and the check costs a row lookup per candidate) and checks its hits afterwards; when a hit
  // fails, it walks again with the filter.
  Result<TenantAnswer> Search(const TenantQuery& query) const;

  // True when the row `label` is here and matches `predicate` (the keyword leg's filter).
  bool Admits(uint64_t label, const RowPredicate& predicate) const;
  // Copies the state of row `label` into *row; false when the row is not here.
  bool CopyRow(uint64_t label, RowState* row) const;
  // Live rows of `month`.
  std::vector<uint64_t> LabelsIn(uint32_t month) const;
  // Per-month figures, for every month with rows or tombstones.
  std::map<uint32_t, TenantMonthStats> MonthStats() const;
  // Bytes held by the graph.
  size_t graph_bytes() const;
  // True when the graph changed since the last successful Save().
  bool dirty() const;
  // Makes dirty() true, so that the next save writes the graph (e.g. one read from a file of an
  // older format).
  void MarkDirty();

  // Saves the graph (not the fresh buffer: those rows are caught up from storage on open).
  // `label_watermark` exceeds every label the graph holds; Open() resumes labels above it.
  Status Save(const std::string& path, uint64_t label_watermark, FileSystem& fs);
  // Replaces the graph by a compacted copy when tombstones exceed `max_deleted_fraction`; true
  // when it did.
  Result<bool> CompactIfNeeded(double max_deleted_fraction);
  // Rebuilds the graph from the live rows (online: searches continue on the old graph).
  Status Rebuild();
  // Checks the records of a graph opened with its record check deferred
  // (hnsw::HnswIndex::CheckRecords); when they are damaged, rebuilds the graph (its labels and
  // vectors were checked at open) and returns the check's error.  OK when there was nothing to
  // check or the records are sound.  REQUIRES: vector moves held off (as for Rebuild()).
  Status CheckSavedGraph();
  // Rows in the graph (linked, live).
  size_t graph_rows() const;
  // Hands the store-wide quantizer to the graph (a no-op when it has one).
  void AdoptQuantizer(std::shared_ptr<const hnsw::ScalarQuantizer> quantizer);
  // Copies up to `max_rows` unit vectors (graph rows, then fresh ones) into `out`, row-major.
  void SampleVectors(size_t max_rows, std::vector<float>* out) const;

 private:
  // A row in a month list: valid while slot_labels_[slot] == label (slots are reused).
  struct MonthEntry {
    uint32_t slot;
    uint64_t label;
  };
  friend class RowFilter;

  std::shared_ptr<hnsw::HnswIndex> graph() const;
  // The state of `label`'s row, or null.  REQUIRES: mutex_ held.
  const RowState* FindRow(uint64_t label) const;
  // REQUIRES: mutex_ held exclusively.
  void AddRow(uint64_t label, RowState row);
  void PruneMonthList(uint32_t month);

  const std::string user_id_;
  const uint32_t user_ref_;
  const uint32_t dim_;
  const OwnerKind kind_;

  // Serialises graph maintenance (linking fresh rows, rebuilds) so no link lands in a graph that
  // is being replaced.
  std::mutex maintenance_mutex_;

  mutable std::shared_mutex mutex_;
  std::shared_ptr<hnsw::HnswIndex> graph_;  // replaced whole by compaction/rebuild
  // Live rows in dense slots (searches read them on their hot path), found by label.
  std::vector<RowState> slot_rows_;
  std::vector<uint64_t> slot_labels_;  // 0: a free slot
  std::vector<uint32_t> free_slots_;
  hnsw::LabelIndex slots_;  // label -> slot
  // Rows not linked yet, with their vectors: in place, or a copy.
  struct FreshVector {
    std::vector<float> copy;
    const float* stored = nullptr;
    const float* data() const { return stored != nullptr ? stored : copy.data(); }
  };
  std::unordered_map<uint64_t, FreshVector> fresh_;
  // Rows per month; may hold rows removed since (pruned when they pile up).
  std::map<uint32_t, std::vector<MonthEntry>> month_rows_;
  std::map<uint32_t, TenantMonthStats> month_stats_;
  std::unordered_map<uint32_t, size_t> month_stale_;
  bool rebuilding_ = false;
  std::vector<uint64_t> removed_during_rebuild_;
  uint64_t version_ = 0;        // bumped by every change to the graph
  uint64_t saved_version_ = 0;  // version_ at the last successful Save()
};

}  // namespace mnemo::vector
