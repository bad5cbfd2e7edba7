// Ledger: what a writer thread asked the engine to do and which of it was acknowledged, and the
// check of an engine reopened after a power cut against it.
//
// Every write is recorded before it is issued, with the client-chosen ids of every row it
// creates, so the check also covers writes that were in flight at the cut: those may or may not
// have survived, but each did so entirely or not at all.
//
// Thread-safety: a Ledger is written by one thread; read it only after that thread finished.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "mnemo/engine.h"
#include "mnemo/types.h"

namespace mnemo::testing {

struct LedgerWrite {
  enum class Kind { kCreate, kSoftDeleteConversation, kEraseConversation, kEraseDocument };
  struct Row {
    enum class Type { kConversation, kMessage, kDocument, kChunk } type;
    Uuid id;
    Uuid parent;  // the conversation of a message, the document of a chunk
  };
  Kind kind = Kind::kCreate;
  std::vector<Row> rows;  // kCreate: rows created together, all or none
  Uuid target;            // the deleted conversation or document
  bool acknowledged = false;
  std::string what;  // for messages, e.g. "batch: conversation + 3 messages"
};

struct Ledger {
  std::string user;
  std::vector<LedgerWrite> writes;
};

// Issues random writes for `ledger.user` (appends of messages with embeddings, atomic batches,
// chunk batches, soft and hard deletes) until `stop` is set or `max_writes` were issued.  A write
// counts as acknowledged when the engine returned OK and `still_up()` was true afterwards (the
// power had not been cut).
struct WorkloadOptions {
  uint32_t dimension = 8;
  size_t max_writes = 400;
  size_t max_chunks = 600;  // per user: the check finds chunks with one top-kMaxTopK search
};
void RunWorkload(Engine& engine, Ledger& ledger, uint64_t seed, const WorkloadOptions& options,
                 const std::atomic<bool>& stop, const std::function<bool()>& still_up);

// What the reopened engine holds that the ledgers forbid: an acknowledged row missing, a write
// partly applied, an acknowledged delete undone, a counter that disagrees with the rows.  Empty
// when the engine kept every promise.  With `settled`, only the first settled[i] writes of
// ledger i count as acknowledged (the writes a backup must hold); later ones may or may not be
// applied.
std::vector<std::string> CheckAgainstLedgers(Engine& engine, const std::vector<Ledger>& ledgers,
                                             const std::vector<size_t>& settled = {});

// Writes acknowledged in `ledgers`.
size_t AcknowledgedWrites(const std::vector<Ledger>& ledgers);

}  // namespace mnemo::testing
