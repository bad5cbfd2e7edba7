// DocumentStore: the RAG corpus's documents (SPEC §2), their per-user index and counts.
//
// Like ConversationStore, all index and count maintenance goes through Save(), which also
// publishes a changed name, type or deletion state to search (DocumentVectors).  Chunks are
// owned by the ChunkStore; it adjusts total_chunks through Save() in the same WriteTxn as the
// chunk write, and HardDelete() removes them through it.  Write
// methods REQUIRE the caller to hold the user's LockTable stripe until commit.  Thread-safety:
// thread-safe.
#pragma once

#include <string_view>

#include "mnemo/records.h"
#include "mnemo/result.h"
#include "storage/db.h"
#include "storage/write_txn.h"
#include "tables/message_vectors.h"

namespace mnemo::tables {

class ChunkStore;

class DocumentStore {
 public:
  // `db` must outlive the store.
  explicit DocumentStore(storage::Db& db) : db_(db) {}
  // Where document states go; must outlive the store.  Null (tests of this store alone): no
  // vector layer.
  void set_vectors(DocumentVectors* vectors) { vectors_ = vectors; }
  // Where erased documents' chunks are removed; must outlive the store.  Null (tests of this
  // store alone): no chunks.
  void set_chunks(const ChunkStore* chunks) { chunks_ = chunks; }

  // ---- writes (stage into txn) ----
  // A client-supplied id this user already owns returns the existing row (idempotent retry);
  // an id owned by another user is DUPLICATE_RECORD.
  Result<Document> Create(storage::WriteTxn& txn, std::string_view user_id,
                          const NewDocument& input) const;
  // Changes the fields set in `update` of a live document.
  Result<Document> Update(storage::WriteTxn& txn, std::string_view user_id, const Uuid& id,
                          const DocumentUpdate& update) const;
  Result<Document> SoftDelete(storage::WriteTxn& txn, std::string_view user_id,
                              const Uuid& id) const;
  Result<Document> Undelete(storage::WriteTxn& txn, std::string_view user_id, const Uuid& id) const;
  // Removes the row, its index entries and its chunks.
  Result<Document> HardDelete(storage::WriteTxn& txn, std::string_view user_id,
                              const Uuid& id) const;

  // NOT_FOUND for a missing row, another user's, or (unless allow_deleted) a soft-deleted one.
  Result<Document> LoadForWrite(const storage::WriteTxn& txn, std::string_view user_id,
                                const Uuid& id, bool allow_deleted) const;
  // Stages `document` with its index entries and count changes; `old` is the state it replaces
  // or null for a new row.
  Status Save(storage::WriteTxn& txn, const Document* old, const Document& document) const;

  // ---- reads ----
  Result<Document> Get(std::string_view user_id, const Uuid& id, bool include_deleted) const;
  // A page of the user's documents matching options.filter, newest first.
  Result<DocumentPage> List(std::string_view user_id, const DocumentListOptions& options) const;
  // List() with filter.filename_contains = query.
  Result<DocumentPage> SearchByFilename(std::string_view user_id, std::string_view query,
                                        const DocumentListOptions& options) const;
  Result<DocumentCounts> Count(std::string_view user_id) const;
  // The number of the user's documents matching `filter`, counting at most `stop_at`.
  Result<int64_t> CountMatching(std::string_view user_id, bool include_deleted,
                                const DocumentFilter& filter, int64_t stop_at) const;

 private:
  void StageIndexes(storage::WriteTxn& txn, const Document& d, bool add) const;

  storage::Db& db_;
  DocumentVectors* vectors_ = nullptr;
  const ChunkStore* chunks_ = nullptr;
};

}  // namespace mnemo::tables
