#include "vector/vector_log.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>

#include "kernels/distance.h"
#include "mnemo/base/crc32c.h"
#include "storage/key_codec.h"
#include "vector/chunk_rows.h"

namespace mnemo::vector {
namespace {

using storage::Cf;

constexpr uint32_t kMagic = 0x4345564Du;  // "MVEC" little-endian
constexpr uint8_t kPointerFormat = 1;
constexpr size_t kHeaderBytes = 32;
constexpr size_t kCrcOffset = 4;
constexpr size_t kSegmentOffset = 8;
constexpr size_t kCoveredFrom = 12;  // the checksum covers [12, record) and then the segment id
constexpr char kSuffix[] = ".vseg";

void Put32(char* out, uint32_t value) { std::memcpy(out, &value, 4); }
void Put64(char* out, uint64_t value) { std::memcpy(out, &value, 8); }
uint32_t Get32(const char* in) {
  uint32_t value;
  std::memcpy(&value, in, 4);
  return value;
}
uint64_t Get64(const char* in) {
  uint64_t value;
  std::memcpy(&value, in, 8);
  return value;
}

// The checksum of a record whose body checksum (of [12, record)) is `body_crc`, in segment `id`.
uint32_t FinishCrc(uint32_t body_crc, uint32_t segment) {
  char id[4];
  Put32(id, segment);
  return Crc32cExtend(body_crc, id, sizeof(id));
}

// True when `record` starts with a record header of segment `segment`.
bool HasHeader(const char* record, uint32_t segment) {
  return Get32(record) == kMagic && Get32(record + kSegmentOffset) == segment;
}

// True when the checksum of a `record_bytes` record of `segment` holds; *body gets the checksum
// of its body alone (what Append() extends for another segment).
bool ChecksumHolds(const char* record, size_t record_bytes, uint32_t segment, uint32_t* body) {
  *body = Crc32c(record + kCoveredFrom, record_bytes - kCoveredFrom);
  return FinishCrc(*body, segment) == Get32(record + kCrcOffset);
}

std::string SegmentName(uint32_t id) {
  char name[32];
  std::snprintf(name, sizeof(name), "%08x%s", id, kSuffix);
  return name;
}

bool ParseSegmentName(const std::string& name, uint32_t* id) {
  constexpr size_t kDigits = 8;
  if (name.size() != kDigits + sizeof(kSuffix) - 1 || !name.ends_with(kSuffix)) return false;
  uint32_t value = 0;
  for (size_t i = 0; i < kDigits; ++i) {
    const char c = name[i];
    uint32_t digit;
    if (c >= '0' && c <= '9') {
      digit = static_cast<uint32_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      digit = static_cast<uint32_t>(c - 'a' + 10);
    } else {
      return false;
    }
    value = value * 16 + digit;
  }
  *id = value;
  return true;
}

Status Damaged(uint32_t segment, uint64_t offset, const std::string& what) {
  return Status::Internal("vector segment " + std::to_string(segment) + " at offset " +
                          std::to_string(offset) + ": " + what);
}

}  // namespace

struct VectorLog::Segment {
  uint32_t id = 0;
  std::unique_ptr<RandomRWFile> file;
  std::atomic<int64_t> live{0};
  const char* map = nullptr;  // Capacity() bytes of the file (MapSegment)
};

// Records a transaction appended; released unless the transaction commits.
struct PendingRecords {
  std::vector<VectorPointer> pointers;
  std::function<void(const VectorPointer&)> release;
  bool committed = false;
  ~PendingRecords() {
    if (committed) return;
    for (const VectorPointer& pointer : pointers) release(pointer);
  }
};

std::string EncodeVectorPointer(const VectorPointer& pointer) {
  std::string out(kVectorPointerBytes, '\0');
  out[0] = static_cast<char>(kPointerFormat);
  Put32(out.data() + 1, pointer.segment);
  Put64(out.data() + 5, pointer.offset);
  return out;
}

bool DecodeVectorPointer(std::string_view value, VectorPointer* pointer) {
  if (value.size() != kVectorPointerBytes || static_cast<uint8_t>(value[0]) != kPointerFormat)
    return false;
  pointer->segment = Get32(value.data() + 1);
  pointer->offset = Get64(value.data() + 5);
  return true;
}

VectorLog::VectorLog(storage::Db& db, const VectorLogOptions& options)
    : db_(db),
      options_(options),
      record_bytes_((kHeaderBytes + size_t{4} * options.dim + 63) / 64 * 64),
      fs_(options.file_system ? *options.file_system : PosixFileSystem()),
      zeros_(static_cast<size_t>(std::min(options.fill_piece_bytes, Capacity())), '\0') {}

Result<std::unique_ptr<VectorLog>> VectorLog::Open(storage::Db& db, const VectorLogOptions& options,
                                                   const OpenVisitor& visit) {
  if (options.dim == 0) return Status::Internal("vector log: dimension 0");
  if (options.fill_piece_bytes == 0) return Status::Internal("vector log: fill pieces of 0 bytes");
  std::unique_ptr<VectorLog> log(new VectorLog(db, options));
  MNEMO_RETURN_IF_ERROR(CreateDirs(log->fs_, options.dir));
  MNEMO_RETURN_IF_ERROR(log->Recover());
  MNEMO_RETURN_IF_ERROR(log->CountLive(visit));
  if (options.start_background) log->StartBackground();
  return log;
}

void VectorLog::StartBackground() {
  if (!background_.joinable()) background_ = std::thread([this] { BackgroundLoop(); });
}

void VectorLog::StopBackground() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (background_.joinable()) background_.join();
}

VectorLog::~VectorLog() {
  StopBackground();
  for (const auto& [address, bytes] : maps_) ::munmap(address, bytes);
}

Status VectorLog::MapSegment(Segment& segment) {
  const std::string path = SegmentPath(segment.id);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return Status::Unavailable("cannot open " + path + " to map it: errno " +
                               std::to_string(errno));
  void* address = ::mmap(nullptr, Capacity(), PROT_READ, MAP_SHARED, fd, 0);
  const int error = errno;
  ::close(fd);
  if (address == MAP_FAILED)
    return Status::Unavailable("cannot map " + path + ": errno " + std::to_string(error));
  {
    std::lock_guard lock(maps_mutex_);
    maps_.emplace_back(address, Capacity());
  }
  segment.map = static_cast<const char*>(address);
  return Status::Ok();
}

void VectorLog::RetireMapping(Segment& segment) {
  // MAP_FIXED replaces the file's pages by anonymous zero pages in one step: the range stays
  // readable, and the file's space is freed once it is unlinked.
  void* address = const_cast<char*>(segment.map);
  if (::mmap(address, Capacity(), PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) ==
      MAP_FAILED) {
    spdlog::warn("vector segment {}: cannot release its mapping (errno {})", segment.id, errno);
  }
}

const float* VectorLog::Address(std::string_view value, uint32_t month, uint64_t label,
                                bool check_record) const {
  VectorPointer pointer;
  if (!DecodeVectorPointer(value, &pointer)) return nullptr;
  std::shared_ptr<Segment> segment = FindSegment(pointer.segment);
  const char* record = segment ? RecordIn(*segment, pointer) : nullptr;
  if (record == nullptr) return nullptr;
  if (check_record && (!HasHeader(record, segment->id) || Get32(record + 12) != month ||
                       Get64(record + 16) != label)) {
    return nullptr;
  }
  return reinterpret_cast<const float*>(record + kHeaderBytes);
}

const char* VectorLog::RecordIn(const Segment& segment, const VectorPointer& pointer) const {
  if (pointer.offset % record_bytes_ != 0 || pointer.offset + record_bytes_ > Capacity())
    return nullptr;
  return segment.map + pointer.offset;
}

std::string VectorLog::SegmentPath(uint32_t id) const {
  return options_.dir + "/" + SegmentName(id);
}

Status VectorLog::Recover() {
  MNEMO_ASSIGN_OR_RETURN(std::vector<std::string> names, fs_.ListDir(options_.dir));
  for (const std::string& name : names) {
    uint32_t id = 0;
    if (!ParseSegmentName(name, &id)) continue;
    auto segment = std::make_shared<Segment>();
    segment->id = id;
    MNEMO_ASSIGN_OR_RETURN(segment->file, fs_.OpenRandomRWFile(SegmentPath(id), false));
    MNEMO_RETURN_IF_ERROR(MapSegment(*segment));
    segments_.emplace(id, std::move(segment));
  }
  // The newest segment holding a valid first record is the one appends went to; the end of its
  // valid records is where they resume.  Segments after it were prepared and never used.
  std::string record(record_bytes_, '\0');
  for (auto it = segments_.rbegin(); it != segments_.rend(); ++it) {
    Segment& segment = *it->second;
    MNEMO_ASSIGN_OR_RETURN(const uint64_t size, segment.file->Size());
    uint64_t end = 0;
    while (end + record_bytes_ <= size) {
      MNEMO_RETURN_IF_ERROR(segment.file->Read(end, record_bytes_, record.data()));
      uint32_t body;
      if (!HasHeader(record.data(), segment.id) ||
          !ChecksumHolds(record.data(), record_bytes_, segment.id, &body))
        break;
      end += record_bytes_;
    }
    if (end == 0 && std::next(it) != segments_.rend()) continue;
    // Records past the end are torn or were never referenced: zero them, so that a later scan
    // cannot take a stale record for the end of this one's successors.
    const std::string zeros(record_bytes_, '\0');
    bool zeroed = false;
    for (uint64_t offset = end; offset + kHeaderBytes <= size; offset += record_bytes_) {
      char header[kHeaderBytes];
      MNEMO_RETURN_IF_ERROR(segment.file->Read(offset, kHeaderBytes, header));
      if (Get32(header) == 0) continue;
      const size_t n = static_cast<size_t>(std::min<uint64_t>(record_bytes_, size - offset));
      MNEMO_RETURN_IF_ERROR(segment.file->Write(offset, std::string_view(zeros.data(), n)));
      zeroed = true;
    }
    if (zeroed) {
      MNEMO_RETURN_IF_ERROR(segment.file->Sync());
      spdlog::warn("vector segment {}: discarded an unfinished tail after offset {}",
                   SegmentPath(segment.id), end);
    }
    active_ = it->second;
    append_end_ = end;
    zeroed_end_ = end;
    break;
  }
  // Segments after the active one were prepared and never took a record: removed, so that the
  // next roll creates its successor afresh.
  bool removed = false;
  while (active_ && segments_.rbegin()->first > active_->id) {
    const uint32_t id = segments_.rbegin()->first;
    RetireMapping(*segments_.rbegin()->second);  // no reader yet: the log is opening
    segments_.erase(id);
    MNEMO_RETURN_IF_ERROR(fs_.Remove(SegmentPath(id)));
    removed = true;
  }
  if (removed) MNEMO_RETURN_IF_ERROR(fs_.SyncDir(options_.dir));
  return Status::Ok();
}

Status VectorLog::CountLive(const OpenVisitor& visit) {
  Status status;
  uint64_t referenced_end = 0;
  MNEMO_RETURN_IF_ERROR(
      db_.Scan(Cf::kVectors, {}, [&](std::string_view key, std::string_view value) {
        VectorPointer pointer;
        if (!DecodeVectorPointer(value, &pointer)) {
          // Inline (or stored before the log): moved to the segments in the background.
          uint32_t month = 0;
          uint64_t label = 0;
          if (options_.spill_min_vectors > 0 && keys::ParseVectorKey(key, &month, &label))
            inline_keys_.emplace_back(month, label);
          return true;
        }
        auto it = segments_.find(pointer.segment);
        if (it == segments_.end()) {
          status = Status::Internal("a stored vector points into segment " +
                                    std::to_string(pointer.segment) + ", which is missing from " +
                                    options_.dir);
          return false;
        }
        it->second->live.fetch_add(1, std::memory_order_relaxed);
        if (visit) {
          uint32_t month = 0;
          uint64_t label = 0;
          const char* record = RecordIn(*it->second, pointer);
          if (record != nullptr && keys::ParseVectorKey(key, &month, &label))
            visit(month, label, reinterpret_cast<const float*>(record + kHeaderBytes));
        }
        if (it->second == active_)
          referenced_end = std::max(referenced_end, pointer.offset + record_bytes_);
        return true;
      }));
  MNEMO_RETURN_IF_ERROR(status);
  if (referenced_end > append_end_) {
    // Only possible when records were not synced before their pointers (sync off): never
    // overwrite what a row points at.
    spdlog::warn("vector log {}: rows point past the recovered end ({} > {})", options_.dir,
                 referenced_end, append_end_);
    append_end_ = referenced_end;
    zeroed_end_ = referenced_end;
  }
  // Segments left empty or sparse by deletes before the last shutdown.
  removal_due_ = true;
  compaction_due_ = true;
  spill_due_ = !inline_keys_.empty();
  return Status::Ok();
}

Result<std::shared_ptr<VectorLog::Segment>> VectorLog::CreateSegment(uint32_t id) {
  auto segment = std::make_shared<Segment>();
  segment->id = id;
  MNEMO_ASSIGN_OR_RETURN(segment->file, fs_.OpenRandomRWFile(SegmentPath(id), true));
  MNEMO_RETURN_IF_ERROR(fs_.SyncDir(options_.dir));
  MNEMO_RETURN_IF_ERROR(MapSegment(*segment));
  std::unique_lock lock(segments_mutex_);
  segments_.emplace(id, segment);
  return segment;
}

std::shared_ptr<VectorLog::Segment> VectorLog::FindSegment(uint32_t id) const {
  std::shared_lock lock(segments_mutex_);
  auto it = segments_.find(id);
  return it == segments_.end() ? nullptr : it->second;
}

void VectorLog::EncodeRecord(uint32_t month, uint64_t label, const float* unit, float scale,
                             char* out) const {
  Put32(out, kMagic);
  Put32(out + 12, month);
  Put64(out + 16, label);
  std::memcpy(out + kHeaderBytes, unit, size_t{4} * options_.dim);
  if (scale != 1.0f) {
    // In place, while the record is in cache (records lie in a malloc'ed string at multiples of
    // 64 bytes, their bodies 32 bytes in: aligned for floats).
    kernels::Scale(reinterpret_cast<float*>(out + kHeaderBytes), options_.dim, scale);
  }
  // The body's checksum; Append() extends it with the segment id once it knows the segment.
  Put32(out + kCrcOffset, Crc32c(out + kCoveredFrom, record_bytes_ - kCoveredFrom));
}

uint64_t VectorLog::Capacity() const {
  return std::max<uint64_t>(record_bytes_, options_.segment_bytes / record_bytes_ * record_bytes_);
}

bool VectorLog::Sparse(const Segment& segment) const {
  const int64_t live = segment.live.load(std::memory_order_acquire);
  return &segment != active_.get() && &segment != prepared_.get() && live > 0 &&
         static_cast<uint64_t>(live) * 2 <= Capacity() / record_bytes_;
}

Status VectorLog::Append(std::string& records, std::vector<VectorPointer>* pointers) {
  const uint64_t capacity = Capacity();
  std::unique_lock lock(mu_);
  size_t done = 0;
  while (done < records.size()) {
    if (!active_ || append_end_ + record_bytes_ > capacity) {
      // Roll: take the prepared segment (waiting for one being prepared), else create one now.
      // Every wait re-reads the state: another writer may have appended or rolled meanwhile.
      if (preparing_) {
        changed_.wait(lock);
        continue;
      }
      std::shared_ptr<Segment> next = std::move(prepared_);
      prepared_.reset();
      uint64_t zeroed = prepared_zeroed_;
      if (!next) {
        const uint32_t id = active_ ? active_->id + 1 : 1;
        MNEMO_ASSIGN_OR_RETURN(next, CreateSegment(id));
        zeroed = 0;
      }
      if (active_) {  // the segment it leaves may be empty or sparse already
        removal_due_ = true;
        compaction_due_ = true;
      }
      active_ = std::move(next);
      append_end_ = 0;
      zeroed_end_ = zeroed;
      wanted_end_ = 0;
    }
    const uint64_t room = (capacity - append_end_) / record_bytes_;
    const size_t count =
        static_cast<size_t>(std::min<uint64_t>(room, (records.size() - done) / record_bytes_));
    const uint64_t begin = append_end_;
    const uint64_t end = begin + count * record_bytes_;
    // Never write where the background thread is writing zeros: wait for that piece, and have
    // the next one start past these records, so that it cannot hold them up again.
    if (fill_segment_ == active_ && begin < fill_end_ && end > fill_begin_) {
      wanted_end_ = std::max(wanted_end_, end);
      fill_waits_.fetch_add(1, std::memory_order_relaxed);
      changed_.wait(lock);
      continue;
    }
    for (size_t i = 0; i < count; ++i) {
      char* record = records.data() + done + i * record_bytes_;
      Put32(record + kSegmentOffset, active_->id);
      Put32(record + kCrcOffset, FinishCrc(Get32(record + kCrcOffset), active_->id));
      pointers->push_back(VectorPointer{active_->id, begin + i * record_bytes_});
    }
    MNEMO_RETURN_IF_ERROR(active_->file->Write(
        begin, std::string_view(records.data() + done, static_cast<size_t>(end - begin))));
    active_->live.fetch_add(static_cast<int64_t>(count), std::memory_order_relaxed);
    append_end_ = end;
    if (std::find(unsynced_.begin(), unsynced_.end(), active_) == unsynced_.end())
      unsynced_.push_back(active_);
    done += count * record_bytes_;
  }
  ++appended_;
  wake_.notify_one();  // the background thread fills ahead and prepares the next segment
  return Status::Ok();
}

Status VectorLog::Sync() {
  std::unique_lock lock(mu_);
  const uint64_t target = appended_;
  while (synced_ < target) {
    if (syncing_) {
      changed_.wait(lock);
      continue;
    }
    syncing_ = true;
    const uint64_t upto = appended_;
    std::vector<std::shared_ptr<Segment>> files = std::move(unsynced_);
    unsynced_.clear();
    lock.unlock();
    Status status;
    for (const auto& segment : files) {
      status = segment->file->Sync();
      if (!status.ok()) break;
    }
    lock.lock();
    syncing_ = false;
    if (status.ok()) {
      synced_ = std::max(synced_, upto);
    } else {
      for (auto& segment : files) {
        if (std::find(unsynced_.begin(), unsynced_.end(), segment) == unsynced_.end())
          unsynced_.push_back(segment);
      }
    }
    changed_.notify_all();
    MNEMO_RETURN_IF_ERROR(status);
  }
  return Status::Ok();
}

void VectorLog::Release(const VectorPointer& pointer) {
  std::shared_ptr<Segment> segment = FindSegment(pointer.segment);
  if (!segment) return;
  const int64_t live = segment->live.fetch_sub(1, std::memory_order_acq_rel) - 1;
  const int64_t half = static_cast<int64_t>(Capacity() / record_bytes_ / 2);
  if (live != 0 && live != half) return;  // nothing changed class
  {
    std::lock_guard lock(mu_);
    if (live == 0) {
      removal_due_ = true;
    } else {
      compaction_due_ = true;
    }
  }
  wake_.notify_one();
}

Status VectorLog::StagePut(storage::WriteTxn& txn, std::span<const NewVector> vectors,
                           std::vector<const float*>* addresses) {
  if (addresses != nullptr) addresses->assign(vectors.size(), nullptr);
  if (vectors.empty()) return Status::Ok();
  // Inline vectors take the compaction gate too: compaction must not rewrite a key that this
  // transaction overwrites.
  EnterGate(txn);
  uint64_t& inline_bytes = txn.Tally(&options_.inline_max_bytes);
  const uint64_t bytes = vectors.size() * sizeof(float) * options_.dim;
  if (inline_bytes + bytes <= options_.inline_max_bytes) {
    inline_bytes += bytes;
    std::vector<std::pair<uint32_t, uint64_t>> stored;
    std::vector<float> scaled;
    for (const NewVector& vector : vectors) {
      const float* unit = vector.unit;
      if (vector.scale != 1.0f) {
        scaled.assign(vector.unit, vector.unit + options_.dim);
        kernels::Scale(scaled.data(), scaled.size(), vector.scale);
        unit = scaled.data();
      }
      txn.Put(Cf::kVectors, keys::VectorKey(vector.month, vector.label),
              EncodeVector(unit, options_.dim));
      stored.emplace_back(vector.month, vector.label);
    }
    if (options_.spill_min_vectors > 0) {
      txn.OnCommit([this, stored = std::move(stored)] {
        bool due;
        {
          std::lock_guard lock(mu_);
          inline_keys_.insert(inline_keys_.end(), stored.begin(), stored.end());
          due = inline_keys_.size() >= options_.spill_min_vectors;
          spill_due_ = spill_due_ || due;
        }
        if (due) wake_.notify_one();
      });
    }
    return Status::Ok();
  }
  std::string records(vectors.size() * record_bytes_, '\0');
  for (size_t i = 0; i < vectors.size(); ++i) {
    EncodeRecord(vectors[i].month, vectors[i].label, vectors[i].unit, vectors[i].scale,
                 records.data() + i * record_bytes_);
  }
  auto pending = std::make_shared<PendingRecords>();
  pending->pointers.reserve(vectors.size());
  pending->release = [this](const VectorPointer& pointer) { Release(pointer); };
  // Registered first, so records appended before a failure are released with the transaction.
  txn.Retain(pending);
  MNEMO_RETURN_IF_ERROR(Append(records, &pending->pointers));
  txn.OnCommit([pending] { pending->committed = true; });
  if (options_.sync) txn.BeforeWrite(this, [this] { return Sync(); });
  std::shared_ptr<Segment> segment;  // of the previous record: most share one
  for (size_t i = 0; i < vectors.size(); ++i) {
    const VectorPointer& pointer = pending->pointers[i];
    txn.Put(Cf::kVectors, keys::VectorKey(vectors[i].month, vectors[i].label),
            EncodeVectorPointer(pointer));
    if (addresses == nullptr) continue;
    if (!segment || segment->id != pointer.segment) segment = FindSegment(pointer.segment);
    if (segment) {
      (*addresses)[i] =
          reinterpret_cast<const float*>(segment->map + pointer.offset + kHeaderBytes);
    }
  }
  return Status::Ok();
}

Status VectorLog::StageDelete(storage::WriteTxn& txn, uint32_t month, uint64_t label) {
  EnterGate(txn);
  const std::string key = keys::VectorKey(month, label);
  std::string value;
  Status found = txn.Get(Cf::kVectors, key, &value);
  if (found.IsNotFound()) return Status::Ok();
  MNEMO_RETURN_IF_ERROR(found);
  txn.Delete(Cf::kVectors, key);
  VectorPointer pointer;
  if (DecodeVectorPointer(value, &pointer)) txn.OnCommit([this, pointer] { Release(pointer); });
  return Status::Ok();
}

Status VectorLog::Get(storage::WriteTxn& txn, uint32_t month, uint64_t label,
                      std::vector<float>* unit) {
  EnterGate(txn);
  std::string value;
  MNEMO_RETURN_IF_ERROR(txn.Get(Cf::kVectors, keys::VectorKey(month, label), &value));
  return Decode(value, month, label, unit);
}

Status VectorLog::Decode(std::string_view value, uint32_t month, uint64_t label,
                         std::vector<float>* unit) const {
  if (value.size() == size_t{4} * options_.dim) return DecodeVector(value, options_.dim, unit);
  VectorPointer pointer;
  if (!DecodeVectorPointer(value, &pointer)) {
    return Status::Internal("stored vector of label " + std::to_string(label) +
                            " is neither a vector nor a pointer (" + std::to_string(value.size()) +
                            " bytes)");
  }
  std::shared_ptr<Segment> segment = FindSegment(pointer.segment);
  if (!segment) return Damaged(pointer.segment, pointer.offset, "segment file is missing");
  std::string record(record_bytes_, '\0');
  MNEMO_RETURN_IF_ERROR(segment->file->Read(pointer.offset, record_bytes_, record.data()));
  if (!HasHeader(record.data(), segment->id))
    return Damaged(pointer.segment, pointer.offset, "no record there");
  if (Get32(record.data() + 12) != month || Get64(record.data() + 16) != label) {
    return Damaged(pointer.segment, pointer.offset,
                   "record is of label " + std::to_string(Get64(record.data() + 16)) + ", not " +
                       std::to_string(label));
  }
  uint32_t body;
  if (!ChecksumHolds(record.data(), record_bytes_, segment->id, &body))
    return Damaged(pointer.segment, pointer.offset, "checksum mismatch");
  unit->resize(options_.dim);
  std::memcpy(unit->data(), record.data() + kHeaderBytes, size_t{4} * options_.dim);
  return Status::Ok();
}

std::shared_ptr<void> VectorLog::Pin() {
  {
    std::lock_guard lock(mu_);
    ++pins_;
  }
  return std::shared_ptr<void>(nullptr, [this](void*) {
    {
      std::lock_guard lock(mu_);
      --pins_;
      removal_due_ = true;
    }
    wake_.notify_one();
  });
}

Status VectorLog::CopySegments(const std::string& dir) const {
  MNEMO_RETURN_IF_ERROR(CreateDirs(fs_, dir));
  std::vector<uint32_t> ids;
  {
    std::shared_lock lock(segments_mutex_);
    for (const auto& [id, segment] : segments_) ids.push_back(id);
  }
  for (uint32_t id : ids)
    MNEMO_RETURN_IF_ERROR(CopyFile(fs_, SegmentPath(id), dir + "/" + SegmentName(id)));
  return fs_.SyncDir(dir);
}

VectorLogStats VectorLog::Stats() const {
  VectorLogStats stats;
  std::shared_lock lock(segments_mutex_);
  for (const auto& [id, segment] : segments_) {
    ++stats.segments;
    stats.live_records += segment->live.load(std::memory_order_relaxed);
    auto size = segment->file->Size();
    if (size.ok()) stats.file_bytes += static_cast<int64_t>(*size);
  }
  stats.removed_segments = removed_segments_.load(std::memory_order_relaxed);
  stats.moved_records = moved_records_.load(std::memory_order_relaxed);
  stats.fill_waits = fill_waits_.load(std::memory_order_relaxed);
  stats.early_syncs = early_syncs_.load(std::memory_order_relaxed);
  stats.spilled = spilled_.load(std::memory_order_relaxed);
  return stats;
}

void VectorLog::WaitForBackground() {
  std::unique_lock lock(mu_);
  wake_.notify_one();
  changed_.wait(lock,
                [&] { return stop_ || (!background_busy_ && !removal_due_ && !BackgroundDue()); });
}

uint64_t VectorLog::FillFrom() const { return std::max({zeroed_end_, append_end_, wanted_end_}); }

bool VectorLog::EarlySyncDue() const {
  return options_.sync && !syncing_ && synced_ < appended_ && early_sync_from_ < appended_;
}

bool VectorLog::BackgroundDue() const {
  if (compaction_due_ && pins_ == 0) return true;
  if (spill_due_) return true;
  if (EarlySyncDue()) return true;
  if (!active_) return false;
  const uint64_t capacity = Capacity();
  const bool fill = FillFrom() < std::min(capacity, append_end_ + options_.fill_ahead_bytes) ||
                    (prepared_ && prepared_zeroed_ < std::min(capacity, options_.fill_ahead_bytes));
  const bool prepare = !prepared_ && !preparing_ && append_end_ >= capacity / 4 * 3;
  return fill || prepare;
}

void VectorLog::BackgroundLoop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    if (!removal_due_ && !BackgroundDue()) {
      changed_.notify_all();
      wake_.wait(lock);
      continue;
    }
    background_busy_ = true;
    BackgroundStep(lock);
    background_busy_ = false;
    changed_.notify_all();
  }
}

Status VectorLog::FillPiece(std::unique_lock<std::mutex>& lock,
                            const std::shared_ptr<Segment>& segment, uint64_t begin, uint64_t end) {
  fill_segment_ = segment;
  fill_begin_ = begin;
  fill_end_ = end;
  lock.unlock();
  Status status = segment->file->Write(begin, std::string_view(zeros_.data(), end - begin));
  lock.lock();
  fill_segment_.reset();
  changed_.notify_all();  // writers waiting for the piece
  if (!status.ok()) return status;
  // Synced before the next piece is written: a batch's sync (fdatasync) flushes every dirty page
  // of the file, and would otherwise write the zeros ahead of it too.  Records may go into the
  // piece meanwhile.
  lock.unlock();
  status = segment->file->Sync();
  lock.lock();
  return status;
}

void VectorLog::BackgroundStep(std::unique_lock<std::mutex>& lock) {
  if (EarlySyncDue()) {
    // First: a transaction is waiting, or about to wait, for these records.  A failure is left
    // for that transaction's own sync to retry and report.
    early_syncs_.fetch_add(1, std::memory_order_relaxed);
    early_sync_from_ = appended_;  // after a failure, not again before the next append
    lock.unlock();
    const Status status = Sync();
    lock.lock();
    if (!status.ok()) spdlog::warn("vector log: early sync failed: {}", status.ToString());
    return;
  }
  const uint64_t capacity = Capacity();
  // Zero the region the next records go to, so that syncing them writes data blocks only: ahead
  // of the records in the active segment, else the start of the next one.
  std::shared_ptr<Segment> segment;
  uint64_t begin = 0;
  if (active_ && FillFrom() < std::min(capacity, append_end_ + options_.fill_ahead_bytes)) {
    segment = active_;
    begin = FillFrom();
  } else if (prepared_ && prepared_zeroed_ < std::min(capacity, options_.fill_ahead_bytes)) {
    segment = prepared_;
    begin = prepared_zeroed_;
  }
  if (segment) {
    const uint64_t end = std::min<uint64_t>(capacity, begin + zeros_.size());
    const Status status = FillPiece(lock, segment, begin, end);
    // On failure stop trying: appends extend the file themselves.
    const uint64_t zeroed = status.ok() ? end : capacity;
    if (!status.ok()) {
      spdlog::warn("vector log: zero-filling {} failed: {}", SegmentPath(segment->id),
                   status.ToString());
    }
    // A roll may have made the prepared segment the active one meanwhile.
    if (segment == active_) {
      zeroed_end_ = std::max(zeroed_end_, zeroed);
    } else if (segment == prepared_) {
      prepared_zeroed_ = zeroed;
    }
    return;
  }
  if (active_ && !prepared_ && !preparing_ && append_end_ >= capacity / 4 * 3) {
    // Only the file and its entry: its zeros follow in pieces like the active segment's, so that
    // a roll never waits for more than one.
    const uint32_t id = active_->id + 1;
    preparing_ = true;
    lock.unlock();
    auto created = CreateSegment(id);
    lock.lock();
    preparing_ = false;
    if (created.ok()) {
      prepared_ = std::move(created).value();
      prepared_zeroed_ = 0;
    } else {
      spdlog::warn("vector log: preparing segment {} failed: {}", id, created.status().ToString());
    }
    return;
  }
  if (compaction_due_ && pins_ == 0) {
    compaction_due_ = false;
    lock.unlock();
    auto moved = Compact();
    if (!moved.ok()) spdlog::warn("vector log: compaction: {}", moved.status().ToString());
    lock.lock();
    return;
  }
  if (spill_due_) {
    spill_due_ = false;
    lock.unlock();
    auto spilled = SpillInline();
    if (!spilled.ok())
      spdlog::warn("vector log: moving inline vectors: {}", spilled.status().ToString());
    lock.lock();
    return;
  }
  if (removal_due_) {
    removal_due_ = false;
    if (pins_ > 0) return;  // the unpin sets it again
    std::vector<std::shared_ptr<Segment>> dead;
    {
      std::shared_lock segments(segments_mutex_);
      for (const auto& [id, segment] : segments_) {
        if (segment != active_ && segment != prepared_ &&
            segment->live.load(std::memory_order_acquire) == 0)
          dead.push_back(segment);
      }
    }
    if (dead.empty()) return;
    lock.unlock();
    // The deletes and moves that emptied these segments must not be undone by a crash.
    Status status = db_.SyncWal();
    for (const auto& segment : dead) {
      if (!status.ok()) break;
      {
        std::unique_lock segments(segments_mutex_);
        // A record appended since (into the active segment only) cannot be here; recheck the
        // count all the same under the map's lock.
        if (segment->live.load(std::memory_order_acquire) != 0) continue;
        segments_.erase(segment->id);
      }
      {
        std::unique_lock gate(gate_);  // readers of its vectors are done
        RetireMapping(*segment);
      }
      status = fs_.Remove(SegmentPath(segment->id));
      if (status.ok()) removed_segments_.fetch_add(1, std::memory_order_relaxed);
    }
    if (status.ok()) status = fs_.SyncDir(options_.dir);
    if (!status.ok()) spdlog::warn("vector log: removing segments: {}", status.ToString());
    lock.lock();
  }
}

void VectorLog::EnterGate(storage::WriteTxn& txn) {
  if (!txn.FirstUse(&gate_)) return;
  gate_.lock_shared();
  txn.Retain(std::shared_ptr<void>(nullptr, [this](void*) { gate_.unlock_shared(); }));
}

Result<int64_t> VectorLog::Compact() {
  std::vector<std::shared_ptr<Segment>> sparse;
  {
    std::lock_guard lock(mu_);
    if (pins_ > 0) return int64_t{0};
    std::shared_lock segments(segments_mutex_);
    for (const auto& [id, segment] : segments_) {
      if (Sparse(*segment)) sparse.push_back(segment);
    }
  }
  int64_t moved = 0;
  for (const auto& segment : sparse) {
    MNEMO_ASSIGN_OR_RETURN(const int64_t n, CompactSegment(segment));
    moved += n;
  }
  return moved;
}

Result<int64_t> VectorLog::CompactSegment(const std::shared_ptr<Segment>& segment) {
  // The records are immutable once written: read them before excluding writers.
  MNEMO_ASSIGN_OR_RETURN(const uint64_t size, segment->file->Size());
  const uint64_t used = std::min(size, Capacity()) / record_bytes_ * record_bytes_;
  std::string bytes(used, '\0');
  MNEMO_RETURN_IF_ERROR(segment->file->Read(0, used, bytes.data()));
  std::vector<uint64_t> offsets;
  std::vector<std::string> row_keys;
  for (uint64_t offset = 0; offset < used; offset += record_bytes_) {
    const char* record = bytes.data() + offset;
    if (!HasHeader(record, segment->id)) continue;
    offsets.push_back(offset);
    row_keys.push_back(keys::VectorKey(Get32(record + 12), Get64(record + 16)));
  }

  // Which records are live, copied to the active segment and synced, while writers go on.
  std::vector<std::optional<std::string>> values;
  MNEMO_RETURN_IF_ERROR(db_.MultiGet(Cf::kVectors, row_keys, &values));
  std::vector<std::string> live_keys;
  std::vector<std::string> live_values;  // the pointers as read
  std::vector<uint64_t> live_offsets;
  std::string records;
  for (size_t i = 0; i < row_keys.size(); ++i) {
    VectorPointer pointer;
    if (!values[i] || !DecodeVectorPointer(*values[i], &pointer) ||
        !(pointer == VectorPointer{segment->id, offsets[i]}))
      continue;  // the row is gone, or its vector is another record
    const char* record = bytes.data() + offsets[i];
    uint32_t body;
    if (!ChecksumHolds(record, record_bytes_, segment->id, &body))
      return Damaged(segment->id, offsets[i], "checksum mismatch");
    const size_t at = records.size();
    records.append(record, record_bytes_);
    Put32(records.data() + at + kCrcOffset, body);  // Append() finishes it for the new segment
    live_keys.push_back(std::move(row_keys[i]));
    live_values.push_back(std::move(*values[i]));
    live_offsets.push_back(offsets[i]);
  }
  if (live_keys.empty()) return int64_t{0};
  std::vector<VectorPointer> moved;
  MNEMO_RETURN_IF_ERROR(Append(records, &moved));
  if (Status synced = Sync(); !synced.ok()) {
    for (const VectorPointer& pointer : moved) Release(pointer);
    return synced;
  }
  if (options_.on_copied) options_.on_copied();

  std::unique_lock gate(gate_);  // no transaction stages or reads vectors from here on
  {
    std::lock_guard lock(mu_);
    if (pins_ > 0) {  // a backup is copying segments: the pointers stay as they are
      for (const VectorPointer& pointer : moved) Release(pointer);
      return int64_t{0};
    }
  }
  MNEMO_ASSIGN_OR_RETURN(const std::vector<size_t> unchanged, Unchanged(live_keys, live_values));
  storage::WriteTxn txn(db_);
  txn.SkipSync();  // see the header: moves are not synced
  for (const size_t i : unchanged)
    txn.Put(Cf::kVectors, live_keys[i], EncodeVectorPointer(moved[i]));
  if (Status status = txn.Commit(); !status.ok()) {
    for (const VectorPointer& pointer : moved) Release(pointer);
    return status;
  }
  ReleaseUnused(moved, unchanged);
  for (const size_t i : unchanged) Release(VectorPointer{segment->id, live_offsets[i]});
  moved_records_.fetch_add(static_cast<int64_t>(unchanged.size()), std::memory_order_relaxed);
  if (options_.on_move) {
    for (const size_t i : unchanged) {
      const char* record = bytes.data() + live_offsets[i];
      const uint32_t month = Get32(record + 12);
      const uint64_t label = Get64(record + 16);
      options_.on_move(month, label, Address(EncodeVectorPointer(moved[i]), month, label, false));
    }
  }
  return static_cast<int64_t>(unchanged.size());
}

Result<std::vector<size_t>> VectorLog::Unchanged(const std::vector<std::string>& row_keys,
                                                 const std::vector<std::string>& values) {
  std::vector<std::optional<std::string>> now;
  MNEMO_RETURN_IF_ERROR(db_.MultiGet(Cf::kVectors, row_keys, &now));
  std::vector<size_t> unchanged;
  unchanged.reserve(row_keys.size());
  for (size_t i = 0; i < row_keys.size(); ++i) {
    if (now[i] && *now[i] == values[i]) unchanged.push_back(i);
  }
  return unchanged;
}

void VectorLog::ReleaseUnused(const std::vector<VectorPointer>& moved,
                              const std::vector<size_t>& used) {
  size_t next = 0;  // used is ascending
  for (size_t i = 0; i < moved.size(); ++i) {
    if (next < used.size() && used[next] == i) {
      ++next;
      continue;
    }
    Release(moved[i]);  // its row changed after the copy: the copy is dead
  }
}

Result<int64_t> VectorLog::SpillInline() {
  // A few MB of records per round: their values are compared again under the gate.
  constexpr size_t kSpillBatch = 1024;
  int64_t spilled = 0;
  while (true) {
    std::vector<std::pair<uint32_t, uint64_t>> batch;
    {
      std::lock_guard lock(mu_);
      const size_t take = std::min(kSpillBatch, inline_keys_.size());
      batch.assign(inline_keys_.end() - static_cast<std::ptrdiff_t>(take), inline_keys_.end());
      inline_keys_.resize(inline_keys_.size() - take);
    }
    if (batch.empty()) return spilled;
    // On failure the batch stays pending, for the next round.
    const auto keep = [&](const Status& status) {
      std::lock_guard lock(mu_);
      inline_keys_.insert(inline_keys_.end(), batch.begin(), batch.end());
      return status;
    };
    std::vector<std::string> row_keys;
    row_keys.reserve(batch.size());
    for (const auto& [month, label] : batch) row_keys.push_back(keys::VectorKey(month, label));

    // Read, copied and synced while writers and searches go on.
    std::vector<std::optional<std::string>> values;
    if (Status read = db_.MultiGet(Cf::kVectors, row_keys, &values); !read.ok()) return keep(read);
    std::string records;
    std::vector<std::string> taken_keys;
    std::vector<std::string> taken_values;  // the inline vectors as read
    std::vector<std::pair<uint32_t, uint64_t>> taken_rows;
    std::vector<float> unit(options_.dim);
    for (size_t i = 0; i < batch.size(); ++i) {
      // Gone since, or already a pointer (a later write of the same row).
      if (!values[i] || values[i]->size() != sizeof(float) * options_.dim) continue;
      std::memcpy(unit.data(), values[i]->data(), values[i]->size());
      const size_t at = records.size();
      records.resize(at + record_bytes_);
      EncodeRecord(batch[i].first, batch[i].second, unit.data(), 1.0f, records.data() + at);
      taken_keys.push_back(std::move(row_keys[i]));
      taken_values.push_back(std::move(*values[i]));
      taken_rows.push_back(batch[i]);
    }
    if (taken_keys.empty()) continue;
    std::vector<VectorPointer> moved;
    if (Status appended = Append(records, &moved); !appended.ok()) {
      for (const VectorPointer& pointer : moved) Release(pointer);
      return keep(appended);
    }
    if (Status synced = Sync(); !synced.ok()) {
      for (const VectorPointer& pointer : moved) Release(pointer);
      return keep(synced);
    }
    if (options_.on_copied) options_.on_copied();

    std::unique_lock gate(gate_);  // no transaction stages or reads vectors from here on
    Result<std::vector<size_t>> unchanged = Unchanged(taken_keys, taken_values);
    Status status = unchanged.status();
    storage::WriteTxn txn(db_);
    txn.SkipSync();  // see the header: moves are not synced
    if (status.ok()) {
      for (const size_t j : *unchanged)
        txn.Put(Cf::kVectors, taken_keys[j], EncodeVectorPointer(moved[j]));
      status = txn.Commit();
    }
    if (!status.ok()) {
      for (const VectorPointer& pointer : moved) Release(pointer);
      return keep(status);
    }
    ReleaseUnused(moved, *unchanged);
    spilled += static_cast<int64_t>(unchanged->size());
    spilled_.fetch_add(static_cast<int64_t>(unchanged->size()), std::memory_order_relaxed);
    if (options_.on_move) {
      for (const size_t j : *unchanged) {
        const auto [month, label] = taken_rows[j];
        options_.on_move(month, label, Address(EncodeVectorPointer(moved[j]), month, label, false));
      }
    }
  }
}

}  // namespace mnemo::vector
