// ChunkStore: the chunks of the RAG corpus's documents (SPEC §2, §3): their rows, the
// (document, chunk_index) index, their soft deletes and the documents' total_chunks.
//
// The store owns the chunk row (tables/chunk_row.h: text, deleted_at and the VectorRef where the
// vector layer keeps the chunk's vector, search payload and terms), the by-document index entry
// and the purge-queue entry of a soft-deleted chunk.  The chunk's other fields (document,
// chunk_index, created_at, metadata) are stored once, in the search payload the vector layer
// writes (vector/chunk_rows.h); the store reads them from there.  Every change of a chunk stages
// its vector side through ChunkVectors in the same WriteTxn, and keeps its document's
// total_chunks equal to its number of live chunks through DocumentStore::Save.
//
// Write methods REQUIRE the caller to hold the user's LockTable stripe until commit, and
// set_vectors() to have been called.  Thread-safety: thread-safe (stateless beyond its
// references).
#pragma once

#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "mnemo/records.h"
#include "mnemo/result.h"
#include "storage/db.h"
#include "storage/write_txn.h"
#include "tables/document_store.h"
#include "tables/message_vectors.h"

namespace mnemo::tables {

class ChunkStore {
 public:
  // Both references must outlive the store.
  ChunkStore(storage::Db& db, const DocumentStore& documents) : db_(db), documents_(documents) {}
  // The vector side of every chunk write; must outlive the store.
  void set_vectors(ChunkVectors* vectors) { vectors_ = vectors; }

  // ---- writes (stage into txn) ----
  // Chunks belong to the user's documents; a chunk of another user's document is NOT_FOUND.
  // Writes REQUIRE a live document unless said otherwise.
  //
  // Validates and stages chunks of the user's live documents, and the documents' new
  // total_chunks.  A client-supplied chunk id that already names the same (document,
  // chunk_index) returns the stored chunk (idempotent retry); any other reuse of an id or of a
  // (document, chunk_index) pair is DUPLICATE_RECORD.  Errors name the chunk ("chunk 3: ...";
  // a batch passes `name` "op" and the index of its first chunk op as `first_index`).
  Result<std::vector<Chunk>> StageAdd(storage::WriteTxn& txn, std::string_view user_id,
                                      const std::vector<NewChunk>& chunks,
                                      std::string_view name = "chunk",
                                      size_t first_index = 0) const;
  // The same, for chunks held elsewhere (a batch's ops): borrowed until the call returns.
  Result<std::vector<Chunk>> StageAdd(storage::WriteTxn& txn, std::string_view user_id,
                                      std::span<const NewChunk* const> chunks,
                                      std::string_view name, size_t first_index) const;
  // Soft delete: hidden from search when txn commits; keeps its text, vector and chunk_index
  // (the index stays taken).  Deleting a soft-deleted chunk again returns it unchanged.
  Result<Chunk> StageSoftDelete(storage::WriteTxn& txn, std::string_view user_id,
                                const Uuid& chunk_id) const;
  // Undoes a soft delete: searchable again when txn commits.  Restoring a live chunk returns it.
  Result<Chunk> StageRestore(storage::WriteTxn& txn, std::string_view user_id,
                             const Uuid& chunk_id) const;
  // Removes one chunk for good, live or soft-deleted, with its vector.  With
  // allow_deleted_document the chunk's document may be soft-deleted (purging).
  Result<Chunk> StageDelete(storage::WriteTxn& txn, std::string_view user_id, const Uuid& chunk_id,
                            bool allow_deleted_document = false) const;
  // Stages the removal of every chunk of `user_id`'s document, live or soft-deleted (hard
  // delete, or the first half of a replacement).  The document's total_chunks is the caller's.
  Status StageDeleteDocumentChunks(storage::WriteTxn& txn, std::string_view user_id,
                                   const Uuid& document_id) const;

  // ---- partition administration (the vector layer's months) ----
  // A chunk the vector layer found in a month, from its payload.
  struct MonthChunk {
    Uuid chunk_id;
    Uuid document_id;
    int64_t chunk_index = 0;
    VectorRef ref;
    bool deleted = false;  // soft-deleted (its payload hidden)
  };
  // Removes `user_id`'s chunks of a month, read from a snapshot: a chunk deleted, soft-deleted
  // or restored since is skipped.  Documents' total_chunks follow (a vanished document's chunks
  // are just removed).  Returns the number removed.
  Result<int64_t> StageDeleteMonthChunks(storage::WriteTxn& txn, std::string_view user_id,
                                         std::span<const MonthChunk> chunks) const;
  // Keeps in *chunks (each with its id set) only those StageAdd would store as new: their
  // document is live and their id and (document, chunk_index) are free.  Returns the number
  // left out.
  Result<int64_t> KeepAttachable(const storage::WriteTxn& txn, std::string_view user_id,
                                 std::vector<NewChunk>* chunks) const;
  // When the chunk was soft-deleted, or nullopt for a live one; NOT_FOUND for a missing row.
  // Any user's (the purge queue names the user).
  Result<std::optional<Timestamp>> DeletedAt(const storage::WriteTxn& txn,
                                             const Uuid& chunk_id) const;

  // ---- reads ----
  // One chunk of a live document of the user; a soft-deleted chunk only with include_deleted.
  Result<Chunk> Get(std::string_view user_id, const Uuid& chunk_id, bool include_deleted) const;
  // A page of a live document's chunks in chunk_index order.
  Result<ChunkPage> List(std::string_view user_id, const Uuid& document_id,
                         const ChunkListOptions& options) const;

 private:
  struct Located;
  Result<Located> Locate(const storage::WriteTxn& txn, std::string_view user_id,
                         const Uuid& chunk_id, bool allow_deleted_document) const;
  // A live chunk stops counting: its document's total_chunks drops by one.
  Status StageUncount(storage::WriteTxn& txn, const Located& located) const;

  storage::Db& db_;
  const DocumentStore& documents_;
  ChunkVectors* vectors_ = nullptr;
};

}  // namespace mnemo::tables
