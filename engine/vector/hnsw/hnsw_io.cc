// HnswIndex persistence: Save() and Load().  The byte layout is documented in hnsw_index.h.
#include <bit>
#include <cmath>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mnemo/base/crc32c.h"
#include "vector/hnsw/hnsw_index.h"

namespace mnemo::hnsw {
namespace {

static_assert(std::endian::native == std::endian::little,
              "the file format is little-endian and written with plain memory copies");

constexpr char kMagic[8] = {'M', 'N', 'E', 'M', 'O', 'H', 'N', 'S'};
constexpr size_t kHeaderBytes = 64;
constexpr size_t kTrailerBytes = 4;
constexpr uint32_t kNoEntryId = 0xFFFFFFFFu;
constexpr uint8_t kFlagDeleted = 1;
constexpr uint8_t kFlagExternal = 2;  // version >= 3
constexpr size_t kIoChunk = size_t{1} << 20;

// Buffered writer over a FileSystem file that checksums everything it writes.  The first failure
// sticks.
class FileWriter {
 public:
  explicit FileWriter(FileSystem& fs) : fs_(fs) {}

  Status Open(const std::string& path) {
    auto file = fs_.NewWritableFile(path);
    if (!file.ok()) return file.status();
    file_ = std::move(file).value();
    buffer_.reserve(kIoChunk);
    return Status::Ok();
  }

  void Put(const void* data, size_t n) {
    crc_ = Crc32cExtend(crc_, data, n);
    const auto* bytes = static_cast<const char*>(data);
    while (n > 0) {
      const size_t take = std::min(n, kIoChunk - buffer_.size());
      buffer_.insert(buffer_.end(), bytes, bytes + take);
      bytes += take;
      n -= take;
      if (buffer_.size() == kIoChunk) Flush();
    }
  }
  template <typename T>
  void PutValue(T value) {
    Put(&value, sizeof(value));
  }

  // Appends the checksum trailer, then flushes, syncs and closes the file.
  Status Finish() {
    const uint32_t crc = crc_;
    Put(&crc, sizeof(crc));
    Flush();
    if (status_.ok()) status_ = file_->Sync();
    const Status closed = file_->Close();
    if (status_.ok()) status_ = closed;
    return status_;
  }

 private:
  void Flush() {
    if (status_.ok()) status_ = file_->Append(std::string_view(buffer_.data(), buffer_.size()));
    buffer_.clear();
  }

  FileSystem& fs_;
  std::unique_ptr<WritableFile> file_;
  std::vector<char> buffer_;
  uint32_t crc_ = 0;
  Status status_;
};

// Buffered reader that checksums everything it returns.  Read() fails (returns false) on a short
// file or an I/O error; status() tells which.
class FileReader {
 public:
  explicit FileReader(FileSystem& fs) : fs_(fs) {}

  Status Open(const std::string& path) {
    auto file = fs_.NewSequentialFile(path);
    if (!file.ok()) {
      if (file.status().IsNotFound()) return Status::NotFound("no hnsw index file at " + path);
      return file.status();
    }
    file_ = std::move(file).value();
    size_ = file_->size();
    buffer_.resize(kIoChunk);
    return Status::Ok();
  }

  uint64_t size() const { return size_; }
  uint64_t remaining() const { return size_ - consumed_; }
  uint32_t crc() const { return crc_; }
  const Status& status() const { return status_; }

  bool Read(void* out, size_t n) {
    auto* dst = static_cast<char*>(out);
    const size_t wanted = n;
    while (n > 0) {
      if (begin_ == end_ && !Fill()) return false;
      const size_t take = std::min(n, end_ - begin_);
      std::memcpy(dst, buffer_.data() + begin_, take);
      begin_ += take;
      dst += take;
      n -= take;
    }
    crc_ = Crc32cExtend(crc_, out, wanted);
    consumed_ += wanted;
    return true;
  }
  template <typename T>
  bool ReadValue(T* value) {
    return Read(value, sizeof(*value));
  }

 private:
  bool Fill() {
    auto got = file_->Read(buffer_.data(), buffer_.size());
    if (!got.ok()) status_ = got.status();
    if (!got.ok() || *got == 0) return false;
    begin_ = 0;
    end_ = *got;
    return true;
  }

  FileSystem& fs_;
  std::unique_ptr<SequentialFile> file_;
  uint64_t size_ = 0;
  uint64_t consumed_ = 0;
  std::vector<char> buffer_;
  size_t begin_ = 0;
  size_t end_ = 0;
  uint32_t crc_ = 0;
  Status status_;
};

Status Corrupt(const std::string& path, const std::string& what) {
  return Status::Internal("corrupt hnsw index file " + path + ": " + what);
}

// Zeros for any dimension, shared by every node whose external vector is gone.  Not const, so it
// is zero-filled at start instead of stored in the binary; never written, so its pages stay the
// kernel's shared zero page.
alignas(64) float zeros_of_gone_vectors[HnswParams::kMaxDim];
const float* ZeroVector() { return zeros_of_gone_vectors; }

}  // namespace

Status HnswIndex::Save(const std::string& path, uint64_t applied_seqno, FileSystem& fs) const {
  std::unique_lock structure(structure_mutex_);  // no insert or delete in flight
  const uint64_t entry = entry_.load(std::memory_order_acquire);
  const NodeView view = store_.View();
  const uint32_t node_count = view.limit();

  const std::string temp = path + ".tmp";
  FileWriter out(fs);
  Status status = out.Open(temp);
  if (status.ok()) {
    out.Put(kMagic, sizeof(kMagic));
    out.PutValue<uint32_t>(kFormatVersion);
    out.PutValue<uint32_t>(params_.dim);
    out.PutValue<uint32_t>(params_.m);
    out.PutValue<uint32_t>(params_.ef_construction);
    out.PutValue<uint64_t>(params_.seed);
    out.PutValue<uint64_t>(applied_seqno);
    out.PutValue<uint32_t>(node_count);
    out.PutValue<uint32_t>(static_cast<uint32_t>(deleted_count()));
    out.PutValue<uint32_t>(entry == kNoEntry ? kNoEntryId : static_cast<uint32_t>(entry));
    out.PutValue<uint32_t>(entry == kNoEntry ? 0 : static_cast<uint32_t>(entry >> 32));
    out.PutValue<uint32_t>(0);
    out.PutValue<uint32_t>(0);
    const ScalarQuantizer* quantizer = quantizer_.load(std::memory_order_acquire);
    out.PutValue<uint32_t>(quantizer != nullptr ? 1 : 0);
    out.PutValue<uint32_t>(0);
    if (quantizer != nullptr) {
      out.Put(quantizer->lo().data(), sizeof(float) * params_.dim);
      out.Put(quantizer->step().data(), sizeof(float) * params_.dim);
      out.Put(quantizer->mean_code().data(), sizeof(float) * params_.dim);
    }
    for (uint32_t id = 0; id < node_count; ++id) {
      const NodeMeta& meta = view.Meta(id);
      out.PutValue<uint64_t>(meta.label);
      const bool deleted = (meta.state.load(std::memory_order_acquire) & kNodeDeleted) != 0;
      const bool external = meta.external.load(std::memory_order_acquire);
      out.PutValue<uint8_t>((deleted ? kFlagDeleted : 0) | (external ? kFlagExternal : 0));
      out.PutValue<uint8_t>(meta.level);
      out.PutValue<uint16_t>(0);
      for (int level = 0; level <= meta.level; ++level) {
        const uint32_t* list = view.Links(id, level);
        const uint32_t count = std::min(LoadSlot(list), store_.Capacity(level));
        out.PutValue<uint32_t>(count);
        for (uint32_t i = 1; i <= count; ++i) out.PutValue<uint32_t>(LoadSlot(list + i));
      }
      if (quantizer != nullptr) {
        out.PutValue<float>(meta.code_error);
        out.Put(view.Code(id), params_.dim);
      }
      if (!external) out.Put(view.Vector(id), sizeof(float) * params_.dim);
    }
    status = out.Finish();
  }
  if (status.ok()) status = fs.Rename(temp, path);
  if (!status.ok()) {
    fs.Remove(temp).IgnoreError();
    return status;
  }
  return fs.SyncDir(ParentDir(path));
}

Result<LoadedHnswIndex> HnswIndex::Load(const std::string& path, const HnswResources& resources,
                                        FileSystem& fs, const ExternalVectors& external) {
  FileReader in(fs);
  MNEMO_RETURN_IF_ERROR(in.Open(path));
  auto truncated = [&](const std::string& where) {
    if (!in.status().ok()) return in.status();
    return Corrupt(path, "truncated (in " + where + ")");
  };
  if (in.size() < kHeaderBytes + kTrailerBytes) return truncated("header");

  char magic[sizeof(kMagic)];
  uint32_t version, node_count, deleted_count, entry_id, max_level, reserved[2];
  uint64_t applied_seqno;
  HnswParams params;
  if (!in.Read(magic, sizeof(magic)) || !in.ReadValue(&version) || !in.ReadValue(&params.dim) ||
      !in.ReadValue(&params.m) || !in.ReadValue(&params.ef_construction) ||
      !in.ReadValue(&params.seed) || !in.ReadValue(&applied_seqno) || !in.ReadValue(&node_count) ||
      !in.ReadValue(&deleted_count) || !in.ReadValue(&entry_id) || !in.ReadValue(&max_level) ||
      !in.Read(reserved, sizeof(reserved))) {
    return truncated("header");
  }
  if (std::memcmp(magic, kMagic, sizeof(kMagic)) != 0) {
    return Corrupt(path, "bad magic number (not an hnsw index file)");
  }
  if (version < kOldestFormatVersion || version > kFormatVersion) {
    return Corrupt(path, "unsupported format version " + std::to_string(version) +
                             " (this build reads versions " + std::to_string(kOldestFormatVersion) +
                             " to " + std::to_string(kFormatVersion) + ")");
  }
  if (Status valid = params.Validate(); !valid.ok()) {
    return Corrupt(path, "bad parameters: " + std::string(valid.message()));
  }
  // Every node record takes at least this many bytes, so a count the file cannot hold is caught
  // before anything is allocated for it.  (The quantizer section is checked as it is read.)
  const uint64_t min_record = 8 + 4 + 4 + (version >= 3 ? 0 : uint64_t{4} * params.dim);
  const uint64_t min_quantizer_section = version >= 2 ? 8 : 0;
  if (in.size() - kHeaderBytes - kTrailerBytes < min_quantizer_section ||
      uint64_t{node_count} * min_record >
          in.size() - kHeaderBytes - kTrailerBytes - min_quantizer_section) {
    return truncated("node records: the header announces " + std::to_string(node_count) + " nodes");
  }
  if (node_count >= kMaxNodes || deleted_count > node_count ||
      (node_count == 0) != (entry_id == kNoEntryId) ||
      (entry_id != kNoEntryId && entry_id >= node_count) || max_level > kMaxLevel) {
    return Corrupt(path, "inconsistent header counts");
  }
  // One pass: the parse below checks every size and id it reads (a damaged file fails it, or
  // the checksum compared at the end), so the file is read once, not once more to checksum it.

  std::optional<ScalarQuantizer> quantizer;
  if (version >= 2) {
    uint32_t present, pad;
    if (!in.ReadValue(&present) || !in.ReadValue(&pad)) return truncated("quantizer section");
    if (present > 1 || pad != 0) return Corrupt(path, "bad quantizer section flags");
    if (present == 1) {
      if (uint64_t{3} * sizeof(float) * params.dim > in.remaining()) {
        return truncated("quantizer section");
      }
      std::vector<float> lo(params.dim), step(params.dim), mean_code(params.dim);
      if (!in.Read(lo.data(), sizeof(float) * params.dim) ||
          !in.Read(step.data(), sizeof(float) * params.dim) ||
          !in.Read(mean_code.data(), sizeof(float) * params.dim)) {
        return truncated("quantizer section");
      }
      auto parsed =
          ScalarQuantizer::FromParams(std::move(lo), std::move(step), std::move(mean_code));
      if (!parsed.ok()) return Corrupt(path, std::string(parsed.status().message()));
      quantizer.emplace(std::move(parsed).value());
    }
  }

  std::unique_ptr<HnswIndex> index(new HnswIndex(params, resources));
  NodeStore& store = index->store_;
  store.Reserve(node_count);
  std::vector<float> vector(params.dim);
  std::vector<uint8_t> code(params.dim);
  // Version 3 stores the codes when it stores a quantizer; earlier versions have them encoded.
  const bool stored_codes = version >= 3 && quantizer.has_value();
  const uint8_t known_flags = version >= 3 ? kFlagDeleted | kFlagExternal : kFlagDeleted;

  std::vector<uint32_t> links;  // all levels of one node, each as [count, ids...]
  std::vector<uint8_t> levels(node_count);
  uint32_t deleted_seen = 0;
  for (uint32_t id = 0; id < node_count; ++id) {
    // Built only for an error: a million nodes load without a million strings.
    const auto where = [id] { return "node " + std::to_string(id); };
    uint64_t label;
    uint8_t flags, level;
    uint16_t pad;
    if (!in.ReadValue(&label) || !in.ReadValue(&flags) || !in.ReadValue(&level) ||
        !in.ReadValue(&pad)) {
      return truncated(where());
    }
    if ((flags & ~known_flags) != 0 || pad != 0 || level > kMaxLevel) {
      return Corrupt(path, where() + ": bad flags or level");
    }
    links.clear();
    for (int l = 0; l <= level; ++l) {
      uint32_t count;
      if (!in.ReadValue(&count)) return truncated(where());
      if (count > store.Capacity(l)) return Corrupt(path, where() + ": link list too long");
      links.push_back(count);
      const size_t start = links.size();
      links.resize(start + count);
      if (!in.Read(links.data() + start, sizeof(uint32_t) * count)) return truncated(where());
      for (size_t i = start; i < links.size(); ++i) {
        if (links[i] >= node_count) return Corrupt(path, where() + ": link to a missing node");
      }
    }
    float code_error = 0;
    if (stored_codes) {
      if (!in.ReadValue(&code_error) || !in.Read(code.data(), params.dim))
        return truncated(where());
      if (!std::isfinite(code_error) || code_error < 0)
        return Corrupt(path, where() + ": bad code error bound");
    }
    bool is_external = (flags & kFlagExternal) != 0;
    const float* unit = vector.data();
    if (is_external) {
      if (!external) return Corrupt(path, where() + ": external vector, and none given to find it");
      unit = external(label);
      // Routing only: a vector is gone only with its row.
      if (unit == nullptr) unit = ZeroVector();
    } else {
      if (!in.Read(vector.data(), sizeof(float) * params.dim)) return truncated(where());
      // A vector the caller now keeps (a file saved before it did) is not copied.
      if (external) {
        if (const float* kept = external(label)) {
          unit = kept;
          is_external = true;
        }
      }
    }

    if (store.Allocate() != id) return Status::Internal("hnsw load: id allocation out of step");
    store.InitNode(id, label, level, unit, is_external, stored_codes ? code.data() : nullptr,
                   code_error);
    levels[id] = level;
    const NodeView view = store.View();
    size_t pos = 0;
    for (int l = 0; l <= level; ++l) {
      uint32_t* list = view.Links(id, l);
      const uint32_t count = links[pos];
      for (uint32_t i = 0; i < count; ++i) list[1 + i] = links[pos + 1 + i];
      list[0] = count;
      pos += 1 + count;
    }
    const uint32_t earlier = index->label_to_id_.Find(label);
    const bool inserted = earlier == LabelIndex::kMissing;
    if (flags & kFlagDeleted) {
      view.Meta(id).state.fetch_or(kNodeDeleted, std::memory_order_relaxed);
      ++deleted_seen;
      // The map keeps the newest node of a label; a live node is never displaced by a tombstone.
      if (inserted || (view.Meta(earlier).state.load() & kNodeDeleted) != 0)
        index->label_to_id_.Upsert(label, id);
    } else {
      if (!inserted && (view.Meta(earlier).state.load() & kNodeDeleted) == 0) {
        return Corrupt(path, where() + ": label " + std::to_string(label) + " is live twice");
      }
      index->label_to_id_.Upsert(label, id);
      index->live_count_.fetch_add(1, std::memory_order_relaxed);
    }
  }
  const uint32_t computed_crc = in.crc();
  uint32_t stored_crc;
  if (!in.ReadValue(&stored_crc)) return truncated("checksum trailer");
  if (in.remaining() != 0) return Corrupt(path, "unexpected bytes after the checksum");
  if (stored_crc != computed_crc) return Corrupt(path, "checksum mismatch");
  if (deleted_seen != deleted_count) return Corrupt(path, "deleted count does not match");

  // Structural checks the search code relies on: a link on level l names a node that has level l,
  // and the entry point sits on the top level.
  const NodeView view = store.View();
  for (uint32_t id = 0; id < node_count; ++id) {
    for (int l = 1; l <= levels[id]; ++l) {
      const uint32_t* list = view.Links(id, l);
      for (uint32_t i = 1; i <= list[0]; ++i) {
        if (levels[list[i]] < l) {
          return Corrupt(path, "node " + std::to_string(id) + ": level " + std::to_string(l) +
                                   " link to a node below that level");
        }
      }
    }
  }
  if (entry_id != kNoEntryId) {
    if (levels[entry_id] != max_level) return Corrupt(path, "entry point is not on the top level");
    for (uint32_t id = 0; id < node_count; ++id) {
      if (levels[id] > max_level) return Corrupt(path, "a node lies above the top level");
    }
    index->entry_.store((uint64_t{max_level} << 32) | entry_id, std::memory_order_release);
  }
  index->deleted_count_.store(deleted_count, std::memory_order_relaxed);
  // Codes are derived data: encode them with the stored quantizer, or fit one now for a file
  // written before quantization existed (version 1) that is large enough.
  if (quantizer && stored_codes) {
    index->PublishQuantizer(std::make_shared<const ScalarQuantizer>(std::move(*quantizer)));
  } else if (quantizer) {
    index->InstallQuantizer(std::make_shared<const ScalarQuantizer>(std::move(*quantizer)));
  } else if (resources.quantizer && resources.quantizer->dim() == params.dim) {
    index->InstallQuantizer(resources.quantizer);
  } else if (index->fit_own_quantizer_) {
    index->FitQuantizer(/*force=*/false);
  }
  return LoadedHnswIndex{std::move(index), applied_seqno};
}

}  // namespace mnemo::hnsw
