// CostModel (see cost_model.h).
#include "vector/hnsw/cost_model.h"

#include <algorithm>

namespace mnemo::hnsw {
namespace {

// Weight of one new sample in a rate's running mean: about the last 32 searches count.
constexpr double kLearningRate = 1.0 / 32;
// A sample further than this factor from the current rate is clipped to it: one search that was
// preempted or hit a cold cache moves the rate a little, not by orders of magnitude.
constexpr double kMaxJump = 4;
constexpr double kDefaultDim = 1536;

double DimScale(uint32_t dim) { return std::max(static_cast<double>(dim), 16.0) / kDefaultDim; }

}  // namespace

CostModel::CostModel(uint32_t dim, bool learn)
    : learn_(learn),
      float_row_ns_(kFloatRowNs * DimScale(dim)),
      code_row_ns_(kCodeRowNs * DimScale(dim)),
      walk_step_ns_(kWalkStepNs * DimScale(dim)),
      steps_per_effort_(kStepsPerEffort),
      selective_steps_per_effort_(kStepsPerEffort) {}

double CostModel::ScanNs(size_t rows, bool codes) const {
  return static_cast<double>(rows) * (codes ? code_row_ns() : float_row_ns());
}

double CostModel::WalkNs(double effort, bool selective) const {
  return effort * steps_per_effort(selective) * walk_step_ns();
}

void CostModel::Update(std::atomic<double>& rate, double sample) {
  const double current = rate.load(std::memory_order_relaxed);
  const double clipped = std::clamp(sample, current / kMaxJump, current * kMaxJump);
  rate.store(current + kLearningRate * (clipped - current), std::memory_order_relaxed);
}

void CostModel::RecordScan(size_t rows, bool codes, uint64_t ns) {
  // Tiny scans are dominated by fixed costs; they would teach a per-row rate that is too high.
  if (!learn_ || rows < 256) return;
  Update(codes ? code_row_ns_ : float_row_ns_, static_cast<double>(ns) / static_cast<double>(rows));
}

void CostModel::RecordWalk(double effort, bool selective, uint64_t steps, uint64_t ns) {
  if (!learn_ || steps < 256 || effort <= 0) return;
  Update(walk_step_ns_, static_cast<double>(ns) / static_cast<double>(steps));
  Update(selective ? selective_steps_per_effort_ : steps_per_effort_, static_cast<double>(steps) / effort);
}

}  // namespace mnemo::hnsw
