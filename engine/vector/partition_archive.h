// Partition archives: a month's chunks exported to one file that can be re-attached later
// (SPEC §3 "drop or archive partitions older than a retention").
//
// File format v1, integers little-endian:
//   magic "MNEMOARC" | u32 version (1) | u32 dim | u32 month | u64 row_count
//   row_count records, each: u32 length | record
//     record: user LP | chunk id 16 | document id 16 | chunk_index varint |
//             created_at varsint | metadata LP | chunk_text LP | dim float32
//   u32 CRC-32C of every preceding byte
// FROZEN: a new layout gets a new version.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mnemo/file_system.h"
#include "mnemo/records.h"
#include "mnemo/result.h"
#include "storage/db.h"
#include "vector/chunk_rows.h"
#include "vector/vector_log.h"

namespace mnemo::vector {

struct ArchivedRow {
  std::string user_id;
  NewChunk chunk;  // id, document_id, chunk_index, text, embedding, metadata, created_at all set
};

struct Archive {
  uint32_t month = 0;
  std::vector<ArchivedRow> rows;
};

// Parses "YYYY-MM"; false on anything else.
bool ParseMonth(std::string_view text, uint32_t* month);

// Writes every live row of `month` to `path` through `fs`, atomically and durably (temp file,
// fsync, rename, fsync of the directory).  Returns the number of rows.  Errors: UNAVAILABLE for
// I/O failures.
// Vectors are read through `vectors`, whose segments the caller keeps (VectorLog::Pin) while
// the archive is written.
Result<int64_t> WriteArchive(const storage::Db& db, const VectorLog& vectors, uint32_t month,
                             const std::string& path, FileSystem& fs);
// The same for given rows of `month` (label, payload), read through `view`.
Result<int64_t> WriteArchiveRows(const storage::ReadView& view, const VectorLog& vectors,
                                 uint32_t month,
                                 const std::vector<std::pair<uint64_t, ChunkPayload>>& rows,
                                 const std::string& path, FileSystem& fs);

// Reads and verifies an archive written for `dim`-dimensional vectors.  Errors: NOT_FOUND for a
// missing file; VALIDATION_ERROR for a file that is not an archive, has another dimension, or
// fails its checksum (the message says which).
Result<Archive> ReadArchive(const std::string& path, uint32_t dim, FileSystem& fs);

}  // namespace mnemo::vector
