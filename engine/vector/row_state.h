// In-memory state that search needs for every stored chunk, so filters never touch RocksDB:
// the owner (interned), the document's live state, time and metadata.
//
// Thread-safety: DocumentState's deleted flag and file type are atomic and its filename is
// guarded by a mutex (a soft delete hides chunks from searches already running; a document update
// renames or retypes it); the rest of DocumentState and RowState never change after construction.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "mnemo/types.h"

namespace mnemo::vector {

// Who owns a vector row.  A message row's RowState reuses the chunk fields: chunk_id is the
// message id, chunk_index its Role, and document its conversation's state (id and deleted flag).
enum class OwnerKind : uint8_t { kChunk = 0, kMessage = 1 };

// The live state of a row's owner: a document, or for message rows a conversation.
struct DocumentState {
  Uuid id;
  std::atomic<bool> deleted{false};

  // One of the SPEC's file types ("pdf", "md", ...).
  std::string_view file_type() const;
  std::string filename() const;
  // REQUIRES: `file_type` is valid (tables::ValidateFileType).
  void SetNames(std::string_view file_type, std::string_view filename);

 private:
  std::atomic<uint8_t> file_type_{0};  // index into the file-type list
  // Not std::atomic<std::shared_ptr>: libstdc++ 12 releases its internal lock after a load with
  // relaxed ordering, which ThreadSanitizer reports as a race with the next store.
  mutable std::mutex filename_mutex_;
  std::string filename_;
};

struct RowState {
  uint32_t user_ref = 0;
  Timestamp created_at = 0;
  int64_t chunk_index = 0;
  Uuid chunk_id;
  std::shared_ptr<DocumentState> document;
  // Parsed metadata object, or null when it is {} (most rows): only metadata filters read it.
  std::shared_ptr<const nlohmann::json> metadata;
};

// A chunk's metadata parsed for filters, or null when it is {} or not an object.
std::shared_ptr<const nlohmann::json> ParseChunkMetadata(std::string_view metadata);

// Interns user ids to small integers so per-row state stays compact.  Thread-safe.
class UserRegistry {
 public:
  // The ref of `user_id`, creating one when new.
  uint32_t Intern(std::string_view user_id);
  // The ref of `user_id`, or false when the user has never stored a chunk.
  bool Find(std::string_view user_id, uint32_t* ref) const;

 private:
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, uint32_t> refs_;
};

// Documents by id, shared by the rows that belong to them.  Thread-safe.
class DocumentRegistry {
 public:
  // The state of `id`, created when unknown; either way it takes the given fields.
  std::shared_ptr<DocumentState> Upsert(const Uuid& id, std::string_view file_type,
                                        std::string_view filename, bool deleted);
  std::shared_ptr<DocumentState> Find(const Uuid& id) const;
  // The state of `id`; created with `deleted` when unknown, else returned unchanged.
  std::shared_ptr<DocumentState> FindOrAdd(const Uuid& id, bool deleted);
  // Sets the deleted flag of a known id; a no-op for an unknown one.
  void SetDeleted(const Uuid& id, bool deleted);
  void Erase(const Uuid& id);

 private:
  mutable std::shared_mutex mutex_;
  std::unordered_map<Uuid, std::shared_ptr<DocumentState>, UuidHash> documents_;
};

}  // namespace mnemo::vector
