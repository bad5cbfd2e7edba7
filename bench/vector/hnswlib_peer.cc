// Built with -march=native so hnswlib's macros select its widest SIMD distance (fair comparison).
#include "hnswlib_peer.h"

#include <hnswlib/hnswlib.h>

#include <mutex>

namespace mnemo::bench {

struct HnswlibPeer::Impl {
  Impl(size_t dim, size_t max_elements, size_t m, size_t ef_construction, uint64_t seed)
      : space(dim), index(&space, max_elements, m, ef_construction, seed) {}
  hnswlib::InnerProductSpace space;
  hnswlib::HierarchicalNSW<float> index;
};

HnswlibPeer::HnswlibPeer(size_t dim, size_t max_elements, size_t m, size_t ef_construction,
                         uint64_t seed)
    : impl_(std::make_unique<Impl>(dim, max_elements, m, ef_construction, seed)) {}

HnswlibPeer::~HnswlibPeer() = default;

void HnswlibPeer::Add(const float* vector, uint64_t label) { impl_->index.addPoint(vector, label); }

void HnswlibPeer::SetEf(size_t ef) { impl_->index.setEf(ef); }

void HnswlibPeer::Search(const float* query, size_t k, std::vector<uint64_t>* labels) const {
  auto heap = impl_->index.searchKnn(query, k);  // worst on top
  labels->resize(heap.size());
  for (size_t i = heap.size(); i-- > 0;) {
    (*labels)[i] = heap.top().second;
    heap.pop();
  }
}

size_t HnswlibPeer::memory_bytes() const {
  const auto& index = impl_->index;
  const size_t n = index.cur_element_count;
  size_t upper = 0;
  for (size_t i = 0; i < n; ++i) {
    upper += static_cast<size_t>(index.element_levels_[i]) * index.size_links_per_element_;
  }
  return index.max_elements_ * index.size_data_per_element_ + upper +
         index.max_elements_ * (sizeof(void*) + sizeof(int) + sizeof(std::mutex)) +
         index.label_lookup_.size() * 32 + index.label_lookup_.bucket_count() * sizeof(void*) +
         index.max_elements_ * sizeof(unsigned short);  // one visited list
}

const char* HnswlibPeer::SimdName() {
#if defined(USE_AVX512)
  return "AVX512";
#elif defined(USE_AVX)
  return "AVX";
#elif defined(USE_SSE)
  return "SSE";
#else
  return "scalar";
#endif
}

}  // namespace mnemo::bench
