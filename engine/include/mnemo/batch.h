// Atomic batches: a list of writes of one user applied entirely or not at all (SPEC §4
// "Transactions"), e.g. a conversation with its first messages, or bulk upserts by id.
//
// Ops apply in order and see the effects of earlier ops in the same batch (a message may be
// appended to a conversation created by an earlier op).  If any op fails, nothing is written
// and the error names the op's index.
#pragma once

#include <variant>
#include <vector>

#include "mnemo/base/limits.h"
#include "mnemo/records.h"

namespace mnemo {

struct CreateConversationOp {
  NewConversation conversation;
};
struct UpsertConversationOp {
  NewConversation conversation;  // id required
};
struct AppendMessageOp {
  NewMessage message;
};
struct UpsertMessageOp {
  NewMessage message;  // id required
};
struct CreateDocumentOp {
  NewDocument document;
};
// Consecutive AddChunkOps are staged together (one document update for many chunks).
struct AddChunkOp {
  NewChunk chunk;
};

using WriteOp = std::variant<CreateConversationOp, UpsertConversationOp, AppendMessageOp,
                             UpsertMessageOp, CreateDocumentOp, AddChunkOp>;

// The id of the row each op created or changed, in op order.
struct BatchResult {
  std::vector<Uuid> ids;
};

}  // namespace mnemo
