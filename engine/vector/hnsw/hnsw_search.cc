// HnswIndex search: greedy descent, beam search on a level, exact scan and the planner that
// chooses between them.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <type_traits>

#include "kernels/distance.h"
#include "vector/hnsw/hnsw_index.h"
#include "vector/hnsw/search_metric.h"

namespace mnemo::hnsw {
namespace {

using internal::Candidate;
using internal::CloserFirst;
using internal::CodeMetric;
using internal::FartherFirst;
using internal::FloatMetric;

// Rows per DotGather call in exact scans.
constexpr size_t kScanBatch = 64;
// An exact scan of fewer rows than this scores them on float32 vectors: the code pass and its
// bookkeeping would not pay.
constexpr size_t kMinCodeScanRows = 128;
// An exact scan touching only a filter's listed labels pays a label lookup per listed label, this
// fraction of a row's scoring time; one that checks every node against an opaque filter pays a
// label check per node, this fraction.
constexpr double kLookupFraction = 0.25;
constexpr double kLabelCheckFraction = 1.0 / 32;
// max_dist when no similarity threshold is set.  Cosine similarity is never below -1, so a
// min_similarity of -1 or less sets no threshold.
constexpr float kNoThreshold = std::numeric_limits<float>::infinity();
constexpr float kNoSimilarityFloor = -1.0f;

// A compressed walk's estimates may be off by about 1e-3 (scalar_quantizer.h); its threshold is
// loosened by this much so it does not give up on nodes that pass exactly.  The exact threshold
// applies to the re-ranked hits.
constexpr float kEstimateSlack = 0.02f;

// The largest admissible distance (-similarity) for a min_similarity.
float MaxDistance(float min_similarity) {
  return min_similarity > kNoSimilarityFloor ? -min_similarity : kNoThreshold;
}

}  // namespace

Status HnswIndex::PrepareQuery(std::span<const float> query, size_t k, Scratch& scratch) const {
  if (query.size() != params_.dim) {
    return Status::ValidationError("query", "dimension " + std::to_string(query.size()) +
                                                " does not match the index dimension " +
                                                std::to_string(params_.dim));
  }
  if (k == 0) return Status::ValidationError("k", "k must be >= 1");
  scratch.query.assign(query.begin(), query.end());
  if (!kernels::Normalize(scratch.query.data(), params_.dim)) {
    return Status::ValidationError("query", "query is zero or has a NaN/Inf component");
  }
  return Status::Ok();
}

bool HnswIndex::PreferExact(const LabelFilter* filter, size_t ef, bool codes,
                            const CostModel& costs, double* effort, bool* selective) const {
  const double live = static_cast<double>(std::max<size_t>(size(), 1));
  const double beam = static_cast<double>(ef);
  *selective = false;
  if (filter == nullptr) {
    *effort = beam;
    // A small index is scanned whole when that costs no more than the walk.
    return costs.ScanNs(size(), codes) <= costs.WalkNs(beam, false);
  }
  const std::optional<size_t> hint = filter->CountHint();
  if (!hint) {
    *effort = beam;
    return false;
  }
  const double allowed = std::min(static_cast<double>(*hint), live);
  if (allowed <= 0) return true;
  *effort = beam * live / allowed;
  *selective = allowed < CostModel::kSelectiveFraction * live;
  const double walk = costs.WalkNs(*effort, *selective);
  const double row = costs.ScanNs(1, codes);
  const double listed = allowed * row * (1 + kLookupFraction);              // enumerable filter
  const double scanned = allowed * row + live * row * kLabelCheckFraction;  // opaque filter
  // AllowedLabels() may build its list on demand, so ask only when the answer matters.
  if (walk < std::min(listed, scanned)) return false;
  if (walk >= std::max(listed, scanned)) return true;
  return (filter->AllowedLabels() != nullptr ? listed : scanned) <= walk;
}

Status HnswIndex::Search(std::span<const float> query, const SearchOptions& options,
                         SearchResult* out) const {
  const auto started = std::chrono::steady_clock::now();
  auto lease = scratch_pool_->Acquire();
  Scratch& scratch = *lease;
  MNEMO_RETURN_IF_ERROR(PrepareQuery(query, options.k, scratch));
  if (std::isnan(options.min_similarity)) {
    return Status::ValidationError("min_similarity", "min_similarity is NaN");
  }
  out->hits.clear();
  out->stats = SearchStats{};
  SearchStats* stats = &out->stats;
  const float max_dist = MaxDistance(options.min_similarity);
  const size_t ef = std::max(options.ef, options.k);
  // The entry point first, then the view: the view then covers the entry node.
  const uint64_t entry = entry_.load(std::memory_order_acquire);
  const NodeView view = store_.View();
  const ScalarQuantizer* quantizer =
      options.compressed ? quantizer_.load(std::memory_order_acquire) : nullptr;

  const CostModel fixed_costs(params_.dim, /*learn=*/false);
  CostModel& costs =
      options.costs != nullptr ? *options.costs : const_cast<CostModel&>(fixed_costs);
  double effort = 0;
  bool selective = false;
  const bool exact =
      options.strategy == SearchStrategy::kExact ||
      (options.strategy == SearchStrategy::kAuto &&
       PreferExact(options.filter, ef, quantizer != nullptr, costs, &effort, &selective));
  if (exact) {
    ExactScan(view, options.k, options.filter, max_dist, quantizer, scratch, stats);
    stats->exact = true;
  } else if (quantizer != nullptr) {
    // Every node in this view has its code: the quantizer was published after all nodes then
    // present were encoded, and later nodes are encoded before they are linked.
    quantizer->PrepareQuery(scratch.query.data(), &scratch.quantized_query);
    const CodeMetric metric{&scratch.quantized_query, params_.dim};
    const size_t pool = std::max(
        {options.k * std::max<size_t>(options.rerank_factor, 1), options.rerank_min, options.k});
    const float walk_max_dist = max_dist == kNoThreshold ? max_dist : max_dist + kEstimateSlack;
    GraphSearch(entry, view, metric, std::max(ef, pool), walk_max_dist, options, scratch, stats);
    Rerank(view, pool, scratch, stats);
    stats->compressed = true;
  } else {
    const FloatMetric metric{scratch.query.data(), params_.dim};
    GraphSearch(entry, view, metric, ef, max_dist, options, scratch, stats);
  }
  if (!exact && scratch.results.size() < options.k && max_dist == kNoThreshold) {
    // The walk found fewer than k admissible nodes (tiny or fragmented reachable set, or a very
    // selective filter): complete the answer exactly.  With a similarity threshold a short answer
    // is expected, and the walk's stopping rule is trusted instead.
    ExactScan(view, options.k, options.filter, max_dist, quantizer, scratch, stats);
    stats->exact = true;
    stats->fell_back_to_exact = true;
  }
  EmitHits(view, options.k, max_dist, scratch, out);
  stats->fewer_than_k = out->hits.size() < options.k;
  const auto elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(
                           std::chrono::steady_clock::now() - started)
                           .count();
  if (options.costs != nullptr && !stats->fell_back_to_exact) {
    if (exact) {
      options.costs->RecordScan(stats->scanned, stats->compressed, static_cast<uint64_t>(elapsed));
    } else {
      options.costs->RecordWalk(effort > 0 ? effort : static_cast<double>(ef), selective,
                                stats->distance_computations, static_cast<uint64_t>(elapsed));
    }
  }
  return Status::Ok();
}

Result<SearchResult> HnswIndex::Search(std::span<const float> query, size_t k, size_t ef,
                                       const LabelFilter* filter) const {
  SearchOptions options;
  options.k = k;
  options.ef = ef;
  options.filter = filter;
  SearchResult result;
  MNEMO_RETURN_IF_ERROR(Search(query, options, &result));
  return result;
}

Status HnswIndex::ExactSearch(std::span<const float> query, size_t k, const LabelFilter* filter,
                              SearchResult* out) const {
  SearchOptions options;
  options.k = k;
  options.filter = filter;
  options.strategy = SearchStrategy::kExact;
  return Search(query, options, out);
}

void HnswIndex::EmitHits(const NodeView& view, size_t k, float max_dist, Scratch& scratch,
                         SearchResult* out) const {
  std::vector<Candidate>& results = scratch.results;
  std::sort(results.begin(), results.end(), [&view](const Candidate& a, const Candidate& b) {
    if (a.dist != b.dist) return a.dist < b.dist;
    return view.Meta(a.id).label < view.Meta(b.id).label;
  });
  const size_t n = std::min(k, results.size());
  out->hits.reserve(n);
  for (size_t i = 0; i < n && results[i].dist <= max_dist; ++i) {
    out->hits.push_back(SearchHit{view.Meta(results[i].id).label, -results[i].dist});
  }
}

bool HnswIndex::Admissible(const NodeView& view, uint32_t id, const LabelFilter* filter) const {
  const NodeMeta& meta = view.Meta(id);
  if (meta.state.load(std::memory_order_relaxed) != kNodeReady) return false;
  return filter == nullptr || filter->Allows(meta.label);
}

template <class Metric>
void HnswIndex::GreedyDescend(const NodeView& view, const Metric& metric, int from_level,
                              int to_level, Candidate* current, Scratch& scratch,
                              SearchStats* stats) const {
  const uint32_t limit = view.limit();
  const uint32_t capacity = store_.Capacity(1);
  scratch.ReserveBatch(capacity);
  uint32_t* ids = scratch.batch_ids.data();
  float* sims = scratch.batch_sims.data();
  for (int level = from_level; level >= to_level; --level) {
    for (bool moved = true; moved;) {
      moved = false;
      const uint32_t* list = view.Links(current->id, level);
      const uint32_t count = std::min(LoadSlot(list), capacity);
      size_t n = 0;
      for (uint32_t i = 1; i <= count; ++i) {
        const uint32_t id = LoadSlot(list + i);
        if (id >= limit) continue;
        ids[n++] = id;
      }
      metric.Many(view, ids, n, sims, scratch);
      stats->distance_computations += n;
      ++stats->nodes_visited;
      for (size_t j = 0; j < n; ++j) {
        if (-sims[j] < current->dist) {
          *current = Candidate{-sims[j], ids[j]};
          moved = true;
        }
      }
    }
  }
}

template void HnswIndex::GreedyDescend<FloatMetric>(const NodeView&, const FloatMetric&, int, int,
                                                    Candidate*, Scratch&, SearchStats*) const;
template void HnswIndex::GreedyDescend<CodeMetric>(const NodeView&, const CodeMetric&, int, int,
                                                   Candidate*, Scratch&, SearchStats*) const;

template <bool kFiltered, class Metric>
void HnswIndex::SearchLayer(const NodeView& view, const Metric& metric, int level, size_t ef,
                            float max_dist, const LabelFilter* filter, Scratch& scratch,
                            SearchStats* stats) const {
  const uint32_t limit = view.limit();
  const uint32_t capacity = store_.Capacity(level);
  scratch.ReserveBatch(capacity);
  uint32_t* ids = scratch.batch_ids.data();
  float* sims = scratch.batch_sims.data();
  VisitedTable& visited = scratch.visited;
  std::vector<Candidate>& candidates = scratch.candidates;
  std::vector<Candidate>& results = scratch.results;

  // Nodes farther than `bound` can improve neither the results nor the walk: it is infinite until
  // ef nodes are admitted, then the distance of the worst of them.
  constexpr float kInfinity = std::numeric_limits<float>::infinity();
  float bound = results.size() >= ef ? results.front().dist : kInfinity;
  // With a similarity threshold, a walk that has found nothing passing it after `patience`
  // expansions, and whose best candidate fails it too, gives up: nothing near the query passes.
  // (Stopping at once would strand walks that start below the threshold and climb towards it.)
  const uint64_t patience = std::max<size_t>(ef / 4, 1);
  bool passed = std::any_of(results.begin(), results.end(),
                            [max_dist](const Candidate& c) { return c.dist <= max_dist; });
  uint64_t expanded = 0;
  uint64_t computed = 0;
  while (!candidates.empty()) {
    const Candidate current = candidates.front();
    if (current.dist > bound || (!passed && current.dist > max_dist && expanded >= patience)) break;
    std::pop_heap(candidates.begin(), candidates.end(), CloserFirst{});
    candidates.pop_back();

    const uint32_t* list = view.Links(current.id, level);
    const uint32_t count = std::min(LoadSlot(list), capacity);
    for (uint32_t i = 1; i <= count; ++i) {
      const uint32_t id = LoadSlot(list + i);
      if (id < limit) visited.Prefetch(id);
    }
    size_t n = 0;
    for (uint32_t i = 1; i <= count; ++i) {
      const uint32_t id = LoadSlot(list + i);
      if (id >= limit || !visited.Visit(id)) continue;
      ids[n++] = id;
    }
    ++expanded;
    if (n == 0) continue;
    computed += n;
    // The best remaining candidate is likely the next one expanded: fetch its links while this
    // batch is computed.
    if (!candidates.empty()) view.PrefetchLinks(candidates.front().id, level);
    metric.Many(view, ids, n, sims, scratch);

    for (size_t j = 0; j < n; ++j) {
      const float dist = -sims[j];
      if (!(dist < bound)) continue;
      candidates.push_back(Candidate{dist, ids[j]});
      std::push_heap(candidates.begin(), candidates.end(), CloserFirst{});
      if constexpr (kFiltered) {
        if (!Admissible(view, ids[j], filter)) continue;
      }
      passed = passed || dist <= max_dist;
      results.push_back(Candidate{dist, ids[j]});
      std::push_heap(results.begin(), results.end(), FartherFirst{});
      if (results.size() > ef) {
        std::pop_heap(results.begin(), results.end(), FartherFirst{});
        results.pop_back();
      }
      if (results.size() >= ef) bound = results.front().dist;
    }
  }
  stats->nodes_visited += expanded;
  stats->distance_computations += computed;
}

template void HnswIndex::SearchLayer<false, FloatMetric>(const NodeView&, const FloatMetric&, int,
                                                         size_t, float, const LabelFilter*,
                                                         Scratch&, SearchStats*) const;
template void HnswIndex::SearchLayer<false, CodeMetric>(const NodeView&, const CodeMetric&, int,
                                                        size_t, float, const LabelFilter*, Scratch&,
                                                        SearchStats*) const;

template <class Metric>
void HnswIndex::GraphSearch(uint64_t entry, const NodeView& view, const Metric& metric, size_t ef,
                            float max_dist, const SearchOptions& options, Scratch& scratch,
                            SearchStats* stats) const {
  scratch.results.clear();
  if (entry == kNoEntry) return;
  const uint32_t entry_id = static_cast<uint32_t>(entry);
  const int top_level = static_cast<int>(entry >> 32);
  const uint64_t before = stats->distance_computations;
  Candidate current{-metric.One(view, entry_id), entry_id};
  ++stats->distance_computations;
  GreedyDescend(view, metric, top_level, 1, &current, scratch, stats);

  stats->ef_used = static_cast<uint32_t>(std::min<size_t>(ef, UINT32_MAX));
  scratch.visited.Reset(view.limit());
  scratch.visited.Visit(current.id);
  scratch.candidates.assign(1, current);
  const bool filtered = options.filter != nullptr || deleted_count() > 0;
  if (!filtered || Admissible(view, current.id, options.filter)) {
    scratch.results.push_back(current);
  }
  if (filtered) {
    SearchLayer<true>(view, metric, 0, ef, max_dist, options.filter, scratch, stats);
  } else {
    SearchLayer<false>(view, metric, 0, ef, max_dist, nullptr, scratch, stats);
  }
  if constexpr (std::is_same_v<Metric, CodeMetric>) {
    stats->code_computations += stats->distance_computations - before;
  }
}

void HnswIndex::Rerank(const NodeView& view, size_t pool, Scratch& scratch,
                       SearchStats* stats) const {
  std::vector<Candidate>& results = scratch.results;
  if (results.size() > pool) {
    std::nth_element(results.begin(), results.begin() + static_cast<std::ptrdiff_t>(pool),
                     results.end(), internal::NearerThan);
    results.resize(pool);
  }
  const size_t n = results.size();
  scratch.ReserveBatch(n);
  uint32_t* ids = scratch.batch_ids.data();
  float* sims = scratch.batch_sims.data();
  for (size_t j = 0; j < n; ++j) ids[j] = results[j].id;
  const FloatMetric exact{scratch.query.data(), params_.dim};
  exact.Many(view, ids, n, sims, scratch);
  for (size_t j = 0; j < n; ++j) results[j].dist = -sims[j];
  stats->distance_computations += n;
}

void HnswIndex::ExactScan(const NodeView& view, size_t k, const LabelFilter* filter, float max_dist,
                          const ScalarQuantizer* quantizer, Scratch& scratch,
                          SearchStats* stats) const {
  std::vector<uint32_t>& ids = scratch.scan_ids;
  ids.clear();
  const std::vector<uint64_t>* labels = filter != nullptr ? filter->AllowedLabels() : nullptr;
  if (labels != nullptr) {
    // Touch only the listed labels: cost proportional to the allow-list, not to the index.
    std::vector<uint32_t>& listed = scratch.listed_ids;
    listed.clear();
    {
      std::shared_lock lock(label_mutex_);
      for (uint64_t label : *labels) {
        const uint32_t id = label_to_id_.Find(label);
        if (id != LabelIndex::kMissing) listed.push_back(id);
      }
    }
    scratch.visited.Reset(view.limit());
    for (uint32_t id : listed) {
      if (id >= view.limit() || !scratch.visited.Visit(id)) continue;
      if (view.Meta(id).state.load(std::memory_order_acquire) != kNodeReady) continue;
      ids.push_back(id);
    }
  } else {
    for (uint32_t id = 0; id < view.limit(); ++id) {
      const NodeMeta& meta = view.Meta(id);
      if (meta.state.load(std::memory_order_acquire) != kNodeReady) continue;
      if (filter != nullptr && !filter->Allows(meta.label)) continue;
      ids.push_back(id);
    }
  }
  stats->scanned += ids.size();
  if (quantizer != nullptr && ids.size() >= kMinCodeScanRows) {
    CodeScan(view, ids, k, max_dist, *quantizer, scratch, stats);
    return;
  }
  stats->compressed = false;

  const float* query = scratch.query.data();
  std::vector<Candidate>& results = scratch.results;
  results.clear();
  scratch.ReserveBatch(kScanBatch);
  const float** rows = scratch.batch_rows.data();
  float* sims = scratch.batch_sims.data();
  for (size_t begin = 0; begin < ids.size(); begin += kScanBatch) {
    const size_t n = std::min(kScanBatch, ids.size() - begin);
    for (size_t j = 0; j < n; ++j) rows[j] = view.Vector(ids[begin + j]);
    kernels::DotGather(query, rows, n, params_.dim, sims);
    for (size_t j = 0; j < n; ++j) {
      const Candidate c{-sims[j], ids[begin + j]};
      if (c.dist > max_dist) continue;
      if (results.size() < k) {
        results.push_back(c);
        std::push_heap(results.begin(), results.end(), FartherFirst{});
      } else if (c.dist < results.front().dist) {
        std::pop_heap(results.begin(), results.end(), FartherFirst{});
        results.back() = c;
        std::push_heap(results.begin(), results.end(), FartherFirst{});
      }
    }
  }
  stats->distance_computations += ids.size();
}

void HnswIndex::CodeScan(const NodeView& view, std::span<const uint32_t> ids, size_t k,
                         float max_dist, const ScalarQuantizer& quantizer, Scratch& scratch,
                         SearchStats* stats) const {
  // Pass 1: an estimate of every row from its code, and bounds that hold the exact similarity:
  // estimate - bound <= similarity <= estimate + bound.
  quantizer.PrepareQuery(scratch.query.data(), &scratch.quantized_query);
  const QuantizedQuery& quantized = scratch.quantized_query;
  const float slack = quantized.rounding_error + QuantizedQuery::kEstimateEpsilon;
  const size_t n = ids.size();
  std::vector<float>& estimates = scratch.scan_estimates;
  std::vector<float>& floors = scratch.scan_floors;
  estimates.resize(n);
  floors.resize(n);
  scratch.ReserveBatch(kScanBatch);
  const uint8_t** codes = scratch.batch_codes.data();
  int32_t* raw = scratch.batch_raw.data();
  for (size_t begin = 0; begin < n; begin += kScanBatch) {
    const size_t count = std::min(kScanBatch, n - begin);
    for (size_t j = 0; j < count; ++j) codes[j] = view.Code(ids[begin + j]);
    kernels::DotU8S16Gather(quantized.weights.data(), codes, count, params_.dim, raw);
    for (size_t j = 0; j < count; ++j) {
      estimates[begin + j] = quantized.Similarity(raw[j]);
      floors[begin + j] = estimates[begin + j] - (view.Meta(ids[begin + j]).code_error + slack);
    }
  }
  stats->distance_computations += n;
  stats->code_computations += n;

  // The k-th largest lower bound: at least k rows are at least that similar, so a row whose upper
  // bound is below it cannot be in the top k.  A similarity threshold cuts the same way.
  float cut = max_dist == kNoThreshold ? -std::numeric_limits<float>::infinity() : -max_dist;
  if (n >= k) {
    std::nth_element(floors.begin(), floors.begin() + static_cast<std::ptrdiff_t>(k - 1),
                     floors.end(), std::greater<float>());
    cut = std::max(cut, floors[k - 1]);
  }
  // Survivors by upper bound, best first (dist = -upper bound, id = position in `ids`).
  std::vector<Candidate>& survivors = scratch.candidates;
  survivors.clear();
  for (size_t j = 0; j < n; ++j) {
    const float upper = estimates[j] + view.Meta(ids[j]).code_error + slack;
    if (upper >= cut) survivors.push_back(Candidate{-upper, static_cast<uint32_t>(j)});
  }
  std::sort(survivors.begin(), survivors.end(), internal::NearerThan);

  // Pass 2: exact similarities in order of upper bound, until no remaining row can enter the
  // top k.
  constexpr size_t kRerankBatch = 16;
  std::vector<Candidate>& results = scratch.results;
  results.clear();
  const float** rows = scratch.batch_rows.data();
  float* sims = scratch.batch_sims.data();
  uint32_t* batch_ids = scratch.batch_ids.data();
  uint64_t reranked = 0;
  for (size_t begin = 0; begin < survivors.size(); begin += kRerankBatch) {
    if (results.size() == k && survivors[begin].dist > results.front().dist) break;
    const size_t count = std::min(kRerankBatch, survivors.size() - begin);
    for (size_t j = 0; j < count; ++j) {
      batch_ids[j] = ids[survivors[begin + j].id];
      rows[j] = view.Vector(batch_ids[j]);
    }
    kernels::DotGather(scratch.query.data(), rows, count, params_.dim, sims);
    reranked += count;
    for (size_t j = 0; j < count; ++j) {
      const Candidate c{-sims[j], batch_ids[j]};
      if (c.dist > max_dist) continue;
      if (results.size() < k) {
        results.push_back(c);
        std::push_heap(results.begin(), results.end(), FartherFirst{});
      } else if (c.dist < results.front().dist) {
        std::pop_heap(results.begin(), results.end(), FartherFirst{});
        results.back() = c;
        std::push_heap(results.begin(), results.end(), FartherFirst{});
      }
    }
  }
  stats->distance_computations += reranked;
  stats->reranked += reranked;
  stats->compressed = true;
}

}  // namespace mnemo::hnsw
