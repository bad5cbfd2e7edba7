// CostModel: what a search costs on this machine, learned from the searches themselves, so the
// planner (HnswIndex::Search with SearchStrategy::kAuto) chooses between an exact scan and a graph
// walk by predicted time rather than by constants.
//
// Three rates are learned, each an exponentially weighted mean of measured searches:
//   * an exact scan's nanoseconds per row scored, separately for scans on float32 vectors and on
//     uint8 codes (a code scan also pays the float32 re-rank of the rows near the top, which is
//     part of its measured time);
//   * a graph walk's nanoseconds per distance computation (random record accesses, heaps);
//   * a walk's distance computations per unit of effort, where effort = beam width / fraction of
//     the index the filter admits (a filter that admits a tenth of the nodes makes the walk visit
//     about ten times as many nodes to collect the same beam); learned separately for walks whose
//     filter admits less than half of the index, whose cost grows faster than that.
// Until a rate has samples it holds a default measured on a 2-core AVX-512 machine (1536-d,
// 100k clustered vectors); the defaults only decide the first searches.
//
// Thread-safety: thread-safe.  Rates are relaxed atomics: a racing update may be lost, which only
// slows learning.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace mnemo::hnsw {

class CostModel {
 public:
  // Defaults, for dim 1536 (rates scale with dim: see the accessors).
  static constexpr double kFloatRowNs = 310;
  static constexpr double kCodeRowNs = 95;
  static constexpr double kWalkStepNs = 180;
  static constexpr double kStepsPerEffort = 16;

  // `learn` false: the rates stay at their defaults (deterministic plans, for tests).
  explicit CostModel(uint32_t dim, bool learn = true);

  // A filter that admits less than this fraction of an index makes a "selective" walk.
  static constexpr double kSelectiveFraction = 0.5;

  // Predicted nanoseconds of an exact scan of `rows` rows, and of a walk with `effort`.
  double ScanNs(size_t rows, bool codes) const;
  double WalkNs(double effort, bool selective) const;

  // Measurements of finished searches.
  void RecordScan(size_t rows, bool codes, uint64_t ns);
  void RecordWalk(double effort, bool selective, uint64_t steps, uint64_t ns);

  double float_row_ns() const { return float_row_ns_.load(std::memory_order_relaxed); }
  double code_row_ns() const { return code_row_ns_.load(std::memory_order_relaxed); }
  double walk_step_ns() const { return walk_step_ns_.load(std::memory_order_relaxed); }
  double steps_per_effort(bool selective) const {
    return (selective ? selective_steps_per_effort_ : steps_per_effort_).load(std::memory_order_relaxed);
  }

 private:
  static void Update(std::atomic<double>& rate, double sample);

  const bool learn_;
  std::atomic<double> float_row_ns_;
  std::atomic<double> code_row_ns_;
  std::atomic<double> walk_step_ns_;
  std::atomic<double> steps_per_effort_;
  std::atomic<double> selective_steps_per_effort_;
};

}  // namespace mnemo::hnsw
