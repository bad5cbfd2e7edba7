#include "vector/vector_store.h"

#include <malloc.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <future>
#include <map>

#include "common/thread_priority.h"
#include "kernels/distance.h"
#include "mnemo/base/sha256.h"
#include "storage/key_codec.h"
#include "tables/conversation_store.h"
#include "tables/row_codec.h"
#include "tables/validation.h"
#include "vector/chunk_rows.h"
#include "vector/label_addresses.h"
#include "vector/partition_archive.h"

namespace mnemo::vector {
namespace {

using storage::Cf;

// Rows linked per tenant per indexer turn: small enough that every tenant progresses.
constexpr size_t kIndexBatch = 64;
// Tenant graphs are saved under this sub-directory of the index directory.
constexpr const char* kTenantDir = "tenants";
// Rows the shared quantizer is fitted on.
constexpr size_t kQuantizerSample = 16384;
constexpr auto kIndexerIdlePoll = std::chrono::seconds(1);
// Returns free heap pages to the system (best effort; a no-op without glibc).
void ReleaseFreeHeapPages() {
#if defined(__GLIBC__)
  ::malloc_trim(0);
#endif
}

// Graph files of the earlier layout (one graph per month, "<dir>/YYYY-MM.hnsw"): their rows are
// linked into the per-user graphs from storage, so the files only take space.
void RemoveMonthGraphFiles(const std::string& index_dir) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(index_dir, ec)) {
    const std::string name = entry.path().filename().string();
    uint32_t month = 0;
    if (name.size() == 12 && name.ends_with(".hnsw") && ParseMonth(name.substr(0, 7), &month)) {
      std::error_code ignored;
      std::filesystem::remove(entry.path(), ignored);
      spdlog::info("removed {}: month graphs are replaced by per-user graphs", name);
    }
  }
}

}  // namespace

VectorStore::VectorStore(storage::Db& db, const VectorOptions& options, text::TextIndex* text)
    : db_(db),
      options_(options),
      text_(text),
      dim_(db.dimension()),
      costs_(db.dimension()),
      scratch_(std::make_shared<hnsw::ScratchPool<hnsw::internal::SearchScratch>>()) {}

Result<std::unique_ptr<VectorStore>> VectorStore::Open(storage::Db& db,
                                                       const VectorOptions& options,
                                                       text::TextIndex* text) {
  std::unique_ptr<VectorStore> store(new VectorStore(db, options, text));
  // Graph saves sync their own directory entries; the directories' entries are made durable here.
  const std::string tenant_dir = (std::filesystem::path(options.index_dir) / kTenantDir).string();
  MNEMO_RETURN_IF_ERROR(store->fs().CreateDir(options.index_dir));
  MNEMO_RETURN_IF_ERROR(store->fs().CreateDir(tenant_dir));
  MNEMO_RETURN_IF_ERROR(store->fs().SyncDir(options.index_dir));
  MNEMO_RETURN_IF_ERROR(store->fs().SyncDir(ParentDir(options.index_dir)));
  VectorLogOptions log_options;
  log_options.dir =
      options.vector_dir.empty()
          ? (std::filesystem::path(options.index_dir).parent_path() / "vectors").string()
          : options.vector_dir;
  log_options.dim = store->dim_;
  log_options.segment_bytes = options.segment_bytes;
  log_options.inline_max_bytes = options.inline_max_bytes;
  log_options.sync = options.sync_writes;
  log_options.file_system = &store->fs();
  log_options.on_move = [raw = store.get()](uint32_t month, uint64_t label, const float* unit) {
    raw->OnVectorMoved(month, label, unit);
  };
  // Load() keeps addresses from the log's open: no vector moves until the graphs follow moves.
  log_options.start_background = false;
  {
    std::shared_lock lock(store->tenants_mutex_);
    MNEMO_RETURN_IF_ERROR(store->NewGraph().status());  // parameters are valid
  }
  MNEMO_RETURN_IF_ERROR(store->Load(log_options));
  store->log_->StartBackground();
  store->indexer_ = std::thread([raw = store.get()] { raw->IndexerLoop(); });
  return store;
}

VectorStore::~VectorStore() { StopThreads(); }

void VectorStore::StopThreads() {
  {
    std::lock_guard lock(indexer_mutex_);
    stop_ = true;
  }
  indexer_wake_.notify_all();
  if (indexer_.joinable()) indexer_.join();
  // The log's moves call OnVectorMoved, which reads tenants_: they end before any member goes,
  // and a closed store moves no vector (its graphs are saved as they are).
  if (log_) log_->StopBackground();
}

hnsw::HnswResources VectorStore::GraphResources() const {
  hnsw::HnswResources resources;
  resources.scratch = scratch_;
  resources.quantizer = quantizer_;
  resources.fit_own_quantizer = false;
  return resources;
}

Result<std::unique_ptr<hnsw::HnswIndex>> VectorStore::NewGraph() const {
  hnsw::HnswParams params;
  params.dim = dim_;
  params.m = options_.m;
  params.ef_construction = options_.ef_construction;
  return hnsw::HnswIndex::Create(params, GraphResources());
}

std::string VectorStore::GraphPath(std::string_view user_id, OwnerKind kind) const {
  // User ids are arbitrary bytes up to 255 long: the file is named by a hash of the id.
  const std::string name =
      Sha256Hex(user_id).substr(0, 32) + (kind == OwnerKind::kMessage ? ".messages.hnsw" : ".hnsw");
  return (std::filesystem::path(options_.index_dir) / kTenantDir / name).string();
}

void VectorStore::OnVectorMoved(uint32_t month, uint64_t label, const float* unit) {
  if (unit == nullptr) return;  // not reachable: a moved record is in a mapped segment
  // The row's payload names its user: a chunk's, or else a message's.
  std::string value;
  std::string user_id;
  OwnerKind kind = OwnerKind::kChunk;
  if (db_.Get(Cf::kIndex, keys::PayloadKey(month, label), &value).ok()) {
    ChunkPayload payload;
    if (!DecodePayload(value, &payload).ok()) return;
    user_id = std::move(payload.user_id);
  } else if (db_.Get(Cf::kIndex, keys::MessagePayloadKey(month, label), &value).ok()) {
    MessagePayload payload;
    if (!DecodeMessagePayload(value, &payload).ok()) return;
    user_id = std::move(payload.user_id);
    kind = OwnerKind::kMessage;
  } else {
    return;  // a soft-deleted chunk: its graph node, if any, is a tombstone
  }
  uint32_t user_ref = 0;
  if (!users_.Find(user_id, &user_ref)) return;
  if (auto tenant = FindTenant(user_ref, kind)) tenant->RepointVector(label, unit);
}

Status VectorStore::Load(const VectorLogOptions& log_options) {
  // Where opening a large store spends its time, in the log.
  const auto started = std::chrono::steady_clock::now();
  auto last = started;
  std::string phases;
  const auto phase_done = [&](std::string_view name) {
    const auto now = std::chrono::steady_clock::now();
    phases += fmt::format("{}{} {:.2f} s", phases.empty() ? "" : ", ", name,
                          std::chrono::duration<double>(now - last).count());
    last = now;
  };
  // The vector log opens on a thread of its own while the rows are read: its count of live
  // records is a scan of every vector pointer, which also says where each vector reads in place
  // (for graphs saved with their vectors external).  No vector moves before StartBackground().
  LabelAddresses in_place;
  double log_open_seconds = 0;
  // The saved graphs load on that thread too, once the addresses are known: every graph file
  // there is, by path.  The rows say later which user each belongs to; a graph no rows name is
  // dropped.
  const hnsw::HnswIndex::ExternalVectors find_in_place = [&](uint64_t label) {
    return in_place.Find(label);
  };
  const std::string tenant_dir = (std::filesystem::path(options_.index_dir) / kTenantDir).string();
  std::map<std::string, Result<hnsw::LoadedHnswIndex>, std::less<>> saved_graphs;
  double graphs_seconds = 0;
  auto log_opening = std::async(std::launch::async, [&]() -> Result<std::unique_ptr<VectorLog>> {
    const auto log_started = std::chrono::steady_clock::now();
    auto opened = VectorLog::Open(
        db_, log_options,
        [&in_place](uint32_t, uint64_t label, const float* unit) { in_place.Add(label, unit); });
    const auto graphs_started = std::chrono::steady_clock::now();
    log_open_seconds = std::chrono::duration<double>(graphs_started - log_started).count();
    if (!opened.ok()) return opened;
    auto names = fs().ListDir(tenant_dir);
    if (!names.ok()) return names.status();
    for (const std::string& name : *names) {
      if (!name.ends_with(".hnsw")) continue;
      const std::string path = (std::filesystem::path(tenant_dir) / name).string();
      // The records' checksums are checked by the indexer after open (a pass over the whole
      // file), and a damaged graph rebuilt then; the rest of the file is checked here.
      saved_graphs.emplace(path, hnsw::HnswIndex::Load(path, GraphResources(), fs(), find_in_place,
                                                       {.defer_record_check = true}));
    }
    graphs_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - graphs_started).count();
    return opened;
  });
  // Documents first: rows point at their document's shared state.
  Status decoded;
  MNEMO_RETURN_IF_ERROR(
      db_.Scan(Cf::kDocuments, {}, [&](std::string_view key, std::string_view value) {
        Document d;
        decoded = tables::DecodeDocument(value, Uuid::FromBytes(key), &d);
        if (!decoded.ok()) return false;
        documents_.Upsert(d.id, d.file_type, d.filename, d.is_deleted);
        return true;
      }));
  MNEMO_RETURN_IF_ERROR(decoded);

  // Then every row's payload, grouped by owner.
  RowsByUser rows_by_user;
  uint64_t max_label = 0;
  storage::ScanRange payloads;
  payloads.prefix = keys::PayloadTagPrefix();
  // A batch's rows have consecutive labels and one user and document: the last ones found are
  // kept for the next row.
  ChunkPayload payload;
  auto last_user = rows_by_user.end();
  uint32_t last_user_ref = 0;
  std::shared_ptr<DocumentState> last_document;
  MNEMO_RETURN_IF_ERROR(
      db_.Scan(Cf::kIndex, payloads, [&](std::string_view key, std::string_view value) {
        uint32_t month = 0;
        uint64_t label = 0;
        if (!keys::ParsePayloadKey(key, &month, &label)) {
          decoded = Status::Internal("corrupt chunk payload key");
          return false;
        }
        decoded = DecodePayload(value, &payload);
        if (!decoded.ok()) return false;
        if (!last_document || last_document->id != payload.document_id) {
          last_document = documents_.Find(payload.document_id);
          if (!last_document) {
            decoded = Status::Internal("chunk " + payload.chunk_id.ToString() + " has no document");
            return false;
          }
        }
        if (last_user == rows_by_user.end() || payload.user_id != last_user->first) {
          last_user = rows_by_user.try_emplace(payload.user_id).first;
          last_user_ref = users_.Intern(payload.user_id);
        }
        RowState row;
        row.user_ref = last_user_ref;
        row.created_at = payload.created_at;
        row.chunk_index = payload.chunk_index;
        row.chunk_id = payload.chunk_id;
        row.document = last_document;
        row.metadata = ParseChunkMetadata(payload.metadata);
        max_label = std::max(max_label, label);
        last_user->second.push_back(LoadedRow{label, month, std::move(row)});
        return true;
      }));
  MNEMO_RETURN_IF_ERROR(decoded);
  RowsByUser message_rows_by_user;
  MNEMO_RETURN_IF_ERROR(LoadMessageRows(&message_rows_by_user, &max_label));
  MNEMO_RETURN_IF_ERROR(LoadMessageTexts(&max_label));
  MNEMO_ASSIGN_OR_RETURN(log_, log_opening.get());
  phase_done("rows");
  phases += fmt::format(" (beside them: vector log opened in {:.2f} s, graphs in {:.2f} s)",
                        log_open_seconds, graphs_seconds);

  // Saved graphs, then catch-up: rows a graph lacks go to the fresh buffer.
  struct LoadedTenant {
    OwnerKind kind;
    const std::string* user_id;
    std::vector<LoadedRow>* rows;
    std::unique_ptr<hnsw::HnswIndex> graph;
    bool old_format = false;  // saved in a format read by a copy: rewritten at the next save
  };
  std::vector<LoadedTenant> loaded_tenants;
  for (auto& [user_id, rows] : rows_by_user)
    loaded_tenants.push_back(LoadedTenant{OwnerKind::kChunk, &user_id, &rows, nullptr, false});
  for (auto& [user_id, rows] : message_rows_by_user)
    loaded_tenants.push_back(LoadedTenant{OwnerKind::kMessage, &user_id, &rows, nullptr, false});
  uint64_t next_label = max_label + 1;
  for (LoadedTenant& loading : loaded_tenants) {
    const std::string path = GraphPath(*loading.user_id, loading.kind);
    auto saved = saved_graphs.find(path);
    Result<hnsw::LoadedHnswIndex> loaded = saved != saved_graphs.end()
                                               ? std::move(saved->second)
                                               : Status::NotFound("no saved graph " + path);
    if (loaded.ok() && loaded->index->params().dim == dim_) {
      loading.graph = std::move(loaded->index);
      if (loaded->format_version < hnsw::HnswIndex::kFormatVersion) {
        loading.old_format = true;
        spdlog::info("user graph {}: format {}, rewritten in format {} at the next save", path,
                     loaded->format_version, hnsw::HnswIndex::kFormatVersion);
      }
      if (loading.graph->record_check_pending()) {
        std::lock_guard lock(indexer_mutex_);
        records_unchecked_ = true;
      }
      // Every label in a saved graph is below the label counter it was saved with.
      next_label = std::max(next_label, loaded->applied_seqno);
    } else {
      if (!loaded.ok() && !loaded.status().IsNotFound()) {
        spdlog::warn("user graph {}: saved graph unusable ({}); re-linking from storage", path,
                     loaded.status().ToString());
      }
      MNEMO_ASSIGN_OR_RETURN(loading.graph, NewGraph());
    }
  }
  phase_done("graphs");
  // The quantizer every graph shares: the one of the largest saved graph that has one.
  size_t largest = 0;
  for (const LoadedTenant& loading : loaded_tenants) {
    const auto& graph = loading.graph;
    if (graph->has_quantizer() && (!quantizer_ || graph->size() > largest)) {
      quantizer_ = graph->shared_quantizer();
      largest = graph->size();
    }
  }
  for (LoadedTenant& loading : loaded_tenants) {
    std::unique_ptr<hnsw::HnswIndex> graph = std::move(loading.graph);
    if (quantizer_) graph->AdoptQuantizer(quantizer_);
    const uint32_t user_ref = users_.Intern(*loading.user_id);
    auto tenant =
        std::make_shared<Tenant>(*loading.user_id, user_ref, dim_, std::move(graph), loading.kind);
    if (loading.old_format) tenant->MarkDirty();
    std::vector<Tenant::FreshRow> fresh;
    std::vector<float> vector;
    // Rows the saved graph holds are restored in one pass; the others are linked as fresh rows.
    std::vector<Tenant::RestoredRow> restored;
    restored.reserve(loading.rows->size());
    for (auto& [label, month, row] : *loading.rows)
      restored.push_back(Tenant::RestoredRow{label, &row});
    for (const size_t i : tenant->RestoreIndexed(restored)) {
      auto& [label, month, row] = (*loading.rows)[i];
      if (const float* stored = in_place.Find(label)) {
        fresh.push_back(Tenant::FreshRow{label, std::move(row), {}, stored});
        continue;
      }
      std::string bytes;
      MNEMO_RETURN_IF_ERROR(db_.Get(Cf::kVectors, keys::VectorKey(month, label), &bytes));
      MNEMO_RETURN_IF_ERROR(log_->Decode(bytes, month, label, &vector));
      fresh.push_back(Tenant::FreshRow{label, std::move(row), vector});
    }
    tenant->InsertBatch(std::move(fresh));
    tenants_[TenantKey(loading.kind, user_ref)] = std::move(tenant);
  }
  next_label_.store(next_label);
  RemoveMonthGraphFiles(options_.index_dir);
  phase_done("catch-up");
  spdlog::info("vector store: {} graphs opened in {:.2f} s ({})", loaded_tenants.size(),
               std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
               phases);
  return Status::Ok();
}

std::shared_ptr<Tenant> VectorStore::TenantFor(std::string_view user_id, OwnerKind kind) {
  const uint32_t user_ref = users_.Intern(user_id);
  if (auto tenant = FindTenant(user_ref, kind)) return tenant;
  std::unique_lock lock(tenants_mutex_);
  auto& slot = tenants_[TenantKey(kind, user_ref)];
  if (!slot) {
    auto graph = NewGraph();  // parameters were validated in Open()
    slot = std::make_shared<Tenant>(std::string(user_id), user_ref, dim_, std::move(graph).value(),
                                    kind);
  }
  return slot;
}

std::shared_ptr<Tenant> VectorStore::FindTenant(uint32_t user_ref, OwnerKind kind) const {
  std::shared_lock lock(tenants_mutex_);
  auto it = tenants_.find(TenantKey(kind, user_ref));
  return it == tenants_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<Tenant>> VectorStore::AllTenants() const {
  std::shared_lock lock(tenants_mutex_);
  std::vector<std::shared_ptr<Tenant>> all;
  all.reserve(tenants_.size());
  for (const auto& [key, tenant] : tenants_) {
    if (tenant->kind() == OwnerKind::kChunk) all.push_back(tenant);
  }
  return all;
}

std::vector<std::shared_ptr<Tenant>> VectorStore::EveryTenant() const {
  std::shared_lock lock(tenants_mutex_);
  std::vector<std::shared_ptr<Tenant>> all;
  all.reserve(tenants_.size());
  for (const auto& [key, tenant] : tenants_) all.push_back(tenant);
  return all;
}

// ---- writes -----------------------------------------------------------------------------------

void VectorStore::RemoveRows(std::string_view user_id, const std::vector<uint64_t>& labels) {
  uint32_t user_ref = 0;
  if (!users_.Find(user_id, &user_ref)) return;
  if (auto tenant = FindTenant(user_ref)) {
    for (uint64_t label : labels) tenant->Remove(label);
  }
}

void VectorStore::StageDocumentState(storage::WriteTxn& txn, const Document& document,
                                     bool erased) {
  txn.OnCommit([this, document, erased] {
    if (erased) {
      documents_.Erase(document.id);
    } else {
      documents_.Upsert(document.id, document.file_type, document.filename, document.is_deleted);
    }
  });
}

// ---- maintenance ------------------------------------------------------------------------------

std::vector<PartitionInfo> VectorStore::Partitions() const {
  std::map<uint32_t, PartitionInfo> months;
  for (const auto& tenant : AllTenants()) {
    const std::map<uint32_t, TenantMonthStats> stats = tenant->MonthStats();
    int64_t tenant_rows = 0;
    for (const auto& [month, figures] : stats) tenant_rows += figures.rows;
    const double graph_bytes = static_cast<double>(tenant->graph_bytes());
    for (const auto& [month, figures] : stats) {
      PartitionInfo& info = months[month];
      info.rows += figures.rows;
      info.pending_rows += figures.pending;
      info.deleted_in_index += figures.tombstones;
      // A tenant's graph spans its months: each month is charged its share of the rows.
      if (tenant_rows > 0) {
        info.index_bytes += static_cast<int64_t>(graph_bytes * static_cast<double>(figures.rows) /
                                                 static_cast<double>(tenant_rows));
      }
    }
  }
  std::vector<PartitionInfo> infos;
  for (auto& [month, info] : months) {
    if (info.rows == 0) continue;  // every row of the month is gone (dropped or deleted)
    info.month = MonthName(month);
    info.vector_bytes = info.rows * static_cast<int64_t>(dim_ * sizeof(float));
    infos.push_back(std::move(info));
  }
  return infos;
}

Status VectorStore::CopySavedGraphs(const std::string& dir) const {
  const std::string tenants = (std::filesystem::path(dir) / kTenantDir).string();
  MNEMO_RETURN_IF_ERROR(fs().CreateDir(dir));
  MNEMO_RETURN_IF_ERROR(fs().CreateDir(tenants));
  for (const auto& tenant : EveryTenant()) {
    const std::string from = GraphPath(tenant->user_id(), tenant->kind());
    const Status copied = CopyFile(
        fs(), from,
        (std::filesystem::path(tenants) / std::filesystem::path(from).filename()).string());
    if (copied.IsNotFound()) continue;  // never saved: the tenant has no rows
    MNEMO_RETURN_IF_ERROR(copied);
  }
  MNEMO_RETURN_IF_ERROR(fs().SyncDir(tenants));
  return fs().SyncDir(dir);
}

Status VectorStore::SaveIndexes() {
  const uint64_t label_watermark = next_label_.load();
  for (const auto& tenant : EveryTenant()) {
    const std::string path = GraphPath(tenant->user_id(), tenant->kind());
    if (tenant->rows() == 0) {
      fs().Remove(path).IgnoreError();  // absent when the graph was never saved
      continue;
    }
    if (!tenant->dirty() && std::filesystem::exists(path)) continue;
    const auto gate = log_->ReadGate();  // Save reads the graph's own copies of vectors
    MNEMO_RETURN_IF_ERROR(tenant->Save(path, label_watermark, fs()));
  }
  return Status::Ok();
}

Status VectorStore::Close() {
  size_t pending = 0;
  for (const auto& tenant : EveryTenant()) pending += tenant->pending();
  if (pending > 0 && pending <= options_.max_rows_linked_on_close) {
    spdlog::info("linking {} pending rows into their graphs before saving", pending);
    WaitForIndexing();
  }
  StopThreads();
  return SaveIndexes();
}

Status VectorStore::RebuildPartition(std::string_view month_name) {
  uint32_t month = 0;
  if (!ParseMonth(month_name, &month)) return Status::ValidationError("month", "must be YYYY-MM");
  bool found = false;
  for (const auto& tenant : AllTenants()) {
    const auto stats = tenant->MonthStats();
    auto it = stats.find(month);
    if (it == stats.end() || it->second.rows == 0) continue;
    found = true;
    const auto gate = log_->ReadGate();  // as in the indexer's rebuilds
    MNEMO_RETURN_IF_ERROR(tenant->Rebuild());
    graph_compactions_.fetch_add(1, std::memory_order_relaxed);
  }
  if (!found) return Status::NotFound("no partition " + std::string(month_name));
  return Status::Ok();
}

void VectorStore::MaybeFitQuantizer() {
  {
    std::shared_lock lock(tenants_mutex_);
    if (quantizer_) return;
  }
  const std::vector<std::shared_ptr<Tenant>> tenants = EveryTenant();
  size_t rows = 0;
  for (const auto& tenant : tenants) rows += tenant->rows();
  if (rows < hnsw::HnswIndex::kQuantizerMinNodes) return;
  // Graphs read their vectors (sampling, then encoding them): no vector may move meanwhile.
  const auto gate = log_->ReadGate();
  // A sample spread over the tenants: each gives its share of kQuantizerSample rows (at least one).
  std::vector<float> sample;
  for (const auto& tenant : tenants) {
    const size_t share = std::max<size_t>(1, kQuantizerSample * tenant->rows() / rows);
    tenant->SampleVectors(share, &sample);
  }
  const size_t count = sample.size() / dim_;
  if (count == 0) return;
  auto quantizer = std::make_shared<const hnsw::ScalarQuantizer>(
      hnsw::ScalarQuantizer::Fit(dim_, count, [&](size_t j) { return sample.data() + j * dim_; }));
  std::vector<std::shared_ptr<Tenant>> all;
  {
    // Tenants created from now on get the quantizer from NewGraph(); those that exist now adopt it.
    std::unique_lock lock(tenants_mutex_);
    quantizer_ = quantizer;
    for (const auto& [user_ref, tenant] : tenants_) all.push_back(tenant);
  }
  for (const auto& tenant : all) tenant->AdoptQuantizer(quantizer);
  spdlog::info("fitted the shared vector quantizer on {} rows", count);
}

void VectorStore::NotifyIndexer(std::shared_ptr<Tenant> tenant) {
  {
    std::lock_guard lock(indexer_mutex_);
    work_signalled_ = true;
    dirty_tenants_.push_back(std::move(tenant));
  }
  indexer_wake_.notify_one();
}

void VectorStore::WaitForIndexing() {
  std::unique_lock lock(indexer_mutex_);
  indexer_idle_.wait(lock, [&] {
    if (stop_) return true;
    for (const auto& tenant : EveryTenant()) {
      if (tenant->pending() > 0) return false;
    }
    return !work_signalled_ && !records_unchecked_;
  });
}

void VectorStore::CheckSavedGraphs() {
  {
    std::lock_guard lock(indexer_mutex_);
    if (!records_unchecked_) return;
  }
  for (const auto& tenant : EveryTenant()) {
    // A rebuild copies the graph's vector addresses: no vector may move meanwhile.
    const auto gate = log_->ReadGate();
    const Status checked = tenant->CheckSavedGraph();
    if (!checked.ok()) {
      spdlog::error("graph of user {}: {}; rebuilt from its vectors", tenant->user_id(),
                    checked.ToString());
    }
  }
  std::lock_guard lock(indexer_mutex_);
  records_unchecked_ = false;
}

void VectorStore::IndexerLoop() {
  // Graph linking is background work: fresh rows are searchable without it.
  RunAtBackgroundPriority("indexer");
  size_t linked_since_release = 0;
  // Every tenant is looked at first (rows caught up at open), then once per kIndexerIdlePoll;
  // in between, only those that writes named.
  auto next_sweep = std::chrono::steady_clock::now();
  while (true) {
    std::vector<std::shared_ptr<Tenant>> tenants;
    {
      std::lock_guard lock(indexer_mutex_);
      if (stop_) break;
      work_signalled_ = false;
      tenants.swap(dirty_tenants_);
    }
    const bool sweep = std::chrono::steady_clock::now() >= next_sweep;
    if (sweep) {
      tenants = EveryTenant();
      next_sweep = std::chrono::steady_clock::now() + kIndexerIdlePoll;
    } else {
      std::sort(tenants.begin(), tenants.end());
      tenants.erase(std::unique(tenants.begin(), tenants.end()), tenants.end());
    }
    size_t linked = 0;
    std::vector<std::shared_ptr<Tenant>> unfinished;
    for (const auto& tenant : tenants) {
      // Held per tenant: vector moves wait until the new nodes can follow them.
      const auto gate = log_->ReadGate();
      linked += tenant->IndexPending(kIndexBatch);
      if (tenant->pending() > 0) unfinished.push_back(tenant);
    }
    MaybeFitQuantizer();
    linked_since_release += linked;
    if (!unfinished.empty()) {
      std::lock_guard lock(indexer_mutex_);
      dirty_tenants_.insert(dirty_tenants_.end(), unfinished.begin(), unfinished.end());
    }
    if (linked > 0) continue;
    CheckSavedGraphs();
    if (linked_since_release * dim_ * sizeof(float) >= options_.release_after_linked_bytes) {
      // Without the flush, an ingest's last memtables stay resident until later writes fill them
      // (at 100k x 1536 about 300 B per vector of the 3 KB after ingest).
      const Status flushed = db_.Flush();
      if (!flushed.ok()) spdlog::warn("indexer: memtable flush failed: {}", flushed.ToString());
      ReleaseFreeHeapPages();
      linked_since_release = 0;
    }
    if (sweep) {
      for (const auto& tenant : tenants) {
        // A rebuild copies the graph's vector addresses: no vector may move meanwhile.
        const auto gate = log_->ReadGate();
        Result<bool> compacted = tenant->CompactIfNeeded(options_.compact_deleted_fraction);
        if (!compacted.ok()) {
          spdlog::warn("graph of a user: compaction failed: {}", compacted.status().ToString());
        } else if (*compacted) {
          graph_compactions_.fetch_add(1, std::memory_order_relaxed);
        }
      }
    }
    std::unique_lock lock(indexer_mutex_);
    indexer_idle_.notify_all();
    indexer_wake_.wait_for(lock, kIndexerIdlePoll, [&] { return stop_ || work_signalled_; });
  }
  indexer_idle_.notify_all();
}

}  // namespace mnemo::vector
