#include "tables/chunk_row.h"

#include "common/coding.h"
#include "storage/key_codec.h"

namespace mnemo::tables {
namespace {

// FROZEN format version bytes.
constexpr uint8_t kChunkRowV1 = 1;
constexpr uint8_t kChunkRowV2 = 2;

Status Corrupt() { return Status::Internal("corrupt chunk row"); }

}  // namespace

std::string EncodeChunkRow(const ChunkRow& row) {
  std::string out(1, static_cast<char>(kChunkRowV2));
  coding::PutVarint64(&out, row.label);
  coding::PutVarint64(&out, row.month);
  coding::PutLengthPrefixed(&out, row.chunk_text);
  out.push_back(row.deleted_at ? 1 : 0);
  if (row.deleted_at) coding::PutVarsint64(&out, *row.deleted_at);
  return out;
}

Status DecodeChunkRow(std::string_view data, ChunkRow* row) {
  uint8_t version = 0;
  uint64_t month = 0;
  std::string_view text;
  if (!coding::GetByte(&data, &version) || (version != kChunkRowV1 && version != kChunkRowV2) ||
      !coding::GetVarint64(&data, &row->label) || !coding::GetVarint64(&data, &month) ||
      month > UINT32_MAX || !coding::GetLengthPrefixed(&data, &text)) {
    return Corrupt();
  }
  row->deleted_at.reset();
  if (version == kChunkRowV2) {
    uint8_t present = 0;
    if (!coding::GetByte(&data, &present) || present > 1) return Corrupt();
    Timestamp deleted_at = 0;
    if (present == 1) {
      if (!coding::GetVarsint64(&data, &deleted_at)) return Corrupt();
      row->deleted_at = deleted_at;
    }
  }
  if (!data.empty()) return Corrupt();
  row->month = static_cast<uint32_t>(month);
  row->chunk_text.assign(text);
  return Status::Ok();
}

Status ReadChunkRow(const storage::ReadView& view, const Uuid& chunk_id, ChunkRow* row) {
  std::string value;
  MNEMO_RETURN_IF_ERROR(view.Get(storage::Cf::kChunks, keys::ChunkKey(chunk_id), &value));
  return DecodeChunkRow(value, row);
}

Status ReadChunkRows(const storage::Db& db, std::span<const Uuid> chunk_ids,
                     std::vector<std::optional<ChunkRow>>* rows) {
  std::vector<std::string> chunk_keys;
  chunk_keys.reserve(chunk_ids.size());
  for (const Uuid& id : chunk_ids) chunk_keys.push_back(keys::ChunkKey(id));
  std::vector<std::optional<std::string>> values;
  MNEMO_RETURN_IF_ERROR(db.MultiGet(storage::Cf::kChunks, chunk_keys, &values));
  rows->clear();
  rows->resize(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    if (!values[i]) continue;
    MNEMO_RETURN_IF_ERROR(DecodeChunkRow(*values[i], &(*rows)[i].emplace()));
  }
  return Status::Ok();
}

}  // namespace mnemo::tables
