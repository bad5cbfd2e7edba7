// Where a durable 1000-chunk batch spends its time, and what moving float32 vectors out of
// RocksDB's write-ahead log would save.  Each iteration writes one batch of kRows 1536-d vectors
// to a storage::Db opened with mnemo's options (sync_writes = true), in one of these layouts:
//
//   VectorsInWal       every vector is a RocksDB value (today's layout): 6 MB through the WAL
//                      and the memtable, one WAL sync
//   VectorsInLog       the vectors are appended to a log file of their own and synced first
//                      (fdatasync), then the batch carries a 16-byte pointer per row: the order
//                      that keeps a row from pointing at bytes that did not reach disk
//   VectorsInPreallocatedLog  VectorsInLog into blocks written and synced beforehand
//   PointersOnly       the batch of pointers alone: the floor of VectorsInLog
//   VectorsInWalNoSync VectorsInWal without the sync: the WAL and memtable cost alone
//
// Each batch also carries what a chunk write stages beside its vector (a ~300-byte row and a
// ~100-byte payload per chunk), so the ratios are those of a real batch.  Time is wall
// time per iteration, with p50_ms and p99_ms per batch.  The data directory lives under $TMPDIR
// (default /tmp): run on the disk a deployment would use.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <rocksdb/write_batch.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "mnemo/engine.h"
#include "storage/db.h"
#include "storage/key_codec.h"

namespace mnemo {
namespace {

constexpr size_t kRows = 1000;
constexpr uint32_t kDim = 1536;

std::string TempPath(const std::string& name) {
  const char* base = std::getenv("TMPDIR");
  return (std::filesystem::path(base ? base : "/tmp") /
          ("mnemo-write-path-" + std::to_string(::getpid()) + "-" + name))
      .string();
}

class WritePath {
 public:
  explicit WritePath(bool sync) : dir_(TempPath(sync ? "sync" : "nosync")) {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    storage::DbOptions options;
    options.path = dir_ + "/data";
    options.dimension = kDim;
    options.sync_writes = sync;
    db_ = std::move(storage::Db::Open(options)).value();
    log_fd_ = ::open((dir_ + "/vectors.log").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    std::mt19937 rng(1);
    std::normal_distribution<float> normal;
    vectors_.resize(kRows * kDim);
    for (float& x : vectors_) x = normal(rng);
    row_.assign(300, 'r');
    payload_.assign(100, 'p');
  }
  ~WritePath() {
    ::close(log_fd_);
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  // The rows and payloads every layout writes.
  void AddRows(rocksdb::WriteBatch* batch) {
    for (size_t i = 0; i < kRows; ++i) {
      const uint64_t label = next_label_ + i;
      batch->Put(db_handle(storage::Cf::kChunks), keys::VectorKey(1, label), row_);
      batch->Put(db_handle(storage::Cf::kIndex), keys::PayloadKey(1, label), payload_);
    }
  }

  bool VectorsInWal() {
    rocksdb::WriteBatch batch;
    AddRows(&batch);
    for (size_t i = 0; i < kRows; ++i) {
      batch.Put(
          db_handle(storage::Cf::kVectors), keys::VectorKey(1, next_label_ + i),
          rocksdb::Slice(reinterpret_cast<const char*>(&vectors_[i * kDim]), kDim * sizeof(float)));
    }
    next_label_ += kRows;
    return db_->Write(&batch).ok();
  }

  // Writes zeros over the log's next kPreallocatedBatches batches once, and syncs them.
  bool Preallocate() {
    constexpr size_t kPreallocatedBatches = 64;
    const std::vector<char> zeros(kRows * kDim * sizeof(float), 0);
    for (size_t b = 0; b < kPreallocatedBatches; ++b) {
      if (::pwrite(log_fd_, zeros.data(), zeros.size(), static_cast<off_t>(b * zeros.size())) !=
          static_cast<ssize_t>(zeros.size())) {
        return false;
      }
    }
    return ::fsync(log_fd_) == 0;
  }

  bool VectorsInLog(bool write_vectors) {
    if (write_vectors) {
      const size_t bytes = vectors_.size() * sizeof(float);
      const char* data = reinterpret_cast<const char*>(vectors_.data());
      size_t done = 0;
      while (done < bytes) {
        const ssize_t n =
            ::pwrite(log_fd_, data + done, bytes - done, static_cast<off_t>(log_offset_ + done));
        if (n <= 0) return false;
        done += static_cast<size_t>(n);
      }
      if (::fdatasync(log_fd_) != 0) return false;
    }
    rocksdb::WriteBatch batch;
    AddRows(&batch);
    for (size_t i = 0; i < kRows; ++i) {
      char pointer[16];
      const uint64_t offset = log_offset_ + i * kDim * sizeof(float);
      std::memcpy(pointer, &offset, 8);
      std::memset(pointer + 8, 0, 8);  // segment number and checksum in a real layout
      batch.Put(db_handle(storage::Cf::kVectors), keys::VectorKey(1, next_label_ + i),
                rocksdb::Slice(pointer, sizeof(pointer)));
    }
    if (write_vectors) log_offset_ += vectors_.size() * sizeof(float);
    next_label_ += kRows;
    return db_->Write(&batch).ok();
  }

 private:
  rocksdb::ColumnFamilyHandle* db_handle(storage::Cf cf) { return db_->handle(cf); }

  std::string dir_;
  std::unique_ptr<storage::Db> db_;
  int log_fd_ = -1;
  uint64_t log_offset_ = 0;
  uint64_t next_label_ = 1;
  std::vector<float> vectors_;
  std::string row_;
  std::string payload_;
};

// p50_ms and p99_ms of the batches' wall times, and rows per second.
void Report(benchmark::State& state, std::vector<double>* ms) {
  std::sort(ms->begin(), ms->end());
  state.counters["p50_ms"] = (*ms)[ms->size() / 2];
  state.counters["p99_ms"] = (*ms)[std::min(ms->size() - 1, ms->size() * 99 / 100)];
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kRows));
}

template <typename Fn>
void Run(benchmark::State& state, bool sync, Fn&& write, bool preallocate = false) {
  WritePath path(sync);
  if (preallocate && !path.Preallocate()) {
    state.SkipWithError("preallocation failed");
    return;
  }
  std::vector<double> ms;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    if (!write(path)) {
      state.SkipWithError("write failed");
      return;
    }
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                     .count());
  }
  Report(state, &ms);
}

void VectorsInWal(benchmark::State& state) {
  Run(state, true, [](WritePath& p) { return p.VectorsInWal(); });
}
void VectorsInLog(benchmark::State& state) {
  Run(state, true, [](WritePath& p) { return p.VectorsInLog(true); });
}
// The log's blocks written (zeros) and synced beforehand, as a recycled segment would be: the
// batch's sync then flushes data without allocating blocks.
void VectorsInPreallocatedLog(benchmark::State& state) {
  Run(
      state, true, [](WritePath& p) { return p.VectorsInLog(true); }, /*preallocate=*/true);
}
void PointersOnly(benchmark::State& state) {
  Run(state, true, [](WritePath& p) { return p.VectorsInLog(false); });
}
void VectorsInWalNoSync(benchmark::State& state) {
  Run(state, false, [](WritePath& p) { return p.VectorsInWal(); });
}

// The whole write as a client sees it: Engine::AddChunks of kRows chunks into one document,
// keyword search off (what the layouts above isolate), durable.
void EngineAddChunks(benchmark::State& state) {
  const std::string dir = TempPath("engine");
  std::filesystem::remove_all(dir);
  EngineOptions options;
  options.data_dir = dir;
  options.dimension = kDim;
  options.keyword_search = state.range(0) != 0;
  auto engine = std::move(Engine::Open(options)).value();
  NewDocument document;
  document.filename = "corpus.md";
  document.file_type = "md";
  document.content = "#";
  const Document created = std::move(engine->CreateDocument("bench", document)).value();
  std::mt19937 rng(2);
  std::normal_distribution<float> normal;
  std::vector<NewChunk> chunks(kRows);
  for (NewChunk& chunk : chunks) {
    chunk.document_id = created.id;
    chunk.chunk_text = std::string(300, 'x') + " some words to index for the keyword leg";
    chunk.embedding.resize(kDim);
    for (float& x : chunk.embedding) x = normal(rng);
  }
  int64_t next_index = 0;
  std::vector<double> ms;
  for (auto _ : state) {
    for (NewChunk& chunk : chunks) chunk.chunk_index = next_index++;
    const auto start = std::chrono::steady_clock::now();
    if (!engine->AddChunks("bench", chunks).ok()) {
      state.SkipWithError("AddChunks failed");
      return;
    }
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                     .count());
  }
  Report(state, &ms);
  engine.reset();
  std::filesystem::remove_all(dir);
}

BENCHMARK(EngineAddChunks)
    ->ArgName("keyword")
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(60);
BENCHMARK(VectorsInWal)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(60);
BENCHMARK(VectorsInLog)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(60);
BENCHMARK(VectorsInPreallocatedLog)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(60);
BENCHMARK(PointersOnly)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(60);
BENCHMARK(VectorsInWalNoSync)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(60);

}  // namespace
}  // namespace mnemo

BENCHMARK_MAIN();
