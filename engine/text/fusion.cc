#include "text/fusion.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <unordered_map>

namespace mnemo::text {
namespace {

// Merges both legs by id; `leg_score(leg, index)` gives a hit's contribution.
template <typename LegScore>
std::vector<FusedHit> Merge(const std::vector<LegHit>& text, const std::vector<LegHit>& vector,
                            size_t top_k, LegScore leg_score) {
  std::unordered_map<Uuid, size_t, UuidHash> slot;
  std::vector<FusedHit> fused;
  fused.reserve(text.size() + vector.size());
  const auto add = [&](const std::vector<LegHit>& leg, int which) {
    for (size_t i = 0; i < leg.size(); ++i) {
      auto [it, inserted] = slot.try_emplace(leg[i].id, fused.size());
      if (inserted) fused.push_back(FusedHit{leg[i].id, 0, 0, 0, 0, 0});
      FusedHit& hit = fused[it->second];
      if (which == 0) {
        hit.text_rank = static_cast<int32_t>(i + 1);
        hit.text_score = leg[i].score;
      } else {
        hit.vector_rank = static_cast<int32_t>(i + 1);
        hit.vector_score = leg[i].score;
      }
      hit.score += leg_score(which, i);
    }
  };
  add(text, 0);
  add(vector, 1);
  const auto best_rank = [](const FusedHit& hit) {
    const int32_t a = hit.text_rank > 0 ? hit.text_rank : INT32_MAX;
    const int32_t b = hit.vector_rank > 0 ? hit.vector_rank : INT32_MAX;
    return std::min(a, b);
  };
  std::sort(fused.begin(), fused.end(), [&](const FusedHit& a, const FusedHit& b) {
    if (a.score != b.score) return a.score > b.score;
    if (best_rank(a) != best_rank(b)) return best_rank(a) < best_rank(b);
    return a.id < b.id;
  });
  if (fused.size() > top_k) fused.resize(top_k);
  return fused;
}

// Min-max normalised scores of one leg.
std::vector<double> Normalised(const std::vector<LegHit>& leg) {
  std::vector<double> out(leg.size(), 1.0);
  if (leg.empty()) return out;
  const auto [low, high] = std::minmax_element(
      leg.begin(), leg.end(), [](const LegHit& a, const LegHit& b) { return a.score < b.score; });
  const double span = high->score - low->score;
  if (span <= 0) return out;
  for (size_t i = 0; i < leg.size(); ++i) out[i] = (leg[i].score - low->score) / span;
  return out;
}

}  // namespace

std::vector<FusedHit> FuseRrf(const std::vector<LegHit>& text, const std::vector<LegHit>& vector,
                              double rrf_k, size_t top_k) {
  return Merge(text, vector, top_k,
               [&](int, size_t index) { return 1.0 / (rrf_k + static_cast<double>(index + 1)); });
}

std::vector<FusedHit> FuseWeighted(const std::vector<LegHit>& text,
                                   const std::vector<LegHit>& vector, double text_weight,
                                   size_t top_k) {
  const std::vector<double> text_norm = Normalised(text);
  const std::vector<double> vector_norm = Normalised(vector);
  return Merge(text, vector, top_k, [&](int which, size_t index) {
    return which == 0 ? text_weight * text_norm[index] : (1 - text_weight) * vector_norm[index];
  });
}

Status PlanFusion(Fusion fusion, const std::optional<double>& rrf_k,
                  const std::optional<double>& text_weight,
                  const std::optional<int64_t>& candidates, int64_t top_k, FusionPlan* plan) {
  const int64_t depth = candidates.value_or(std::max(top_k, kDefaultHybridCandidates));
  if (depth < top_k || depth > kMaxTopK) {
    return Status::ValidationError("candidates", "must be in top_k.." + std::to_string(kMaxTopK));
  }
  plan->depth = static_cast<size_t>(depth);
  plan->rrf_k = rrf_k.value_or(kDefaultRrfK);
  if (!(std::isfinite(plan->rrf_k) && plan->rrf_k > 0))
    return Status::ValidationError("rrf_k", "must be a finite number > 0");
  plan->text_weight = text_weight.value_or(kDefaultTextWeight);
  if (!(plan->text_weight >= 0 && plan->text_weight <= 1))
    return Status::ValidationError("text_weight", "must be in [0, 1]");
  if (fusion != Fusion::kRrf && fusion != Fusion::kWeighted) {
    return Status::ValidationError("fusion", "must be rrf or weighted");
  }
  plan->fusion = fusion;
  return Status::Ok();
}

std::vector<FusedHit> Fuse(const FusionPlan& plan, const std::vector<LegHit>& text,
                           const std::vector<LegHit>& vector, size_t top_k) {
  return plan.fusion == Fusion::kRrf ? FuseRrf(text, vector, plan.rrf_k, top_k)
                                     : FuseWeighted(text, vector, plan.text_weight, top_k);
}

}  // namespace mnemo::text
