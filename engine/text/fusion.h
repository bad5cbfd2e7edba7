// Fusion of a text leg and a vector leg into one ranking (hybrid search).
//
//   RRF (default): score = sum over legs that returned the row of 1 / (rrf_k + rank), rank
//                  1-based; it needs no score calibration between BM25 and cosine.
//   weighted:      each leg's scores are min-max normalised over the rows it returned (all equal
//                  -> 1), then score = text_weight * text + (1 - text_weight) * vector, a leg that
//                  did not return the row adding 0.
// Ties are broken by the better of the two ranks, then by id, so the order is deterministic.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "mnemo/records.h"
#include "mnemo/status.h"
#include "mnemo/types.h"

namespace mnemo::text {

inline constexpr double kDefaultRrfK = 60;
inline constexpr double kDefaultTextWeight = 0.5;

struct LegHit {
  Uuid id;
  double score = 0;  // BM25 or cosine
};

struct FusedHit {
  Uuid id;
  double score = 0;
  int32_t text_rank = 0;  // 1-based; 0 = the text leg did not return it
  int32_t vector_rank = 0;
  double text_score = 0;  // the leg's own score, when returned
  double vector_score = 0;
};

// Both legs best first, each id at most once per leg.  Returns at most `top_k` rows, best first.
std::vector<FusedHit> FuseRrf(const std::vector<LegHit>& text, const std::vector<LegHit>& vector,
                              double rrf_k, size_t top_k);
std::vector<FusedHit> FuseWeighted(const std::vector<LegHit>& text,
                                   const std::vector<LegHit>& vector, double text_weight,
                                   size_t top_k);

// A hybrid request's fusion, resolved: its defaults applied and its values checked.
struct FusionPlan {
  Fusion fusion = Fusion::kRrf;
  double rrf_k = kDefaultRrfK;
  double text_weight = kDefaultTextWeight;
  size_t depth = 0;  // rows each leg hands to fusion
};

// VALIDATION_ERROR naming "candidates" (outside top_k..kMaxTopK; default max(top_k,
// kDefaultHybridCandidates)), "rrf_k" (not finite and > 0), "text_weight" (outside [0, 1]) or
// "fusion" (unknown).  REQUIRES: top_k in 1..kMaxTopK.
Status PlanFusion(Fusion fusion, const std::optional<double>& rrf_k,
                  const std::optional<double>& text_weight,
                  const std::optional<int64_t>& candidates, int64_t top_k, FusionPlan* plan);

// The two legs fused as `plan` says; at most `top_k` rows, best first.
std::vector<FusedHit> Fuse(const FusionPlan& plan, const std::vector<LegHit>& text,
                           const std::vector<LegHit>& vector, size_t top_k);

}  // namespace mnemo::text
