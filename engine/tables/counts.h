// Per-user row counts (total / active / soft-deleted), kept in the index family beside the
// rows they count and changed in the same WriteTxn.
#pragma once

#include <string>

#include "mnemo/result.h"
#include "storage/db.h"
#include "storage/write_txn.h"
#include "tables/row_codec.h"

namespace mnemo::tables {

// The counts under `key` as the transaction sees them; zero counts when absent.
Result<Counts> LoadCounts(const storage::WriteTxn& txn, const std::string& key);
// The committed counts under `key` in a snapshot; zero counts when absent.
Result<Counts> ReadCounts(const storage::ReadView& view, const std::string& key);

// Adds (sign = +1) or removes (sign = -1) one row in its deletion state.
template <typename Row>
void Tally(Counts* counts, const Row& row, int64_t sign) {
  counts->total += sign;
  (row.is_deleted ? counts->deleted : counts->active) += sign;
}

}  // namespace mnemo::tables
