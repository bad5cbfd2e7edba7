// What the table stores need of the vector layer, so that every change to a row that search
// sees is staged in the same transaction as the row.
//
// The stores own the rows; the vector layer owns the vectors, the search payloads and the
// keyword-index terms, each keyed by (owner kind, label), and the search state it publishes when
// a transaction commits.  A message row stores its vector's VectorRef and its terms' TextRef; a
// chunk row stores one VectorRef for its vector, payload and terms.
//   MessageVectors   messages' embeddings and content terms, and their conversations' states
//   ChunkVectors     chunks' embeddings, search payloads and text terms
//   DocumentVectors  documents' states
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "mnemo/records.h"
#include "mnemo/result.h"
#include "storage/write_txn.h"

namespace mnemo::tables {

// Where a row's vector is stored: its label and the month its key sits in.
struct VectorRef {
  uint64_t label = 0;
  uint32_t month = 0;
};

// Where a message's keyword-index terms are stored: a label of its own (never its vector's) and
// the month of its created_at.
using TextRef = VectorRef;

class MessageVectors {
 public:
  virtual ~MessageVectors() = default;
  // Validates `embedding` (field "embedding": the store's dimension, finite, non-zero) and
  // stages it for `message` (its id, conversation, role and created_at are what search filters
  // on); searchable when txn commits.
  virtual Result<VectorRef> StagePut(storage::WriteTxn& txn, std::string_view user_id,
                                     const Message& message,
                                     const std::vector<float>& embedding) = 0;
  // Stages the stored vector of `ref` again for `message`, whose role changed.
  virtual Result<VectorRef> StageMove(storage::WriteTxn& txn, std::string_view user_id,
                                      const Message& message, const VectorRef& ref) = 0;
  // Stages the removal of a vector; it leaves search when txn commits.
  virtual Status StageRemove(storage::WriteTxn& txn, std::string_view user_id,
                             const VectorRef& ref) = 0;
  // Stages the keyword-index terms of `message`'s content (and the state its hits are filtered
  // on: id, conversation, role, created_at); searchable when txn commits.  `conversation_deleted`
  // is the conversation's state in this transaction.  Returns where they are stored, or nullopt
  // when nothing is: the content yields no term, or keyword search is off.
  virtual Result<std::optional<TextRef>> StageTextPut(storage::WriteTxn& txn,
                                                      std::string_view user_id,
                                                      const Message& message,
                                                      bool conversation_deleted = false) = 0;
  // Stages the removal of a message's terms; they leave search when txn commits.
  virtual Status StageTextRemove(storage::WriteTxn& txn, std::string_view user_id,
                                 const TextRef& ref) = 0;
  // A conversation was soft-deleted or restored: its messages leave or rejoin search when txn
  // commits.
  virtual void StageConversationState(storage::WriteTxn& txn, const Uuid& conversation_id,
                                      bool deleted) = 0;
  // A conversation was hard-deleted (its messages' vectors are removed by StageRemove): its
  // state is forgotten when txn commits.
  virtual void StageConversationErased(storage::WriteTxn& txn, const Uuid& conversation_id) = 0;
};

// What the chunk store (ChunkStore) needs of the vector layer.  A chunk's search payload is what
// search filters on (user, chunk id, document, chunk_index, created_at, metadata); it is stored
// at the chunk's VectorRef, under a hidden key while the chunk is soft-deleted.
class ChunkVectors {
 public:
  virtual ~ChunkVectors() = default;

  // The vectors of one write's new chunks.  The keyword analysis of their texts starts with the
  // batch and runs while the chunk store checks the rows.
  class NewChunks {
   public:
    virtual ~NewChunks() = default;
    // Validates input i's embedding (field "embedding": the store's dimension, finite, non-zero
    // norm).  REQUIRES: called once per input before Add(i).
    virtual Status Check(size_t i) = 0;
    // Input i, checked, is stored as `chunk` of `document`: returns where its vector, payload and
    // terms go (a new label, the month of chunk.created_at).  `document` is borrowed until Stage
    // returns; its type, name and state are what search filters on.
    virtual VectorRef Add(size_t i, const Chunk& chunk, const Document& document) = 0;
    // Stages the vectors, payloads and terms of the added inputs; searchable when txn commits.
    // REQUIRES: called once, after the last Add (and not at all when nothing was added).
    virtual Status Stage(storage::WriteTxn& txn) = 0;
  };
  // Starts a write of `inputs` (embeddings and texts, borrowed until Stage returns) for
  // `user_id`.
  virtual std::unique_ptr<NewChunks> StartChunks(std::string_view user_id,
                                                 std::span<const NewChunk* const> inputs) = 0;

  // A chunk stored at `ref`, live or hidden (soft-deleted).
  struct StoredChunk {
    VectorRef ref;
    bool hidden = false;
  };
  // The live `chunk` of `user_id` stored at `ref` was soft-deleted: its payload is hidden and
  // it leaves search (vector and terms) when txn commits; its vector stays stored.
  virtual Status StageHide(storage::WriteTxn& txn, std::string_view user_id, const Chunk& chunk,
                           const VectorRef& ref) = 0;
  // The hidden `chunk` stored at `ref` was restored: its vector, payload and the terms of its
  // chunk_text are staged under a new ref, returned; searchable when txn commits.  `document`
  // is its (live) document.
  virtual Result<VectorRef> StageShow(storage::WriteTxn& txn, std::string_view user_id,
                                      const Chunk& chunk, const Document& document,
                                      const VectorRef& ref) = 0;
  // Stages the removal of chunks' vectors, payloads and (of live ones) terms; they leave search
  // when txn commits.
  virtual Status StageRemoveChunks(storage::WriteTxn& txn, std::string_view user_id,
                                   std::span<const StoredChunk> chunks) = 0;
};

class DocumentVectors {
 public:
  virtual ~DocumentVectors() = default;
  // A document was created, renamed, retyped, soft-deleted or restored (erased = false), or
  // hard-deleted (erased = true): its chunks' search state follows when txn commits.
  virtual void StageDocumentState(storage::WriteTxn& txn, const Document& document,
                                  bool erased) = 0;
};

}  // namespace mnemo::tables
