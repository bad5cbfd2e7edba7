#include "storage/db.h"

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/listener.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/table_properties.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/utilities/options_util.h>
#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <system_error>
#include <vector>

#include "common/coding.h"
#include "common/thread_priority.h"
#include "storage/key_codec.h"
#include "storage/wal_sync.h"

namespace mnemo::storage {
namespace {

namespace fs = std::filesystem;

// FROZEN: on-disk names of the column families, indexed by Cf.
constexpr const char* kColumnFamilyNames[] = {
    "default", "conversations", "messages", "documents", "index", "chunks", "vectors", "replog",
};
static_assert(std::size(kColumnFamilyNames) == static_cast<size_t>(Cf::kCount));

// The format record, key "format" in the meta family:
//   magic "MNEMO\x01" (6 bytes) | schema version fixed32 | dimension fixed32
constexpr std::string_view kFormatKey = "format";
constexpr std::string_view kMagic = "MNEMO\x01";
constexpr int kBloomBitsPerKey = 10;
// A table written before filters were partitioned (FamilyOptions) holds one filter for all its
// keys; past this size it may not fit a block-cache shard, so opening the directory has it
// rewritten.  RocksDB's smallest default shard is 512 KiB.
constexpr uint64_t kWholeFilterRewriteBytes = uint64_t{512} << 10;

Status FromRocks(const rocksdb::Status& status, std::string_view context) {
  if (status.ok()) return Status::Ok();
  std::string message(context);
  message += ": ";
  message += status.ToString();
  if (status.IsNotFound()) return Status::NotFound(message);
  if (status.IsCorruption()) return Status::Unavailable("data corruption: " + message);
  if (status.IsIOError() && status.subcode() == rocksdb::Status::kNoSpace) {
    return Status::Unavailable("disk full: " + message);
  }
  if (status.IsBusy() || status.IsTimedOut() || status.IsTryAgain()) {
    return Status::Conflict(message);
  }
  if (status.IsIOError()) return Status::Unavailable(message);
  return Status::Internal(message);
}

// Writes are refused while the data directory's filesystem has less free space than the
// reserve: 1/16 of its size, at most 256 MiB (room for the WAL, memtable flushes and compactions
// already under way).  A statvfs per write costs microseconds next to the WAL sync.
constexpr uint64_t kDiskReserveCap = uint64_t{256} << 20;
constexpr uint64_t kDiskReserveShare = 16;

Status CheckDiskReserve(const std::string& path) {
  struct statvfs fs {};
  if (::statvfs(path.c_str(), &fs) != 0) return Status::Ok();  // unknown: let RocksDB report
  const uint64_t size = static_cast<uint64_t>(fs.f_blocks) * fs.f_frsize;
  const uint64_t free = static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
  const uint64_t reserve = std::min(kDiskReserveCap, size / kDiskReserveShare);
  if (free >= reserve) return Status::Ok();
  return Status::Unavailable("disk full: " + std::to_string(free) +
                             " bytes free on the filesystem of " + path + ", writes resume above " +
                             std::to_string(reserve));
}

rocksdb::ColumnFamilyOptions FamilyOptions(std::string_view name,
                                           const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions options;
  // Unit float32 vectors do not compress: Snappy would only spend CPU on every flush,
  // compaction and the full scan that loads them at open.  Replication log records carry their
  // writes' vectors inline, and are mostly vectors by size when a write has any.
  if (name == "vectors" || name == "replog") options.compression = rocksdb::kNoCompression;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(kBloomBitsPerKey));
  table.cache_index_and_filter_blocks = true;
  // Filters and indexes in blocks of metadata_block_size, found through a small top-level
  // block pinned with the table: the block cache cannot keep a block larger than one of its
  // shards (256 MiB / 64), and a whole-table filter reaches that at ~3.4M keys, a size the index
  // family's compactions produce; every read of such a table then re-read the whole filter.
  table.index_type = rocksdb::BlockBasedTableOptions::IndexType::kTwoLevelIndexSearch;
  table.partition_filters = true;
  table.pin_top_level_index_and_filter = true;
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return options;
}

// Counts the flushes and compactions RocksDB completes (for metrics).
class CompletionCounter final : public rocksdb::EventListener {
 public:
  void OnFlushCompleted(rocksdb::DB*, const rocksdb::FlushJobInfo&) override {
    flushes.fetch_add(1, std::memory_order_relaxed);
  }
  void OnCompactionCompleted(rocksdb::DB*, const rocksdb::CompactionJobInfo&) override {
    compactions.fetch_add(1, std::memory_order_relaxed);
  }
  std::atomic<uint64_t> flushes{0};
  std::atomic<uint64_t> compactions{0};
};

// True when every entry of `dir` is one of `foreign` (so the directory is empty for the engine).
bool HoldsOnlyForeignEntries(const fs::path& dir, const std::vector<std::string>& foreign) {
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (std::find(foreign.begin(), foreign.end(), name) == foreign.end()) return false;
  }
  return !ec;
}

// `path` made absolute, without "." / ".." components or a trailing slash.
fs::path Normalized(const fs::path& path) {
  std::error_code ec;
  fs::path normal = fs::absolute(path, ec).lexically_normal();
  return normal.has_filename() ? normal : normal.parent_path();
}

Status SyncDirectory(rocksdb::FileSystem& file_system, const std::string& path) {
  std::unique_ptr<rocksdb::FSDirectory> directory;
  const rocksdb::IOOptions io;
  MNEMO_RETURN_IF_ERROR(
      FromRocks(file_system.NewDirectory(path, io, &directory, nullptr), "opening " + path));
  return FromRocks(directory->Fsync(io, nullptr), "syncing " + path);
}

// Creates `dir` and its missing parents, durably: each new entry's parent directory is synced
// (RocksDB does not sync the parent of the directory it creates).
Status CreateDirectoriesDurably(rocksdb::FileSystem& file_system, const fs::path& dir) {
  std::vector<fs::path> missing;
  std::error_code ec;
  for (fs::path path = Normalized(dir); !path.empty() && !fs::exists(path, ec);
       path = path.parent_path()) {
    missing.push_back(path);
  }
  const rocksdb::IOOptions io;
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    MNEMO_RETURN_IF_ERROR(FromRocks(file_system.CreateDirIfMissing(it->string(), io, nullptr),
                                    "cannot create data directory " + dir.string()));
    MNEMO_RETURN_IF_ERROR(SyncDirectory(file_system, it->parent_path().string()));
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Db>> Db::Open(const DbOptions& options) {
  if (options.path.empty())
    return Status::ValidationError("data_dir", "data directory path is empty");
  const uint32_t wanted_dimension = options.dimension.value_or(kDefaultDimension);
  if (wanted_dimension == 0 || wanted_dimension > kMaxDimension) {
    return Status::ValidationError("dimension",
                                   "dimension must be in 1.." + std::to_string(kMaxDimension));
  }

  std::error_code ec;
  const fs::path dir(options.path);
  const bool exists = fs::exists(dir, ec);
  if (exists && !fs::is_directory(dir, ec)) {
    return Status::ValidationError("data_dir", options.path + " exists and is not a directory");
  }
  const bool has_current = exists && fs::exists(dir / "CURRENT", ec);
  const bool empty = !exists || HoldsOnlyForeignEntries(dir, options.foreign_entries);
  if (!has_current && !empty) {
    return Status::ValidationError(
        "data_dir",
        options.path + " is not empty and is not a mnemo data directory (no RocksDB CURRENT file)");
  }
  if (!has_current && !options.create_if_missing) {
    return Status::NotFound("data directory " + options.path + " does not exist");
  }
  const bool fresh = !has_current;
  const std::shared_ptr<rocksdb::FileSystem> file_system =
      options.file_system ? options.file_system : rocksdb::FileSystem::Default();
  if (fresh && !exists) MNEMO_RETURN_IF_ERROR(CreateDirectoriesDurably(*file_system, dir));

  rocksdb::DBOptions db_options;
  // Every WAL file goes through WalSyncFileSystem, which Write() uses to sync the WAL itself.
  auto wal_sync = std::make_shared<WalSyncFileSystem>(file_system);
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(wal_sync);
  db_options.env = env.get();
  db_options.create_if_missing = fresh;
  db_options.create_missing_column_families = true;
  db_options.IncreaseParallelism(2);
  db_options.max_background_jobs = 2;
  db_options.keep_log_file_num = 4;
  // Flushes and compactions write SST files back 1 MiB at a time instead of in one burst at
  // the file's final sync, so a 64 MiB memtable flush does not queue ahead of the WAL sync a
  // durable write waits for (the batch-write p99).  Files are still synced when complete.
  db_options.bytes_per_sync = uint64_t{1} << 20;

  auto completions = std::make_shared<CompletionCounter>();
  db_options.listeners.push_back(completions);

  auto cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  std::vector<std::string> names;
  for (const char* name : kColumnFamilyNames) names.emplace_back(name);
  if (!fresh) {
    std::vector<std::string> existing;
    auto listed = rocksdb::DB::ListColumnFamilies(db_options, options.path, &existing);
    if (!listed.ok()) return FromRocks(listed, "listing column families of " + options.path);
    for (const auto& name : existing) {
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    }
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const auto& name : names) descriptors.emplace_back(name, FamilyOptions(name, cache));

  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  auto opened = rocksdb::DB::Open(db_options, options.path, descriptors, &handles, &raw);
  if (!opened.ok()) return FromRocks(opened, "opening data directory " + options.path);

  std::unique_ptr<Db> db(new Db());
  db->path_ = options.path;
  db->sync_writes_ = options.sync_writes;
  db->wal_sync_ = std::move(wal_sync);
  db->env_ = std::move(env);
  db->completions_ = std::move(completions);
  db->db_.reset(raw);
  for (size_t i = 0; i < handles.size(); ++i) {
    if (i < static_cast<size_t>(Cf::kCount)) {
      db->handles_[i] = handles[i];
    } else {
      raw->DestroyColumnFamilyHandle(handles[i]);  // a newer build's family; unused here
    }
  }
  MNEMO_RETURN_IF_ERROR(db->CheckOrWriteFormat(options, fresh));
  MNEMO_RETURN_IF_ERROR(db->ReadLastLogSeq());
  db->StartRewritingWholeFilters();
  return db;
}

void Db::StartRewritingWholeFilters() {
  struct OldTable {
    rocksdb::ColumnFamilyHandle* family;
    std::string name;
    int level;
  };
  std::vector<OldTable> old_tables;
  std::vector<rocksdb::LiveFileMetaData> files;
  db_->GetLiveFilesMetaData(&files);
  for (rocksdb::ColumnFamilyHandle* handle : handles_) {
    rocksdb::TablePropertiesCollection tables;
    if (!db_->GetPropertiesOfAllTables(handle, &tables).ok()) continue;
    for (const rocksdb::LiveFileMetaData& file : files) {
      if (file.column_family_name != handle->GetName()) continue;
      const auto found = tables.find(file.db_path + file.name);
      if (found == tables.end()) continue;
      const rocksdb::TableProperties& table = *found->second;
      if (table.index_partitions > 0 || table.filter_size <= kWholeFilterRewriteBytes) continue;
      old_tables.push_back(OldTable{handle, file.name, file.level});
    }
  }
  if (old_tables.empty()) return;
  spdlog::info("{}: rewriting {} tables with one filter over {} KiB in the background", path_,
               old_tables.size(), kWholeFilterRewriteBytes >> 10);
  filter_rewrite_ = std::thread([this, old_tables = std::move(old_tables)] {
    RunAtBackgroundPriority("filter rewrite");
    for (const OldTable& table : old_tables) {
      if (closing_.load(std::memory_order_relaxed)) return;
      // A table a compaction took meanwhile is refused here and rewritten by that compaction.
      const auto rewritten =
          db_->CompactFiles(rocksdb::CompactionOptions(), table.family, {table.name}, table.level);
      if (!rewritten.ok()) {
        spdlog::info("{}: table {} not rewritten here: {}", path_, table.name,
                     rewritten.ToString());
      }
    }
  });
}

Db::~Db() {
  closing_.store(true, std::memory_order_relaxed);
  if (filter_rewrite_.joinable()) filter_rewrite_.join();
  if (!db_) return;
  for (auto* handle : handles_) {
    if (handle != nullptr) db_->DestroyColumnFamilyHandle(handle);
  }
  db_->Close().PermitUncheckedError();
}

Status Db::CheckOrWriteFormat(const DbOptions& options, bool fresh) {
  std::string record;
  Status found = Get(Cf::kMeta, kFormatKey, &record);
  if (found.IsNotFound()) {
    if (!fresh) {
      return Status::ValidationError(
          "data_dir",
          path_ + " is a RocksDB directory but not a mnemo data directory (no format record)");
    }
    dimension_ = options.dimension.value_or(kDefaultDimension);
    record.assign(kMagic);
    coding::PutFixed32(&record, kSchemaVersion);
    coding::PutFixed32(&record, dimension_);
    rocksdb::WriteBatch batch;
    batch.Put(handle(Cf::kMeta), rocksdb::Slice(kFormatKey.data(), kFormatKey.size()), record);
    // Synced whatever sync_writes says: without it a power cut leaves a directory no one opens.
    rocksdb::WriteOptions synced;
    synced.sync = true;
    return FromRocks(db_->Write(synced, &batch), "writing the format record");
  }
  MNEMO_RETURN_IF_ERROR(found);

  std::string_view input(record);
  uint32_t version = 0;
  uint32_t dimension = 0;
  if (!input.starts_with(kMagic)) {
    return Status::ValidationError("data_dir",
                                   path_ + " is not a mnemo data directory (bad format magic)");
  }
  input.remove_prefix(kMagic.size());
  if (!coding::GetFixed32(&input, &version) || !coding::GetFixed32(&input, &dimension)) {
    return Status::Unavailable("data corruption: format record of " + path_ + " is truncated");
  }
  if (version != kSchemaVersion) {
    return Status::ValidationError("data_dir", path_ + " was created with schema version " +
                                                   std::to_string(version) +
                                                   "; this build of mnemo reads schema version " +
                                                   std::to_string(kSchemaVersion));
  }
  if (options.dimension && *options.dimension != dimension) {
    return Status::ValidationError(
        "dimension", path_ + " stores " + std::to_string(dimension) + "-dimensional embeddings; " +
                         std::to_string(*options.dimension) + " was requested");
  }
  dimension_ = dimension;
  return Status::Ok();
}

Status Db::Get(Cf cf, std::string_view key, std::string* value) const {
  return GetAt(nullptr, cf, key, value);
}

Status Db::GetAt(const rocksdb::Snapshot* snapshot, Cf cf, std::string_view key,
                 std::string* value) const {
  rocksdb::ReadOptions read_options;
  read_options.snapshot = snapshot;
  auto status = db_->Get(read_options, handle(cf), rocksdb::Slice(key.data(), key.size()), value);
  if (status.IsNotFound()) return Status::NotFound("key not found");
  return FromRocks(status, "read");
}

Status Db::MultiGetAt(const rocksdb::Snapshot* snapshot, Cf cf,
                      const std::vector<std::string>& keys,
                      std::vector<std::optional<std::string>>* values) const {
  values->clear();
  if (keys.empty()) return Status::Ok();
  rocksdb::ReadOptions read_options;
  read_options.snapshot = snapshot;
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<rocksdb::PinnableSlice> found(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  db_->MultiGet(read_options, handle(cf), keys.size(), slices.data(), found.data(),
                statuses.data());
  values->reserve(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    if (statuses[i].IsNotFound()) {
      values->emplace_back(std::nullopt);
      continue;
    }
    MNEMO_RETURN_IF_ERROR(FromRocks(statuses[i], "read"));
    values->emplace_back(found[i].ToString());
  }
  return Status::Ok();
}

Status Db::Scan(Cf cf, const ScanRange& range, const ScanFn& fn) const {
  return ScanAt(nullptr, cf, range, fn);
}

Status Db::ScanAt(const rocksdb::Snapshot* snapshot, Cf cf, const ScanRange& range,
                  const ScanFn& fn) const {
  rocksdb::ReadOptions read_options;
  read_options.snapshot = snapshot;
  const std::string upper = keys::PrefixSuccessor(range.prefix);
  const rocksdb::Slice upper_slice(upper);
  const rocksdb::Slice lower_slice(range.prefix);
  if (!upper.empty()) read_options.iterate_upper_bound = &upper_slice;
  if (!range.prefix.empty()) read_options.iterate_lower_bound = &lower_slice;

  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read_options, handle(cf)));
  if (!range.reverse) {
    it->Seek(range.start.empty() ? lower_slice : rocksdb::Slice(range.start));
  } else if (range.start.empty()) {
    it->SeekToLast();
  } else {
    it->SeekForPrev(rocksdb::Slice(range.start));
  }
  for (; it->Valid(); range.reverse ? it->Prev() : it->Next()) {
    const std::string_view key(it->key().data(), it->key().size());
    if (!key.starts_with(range.prefix)) break;
    if (range.skip_start && key == range.start) continue;
    if (!fn(key, std::string_view(it->value().data(), it->value().size()))) break;
  }
  return FromRocks(it->status(), "scan");
}

Status Db::CheckWritable() const {
  MNEMO_RETURN_IF_ERROR(CheckDiskReserve(path_));
  // After a failed sync nothing more is applied: it could be seen but never acknowledged.
  if (sync_writes_) MNEMO_RETURN_IF_ERROR(wal_sync_->failure());
  return Status::Ok();
}

// Not WriteOptions::sync: RocksDB would hold its write queue through the fdatasync, so a
// concurrent writer could neither write nor start its own sync until this one's finished.
// The record reaches the OS before RocksDB returns and SyncWals() makes it durable; recovery
// reads the same WAL either way (wal_sync.h).
Status Db::SyncIfDurable() { return sync_writes_ ? wal_sync_->SyncWals() : Status::Ok(); }

Status Db::Write(rocksdb::WriteBatch* batch) {
  MNEMO_RETURN_IF_ERROR(WriteWithoutSync(batch));
  return SyncIfDurable();
}

Status Db::WriteWithoutSync(rocksdb::WriteBatch* batch) {
  MNEMO_RETURN_IF_ERROR(CheckWritable());
  rocksdb::WriteOptions write_options;
  return FromRocks(db_->Write(write_options, batch), "write");
}

Result<uint64_t> Db::WriteLogged(rocksdb::WriteBatch* batch, std::string_view record,
                                 std::optional<uint64_t> seq) {
  MNEMO_RETURN_IF_ERROR(CheckWritable());
  uint64_t written = 0;
  {
    // Held through RocksDB's write (not the sync): a later sequence never becomes visible
    // before an earlier one, so a reader of the log never skips a record still to come.
    std::lock_guard lock(log_mutex_);
    written = last_log_seq_ + 1;
    if (seq && *seq != written) {
      return Status::ValidationError("seq", "record " + std::to_string(*seq) +
                                                " does not follow the log's last record " +
                                                std::to_string(last_log_seq_));
    }
    const std::string key = keys::LogKey(written);
    rocksdb::Status staged =
        batch->Put(handle(Cf::kReplog), key, rocksdb::Slice(record.data(), record.size()));
    if (!staged.ok()) return Status::Internal("staging log record: " + staged.ToString());
    rocksdb::WriteOptions write_options;
    MNEMO_RETURN_IF_ERROR(FromRocks(db_->Write(write_options, batch), "write"));
    last_log_seq_ = written;
  }
  MNEMO_RETURN_IF_ERROR(SyncIfDurable());
  return written;
}

Status Db::ReadLastLogSeq() {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}, handle(Cf::kReplog)));
  it->SeekToLast();
  MNEMO_RETURN_IF_ERROR(FromRocks(it->status(), "reading the replication log"));
  if (!it->Valid()) return Status::Ok();
  const rocksdb::Slice key = it->key();
  if (!keys::ParseLogKey(std::string_view(key.data(), key.size()), &last_log_seq_)) {
    return Status::Unavailable("data corruption: bad replication log key");
  }
  return Status::Ok();
}

uint64_t Db::last_log_seq() const {
  std::lock_guard lock(log_mutex_);
  return last_log_seq_;
}

ReadView Db::Snapshot() const { return ReadView(this, db_->GetSnapshot()); }

Status Db::Flush() {
  rocksdb::FlushOptions flush_options;
  std::vector<rocksdb::ColumnFamilyHandle*> all(std::begin(handles_), std::end(handles_));
  return FromRocks(db_->Flush(flush_options, all), "flush");
}

Status Db::SyncWal() { return FromRocks(db_->SyncWAL(), "WAL sync"); }

Status Db::Checkpoint(const std::string& path) {
  rocksdb::Checkpoint* raw = nullptr;
  MNEMO_RETURN_IF_ERROR(FromRocks(rocksdb::Checkpoint::Create(db_.get(), &raw), "checkpoint"));
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  MNEMO_RETURN_IF_ERROR(
      FromRocks(checkpoint->CreateCheckpoint(path), "creating checkpoint " + path));
  // The checkpoint syncs its files and directory, then renames that directory into place; the
  // rename is durable only once the parent directory is synced.
  return SyncDirectory(*db_->GetFileSystem(), Normalized(path).parent_path().string());
}

ReadView::ReadView(ReadView&& other) noexcept : db_(other.db_), snapshot_(other.snapshot_) {
  other.snapshot_ = nullptr;
}

ReadView::~ReadView() {
  if (snapshot_ != nullptr) db_->db_->ReleaseSnapshot(snapshot_);
}

}  // namespace mnemo::storage

namespace mnemo::storage {

void Db::FillMetrics(EngineMetrics* metrics) const {
  const auto property = [&](rocksdb::ColumnFamilyHandle* family, const std::string& name) {
    uint64_t value = 0;
    const bool found = family != nullptr ? db_->GetIntProperty(family, name, &value)
                                         : db_->GetIntProperty(name, &value);
    return found ? value : 0;
  };
  for (size_t i = 1; i < static_cast<size_t>(Cf::kCount);
       ++i) {  // family 0 holds the format record
    StorageFamilyMetrics family;
    family.name = kColumnFamilyNames[i];
    family.estimated_keys = property(handles_[i], rocksdb::DB::Properties::kEstimateNumKeys);
    family.sst_bytes = property(handles_[i], rocksdb::DB::Properties::kTotalSstFilesSize);
    family.memtable_bytes = property(handles_[i], rocksdb::DB::Properties::kCurSizeAllMemTables);
    metrics->families.push_back(std::move(family));
  }
  metrics->running_compactions = property(nullptr, rocksdb::DB::Properties::kNumRunningCompactions);
  // One cache serves every family: any family's handle reports all of it.
  metrics->block_cache_bytes = property(handles_[0], rocksdb::DB::Properties::kBlockCacheUsage);
  for (size_t i = 0; i < static_cast<size_t>(Cf::kCount); ++i) {
    metrics->pending_compaction_bytes +=
        property(handles_[i], rocksdb::DB::Properties::kEstimatePendingCompactionBytes);
  }
  const auto* counter = static_cast<const CompletionCounter*>(completions_.get());
  metrics->storage_compactions = counter->compactions.load(std::memory_order_relaxed);
  metrics->storage_flushes = counter->flushes.load(std::memory_order_relaxed);
}

}  // namespace mnemo::storage
