#include "faiss_peer.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/utils/distances.h>
#include <faiss/utils/utils.h>
#include <omp.h>

namespace mnemo::bench {

void SetFaissThreads(int threads) { omp_set_num_threads(threads); }

std::string FaissSimdLevel() {
  std::string options = faiss::get_compile_options();
  while (!options.empty() && options.back() == ' ') options.pop_back();
  return options;
}

std::string FaissSimdNote() {
  const std::string level = FaissSimdLevel();
  if (level.find("GENERIC") != std::string::npos) {
    return level + ": a generic build (x86-64 baseline, SSE2 only; no AVX2/AVX-512 kernels), as Debian "
                   "12 ships libfaiss";
  }
  return level;
}

struct FaissHnswPeer::Impl {
  Impl(size_t dim, size_t m) : index(static_cast<int>(dim), static_cast<int>(m),
                                     faiss::METRIC_INNER_PRODUCT) {}
  faiss::IndexHNSWFlat index;
};

FaissHnswPeer::FaissHnswPeer(size_t dim, size_t m, size_t ef_construction)
    : impl_(std::make_unique<Impl>(dim, m)) {
  impl_->index.hnsw.efConstruction = static_cast<int>(ef_construction);
}

FaissHnswPeer::~FaissHnswPeer() = default;

void FaissHnswPeer::Add(size_t n, const float* rows) {
  impl_->index.add(static_cast<faiss::Index::idx_t>(n), rows);
}

void FaissHnswPeer::Search(size_t nq, const float* queries, size_t k, size_t ef,
                           std::vector<int64_t>* labels) {
  impl_->index.hnsw.efSearch = static_cast<int>(ef);
  std::vector<float> distances(nq * k);
  labels->resize(nq * k);
  impl_->index.search(static_cast<faiss::Index::idx_t>(nq), queries, static_cast<faiss::Index::idx_t>(k),
                      distances.data(), labels->data());
}

size_t FaissHnswPeer::memory_bytes() const {
  const faiss::HNSW& hnsw = impl_->index.hnsw;
  const auto* storage = dynamic_cast<const faiss::IndexFlatCodes*>(impl_->index.storage);
  const size_t vectors = storage != nullptr ? storage->codes.size() : 0;
  return vectors + hnsw.neighbors.size() * sizeof(hnsw.neighbors[0]) +
         hnsw.offsets.size() * sizeof(hnsw.offsets[0]) + hnsw.levels.size() * sizeof(hnsw.levels[0]);
}

struct FaissFlatPeer::Impl {
  explicit Impl(size_t dim) : index(static_cast<faiss::Index::idx_t>(dim)) {}
  faiss::IndexFlatIP index;
};

FaissFlatPeer::FaissFlatPeer(size_t dim) : impl_(std::make_unique<Impl>(dim)) {}
FaissFlatPeer::~FaissFlatPeer() = default;

void FaissFlatPeer::Add(size_t n, const float* rows) {
  impl_->index.add(static_cast<faiss::Index::idx_t>(n), rows);
}

void FaissFlatPeer::Search(size_t nq, const float* queries, size_t k,
                           std::vector<int64_t>* labels, std::vector<float>* sims) {
  // Debian's FAISS links the reference BLAS, far slower than FAISS's own SIMD scan: never let a
  // batch take the BLAS path.
  faiss::distance_compute_blas_threshold = 1 << 30;
  std::vector<float> local;
  std::vector<float>* out = sims != nullptr ? sims : &local;
  out->resize(nq * k);
  labels->resize(nq * k);
  impl_->index.search(static_cast<faiss::Index::idx_t>(nq), queries, static_cast<faiss::Index::idx_t>(k),
                      out->data(), labels->data());
}

}  // namespace mnemo::bench
