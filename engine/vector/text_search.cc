// VectorStore's keyword and hybrid search: the text leg runs in the text index (text/), filtered
// by the same per-row state as vector search; hybrid fuses it with the vector leg (Search).
#include <algorithm>

#include "storage/key_codec.h"
#include "tables/chunk_row.h"
#include "tables/validation.h"
#include "text/fusion.h"
#include "vector/chunk_rows.h"
#include "vector/vector_store.h"

namespace mnemo::vector {
namespace {

Status ValidateTopK(int64_t top_k) {
  if (top_k < 1 || top_k > kMaxTopK)
    return Status::ValidationError("top_k", "must be in 1.." + std::to_string(kMaxTopK));
  return Status::Ok();
}

// A hit of the text leg before its chunk text is loaded.
RankedHit FromRow(const RowState& row) {
  RankedHit ranked;
  ranked.hit.chunk_id = row.chunk_id;
  ranked.hit.document_id = row.document->id;
  ranked.hit.chunk_index = row.chunk_index;
  ranked.hit.filename = row.document->filename();
  ranked.hit.created_at = row.created_at;
  return ranked;
}

}  // namespace

struct VectorStore::TextLeg {
  TextLegInfo info;
  std::vector<std::pair<RowState, double>> hits;  // best first
};

Result<VectorStore::TextLeg> VectorStore::RunTextLeg(std::string_view user_id,
                                                     std::string_view field, std::string_view query,
                                                     size_t depth,
                                                     const RowPredicate& predicate) const {
  text::ParsedQuery parsed;
  MNEMO_RETURN_IF_ERROR(text::ParseQuery(field, query, &parsed));
  TextLeg leg;
  leg.info.terms = parsed.terms;
  leg.info.stopwords_ignored = static_cast<int32_t>(parsed.stopwords);
  if (parsed.terms.empty()) return leg;  // nothing to search for: the leg does not run
  leg.info.ran = true;
  uint32_t user_ref = 0;
  std::shared_ptr<Tenant> tenant = users_.Find(user_id, &user_ref) ? FindTenant(user_ref) : nullptr;
  if (!tenant) {
    leg.info.unknown_terms = parsed.terms;
    return leg;
  }
  MNEMO_ASSIGN_OR_RETURN(
      text::TextAnswer answer,
      text_->Search(text::RowKind::kChunk, user_id, parsed.terms, depth,
                    [&](uint64_t label) { return tenant->Admits(label, predicate); }));
  leg.info.unknown_terms = std::move(answer.unknown_terms);
  leg.info.rows = static_cast<int64_t>(answer.rows);
  leg.info.postings = static_cast<int64_t>(answer.postings);
  leg.info.rows_scored = static_cast<int64_t>(answer.rows_scored);
  for (const text::TextHit& hit : answer.hits) {
    RowState row;
    if (tenant->CopyRow(hit.label, &row)) leg.hits.emplace_back(std::move(row), hit.score);
  }
  leg.info.candidates = static_cast<int64_t>(leg.hits.size());
  return leg;
}

Status VectorStore::LoadChunkTexts(std::vector<RankedHit>* hits) const {
  std::vector<size_t> wanted;
  std::vector<Uuid> chunk_ids;
  for (size_t i = 0; i < hits->size(); ++i) {
    if (!(*hits)[i].hit.chunk_text.empty()) continue;  // stored texts are never empty
    wanted.push_back(i);
    chunk_ids.push_back((*hits)[i].hit.chunk_id);
  }
  if (wanted.empty()) return Status::Ok();
  std::vector<std::optional<tables::ChunkRow>> rows;
  MNEMO_RETURN_IF_ERROR(tables::ReadChunkRows(db_, chunk_ids, &rows));
  std::vector<bool> gone(hits->size(), false);
  for (size_t j = 0; j < wanted.size(); ++j) {
    if (!rows[j]) {
      gone[wanted[j]] = true;  // deleted after it was scored
      continue;
    }
    (*hits)[wanted[j]].hit.chunk_text = std::move(rows[j]->chunk_text);
  }
  size_t kept = 0;
  for (size_t i = 0; i < hits->size(); ++i) {
    if (gone[i]) continue;
    if (kept != i) (*hits)[kept] = std::move((*hits)[i]);
    ++kept;
  }
  hits->resize(kept);
  return Status::Ok();
}

Result<RankedSearchResponse> VectorStore::SearchText(std::string_view user_id,
                                                     const TextSearchRequest& request) const {
  MNEMO_RETURN_IF_ERROR(tables::ValidateUserId(user_id));
  MNEMO_RETURN_IF_ERROR(ValidateTopK(request.top_k));
  if (!text_) return Status::Unavailable("keyword search is not enabled on this store");
  uint32_t user_ref = 0;
  users_.Find(user_id, &user_ref);
  RowPredicate predicate;
  MNEMO_RETURN_IF_ERROR(BuildRowPredicate(request.filters, user_ref, &predicate));
  MNEMO_ASSIGN_OR_RETURN(TextLeg leg, RunTextLeg(user_id, "query", request.query,
                                                 static_cast<size_t>(request.top_k), predicate));
  RankedSearchResponse response;
  response.hits.reserve(leg.hits.size());
  for (size_t i = 0; i < leg.hits.size(); ++i) {
    RankedHit ranked = FromRow(leg.hits[i].first);
    ranked.score = leg.hits[i].second;
    ranked.bm25 = leg.hits[i].second;
    ranked.text_rank = static_cast<int32_t>(i + 1);
    response.hits.push_back(std::move(ranked));
  }
  MNEMO_RETURN_IF_ERROR(LoadChunkTexts(&response.hits));
  response.text = std::move(leg.info);
  response.fewer_than_top_k = response.hits.size() < static_cast<size_t>(request.top_k);
  return response;
}

Result<RankedSearchResponse> VectorStore::SearchHybrid(std::string_view user_id,
                                                       const HybridSearchRequest& request) const {
  MNEMO_RETURN_IF_ERROR(tables::ValidateUserId(user_id));
  MNEMO_RETURN_IF_ERROR(ValidateTopK(request.top_k));
  if (!text_) return Status::Unavailable("keyword search is not enabled on this store");
  text::FusionPlan plan;
  MNEMO_RETURN_IF_ERROR(text::PlanFusion(request.fusion, request.rrf_k, request.text_weight,
                                         request.candidates, request.top_k, &plan));
  const auto depth = static_cast<int64_t>(plan.depth);
  uint32_t user_ref = 0;
  users_.Find(user_id, &user_ref);
  RowPredicate predicate;
  MNEMO_RETURN_IF_ERROR(BuildRowPredicate(request.filters, user_ref, &predicate));
  MNEMO_ASSIGN_OR_RETURN(TextLeg text_leg, RunTextLeg(user_id, "query_text", request.query_text,
                                                      static_cast<size_t>(depth), predicate));

  SearchRequest vector_request;
  vector_request.query = request.query_embedding;
  vector_request.top_k = depth;
  vector_request.min_similarity = request.min_similarity;
  vector_request.filters = request.filters;
  vector_request.ef = request.ef;
  Result<SearchResponse> vector_leg = Search(user_id, vector_request);
  if (!vector_leg.ok()) {
    const Status& s = vector_leg.status();
    // The vector request's "query" is the hybrid request's "query_embedding".
    if (s.field() == "query")
      return Status::FromCode(s.code(), std::string(s.message()), "query_embedding");
    return s;
  }

  std::vector<text::LegHit> text_hits;
  for (const auto& [row, score] : text_leg.hits)
    text_hits.push_back(text::LegHit{row.chunk_id, score});
  std::vector<text::LegHit> vector_hits;
  for (const SearchHit& hit : vector_leg->hits)
    vector_hits.push_back(text::LegHit{hit.chunk_id, hit.similarity});
  const size_t top_k = static_cast<size_t>(request.top_k);
  const std::vector<text::FusedHit> fused = text::Fuse(plan, text_hits, vector_hits, top_k);

  RankedSearchResponse response;
  response.fusion = request.fusion;
  response.hits.reserve(fused.size());
  for (const text::FusedHit& f : fused) {
    RankedHit ranked;
    if (f.vector_rank > 0) {
      ranked.hit = vector_leg->hits[static_cast<size_t>(f.vector_rank - 1)];
      ranked.similarity = ranked.hit.similarity;
    } else {
      ranked = FromRow(text_leg.hits[static_cast<size_t>(f.text_rank - 1)].first);
    }
    if (f.text_rank > 0) ranked.bm25 = f.text_score;
    ranked.score = f.score;
    ranked.text_rank = f.text_rank;
    ranked.vector_rank = f.vector_rank;
    response.hits.push_back(std::move(ranked));
  }
  MNEMO_RETURN_IF_ERROR(LoadChunkTexts(&response.hits));
  response.text = std::move(text_leg.info);
  response.vector.ran = true;
  response.vector.exact = vector_leg->exact;
  response.vector.ef_used = vector_leg->ef_used;
  response.vector.partitions_searched = vector_leg->partitions_searched;
  response.vector.candidates = static_cast<int64_t>(vector_leg->hits.size());
  response.fewer_than_top_k = response.hits.size() < top_k;
  return response;
}

}  // namespace mnemo::vector
