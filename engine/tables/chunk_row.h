// The stored chunk row (see storage/key_codec.h for the key), owned by ChunkStore.
//
//   chunk row v1   (cf chunks, by chunk id):   version | label varint | month varint |
//                                              chunk_text LP
//   chunk row v2:                              v1 fields | deleted_at OPT(varsint)
//                                              (written by this version; v1 reads as live)
//
// (label, month) is the chunk's VectorRef: where the vector layer stores its vector, its search
// payload (the chunk's other fields; vector/chunk_rows.h) and its keyword-index terms.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mnemo/status.h"
#include "mnemo/types.h"
#include "storage/db.h"

namespace mnemo::tables {

struct ChunkRow {
  uint64_t label = 0;
  uint32_t month = 0;
  std::string chunk_text;
  std::optional<Timestamp> deleted_at;  // set while the chunk is soft-deleted
};

std::string EncodeChunkRow(const ChunkRow& row);
// INTERNAL_ERROR for a row that does not decode.
Status DecodeChunkRow(std::string_view data, ChunkRow* row);
// The row of `chunk_id` as `view` sees it; NOT_FOUND for a missing row.
Status ReadChunkRow(const storage::ReadView& view, const Uuid& chunk_id, ChunkRow* row);
// The rows of `chunk_ids`, read in one batch (search answers take their texts from them):
// (*rows)[i] is nullopt for a chunk that is gone.
Status ReadChunkRows(const storage::Db& db, std::span<const Uuid> chunk_ids,
                     std::vector<std::optional<ChunkRow>>* rows);

}  // namespace mnemo::tables
