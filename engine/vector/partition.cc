#include "vector/partition.h"

#include <algorithm>
#include <mutex>
#include <optional>

#include "kernels/distance.h"

namespace mnemo::vector {
namespace {

// Admits the rows of one owner that match the query's predicate.  The owner's label list lets
// the index answer a small tenant by scanning only that tenant's rows.  One filter serves one
// query on one thread.
class RowFilter final : public hnsw::LabelFilter {
 public:
  RowFilter(const std::unordered_map<uint64_t, RowState>& rows, const RowPredicate& predicate,
            const std::vector<uint64_t>& owner_labels)
      : rows_(rows), predicate_(predicate), owner_labels_(owner_labels) {}

  bool Allows(uint64_t label) const override {
    auto it = rows_.find(label);
    return it != rows_.end() && predicate_.Matches(it->second);
  }
  std::optional<size_t> CountHint() const override { return owner_labels_.size(); }
  // The owner's list may hold removed labels or rows other conditions reject; the index scans
  // this list without calling Allows(), so it gets the exact allowed subset, built on demand.
  const std::vector<uint64_t>* AllowedLabels() const override {
    if (!allowed_) {
      allowed_.emplace();
      for (uint64_t label : owner_labels_) {
        if (Allows(label)) allowed_->push_back(label);
      }
    }
    return &*allowed_;
  }

 private:
  const std::unordered_map<uint64_t, RowState>& rows_;
  const RowPredicate& predicate_;
  const std::vector<uint64_t>& owner_labels_;
  mutable std::optional<std::vector<uint64_t>> allowed_;
};

bool BetterHit(const PartitionHit& a, const PartitionHit& b) {
  return a.similarity != b.similarity ? a.similarity > b.similarity : a.label < b.label;
}

}  // namespace

bool RowPredicate::Matches(const RowState& row) const {
  if (row.user_ref != user_ref) return false;
  if (row.document->deleted.load(std::memory_order_acquire)) return false;
  if (row.created_at < created_from || row.created_at >= created_until) return false;
  if (!document_ids.empty() &&
      !std::binary_search(document_ids.begin(), document_ids.end(), row.document->id)) {
    return false;
  }
  if (!file_types.empty() &&
      std::find(file_types.begin(), file_types.end(), row.document->file_type()) == file_types.end()) {
    return false;
  }
  for (const auto& [key, value] : metadata_equals) {
    if (!row.metadata) return false;
    auto it = row.metadata->find(key);
    if (it == row.metadata->end() || *it != value) return false;
  }
  return true;
}

Partition::Partition(uint32_t month, uint32_t dim, std::unique_ptr<hnsw::HnswIndex> index)
    : month_(month), dim_(dim), graph_(std::move(index)) {}

std::shared_ptr<hnsw::HnswIndex> Partition::graph() const {
  std::shared_lock lock(mutex_);
  return graph_;
}

void Partition::Insert(uint64_t label, RowState row, std::vector<float> unit_vector) {
  std::unique_lock lock(mutex_);
  user_labels_[row.user_ref].push_back(label);
  rows_[label] = std::move(row);
  fresh_[label] = std::move(unit_vector);
}

void Partition::InsertBatch(std::vector<FreshRow> rows) {
  std::unique_lock lock(mutex_);
  for (FreshRow& fresh : rows) {
    user_labels_[fresh.row.user_ref].push_back(fresh.label);
    rows_[fresh.label] = std::move(fresh.row);
    fresh_[fresh.label] = std::move(fresh.unit_vector);
  }
}

void Partition::Restore(uint64_t label, RowState row) {
  std::unique_lock lock(mutex_);
  user_labels_[row.user_ref].push_back(label);
  rows_[label] = std::move(row);
}

void Partition::Remove(uint64_t label) {
  std::unique_lock lock(mutex_);
  auto it = rows_.find(label);
  if (it == rows_.end()) return;
  const uint32_t user_ref = it->second.user_ref;
  rows_.erase(it);
  fresh_.erase(label);
  if (graph_->Contains(label)) graph_->MarkDeleted(label).IgnoreError();
  if (rebuilding_) removed_during_rebuild_.push_back(label);
  if (++user_stale_[user_ref] * 2 > user_labels_[user_ref].size()) DropFromUserList(user_ref);
}

void Partition::DropFromUserList(uint32_t user_ref) {
  std::vector<uint64_t>& labels = user_labels_[user_ref];
  std::erase_if(labels, [&](uint64_t label) { return !rows_.contains(label); });
  user_stale_[user_ref] = 0;
  if (labels.empty()) {
    user_labels_.erase(user_ref);
    user_stale_.erase(user_ref);
  }
}

size_t Partition::IndexPending(size_t max_rows) {
  std::lock_guard maintenance(maintenance_mutex_);
  std::vector<std::pair<uint64_t, std::vector<float>>> batch;
  std::shared_ptr<hnsw::HnswIndex> graph;
  {
    std::shared_lock lock(mutex_);
    graph = graph_;
    for (const auto& [label, vector] : fresh_) {
      if (batch.size() == max_rows) break;
      batch.emplace_back(label, vector);
    }
  }
  if (batch.empty()) return 0;
  for (const auto& [label, vector] : batch) {
    // DuplicateRecord (already linked) is fine; other errors cannot happen for validated rows.
    graph->Add(label, vector).IgnoreError();
  }
  std::unique_lock lock(mutex_);
  for (const auto& [label, vector] : batch) {
    fresh_.erase(label);
    // Removed while we were linking it: tombstone it so it never routes as live.
    if (!rows_.contains(label) && graph->Contains(label)) graph->MarkDeleted(label).IgnoreError();
  }
  return batch.size();
}

size_t Partition::pending() const {
  std::shared_lock lock(mutex_);
  return fresh_.size();
}

Result<PartitionAnswer> Partition::Search(const PartitionQuery& query) const {
  PartitionAnswer answer;
  std::shared_lock lock(mutex_);
  auto owner = user_labels_.find(query.predicate->user_ref);
  if (owner == user_labels_.end()) return answer;
  RowFilter filter(rows_, *query.predicate, owner->second);

  hnsw::SearchOptions options;
  options.k = query.k;
  options.ef = query.ef;
  options.filter = &filter;
  options.min_similarity = query.min_similarity;
  options.compressed = query.compressed;
  options.rerank_factor = query.rerank_factor;
  hnsw::SearchResult result;
  if (graph_->size() > 0) {
    MNEMO_RETURN_IF_ERROR(graph_->Search(std::span<const float>(query.unit_query, dim_), options, &result));
    answer.exact = result.stats.exact;
    answer.ef_used = result.stats.ef_used;
  }
  for (const auto& hit : result.hits) {
    auto row = rows_.find(hit.label);
    if (row == rows_.end()) continue;
    answer.hits.push_back(PartitionHit{hit.label, hit.similarity, row->second});
  }
  for (const auto& [label, vector] : fresh_) {
    if (!filter.Allows(label)) continue;
    const float similarity = kernels::Dot(query.unit_query, vector.data(), dim_);
    if (similarity < query.min_similarity) continue;
    answer.hits.push_back(PartitionHit{label, similarity, rows_.at(label)});
  }
  std::sort(answer.hits.begin(), answer.hits.end(), BetterHit);
  // A row being linked sits in both the graph and the fresh buffer for a moment.
  auto last = std::unique(answer.hits.begin(), answer.hits.end(),
                          [](const PartitionHit& a, const PartitionHit& b) { return a.label == b.label; });
  answer.hits.erase(last, answer.hits.end());
  if (answer.hits.size() > query.k) answer.hits.resize(query.k);
  return answer;
}

bool Partition::Indexed(uint64_t label) const { return graph()->Contains(label); }

std::vector<uint64_t> Partition::Labels() const {
  std::shared_lock lock(mutex_);
  std::vector<uint64_t> labels;
  labels.reserve(rows_.size());
  for (const auto& [label, row] : rows_) labels.push_back(label);
  return labels;
}

Status Partition::Save(const std::string& path, uint64_t label_watermark) const {
  return graph()->Save(path, label_watermark);
}

Result<bool> Partition::CompactIfNeeded(double max_deleted_fraction) {
  std::shared_ptr<hnsw::HnswIndex> current = graph();
  const double total = static_cast<double>(current->size() + current->deleted_count());
  if (total == 0 || static_cast<double>(current->deleted_count()) <= max_deleted_fraction * total) {
    return false;
  }
  MNEMO_RETURN_IF_ERROR(Rebuild());
  return true;
}

Status Partition::Rebuild() {
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
  // Rows removed while the copy was made are still live in it.
  for (uint64_t label : removed_during_rebuild_) {
    if (next->Contains(label)) next->MarkDeleted(label).IgnoreError();
  }
  removed_during_rebuild_.clear();
  graph_ = std::move(next);
  return Status::Ok();
}

PartitionInfo Partition::Info() const {
  std::shared_lock lock(mutex_);
  PartitionInfo info;
  info.month = MonthName(month_);
  info.rows = static_cast<int64_t>(rows_.size());
  info.vector_bytes = static_cast<int64_t>(rows_.size() * dim_ * sizeof(float));
  info.index_bytes = static_cast<int64_t>(graph_->memory_bytes());
  info.pending_rows = static_cast<int64_t>(fresh_.size());
  info.deleted_in_index = static_cast<int64_t>(graph_->deleted_count());
  return info;
}

}  // namespace mnemo::vector
