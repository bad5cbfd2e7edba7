// Batch: a list of writes of one user that the server applies atomically, all or nothing
// (SPEC §4 "Transactions"), e.g. a conversation with its first messages, or a document with all
// its chunks.  Build it with the chaining methods and send it with Client::ApplyBatch.
//
// Ops apply in order and see the effects of earlier ops: a message may be appended to a
// conversation created earlier in the same batch (give that conversation a client id, e.g.
// Uuid::Generate(), so the message can name it).  If any op fails nothing is written, and the
// error message names the op's index.
//
// Thread-safety: a value type; not safe for concurrent modification.
#pragma once

#include <cstddef>
#include <variant>
#include <vector>

#include "mnemo/client/types.h"

namespace mnemo::client {

class Batch {
 public:
  struct CreateConversationOp {
    NewConversation conversation;
  };
  struct UpsertConversationOp {
    NewConversation conversation;
  };  // id required
  struct AppendMessageOp {
    NewMessage message;
  };
  struct UpsertMessageOp {
    NewMessage message;
  };  // id required
  struct CreateDocumentOp {
    NewDocument document;
  };
  struct AddChunkOp {
    NewChunk chunk;
  };
  using Op = std::variant<CreateConversationOp, UpsertConversationOp, AppendMessageOp,
                          UpsertMessageOp, CreateDocumentOp, AddChunkOp>;

  Batch& CreateConversation(NewConversation conversation);
  Batch& UpsertConversation(NewConversation conversation);
  Batch& AppendMessage(NewMessage message);
  Batch& UpsertMessage(NewMessage message);
  Batch& CreateDocument(NewDocument document);
  Batch& AddChunk(NewChunk chunk);

  const std::vector<Op>& ops() const { return ops_; }
  size_t size() const { return ops_.size(); }
  bool empty() const { return ops_.empty(); }
  void Clear() { ops_.clear(); }

 private:
  std::vector<Op> ops_;
};

}  // namespace mnemo::client
