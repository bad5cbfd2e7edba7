// MessageTexts: the search state of every message whose content terms are in the keyword index,
// by the label of its terms, so the text leg of message search filters hits (user, conversation
// and its deleted flag, role, time, excluded ids) without reading storage, as message vectors'
// tenants do for messages with an embedding.
//
// Stored beside the terms (same transaction): a payload per message under
// [0x34][month][label] (storage/key_codec.h), encoded as a message vector's payload
// (vector/chunk_rows.h); opening a data directory rebuilds this table with one scan of them.
//
// Thread-safety: thread-safe.
#pragma once

#include <cstdint>
#include <shared_mutex>
#include <unordered_map>

#include "vector/row_state.h"
#include "vector/tenant.h"

namespace mnemo::vector {

class MessageTexts {
 public:
  // Replaces the row of `label` when present.  RowState as in a message tenant: chunk_id is the
  // message id, chunk_index its Role, document its conversation's state.
  void Put(uint64_t label, RowState row);
  void Remove(uint64_t label);
  // True when `label` is known and `predicate` admits its row (the predicate checks the user).
  bool Admits(uint64_t label, const RowPredicate& predicate) const;
  // Copies the row of `label`; false when unknown.
  bool Copy(uint64_t label, RowState* row) const;
  size_t size() const;

 private:
  mutable std::shared_mutex mutex_;
  std::unordered_map<uint64_t, RowState> rows_;  // labels are unique in the store
};

}  // namespace mnemo::vector
