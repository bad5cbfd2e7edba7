#include "text/top_k.h"

#include <algorithm>
#include <cstdint>
#include <span>
#include <memory>

namespace mnemo::text {
namespace {

// Bounds are sums of doubles in another order than the scores they bound: a bound this close
// to the threshold is evaluated rather than pruned.
bool CannotBeat(double bound, double threshold) { return bound < threshold * (1 - 1e-12); }

// Heap order: the worst held row on top (lowest score; among equals the highest doc).
bool WorseFirst(const ScoredDoc& a, const ScoredDoc& b) {
  return a.score != b.score ? a.score > b.score : a.doc < b.doc;
}

}  // namespace

std::vector<ScoredDoc> TopK(const std::vector<QueryTerm>& terms, size_t k, const std::vector<uint32_t>& lengths,
                            double avg_length, const Bm25Params& params,
                            const std::function<bool(uint32_t)>& admit, TopKStats* stats) {
  std::vector<ScoredDoc> heap;
  if (k == 0 || terms.empty() || avg_length <= 0) return heap;
  const auto bound = [&](double weight, std::span<const PostingList::Impact> impacts) {
    double best = 0;
    for (const PostingList::Impact& impact : impacts) {
      best = std::max(best, Bm25Score(weight, impact.tf, Bm25LengthNorm(impact.length, avg_length, params)));
    }
    return best;
  };

  // Cursors in ascending order of their list-wide bound.
  std::vector<std::unique_ptr<PostingCursor>> cursors;
  std::vector<double> weights;
  std::vector<double> max_scores;
  {
    std::vector<size_t> order;
    for (size_t i = 0; i < terms.size(); ++i) {
      if (terms[i].postings != nullptr && !terms[i].postings->empty()) order.push_back(i);
    }
    std::vector<double> list_bound(terms.size());
    for (size_t i : order) list_bound[i] = bound(terms[i].weight, terms[i].postings->impacts());
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return list_bound[a] < list_bound[b]; });
    for (size_t i : order) {
      cursors.push_back(std::make_unique<PostingCursor>(*terms[i].postings));
      weights.push_back(terms[i].weight);
      max_scores.push_back(list_bound[i]);
      stats->postings += terms[i].postings->size();
    }
  }
  const size_t n = cursors.size();
  // The bound of each cursor's current block, computed when the cursor enters a block.
  std::vector<size_t> bound_block(n, SIZE_MAX);
  std::vector<double> block_bound(n, 0);
  const auto current_block_bound = [&](size_t i) {
    const PostingCursor& c = *cursors[i];
    if (bound_block[i] != c.block_index()) {
      bound_block[i] = c.block_index();
      block_bound[i] = bound(weights[i], c.list().block_impacts(c.block_index()));
    }
    return block_bound[i];
  };
  // prefix[i]: the most terms 0..i can add together.
  std::vector<double> prefix(n);
  for (size_t i = 0; i < n; ++i) prefix[i] = max_scores[i] + (i > 0 ? prefix[i - 1] : 0);

  heap.reserve(k + 1);
  double threshold = 0;  // the k-th score once k rows are held
  size_t first_essential = 0;
  const auto full = [&] { return heap.size() == k; };

  while (first_essential < n) {
    // The next candidate: the lowest doc among essential lists.
    uint32_t doc = kEndDoc;
    for (size_t i = first_essential; i < n; ++i) doc = std::min(doc, cursors[i]->doc());
    if (doc == kEndDoc) break;

    if (full()) {
      // Window [doc, window_end]: every essential list stays within its current block there.
      uint32_t window_end = kEndDoc;
      for (size_t i = first_essential; i < n; ++i) {
        if (cursors[i]->doc() != kEndDoc) window_end = std::min(window_end, cursors[i]->block().last_doc);
      }
      double window_bound = first_essential > 0 ? prefix[first_essential - 1] : 0;
      for (size_t i = first_essential; i < n; ++i) {
        const PostingCursor& c = *cursors[i];
        if (c.doc() != kEndDoc && c.doc() <= window_end) window_bound += current_block_bound(i);
      }
      if (CannotBeat(window_bound, threshold)) {
        ++stats->windows_skipped;
        if (window_end == kEndDoc) break;
        for (size_t i = first_essential; i < n; ++i) cursors[i]->Advance(window_end + 1);
        continue;
      }
    }

    const uint32_t length = doc < lengths.size() ? lengths[doc] : 0;
    if (length == 0) {  // a removed row
      for (size_t i = first_essential; i < n; ++i) {
        if (cursors[i]->doc() == doc) cursors[i]->Next();
      }
      continue;
    }
    ++stats->docs_scored;
    const double norm = Bm25LengthNorm(length, avg_length, params);
    double score = 0;
    for (size_t i = first_essential; i < n; ++i) {
      PostingCursor& c = *cursors[i];
      if (c.doc() == doc) {
        score += Bm25Score(weights[i], c.tf(), norm);
        c.Next();
      }
    }
    bool alive = true;
    for (size_t i = first_essential; i-- > 0;) {
      if (full() && CannotBeat(score + prefix[i], threshold)) {
        alive = false;
        break;
      }
      PostingCursor& c = *cursors[i];
      c.Advance(doc);
      if (c.doc() == doc) score += Bm25Score(weights[i], c.tf(), norm);
    }
    if (!alive) continue;
    if (full() && !(score > threshold)) continue;
    if (!admit(doc)) continue;
    heap.push_back(ScoredDoc{doc, score});
    std::push_heap(heap.begin(), heap.end(), WorseFirst);
    if (heap.size() > k) {
      std::pop_heap(heap.begin(), heap.end(), WorseFirst);
      heap.pop_back();
    }
    if (full()) {
      threshold = heap.front().score;
      while (first_essential < n && CannotBeat(prefix[first_essential], threshold)) ++first_essential;
    }
  }
  std::sort(heap.begin(), heap.end(), [](const ScoredDoc& a, const ScoredDoc& b) {
    return a.score != b.score ? a.score > b.score : a.doc < b.doc;
  });
  return heap;
}

}  // namespace mnemo::text
