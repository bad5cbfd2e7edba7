// Exact ground truth with an on-disk cache (see ground_truth.h).
#include "ground_truth.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "faiss_peer.h"

namespace mnemo::bench {
namespace {

constexpr char kMagic[8] = {'M', 'N', 'B', 'T', 'R', 'U', 'T', 'H'};
constexpr uint32_t kVersion = 1;

uint64_t Fnv1a(const std::string& text) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (const unsigned char c : text) hash = (hash ^ c) * 0x100000001b3ULL;
  return hash;
}

std::string CachePath(const TruthRequest& request, size_t nq) {
  const std::string full_key =
      request.key + "-k" + std::to_string(request.k) + "-q" + std::to_string(nq);
  char name[32];
  std::snprintf(name, sizeof name, "%016llx.truth",
                static_cast<unsigned long long>(Fnv1a(full_key)));
  return request.cache_dir + "/" + name;
}

std::string FullKey(const TruthRequest& request, size_t nq) {
  return request.key + "-k" + std::to_string(request.k) + "-q" + std::to_string(nq);
}

bool Load(const std::string& path, const std::string& key, size_t nq, size_t k,
          std::vector<int64_t>* labels) {
  std::ifstream in(path, std::ios::binary);
  char magic[8];
  uint32_t version = 0;
  uint32_t key_len = 0;
  if (!in.read(magic, 8) || std::memcmp(magic, kMagic, 8) != 0) return false;
  if (!in.read(reinterpret_cast<char*>(&version), 4) || version != kVersion) return false;
  if (!in.read(reinterpret_cast<char*>(&key_len), 4) || key_len != key.size()) return false;
  std::string stored(key_len, '\0');
  if (!in.read(stored.data(), key_len) || stored != key) return false;
  uint64_t stored_nq = 0;
  uint64_t stored_k = 0;
  if (!in.read(reinterpret_cast<char*>(&stored_nq), 8) || stored_nq != nq) return false;
  if (!in.read(reinterpret_cast<char*>(&stored_k), 8) || stored_k != k) return false;
  labels->resize(nq * k);
  return static_cast<bool>(in.read(reinterpret_cast<char*>(labels->data()),
                                   static_cast<std::streamsize>(labels->size() * sizeof(int64_t))));
}

void Store(const std::string& path, const std::string& key, size_t nq, size_t k,
           const std::vector<int64_t>& labels) {
  std::error_code ignored;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ignored);
  const std::string temp = path + ".tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    const uint32_t key_len = static_cast<uint32_t>(key.size());
    const uint64_t stored_nq = nq;
    const uint64_t stored_k = k;
    out.write(kMagic, 8);
    out.write(reinterpret_cast<const char*>(&kVersion), 4);
    out.write(reinterpret_cast<const char*>(&key_len), 4);
    out.write(key.data(), key_len);
    out.write(reinterpret_cast<const char*>(&stored_nq), 8);
    out.write(reinterpret_cast<const char*>(&stored_k), 8);
    out.write(reinterpret_cast<const char*>(labels.data()),
              static_cast<std::streamsize>(labels.size() * sizeof(int64_t)));
    if (!out) return;
  }
  std::filesystem::rename(temp, path, ignored);  // atomic: readers never see a partial file
}

}  // namespace

std::string DefaultCacheDir() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
    return std::string(xdg) + "/mnemo-bench";
  if (const char* home = std::getenv("HOME"); home && *home)
    return std::string(home) + "/.cache/mnemo-bench";
  return "/tmp/mnemo-bench-cache";
}

std::vector<int64_t> ExactTopK(const TruthRequest& request, bool* from_cache) {
  const Dataset& data = *request.data;
  const size_t nq =
      request.queries == 0 ? data.query_count() : std::min(request.queries, data.query_count());
  const bool cached = !request.key.empty() && !request.cache_dir.empty();
  const std::string key = FullKey(request, nq);
  std::vector<int64_t> labels;
  *from_cache = false;
  if (cached && Load(CachePath(request, nq), key, nq, request.k, &labels)) {
    *from_cache = true;
    return labels;
  }
  SetFaissThreads(request.threads);
  FaissFlatPeer flat(data.dim);
  if (request.subset == nullptr) {
    flat.Add(data.size(), data.base.data());
  } else {
    std::vector<float> rows(request.subset->size() * data.dim);
    for (size_t i = 0; i < request.subset->size(); ++i) {
      std::copy_n(data.Row((*request.subset)[i]).data(), data.dim, rows.data() + i * data.dim);
    }
    flat.Add(request.subset->size(), rows.data());
  }
  flat.Search(nq, data.queries.data(), request.k, &labels);
  if (request.subset != nullptr) {
    for (int64_t& label : labels) {
      if (label >= 0) label = static_cast<int64_t>((*request.subset)[static_cast<size_t>(label)]);
    }
  }
  if (cached) Store(CachePath(request, nq), key, nq, request.k, labels);
  return labels;
}

}  // namespace mnemo::bench
