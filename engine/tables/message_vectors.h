// What the table stores need of the vector layer, so that every change to a row that search
// sees is staged in the same transaction as the row.
//
// The stores own the rows; the vector layer owns the vectors and the keyword-index terms of
// messages, each keyed by (owner kind, label), and the search state it publishes when a
// transaction commits.  A message row stores its vector's VectorRef and its terms' TextRef.
//   MessageVectors   messages' embeddings and content terms, and their conversations' states
//   DocumentVectors  documents' states and, when a document is erased, its chunks
#pragma once

#include <cstdint>
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

class DocumentVectors {
 public:
  virtual ~DocumentVectors() = default;
  // A document was created, renamed, retyped, soft-deleted or restored (erased = false), or
  // hard-deleted (erased = true): its chunks' search state follows when txn commits.
  virtual void StageDocumentState(storage::WriteTxn& txn, const Document& document,
                                  bool erased) = 0;
  // Stages the removal of every chunk of the document, live or soft-deleted, with its vector.
  virtual Status StageDeleteDocumentChunks(storage::WriteTxn& txn, std::string_view user_id,
                                           const Uuid& document_id) = 0;
};

}  // namespace mnemo::tables
