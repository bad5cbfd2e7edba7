// HnswIndex persistence: Save() and Load().  The byte layout is documented in hnsw_index.h.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
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
// Version 4: records start on a page boundary (so a mapping of the file holds them aligned), and
// the body is checksummed in ranges of kRangeBytes.
constexpr uint64_t kPageBytes = 4096;
constexpr uint64_t kRangeBytes = uint64_t{1} << 20;
constexpr size_t kNodeEntryBytes = 16;
constexpr size_t kLine = 64;

uint64_t RoundUp(uint64_t value, uint64_t multiple) {
  return (value + multiple - 1) / multiple * multiple;
}

std::string ErrnoText(int error) {
  return std::to_string(error) + " (" + std::strerror(error) + ")";
}

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
    position_ += n;
    if (ranges_on_) ExtendRanges(static_cast<const char*>(data), n);
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
  void PutZeros(size_t n) {
    static constexpr char kZeros[kPageBytes] = {};
    while (n > 0) {
      const size_t take = std::min(n, sizeof(kZeros));
      Put(kZeros, take);
      n -= take;
    }
  }

  // Bytes put so far, and their CRC-32C.
  uint64_t position() const { return position_; }
  uint32_t crc() const { return crc_; }
  // From now on, every kRangeBytes put get a CRC-32C of their own.
  void BeginRanges() { ranges_on_ = true; }
  // Stops range checksums; returns them (the last range may be shorter).
  std::vector<uint32_t> EndRanges() {
    ranges_on_ = false;
    if (range_fill_ > 0) range_crcs_.push_back(range_crc_);
    range_fill_ = 0;
    range_crc_ = 0;
    return std::move(range_crcs_);
  }

  // Flushes, syncs and closes the file.
  Status Finish() {
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

  void ExtendRanges(const char* data, size_t n) {
    while (n > 0) {
      const size_t take = std::min<uint64_t>(n, kRangeBytes - range_fill_);
      range_crc_ = Crc32cExtend(range_crc_, data, take);
      range_fill_ += take;
      data += take;
      n -= take;
      if (range_fill_ == kRangeBytes) {
        range_crcs_.push_back(range_crc_);
        range_crc_ = 0;
        range_fill_ = 0;
      }
    }
  }

  FileSystem& fs_;
  std::unique_ptr<WritableFile> file_;
  std::vector<char> buffer_;
  uint32_t crc_ = 0;
  uint64_t position_ = 0;
  bool ranges_on_ = false;
  uint64_t range_fill_ = 0;
  uint32_t range_crc_ = 0;
  std::vector<uint32_t> range_crcs_;
  Status status_;
};

}  // namespace

namespace internal {

// Reads a file's bytes held in memory (mapped or read), checksumming everything it returns.
// Read() fails (returns false) past the end.
class ByteReader {
 public:
  ByteReader(const std::byte* data, uint64_t size) : data_(data), size_(size) {}

  uint64_t size() const { return size_; }
  uint64_t consumed() const { return consumed_; }
  uint64_t remaining() const { return size_ - consumed_; }
  uint32_t crc() const { return crc_; }

  bool Read(void* out, size_t n) {
    if (n > remaining()) return false;
    std::memcpy(out, data_ + consumed_, n);
    crc_ = Crc32cExtend(crc_, out, n);
    consumed_ += n;
    return true;
  }
  template <typename T>
  bool ReadValue(T* value) {
    return Read(value, sizeof(*value));
  }

 private:
  const std::byte* data_;
  uint64_t size_;
  uint64_t consumed_ = 0;
  uint32_t crc_ = 0;
};

}  // namespace internal

namespace {

using internal::ByteReader;

Status Corrupt(const std::string& path, const std::string& what) {
  return Status::Internal("corrupt hnsw index file " + path + ": " + what);
}

// Zeros for any dimension, shared by every node whose external vector is gone.  Not const, so it
// is zero-filled at start instead of stored in the binary; never written, so its pages stay the
// kernel's shared zero page.
alignas(64) float zeros_of_gone_vectors[HnswParams::kMaxDim];
const float* ZeroVector() { return zeros_of_gone_vectors; }

// A graph file's bytes in memory: mapped copy-on-write (MAP_PRIVATE), or read into a buffer.
struct GraphFile {
  std::shared_ptr<const void> keep;  // owns the mapping or the buffer
  std::byte* data = nullptr;
  uint64_t size = 0;
  int fd = -1;  // the mapped file, open until the index is done with it (-1 for a buffer)
};

struct Mapping {
  void* address = nullptr;
  size_t bytes = 0;
  ~Mapping() {
    if (bytes > 0) ::munmap(address, bytes);
  }
};

Result<GraphFile> MapGraphFile(const std::string& path) {
  GraphFile file;
  file.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (file.fd < 0) {
    if (errno == ENOENT) return Status::NotFound("no hnsw index file at " + path);
    return Status::Unavailable("cannot open " + path + ": errno " + ErrnoText(errno));
  }
  struct stat st {};
  if (::fstat(file.fd, &st) != 0) {
    const int error = errno;
    ::close(file.fd);
    return Status::Unavailable("cannot stat " + path + ": errno " + ErrnoText(error));
  }
  file.size = static_cast<uint64_t>(st.st_size);
  auto mapping = std::make_shared<Mapping>();
  if (file.size > 0) {
    // Writable and private: the index writes links and lock words in place, and the first write
    // to a page gives the process its own copy; the file never changes.
    void* address = ::mmap(nullptr, file.size, PROT_READ | PROT_WRITE, MAP_PRIVATE, file.fd, 0);
    if (address == MAP_FAILED) {
      const int error = errno;
      ::close(file.fd);
      return Status::Unavailable("cannot map " + path + ": errno " + ErrnoText(error));
    }
    mapping->address = address;
    mapping->bytes = file.size;
    file.data = static_cast<std::byte*>(address);
  }
  file.keep = std::move(mapping);
  return file;
}

Result<GraphFile> ReadGraphFile(const std::string& path, FileSystem& fs) {
  auto opened = fs.NewSequentialFile(path);
  if (!opened.ok()) {
    if (opened.status().IsNotFound()) return Status::NotFound("no hnsw index file at " + path);
    return opened.status();
  }
  std::unique_ptr<SequentialFile> in = std::move(opened).value();
  struct alignas(kLine) Line {
    std::byte bytes[kLine];
  };
  GraphFile file;
  file.size = in->size();
  std::shared_ptr<Line[]> buffer(new Line[RoundUp(file.size, kLine) / kLine]);
  file.data = reinterpret_cast<std::byte*>(buffer.get());
  uint64_t filled = 0;
  while (filled < file.size) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(kIoChunk, file.size - filled));
    MNEMO_ASSIGN_OR_RETURN(const size_t got,
                           in->Read(reinterpret_cast<char*>(file.data) + filled, want));
    if (got == 0) break;  // shorter than it was: the parse reports the truncation
    filled += got;
  }
  file.size = filled;
  file.keep = std::move(buffer);
  return file;
}

// The first range of [begin, end) whose CRC-32C differs from `crcs`, as a message; empty when all
// match.  `read` fills a buffer from the file at an offset.
template <class ReadAt>
std::string FirstBadRange(uint64_t begin, uint64_t end, const std::vector<uint32_t>& crcs,
                          const ReadAt& read) {
  for (size_t r = 0; r < crcs.size(); ++r) {
    const uint64_t from = begin + r * kRangeBytes;
    const uint64_t to = std::min(end, from + kRangeBytes);
    uint32_t crc = 0;
    if (!read(from, to - from, &crc)) return "cannot read bytes " + std::to_string(from) + "..";
    if (crc != crcs[r]) {
      return "checksum mismatch in bytes " + std::to_string(from) + ".." + std::to_string(to);
    }
  }
  return "";
}

}  // namespace

HnswIndex::PendingRecordCheck::~PendingRecordCheck() {
  if (fd >= 0) ::close(fd);
}

Status HnswIndex::Save(const std::string& path, uint64_t applied_seqno, FileSystem& fs) const {
  std::unique_lock structure(structure_mutex_);  // no insert or delete in flight
  const uint64_t entry = entry_.load(std::memory_order_acquire);
  const NodeView view = store_.View();
  const uint32_t node_count = view.limit();
  const uint32_t dim = params_.dim;
  const size_t stride = store_.stride();

  const std::string temp = path + ".tmp";
  FileWriter out(fs);
  Status status = out.Open(temp);
  if (status.ok()) {
    out.Put(kMagic, sizeof(kMagic));
    out.PutValue<uint32_t>(kFormatVersion);
    out.PutValue<uint32_t>(dim);
    out.PutValue<uint32_t>(params_.m);
    out.PutValue<uint32_t>(params_.ef_construction);
    out.PutValue<uint64_t>(params_.seed);
    out.PutValue<uint64_t>(applied_seqno);
    out.PutValue<uint32_t>(node_count);
    out.PutValue<uint32_t>(static_cast<uint32_t>(deleted_count()));
    out.PutValue<uint32_t>(entry == kNoEntry ? kNoEntryId : static_cast<uint32_t>(entry));
    out.PutValue<uint32_t>(entry == kNoEntry ? 0 : static_cast<uint32_t>(entry >> 32));
    out.PutValue<uint32_t>(static_cast<uint32_t>(stride));
    out.PutValue<uint32_t>(0);
    const ScalarQuantizer* quantizer = quantizer_.load(std::memory_order_acquire);
    out.PutValue<uint32_t>(quantizer != nullptr ? 1 : 0);
    out.PutValue<uint32_t>(0);
    if (quantizer != nullptr) {
      out.Put(quantizer->lo().data(), sizeof(float) * dim);
      out.Put(quantizer->step().data(), sizeof(float) * dim);
      out.Put(quantizer->mean_code().data(), sizeof(float) * dim);
    }
    for (uint32_t id = 0; id < node_count; ++id) {
      const NodeMeta& meta = view.Meta(id);
      out.PutValue<uint64_t>(meta.label);
      out.PutValue<float>(quantizer != nullptr ? meta.code_error : 0.0f);
      const bool deleted = (meta.state.load(std::memory_order_acquire) & kNodeDeleted) != 0;
      const bool external = meta.external.load(std::memory_order_acquire);
      out.PutValue<uint8_t>((deleted ? kFlagDeleted : 0) | (external ? kFlagExternal : 0));
      out.PutValue<uint8_t>(meta.level);
      out.PutValue<uint16_t>(0);
    }
    for (uint32_t id = 0; id < node_count; ++id) {
      for (int level = 1; level <= view.Meta(id).level; ++level) {
        const uint32_t* list = view.Links(id, level);
        const uint32_t count = std::min(LoadSlot(list), params_.m);
        out.PutValue<uint32_t>(count);
        for (uint32_t i = 1; i <= params_.m; ++i)
          out.PutValue<uint32_t>(i <= count ? LoadSlot(list + i) : 0);
      }
    }
    out.PutValue<uint32_t>(out.crc());
    out.BeginRanges();
    out.PutZeros(RoundUp(out.position(), kPageBytes) - out.position());
    for (uint32_t id = 0; id < node_count; ++id) {
      out.PutValue<uint32_t>(0);  // the lock word: no writer holds one now
      out.Put(view.Record(id) + sizeof(uint32_t), stride - sizeof(uint32_t));
    }
    const size_t vector_bytes = sizeof(float) * dim;
    for (uint32_t id = 0; id < node_count; ++id) {
      if (view.Meta(id).external.load(std::memory_order_acquire)) continue;
      out.Put(view.Vector(id), vector_bytes);
      out.PutZeros(RoundUp(vector_bytes, kLine) - vector_bytes);
    }
    const std::vector<uint32_t> ranges = out.EndRanges();
    out.Put(ranges.data(), sizeof(uint32_t) * ranges.size());
    out.PutValue<uint32_t>(Crc32c(ranges.data(), sizeof(uint32_t) * ranges.size()));
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
                                        FileSystem& fs, const ExternalVectors& external,
                                        const HnswLoadOptions& options) {
  // Mapped where the file system is the process's own; read through `fs` otherwise.
  const bool map = &fs == &PosixFileSystem();
  MNEMO_ASSIGN_OR_RETURN(GraphFile file, map ? MapGraphFile(path) : ReadGraphFile(path, fs));
  struct FdCloser {
    int* fd;
    ~FdCloser() {
      if (*fd >= 0) ::close(*fd);
    }
  } close_fd{&file.fd};
  ByteReader in(file.data, file.size);
  auto truncated = [&](const std::string& where) {
    return Corrupt(path, "truncated (in " + where + ")");
  };
  if (in.size() < kHeaderBytes + kTrailerBytes) return truncated("header");

  FileHeader header;
  char magic[sizeof(kMagic)];
  uint32_t reserved[2];
  HnswParams& params = header.params;
  if (!in.Read(magic, sizeof(magic)) || !in.ReadValue(&header.version) ||
      !in.ReadValue(&params.dim) || !in.ReadValue(&params.m) ||
      !in.ReadValue(&params.ef_construction) || !in.ReadValue(&params.seed) ||
      !in.ReadValue(&header.applied_seqno) || !in.ReadValue(&header.node_count) ||
      !in.ReadValue(&header.deleted_count) || !in.ReadValue(&header.entry_id) ||
      !in.ReadValue(&header.max_level) || !in.Read(reserved, sizeof(reserved))) {
    return truncated("header");
  }
  const uint32_t version = header.version;
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
  // Every node takes at least this many bytes, so a count the file cannot hold is caught before
  // anything is allocated for it.  (The quantizer section is checked as it is read.)
  const NodeStore layout(params.dim, params.m);
  const uint64_t min_record = version >= 4   ? kNodeEntryBytes + layout.stride()
                              : version >= 3 ? 8 + 4 + 4
                                             : 8 + 4 + 4 + uint64_t{4} * params.dim;
  const uint64_t min_quantizer_section = version >= 2 ? 8 : 0;
  if (in.size() - kHeaderBytes - kTrailerBytes < min_quantizer_section ||
      uint64_t{header.node_count} * min_record >
          in.size() - kHeaderBytes - kTrailerBytes - min_quantizer_section) {
    return truncated("node records: the header announces " + std::to_string(header.node_count) +
                     " nodes");
  }
  if (header.node_count >= kMaxNodes || header.deleted_count > header.node_count ||
      (header.node_count == 0) != (header.entry_id == kNoEntryId) ||
      (header.entry_id != kNoEntryId && header.entry_id >= header.node_count) ||
      header.max_level > kMaxLevel) {
    return Corrupt(path, "inconsistent header counts");
  }
  if (version >= 4 && (reserved[0] != layout.stride() || reserved[1] != 0)) {
    return Corrupt(path, "record stride " + std::to_string(reserved[0]) + " does not match " +
                             std::to_string(layout.stride()) + " for its dim and m");
  }

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
      header.quantizer.emplace(std::move(parsed).value());
    }
  }
  std::unique_ptr<HnswIndex> index(new HnswIndex(params, resources));
  if (version >= 4) {
    MNEMO_RETURN_IF_ERROR(index->LoadInPlace(
        path, file.keep, file.data, file.size, in.consumed(), header, external,
        /*mapped=*/file.fd >= 0, options.defer_record_check && file.fd >= 0 ? &file.fd : nullptr));
  } else {
#if defined(MADV_POPULATE_READ)
    // Read once from front to back: filling the page tables in one call costs far less than a
    // fault per page.  Best effort.
    if (file.fd >= 0) ::madvise(file.data, file.size, MADV_POPULATE_READ);
#endif
    MNEMO_RETURN_IF_ERROR(index->LoadCopied(path, in, header, external));
  }
  // Codes are derived data: encode them with the stored quantizer, or fit one now for a file
  // written before quantization existed (version 1) that is large enough.
  const bool stored_codes = version >= 3 && header.quantizer.has_value();
  if (header.quantizer && stored_codes) {
    index->PublishQuantizer(std::make_shared<const ScalarQuantizer>(std::move(*header.quantizer)));
  } else if (header.quantizer) {
    index->InstallQuantizer(std::make_shared<const ScalarQuantizer>(std::move(*header.quantizer)));
  } else if (resources.quantizer && resources.quantizer->dim() == params.dim) {
    index->InstallQuantizer(resources.quantizer);
  } else if (index->fit_own_quantizer_) {
    index->FitQuantizer(/*force=*/false);
  }
  return LoadedHnswIndex{std::move(index), header.applied_seqno, header.version};
}

Status HnswIndex::LoadInPlace(const std::string& path, std::shared_ptr<const void> keep,
                              std::byte* data, uint64_t size, uint64_t offset,
                              const FileHeader& header, const ExternalVectors& external,
                              bool mapped, int* defer_fd) {
  auto truncated = [&](const std::string& where) {
    return Corrupt(path, "truncated (in " + where + ")");
  };
  const uint32_t node_count = header.node_count;
  const uint32_t m = params_.m;
  const uint32_t dim = params_.dim;
  const size_t stride = store_.stride();
  const uint8_t known_flags = kFlagDeleted | kFlagExternal;

  // The head: node table and upper links, checked entry by entry and checksummed as a whole.
  if (uint64_t{node_count} * kNodeEntryBytes > size - offset) return truncated("node table");
  const std::byte* table = data + offset;
  struct Entry {
    uint64_t label;
    float code_error;
    uint8_t flags;
    uint8_t level;
    uint16_t pad;
  };
  static_assert(sizeof(Entry) == kNodeEntryBytes);
  std::vector<Entry> entries(node_count);
  if (node_count > 0) std::memcpy(entries.data(), table, sizeof(Entry) * node_count);
  uint64_t upper_slots = 0;
  uint64_t owned = 0;
  for (uint32_t id = 0; id < node_count; ++id) {
    const Entry& entry = entries[id];
    if ((entry.flags & ~known_flags) != 0 || entry.pad != 0 || entry.level > header.max_level) {
      return Corrupt(path, "node " + std::to_string(id) + ": bad flags or level");
    }
    if (!std::isfinite(entry.code_error) || entry.code_error < 0)
      return Corrupt(path, "node " + std::to_string(id) + ": bad code error bound");
    upper_slots += uint64_t{entry.level} * (1 + m);
    owned += (entry.flags & kFlagExternal) ? 0 : 1;
  }
  const uint64_t upper_offset = offset + uint64_t{node_count} * kNodeEntryBytes;
  if (upper_slots * sizeof(uint32_t) + kTrailerBytes > size - upper_offset) {
    return truncated("upper links");
  }
  const uint64_t head_end = upper_offset + upper_slots * sizeof(uint32_t);
  uint32_t head_crc;
  std::memcpy(&head_crc, data + head_end, sizeof(head_crc));
  if (Crc32c(data, head_end) != head_crc) return Corrupt(path, "checksum mismatch (head)");

  // The body: page-aligned records, then the owned vectors, checksummed by ranges.
  const uint64_t body_begin = head_end + sizeof(uint32_t);
  const uint64_t records_offset = RoundUp(body_begin, kPageBytes);
  const uint64_t slot_bytes = RoundUp(sizeof(float) * dim, kLine);
  const uint64_t vectors_offset = records_offset + uint64_t{node_count} * stride;
  const uint64_t body_end = vectors_offset + owned * slot_bytes;
  const uint64_t range_count = (body_end - body_begin + kRangeBytes - 1) / kRangeBytes;
  const uint64_t expected = body_end + range_count * sizeof(uint32_t) + kTrailerBytes;
  if (size < expected) return truncated("records");
  if (size > expected) return Corrupt(path, "unexpected bytes after the checksum");
  std::vector<uint32_t> range_crcs(range_count);
  if (range_count > 0)
    std::memcpy(range_crcs.data(), data + body_end, sizeof(uint32_t) * range_count);
  uint32_t ranges_crc;
  std::memcpy(&ranges_crc, data + body_end + sizeof(uint32_t) * range_count, sizeof(ranges_crc));
  if (Crc32c(range_crcs.data(), sizeof(uint32_t) * range_count) != ranges_crc)
    return Corrupt(path, "checksum mismatch (range checksums)");
  if (defer_fd == nullptr) {
    const std::string bad = FirstBadRange(body_begin, body_end, range_crcs,
                                          [&](uint64_t from, uint64_t bytes, uint32_t* crc) {
                                            *crc = Crc32c(data + from, bytes);
                                            return true;
                                          });
    if (!bad.empty()) return Corrupt(path, bad);
  } else {
    auto check = std::make_unique<PendingRecordCheck>();
    check->path = path;
    check->fd = std::exchange(*defer_fd, -1);
    check->begin = body_begin;
    check->end = body_end;
    check->range_crcs = std::move(range_crcs);
    std::lock_guard lock(record_check_mutex_);
    pending_check_ = std::move(check);
  }

  // Records in place; every node's metadata from its entry.
  store_.AdoptRecords(data + records_offset, node_count, std::move(keep), data, data + size,
                      !mapped);
  label_to_id_.Reserve(node_count);
  const NodeView view = store_.View();
  const std::byte* upper = data + upper_offset;
  const std::byte* owned_vectors = data + vectors_offset;
  uint32_t deleted_seen = 0;
  for (uint32_t id = 0; id < node_count; ++id) {
    const auto where = [id] { return "node " + std::to_string(id); };
    const Entry& entry = entries[id];
    bool is_external = (entry.flags & kFlagExternal) != 0;
    const float* unit = nullptr;
    if (is_external) {
      if (!external) return Corrupt(path, where() + ": external vector, and none given to find it");
      unit = external(entry.label);
      if (unit == nullptr) unit = ZeroVector();  // routing only: a vector is gone only with its row
    } else {
      unit = reinterpret_cast<const float*>(owned_vectors);
      owned_vectors += slot_bytes;
      // A vector the caller now keeps (a file saved before it did) is read there instead.
      if (external) {
        if (const float* kept = external(entry.label)) {
          unit = kept;
          is_external = true;
        }
      }
    }
    store_.InitAdoptedNode(id, entry.label, entry.level, unit, is_external, entry.code_error);
    if (entry.level > 0) {
      const size_t slots = size_t{entry.level} * (1 + m);
      uint32_t* lists = view.Meta(id).upper.get();
      std::memcpy(lists, upper, sizeof(uint32_t) * slots);
      upper += sizeof(uint32_t) * slots;
      for (int l = 1; l <= entry.level; ++l) {
        const uint32_t* list = view.Links(id, l);
        if (list[0] > m) return Corrupt(path, where() + ": link list too long");
        for (uint32_t i = 1; i <= list[0]; ++i) {
          if (list[i] >= node_count) return Corrupt(path, where() + ": link to a missing node");
          if (entries[list[i]].level < l) {
            return Corrupt(path, where() + ": level " + std::to_string(l) +
                                     " link to a node below that level");
          }
        }
      }
    }
    const uint32_t earlier = label_to_id_.Find(entry.label);
    const bool inserted = earlier == LabelIndex::kMissing;
    if (entry.flags & kFlagDeleted) {
      view.Meta(id).state.fetch_or(kNodeDeleted, std::memory_order_relaxed);
      ++deleted_seen;
      // The map keeps the newest node of a label; a live node is never displaced by a tombstone.
      if (inserted || (view.Meta(earlier).state.load() & kNodeDeleted) != 0)
        label_to_id_.Upsert(entry.label, id);
    } else {
      if (!inserted && (view.Meta(earlier).state.load() & kNodeDeleted) == 0) {
        return Corrupt(path, where() + ": label " + std::to_string(entry.label) + " is live twice");
      }
      label_to_id_.Upsert(entry.label, id);
      live_count_.fetch_add(1, std::memory_order_relaxed);
    }
  }
  if (deleted_seen != header.deleted_count) return Corrupt(path, "deleted count does not match");
  if (header.entry_id != kNoEntryId) {
    if (entries[header.entry_id].level != header.max_level)
      return Corrupt(path, "entry point is not on the top level");
    entry_.store((uint64_t{header.max_level} << 32) | header.entry_id, std::memory_order_release);
  }
  deleted_count_.store(header.deleted_count, std::memory_order_relaxed);
  return Status::Ok();
}

bool HnswIndex::record_check_pending() const {
  std::lock_guard lock(record_check_mutex_);
  return pending_check_ != nullptr;
}

Status HnswIndex::CheckRecords() const {
  std::unique_ptr<PendingRecordCheck> check;
  {
    std::lock_guard lock(record_check_mutex_);
    check = std::move(pending_check_);
  }
  if (check == nullptr) return Status::Ok();
  std::vector<char> buffer(kRangeBytes);
  const std::string bad = FirstBadRange(
      check->begin, check->end, check->range_crcs,
      [&](uint64_t from, uint64_t bytes, uint32_t* crc) {
        const ssize_t got = ::pread(check->fd, buffer.data(), bytes, static_cast<off_t>(from));
        if (got != static_cast<ssize_t>(bytes)) return false;
        *crc = Crc32c(buffer.data(), bytes);
        return true;
      });
  if (!bad.empty()) return Corrupt(check->path, bad);
  return Status::Ok();
}

Status HnswIndex::LoadCopied(const std::string& path, ByteReader& in, const FileHeader& header,
                             const ExternalVectors& external) {
  auto truncated = [&](const std::string& where) {
    return Corrupt(path, "truncated (in " + where + ")");
  };
  const uint32_t version = header.version;
  const HnswParams& params = header.params;
  const uint32_t node_count = header.node_count;
  const uint32_t deleted_count = header.deleted_count;
  const uint32_t entry_id = header.entry_id;
  const uint32_t max_level = header.max_level;
  const std::optional<ScalarQuantizer>& quantizer = header.quantizer;
  HnswIndex* index = this;
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
  return Status::Ok();
}

}  // namespace mnemo::hnsw
