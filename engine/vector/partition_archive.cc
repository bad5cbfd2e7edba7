#include "vector/partition_archive.h"

#include "common/coding.h"
#include "mnemo/base/crc32c.h"
#include "storage/key_codec.h"
#include "tables/chunk_row.h"
#include "vector/chunk_rows.h"

namespace mnemo::vector {
namespace {

constexpr std::string_view kMagic = "MNEMOARC";
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderSize = 8 + 4 + 4 + 4 + 8;
constexpr size_t kTrailerSize = 4;

Status Invalid(const std::string& path, std::string_view why) {
  return Status::ValidationError("path",
                                 path + " is not a usable partition archive: " + std::string(why));
}

// Appends to a file, tracking the running checksum.  The first failure sticks.
class ArchiveWriter {
 public:
  explicit ArchiveWriter(WritableFile& file) : file_(file) {}
  void Write(std::string_view bytes) {
    crc_ = Crc32cExtend(crc_, bytes.data(), bytes.size());
    if (status_.ok()) status_ = file_.Append(bytes);
  }
  uint32_t crc() const { return crc_; }
  const Status& status() const { return status_; }

 private:
  WritableFile& file_;
  uint32_t crc_ = 0;
  Status status_;
};

}  // namespace

bool ParseMonth(std::string_view text, uint32_t* month) {
  if (text.size() != 7 || text[4] != '-') return false;
  uint32_t year = 0, month_of_year = 0;
  for (size_t i = 0; i < 7; ++i) {
    if (i == 4) continue;
    if (text[i] < '0' || text[i] > '9') return false;
    (i < 4 ? year : month_of_year) =
        (i < 4 ? year : month_of_year) * 10 + static_cast<uint32_t>(text[i] - '0');
  }
  if (month_of_year < 1 || month_of_year > 12) return false;
  *month = year * 12 + month_of_year - 1;
  return true;
}

Result<int64_t> WriteArchive(const storage::Db& db, const VectorLog& vectors, uint32_t month,
                             const std::string& path, FileSystem& fs) {
  const storage::ReadView view = db.Snapshot();
  std::vector<std::pair<uint64_t, ChunkPayload>> rows;
  Status status;
  storage::ScanRange range;
  range.prefix = keys::PayloadPrefix(month);
  MNEMO_RETURN_IF_ERROR(
      view.Scan(storage::Cf::kIndex, range, [&](std::string_view key, std::string_view value) {
        uint32_t key_month = 0;
        uint64_t label = 0;
        ChunkPayload payload;
        if (!keys::ParsePayloadKey(key, &key_month, &label)) {
          status = Status::Internal("corrupt chunk payload key");
        } else {
          status = DecodePayload(value, &payload);
        }
        if (!status.ok()) return false;
        rows.emplace_back(label, std::move(payload));
        return true;
      }));
  MNEMO_RETURN_IF_ERROR(status);
  return WriteArchiveRows(view, vectors, month, rows, path, fs);
}

Result<int64_t> WriteArchiveRows(const storage::ReadView& view, const VectorLog& vectors,
                                 uint32_t month,
                                 const std::vector<std::pair<uint64_t, ChunkPayload>>& rows,
                                 const std::string& path, FileSystem& fs) {
  const std::string temp = path + ".tmp";
  MNEMO_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, fs.NewWritableFile(temp));
  ArchiveWriter writer(*file);
  const auto discard = [&](Status status) {
    file.reset();
    fs.Remove(temp).IgnoreError();
    return status;
  };
  std::string header(kMagic);
  coding::PutFixed32(&header, kVersion);
  coding::PutFixed32(&header, vectors.dim());
  coding::PutFixed32(&header, month);
  coding::PutFixed64(&header, static_cast<uint64_t>(rows.size()));
  writer.Write(header);

  for (const auto& [label, payload] : rows) {
    tables::ChunkRow chunk;
    std::string vector_bytes;
    std::vector<float> unit;
    Status status = tables::ReadChunkRow(view, payload.chunk_id, &chunk);
    if (status.ok())
      status = view.Get(storage::Cf::kVectors, keys::VectorKey(month, label), &vector_bytes);
    if (status.ok()) status = vectors.Decode(vector_bytes, month, label, &unit);
    if (!status.ok()) return discard(status);
    std::string record;
    coding::PutLengthPrefixed(&record, payload.user_id);
    record.append(payload.chunk_id.bytes());
    record.append(payload.document_id.bytes());
    coding::PutVarint64(&record, static_cast<uint64_t>(payload.chunk_index));
    coding::PutVarsint64(&record, payload.created_at);
    coding::PutLengthPrefixed(&record, payload.metadata);
    coding::PutLengthPrefixed(&record, chunk.chunk_text);
    record.append(EncodeVector(unit.data(), unit.size()));
    std::string length;
    coding::PutFixed32(&length, static_cast<uint32_t>(record.size()));
    writer.Write(length);
    writer.Write(record);
  }
  std::string trailer;
  coding::PutFixed32(&trailer, writer.crc());
  writer.Write(trailer);
  Status status = writer.status();
  if (status.ok()) status = file->Sync();
  if (status.ok()) status = file->Close();
  if (status.ok()) status = fs.Rename(temp, path);
  if (!status.ok()) return discard(status);
  // The archive must outlive a power cut before anyone drops the partition it copies.
  MNEMO_RETURN_IF_ERROR(fs.SyncDir(ParentDir(path)));
  return static_cast<int64_t>(rows.size());
}

Result<Archive> ReadArchive(const std::string& path, uint32_t dim, FileSystem& fs) {
  auto read = ReadWholeFile(fs, path);
  if (!read.ok()) {
    if (read.status().IsNotFound()) return Status::NotFound("archive " + path + " does not exist");
    return read.status();
  }
  const std::string data = std::move(read).value();
  if (data.size() < kHeaderSize + kTrailerSize || !std::string_view(data).starts_with(kMagic)) {
    return Invalid(path, "bad magic or too short");
  }
  std::string_view trailer(data.data() + data.size() - kTrailerSize, kTrailerSize);
  uint32_t stored_crc = 0;
  coding::GetFixed32(&trailer, &stored_crc);
  if (Crc32c(data.data(), data.size() - kTrailerSize) != stored_crc)
    return Invalid(path, "checksum mismatch");

  std::string_view input(data.data() + kMagic.size(), data.size() - kMagic.size() - kTrailerSize);
  uint32_t version = 0, file_dim = 0, month = 0;
  uint64_t rows = 0;
  coding::GetFixed32(&input, &version);
  coding::GetFixed32(&input, &file_dim);
  coding::GetFixed32(&input, &month);
  coding::GetFixed64(&input, &rows);
  if (version != kVersion) return Invalid(path, "unsupported version " + std::to_string(version));
  if (file_dim != dim) {
    return Invalid(path, "holds " + std::to_string(file_dim) +
                             "-dimensional vectors, this data directory " + std::to_string(dim));
  }
  Archive archive;
  archive.month = month;
  for (uint64_t i = 0; i < rows; ++i) {
    uint32_t length = 0;
    if (!coding::GetFixed32(&input, &length) || length > input.size())
      return Invalid(path, "truncated record");
    std::string_view record = input.substr(0, length);
    input.remove_prefix(length);
    ArchivedRow row;
    std::string_view user, metadata, text;
    uint64_t chunk_index = 0;
    int64_t created_at = 0;
    if (!coding::GetLengthPrefixed(&record, &user) || record.size() < 2 * Uuid::kSize)
      return Invalid(path, "bad record");
    row.user_id.assign(user);
    row.chunk.id = Uuid::FromBytes(record.substr(0, Uuid::kSize));
    row.chunk.document_id = Uuid::FromBytes(record.substr(Uuid::kSize, Uuid::kSize));
    record.remove_prefix(2 * Uuid::kSize);
    if (!coding::GetVarint64(&record, &chunk_index) ||
        !coding::GetVarsint64(&record, &created_at) ||
        !coding::GetLengthPrefixed(&record, &metadata) ||
        !coding::GetLengthPrefixed(&record, &text) ||
        !DecodeVector(record, dim, &row.chunk.embedding).ok()) {
      return Invalid(path, "bad record");
    }
    row.chunk.chunk_index = static_cast<int64_t>(chunk_index);
    row.chunk.created_at = created_at;
    row.chunk.metadata = std::string(metadata);
    row.chunk.chunk_text = std::string(text);
    archive.rows.push_back(std::move(row));
  }
  if (!input.empty()) return Invalid(path, "trailing bytes");
  return archive;
}

}  // namespace mnemo::vector
