// VectorStore::Search: validation, the per-query predicate, the user's tenant search, and
// materialising hits from storage.
#include <algorithm>
#include <cmath>

#include "kernels/distance.h"
#include "storage/key_codec.h"
#include "tables/chunk_row.h"
#include "tables/validation.h"
#include "vector/chunk_rows.h"
#include "vector/vector_store.h"

namespace mnemo::vector {

Status BuildRowPredicate(const SearchFilters& filters, uint32_t user_ref, RowPredicate* predicate) {
  predicate->user_ref = user_ref;
  predicate->document_ids = filters.document_ids;
  std::sort(predicate->document_ids.begin(), predicate->document_ids.end());
  for (const auto& type : filters.file_types) {
    Status valid = tables::ValidateFileType(type);
    if (!valid.ok()) return Status::ValidationError("filters.file_types", valid.message());
  }
  predicate->file_types = filters.file_types;
  predicate->created_from = filters.created_from.value_or(kMinTimestamp);
  predicate->created_until = filters.created_until.value_or(kMaxTimestamp);
  if (predicate->created_from >= predicate->created_until) {
    return Status::ValidationError("filters.created_until", "must be later than created_from");
  }
  for (const auto& [key, json_value] : filters.metadata_equals) {
    auto value = nlohmann::json::parse(json_value, nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded() || json_value.size() > 4096) {
      return Status::ValidationError("filters.metadata",
                                     "value of \"" + key + "\" is not valid JSON");
    }
    predicate->metadata_equals.emplace_back(key, std::move(value));
  }
  return Status::Ok();
}

namespace {

// The beam width for a graph of `rows` rows when the request names none: `base` up to
// kEfGrowthStart rows, then half of `base` more per doubling, at most kEfGrowthCap times `base`.
size_t DefaultEf(size_t base, size_t rows) {
  constexpr double kEfGrowthStart = 10000;
  constexpr double kEfGrowthCap = 4;
  if (static_cast<double>(rows) <= kEfGrowthStart) return base;
  const double factor =
      std::min(kEfGrowthCap, 1 + 0.5 * std::log2(static_cast<double>(rows) / kEfGrowthStart));
  return static_cast<size_t>(static_cast<double>(base) * factor);
}

}  // namespace

Status VectorStore::ValidateVectorQuery(const std::vector<float>& query, int64_t top_k,
                                        const std::optional<float>& min_similarity,
                                        const std::optional<int64_t>& ef,
                                        std::vector<float>* unit) const {
  if (top_k < 1 || top_k > kMaxTopK) {
    return Status::ValidationError("top_k", "must be in 1.." + std::to_string(kMaxTopK));
  }
  if (query.size() != dim_) {
    return Status::ValidationError("query", "has " + std::to_string(query.size()) +
                                                " values; this data directory stores " +
                                                std::to_string(dim_) + "-dimensional embeddings");
  }
  if (min_similarity && !(*min_similarity >= -1.0f && *min_similarity <= 1.0f)) {
    return Status::ValidationError("min_similarity", "must be in [-1, 1]");
  }
  if (ef && (*ef < 1 || *ef > kMaxEf)) {
    return Status::ValidationError("ef", "must be in 1.." + std::to_string(kMaxEf));
  }
  *unit = query;
  if (!kernels::Normalize(unit->data(), unit->size())) {
    return Status::ValidationError("query", "must be finite and have a non-zero norm");
  }
  return Status::Ok();
}

TenantQuery VectorStore::QueryFor(const Tenant& tenant, const std::vector<float>& unit,
                                  int64_t top_k, const std::optional<int64_t>& ef,
                                  const std::optional<float>& min_similarity,
                                  const RowPredicate& predicate) const {
  TenantQuery query;
  query.unit_query = unit.data();
  query.k = static_cast<size_t>(top_k);
  query.ef = std::max<size_t>(
      ef ? static_cast<size_t>(*ef) : DefaultEf(options_.default_ef, tenant.graph_rows()), query.k);
  query.min_similarity = min_similarity.value_or(-1.0f);
  query.compressed = options_.compressed_search;
  query.rerank_factor = std::max<size_t>(options_.rerank_factor, 1);
  query.predicate = &predicate;
  query.costs = &costs_;
  return query;
}

Result<SearchResponse> VectorStore::Search(std::string_view user_id,
                                           const SearchRequest& request) const {
  MNEMO_RETURN_IF_ERROR(tables::ValidateUserId(user_id));
  std::vector<float> unit;
  MNEMO_RETURN_IF_ERROR(
      ValidateVectorQuery(request.query, request.top_k, request.min_similarity, request.ef, &unit));

  SearchResponse response;
  uint32_t user_ref = 0;
  const bool known_user = users_.Find(user_id, &user_ref);
  RowPredicate predicate;
  MNEMO_RETURN_IF_ERROR(BuildRowPredicate(request.filters, user_ref, &predicate));
  if (!known_user) {
    response.fewer_than_top_k = true;
    return response;
  }

  auto tenant = FindTenant(user_ref);
  if (!tenant) {
    response.fewer_than_top_k = true;
    return response;
  }
  const TenantQuery query =
      QueryFor(*tenant, unit, request.top_k, request.ef, request.min_similarity, predicate);
  Result<TenantAnswer> searched = [&] {
    const auto gate = log_->ReadGate();  // the graph reads vectors in place
    return tenant->Search(query);
  }();
  MNEMO_ASSIGN_OR_RETURN(TenantAnswer answer, std::move(searched));
  response.partitions_searched = answer.months_searched;
  response.exact = answer.exact;
  response.ef_used = answer.ef_used;
  std::vector<TenantHit>& merged = answer.hits;

  std::vector<Uuid> chunk_ids;
  chunk_ids.reserve(merged.size());
  for (const auto& hit : merged) chunk_ids.push_back(hit.row.chunk_id);
  std::vector<std::optional<tables::ChunkRow>> rows;
  MNEMO_RETURN_IF_ERROR(tables::ReadChunkRows(db_, chunk_ids, &rows));
  for (size_t i = 0; i < merged.size(); ++i) {
    const TenantHit& hit = merged[i];
    if (!rows[i]) continue;  // deleted after it was scored
    tables::ChunkRow& row = *rows[i];
    if (row.deleted_at) continue;  // soft-deleted after it was scored
    SearchHit out;
    out.chunk_id = hit.row.chunk_id;
    out.document_id = hit.row.document->id;
    out.chunk_index = hit.row.chunk_index;
    out.chunk_text = std::move(row.chunk_text);
    out.filename = hit.row.document->filename();
    out.similarity = std::clamp(hit.similarity, -1.0f, 1.0f);
    out.created_at = hit.row.created_at;
    response.hits.push_back(std::move(out));
  }
  response.fewer_than_top_k = response.hits.size() < query.k;
  return response;
}

}  // namespace mnemo::vector
