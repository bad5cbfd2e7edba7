#include "vector/tenant.h"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <optional>

#include "kernels/distance.h"

namespace mnemo::vector {
namespace {}  // namespace

// Admits the tenant's rows that match the query's predicate.  The per-month row lists let the
// index answer a time-filtered query by scanning only the months the filter selects.  One filter
// serves one query on one thread, under the tenant's shared lock.
class RowFilter final : public hnsw::LabelFilter {
 public:
  RowFilter(const Tenant& tenant, const RowPredicate& predicate,
            std::vector<const std::vector<Tenant::MonthEntry>*> month_lists, size_t count_hint)
      : tenant_(tenant),
        predicate_(predicate),
        month_lists_(std::move(month_lists)),
        count_hint_(count_hint) {}

  bool Allows(uint64_t label) const override {
    const RowState* row = tenant_.FindRow(label);
    return row != nullptr && predicate_.Matches(*row);
  }
  std::optional<size_t> CountHint() const override { return count_hint_; }
  // The month lists may hold removed rows or rows other conditions reject; the index scans this
  // list without calling Allows(), so it gets the exact allowed subset, built on demand.
  const std::vector<uint64_t>* AllowedLabels() const override {
    if (!allowed_) {
      allowed_.emplace();
      allowed_->reserve(count_hint_);
      for (const std::vector<Tenant::MonthEntry>* list : month_lists_) {
        for (const Tenant::MonthEntry& entry : *list) {
          if (tenant_.slot_labels_[entry.slot] != entry.label) continue;
          if (predicate_.Matches(tenant_.slot_rows_[entry.slot])) allowed_->push_back(entry.label);
        }
      }
    }
    return &*allowed_;
  }

 private:
  const Tenant& tenant_;
  const RowPredicate& predicate_;
  const std::vector<const std::vector<Tenant::MonthEntry>*> month_lists_;
  const size_t count_hint_;
  mutable std::optional<std::vector<uint64_t>> allowed_;
};

namespace {

bool BetterHit(const TenantHit& a, const TenantHit& b) {
  return a.similarity != b.similarity ? a.similarity > b.similarity : a.label < b.label;
}

}  // namespace

bool RowPredicate::Matches(const RowState& row) const {
  // Cheapest first: the time range reads the row itself, the deleted flag its document.
  if (row.created_at < created_from || row.created_at >= created_until) return false;
  if (row.user_ref != user_ref) return false;
  if (row.document->deleted.load(std::memory_order_acquire)) return false;
  if (role_mask != 0 && (row.chunk_index < 0 || row.chunk_index >= 32 ||
                         ((role_mask >> row.chunk_index) & 1u) == 0)) {
    return false;
  }
  if (!excluded_rows.empty() &&
      std::binary_search(excluded_rows.begin(), excluded_rows.end(), row.chunk_id)) {
    return false;
  }
  if (!document_ids.empty() &&
      !std::binary_search(document_ids.begin(), document_ids.end(), row.document->id)) {
    return false;
  }
  if (!file_types.empty() && std::find(file_types.begin(), file_types.end(),
                                       row.document->file_type()) == file_types.end()) {
    return false;
  }
  for (const auto& [key, value] : metadata_equals) {
    if (!row.metadata) return false;
    auto it = row.metadata->find(key);
    if (it == row.metadata->end() || *it != value) return false;
  }
  return true;
}

bool RowPredicate::OwnershipOnly() const {
  return created_from == kMinTimestamp && created_until == kMaxTimestamp && role_mask == 0 &&
         excluded_rows.empty() && document_ids.empty() && file_types.empty() &&
         metadata_equals.empty();
}

bool RowPredicate::OverlapsMonth(uint32_t month) const {
  return MonthStart(month) < created_until && MonthStart(month + 1) > created_from;
}

double RowPredicate::MonthFraction(uint32_t month) const {
  const Timestamp begin = MonthStart(month);
  const Timestamp end = MonthStart(month + 1);
  const Timestamp from = std::max(begin, created_from);
  const Timestamp until = std::min(end, created_until);
  if (until <= from) return 0;
  return static_cast<double>(until - from) / static_cast<double>(end - begin);
}

Tenant::Tenant(std::string user_id, uint32_t user_ref, uint32_t dim,
               std::unique_ptr<hnsw::HnswIndex> graph, OwnerKind kind)
    : user_id_(std::move(user_id)),
      user_ref_(user_ref),
      dim_(dim),
      kind_(kind),
      graph_(std::move(graph)) {}

std::shared_ptr<hnsw::HnswIndex> Tenant::graph() const {
  std::shared_lock lock(mutex_);
  return graph_;
}

const RowState* Tenant::FindRow(uint64_t label) const {
  const uint32_t slot = slots_.Find(label);
  return slot == hnsw::LabelIndex::kMissing ? nullptr : &slot_rows_[slot];
}

void Tenant::AddRow(uint64_t label, RowState row) {
  const uint32_t month = MonthOf(row.created_at);
  uint32_t slot = slots_.Find(label);
  if (slot == hnsw::LabelIndex::kMissing) {
    if (!free_slots_.empty()) {
      slot = free_slots_.back();
      free_slots_.pop_back();
    } else {
      slot = static_cast<uint32_t>(slot_rows_.size());
      slot_rows_.emplace_back();
      slot_labels_.push_back(0);
    }
    slots_.Upsert(label, slot);
    month_rows_[month].push_back(MonthEntry{slot, label});
    ++month_stats_[month].rows;
  }
  slot_rows_[slot] = std::move(row);
  slot_labels_[slot] = label;
}

void Tenant::InsertBatch(std::vector<FreshRow> rows) {
  std::unique_lock lock(mutex_);
  for (FreshRow& fresh : rows) {
    ++month_stats_[MonthOf(fresh.row.created_at)].pending;
    AddRow(fresh.label, std::move(fresh.row));
    fresh_[fresh.label] = FreshVector{std::move(fresh.unit_vector), fresh.stored};
  }
}

std::vector<size_t> Tenant::RestoreIndexed(std::span<const RestoredRow> rows) {
  constexpr size_t kPrefetch = 8;  // lookups started this many rows ahead
  std::vector<uint64_t> labels;
  labels.reserve(rows.size());
  for (const RestoredRow& restored : rows) labels.push_back(restored.label);
  std::unique_lock lock(mutex_);
  std::vector<uint8_t> indexed;
  graph_->ContainsEach(labels, &indexed);

  slot_rows_.reserve(slot_rows_.size() + rows.size());
  slot_labels_.reserve(slot_labels_.size() + rows.size());
  slots_.Reserve(slots_.size() + rows.size());
  std::vector<size_t> others;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (i + kPrefetch < rows.size()) slots_.Prefetch(labels[i + kPrefetch]);
    if (indexed[i]) {
      AddRow(rows[i].label, std::move(*rows[i].row));
    } else {
      others.push_back(i);
    }
  }
  return others;
}

bool Tenant::Remove(uint64_t label) {
  std::unique_lock lock(mutex_);
  const uint32_t slot = slots_.Find(label);
  if (slot == hnsw::LabelIndex::kMissing) return false;
  const uint32_t month = MonthOf(slot_rows_[slot].created_at);
  slots_.Erase(label);
  slot_rows_[slot] = RowState{};
  slot_labels_[slot] = 0;
  free_slots_.push_back(slot);
  TenantMonthStats& stats = month_stats_[month];
  --stats.rows;
  if (fresh_.erase(label) > 0) --stats.pending;
  if (graph_->Contains(label)) {
    graph_->MarkDeleted(label).IgnoreError();
    ++stats.tombstones;
    ++version_;
  }
  if (rebuilding_) removed_during_rebuild_.push_back(label);
  if (++month_stale_[month] * 2 > month_rows_[month].size()) PruneMonthList(month);
  return true;
}

void Tenant::PruneMonthList(uint32_t month) {
  std::vector<MonthEntry>& entries = month_rows_[month];
  std::erase_if(entries,
                [&](const MonthEntry& entry) { return slot_labels_[entry.slot] != entry.label; });
  month_stale_[month] = 0;
  if (entries.empty()) {
    month_rows_.erase(month);
    month_stale_.erase(month);
    const TenantMonthStats& stats = month_stats_[month];
    if (stats.rows == 0 && stats.tombstones == 0) month_stats_.erase(month);
  }
}

size_t Tenant::IndexPending(size_t max_rows) {
  std::lock_guard maintenance(maintenance_mutex_);
  struct Pending {
    uint64_t label;
    FreshVector vector;
  };
  std::vector<Pending> batch;
  std::shared_ptr<hnsw::HnswIndex> graph;
  {
    std::shared_lock lock(mutex_);
    graph = graph_;
    for (const auto& [label, vector] : fresh_) {
      if (batch.size() == max_rows) break;
      batch.push_back(Pending{label, vector});
    }
  }
  if (batch.empty()) return 0;
  for (const Pending& pending : batch) {
    // DuplicateRecord (already linked) is fine; other errors cannot happen for validated rows.
    if (pending.vector.stored != nullptr) {
      graph->AddExternal(pending.label, pending.vector.stored).IgnoreError();
    } else {
      graph->Add(pending.label, pending.vector.copy).IgnoreError();
    }
  }
  std::unique_lock lock(mutex_);
  ++version_;
  for (const auto& [label, vector] : batch) {
    const RowState* row = FindRow(label);
    if (row == nullptr) {
      // Removed while we were linking it: tombstone it so it never routes as live.
      if (graph->Contains(label)) graph->MarkDeleted(label).IgnoreError();
      continue;
    }
    if (fresh_.erase(label) > 0) --month_stats_[MonthOf(row->created_at)].pending;
  }
  return batch.size();
}

void Tenant::RepointVector(uint64_t label, const float* unit) {
  std::unique_lock lock(mutex_);
  auto it = fresh_.find(label);
  if (it != fresh_.end()) {
    it->second.stored = unit;
    std::vector<float>().swap(it->second.copy);  // a copy is no longer needed
  }
  graph_->RepointVector(label, unit);
}

bool Tenant::Admits(uint64_t label, const RowPredicate& predicate) const {
  std::shared_lock lock(mutex_);
  const RowState* row = FindRow(label);
  return row != nullptr && predicate.Matches(*row);
}

bool Tenant::CopyRow(uint64_t label, RowState* row) const {
  std::shared_lock lock(mutex_);
  const RowState* found = FindRow(label);
  if (found == nullptr) return false;
  *row = *found;
  return true;
}

size_t Tenant::pending() const {
  std::shared_lock lock(mutex_);
  return fresh_.size();
}

size_t Tenant::rows() const {
  std::shared_lock lock(mutex_);
  return slots_.size();
}

Result<TenantAnswer> Tenant::Search(const TenantQuery& query) const {
  TenantAnswer answer;
  const RowPredicate& predicate = *query.predicate;
  std::shared_lock lock(mutex_);
  // Months the filter lets in; a search without a time range takes every month.
  const bool time_filtered =
      predicate.created_from != kMinTimestamp || predicate.created_until != kMaxTimestamp;
  std::vector<const std::vector<MonthEntry>*> lists;
  double admitted = 0;  // rows the time range admits, estimated
  for (const auto& [month, labels] : month_rows_) {
    if (time_filtered && !predicate.OverlapsMonth(month)) continue;
    lists.push_back(&labels);
    admitted += static_cast<double>(labels.size()) * predicate.MonthFraction(month);
    ++answer.months_searched;
  }
  if (lists.empty()) return answer;
  const size_t count_hint =
      time_filtered ? static_cast<size_t>(std::ceil(admitted)) : slots_.size();
  RowFilter filter(*this, predicate, std::move(lists), count_hint);

  hnsw::SearchOptions options;
  options.k = query.k;
  options.ef = query.ef;
  options.filter = predicate.OwnershipOnly() ? nullptr : &filter;
  options.min_similarity = query.min_similarity;
  options.compressed = query.compressed;
  options.rerank_factor = query.rerank_factor;
  options.costs = query.costs;
  hnsw::SearchResult result;
  if (graph_->size() > 0) {
    const std::span<const float> unit_query(query.unit_query, dim_);
    MNEMO_RETURN_IF_ERROR(graph_->Search(unit_query, options, &result));
    // Unfiltered, a hit may be a row of a deleted document, or one removed while the indexer
    // linked it (its node is tombstoned once the indexer sees that): walk again, filtered.
    if (options.filter == nullptr &&
        !std::all_of(result.hits.begin(), result.hits.end(),
                     [&](const hnsw::SearchHit& hit) { return filter.Allows(hit.label); })) {
      options.filter = &filter;
      result = hnsw::SearchResult{};
      MNEMO_RETURN_IF_ERROR(graph_->Search(unit_query, options, &result));
    }
    answer.exact = result.stats.exact;
    answer.ef_used = result.stats.ef_used;
  }
  for (const auto& hit : result.hits) {
    const RowState* row = FindRow(hit.label);
    if (row == nullptr) continue;
    answer.hits.push_back(TenantHit{hit.label, hit.similarity, *row});
  }
  for (const auto& [label, vector] : fresh_) {
    const RowState* row = FindRow(label);
    if (row == nullptr || !predicate.Matches(*row)) continue;
    const float similarity = kernels::Dot(query.unit_query, vector.data(), dim_);
    if (similarity < query.min_similarity) continue;
    answer.hits.push_back(TenantHit{label, similarity, *row});
  }
  std::sort(answer.hits.begin(), answer.hits.end(), BetterHit);
  // A row being linked sits in both the graph and the fresh buffer for a moment.
  auto last =
      std::unique(answer.hits.begin(), answer.hits.end(),
                  [](const TenantHit& a, const TenantHit& b) { return a.label == b.label; });
  answer.hits.erase(last, answer.hits.end());
  if (answer.hits.size() > query.k) answer.hits.resize(query.k);
  return answer;
}

std::vector<uint64_t> Tenant::LabelsIn(uint32_t month) const {
  std::shared_lock lock(mutex_);
  std::vector<uint64_t> labels;
  auto it = month_rows_.find(month);
  if (it == month_rows_.end()) return labels;
  for (const MonthEntry& entry : it->second) {
    if (slot_labels_[entry.slot] == entry.label) labels.push_back(entry.label);
  }
  return labels;
}

std::map<uint32_t, TenantMonthStats> Tenant::MonthStats() const {
  std::shared_lock lock(mutex_);
  return month_stats_;
}

size_t Tenant::graph_bytes() const { return graph()->memory_bytes(); }

bool Tenant::dirty() const {
  std::shared_lock lock(mutex_);
  return version_ != saved_version_;
}

void Tenant::MarkDirty() {
  std::unique_lock lock(mutex_);
  ++version_;
}

Status Tenant::Save(const std::string& path, uint64_t label_watermark, FileSystem& fs) {
  std::shared_ptr<hnsw::HnswIndex> current;
  uint64_t version = 0;
  {
    std::shared_lock lock(mutex_);
    current = graph_;
    version = version_;
  }
  MNEMO_RETURN_IF_ERROR(current->Save(path, label_watermark, fs));
  std::unique_lock lock(mutex_);
  // A change made while the file was written keeps the tenant dirty.
  if (graph_ == current) saved_version_ = std::max(saved_version_, version);
  return Status::Ok();
}

Result<bool> Tenant::CompactIfNeeded(double max_deleted_fraction) {
  std::shared_ptr<hnsw::HnswIndex> current = graph();
  const double total = static_cast<double>(current->size() + current->deleted_count());
  if (total == 0 || static_cast<double>(current->deleted_count()) <= max_deleted_fraction * total) {
    return false;
  }
  MNEMO_RETURN_IF_ERROR(Rebuild());
  return true;
}

Status Tenant::Rebuild() {
  std::lock_guard maintenance(maintenance_mutex_);
  std::shared_ptr<hnsw::HnswIndex> current = graph();
  {
    std::unique_lock lock(mutex_);
    rebuilding_ = true;
    removed_during_rebuild_.clear();
  }
  auto rebuilt = current->Compact(1);
  std::unique_lock lock(mutex_);
  rebuilding_ = false;
  if (!rebuilt.ok()) return rebuilt.status();
  std::shared_ptr<hnsw::HnswIndex> next(std::move(rebuilt).value());
  for (auto& [month, stats] : month_stats_) stats.tombstones = 0;
  // Rows removed while the copy was made are still live in it.
  for (uint64_t label : removed_during_rebuild_) {
    if (next->Contains(label)) next->MarkDeleted(label).IgnoreError();
  }
  removed_during_rebuild_.clear();
  graph_ = std::move(next);
  ++version_;
  return Status::Ok();
}

Status Tenant::CheckSavedGraph() {
  const std::shared_ptr<hnsw::HnswIndex> current = graph();
  Status checked = current->CheckRecords();
  if (checked.ok()) return checked;
  MNEMO_RETURN_IF_ERROR(Rebuild());
  return checked;
}

size_t Tenant::graph_rows() const { return graph()->size(); }

void Tenant::AdoptQuantizer(std::shared_ptr<const hnsw::ScalarQuantizer> quantizer) {
  std::lock_guard maintenance(maintenance_mutex_);
  graph()->AdoptQuantizer(std::move(quantizer));
  std::unique_lock lock(mutex_);
  ++version_;
}

void Tenant::SampleVectors(size_t max_rows, std::vector<float>* out) const {
  std::shared_lock lock(mutex_);
  const size_t before = out->size() / dim_;
  graph_->CopyVectors(max_rows, out);
  size_t copied = out->size() / dim_ - before;
  for (auto it = fresh_.begin(); it != fresh_.end() && copied < max_rows; ++it, ++copied) {
    const float* vector = it->second.data();
    out->insert(out->end(), vector, vector + dim_);
  }
}

}  // namespace mnemo::vector
