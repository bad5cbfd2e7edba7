// The purge queue: one index entry per soft-deleted row, keyed by its deleted_at
// (storage/key_codec.h, tag 0x40), so the rows to purge after a purge age are one range scan,
// oldest first.  The stores keep it beside their rows in the same WriteTxn.
#pragma once

#include <optional>

#include "storage/key_codec.h"
#include "storage/write_txn.h"

namespace mnemo::tables {

// Stages the purge-queue change of a row going from `old_row` to `new_row` (either may be null:
// created, or removed for good).  Row: Conversation or Document.
template <typename Row>
void StagePurgeEntry(storage::WriteTxn& txn, keys::PurgeKind kind, const Row* old_row,
                     const Row* new_row) {
  const auto entry = [](const Row* row) -> std::optional<Timestamp> {
    if (row == nullptr || !row->is_deleted || !row->deleted_at) return std::nullopt;
    return row->deleted_at;
  };
  const std::optional<Timestamp> before = entry(old_row);
  const std::optional<Timestamp> after = entry(new_row);
  if (before == after) return;
  const Uuid& id = new_row != nullptr ? new_row->id : old_row->id;
  if (before) txn.Delete(storage::Cf::kIndex, keys::PurgeKey(*before, kind, id));
  if (after) txn.Put(storage::Cf::kIndex, keys::PurgeKey(*after, kind, id), new_row->user_id);
}

}  // namespace mnemo::tables
