// The client-side log of a mixed load, and the check of a server's state against it.
//
// A LoadWriter acts as one user and writes sequentially (one request in flight): atomic batches
// (a conversation + its first messages), appends, chunk batches (AddChunks into the writer's
// long-lived document, or ApplyBatch creating a document with its chunks), hard deletes of
// earlier conversations and documents, and searches.  Every write is logged as an Op with
// whether it was acknowledged and when (a logical clock shared by all writers).
//
// CheckOpLog reads the state back through a Client and finds, per writer, the cut: the number k
// of the writer's ops whose effects are visible.  A correct server shows exactly the ops
// [0, k) of every writer (each writer is sequential, every op atomic), so the check fails on
//   - a partial op (a batch, a document or a chunk batch half there),
//   - a state no prefix explains (a later op visible, an earlier one missing),
//   - k below the writer's last op that had to be in (acknowledged, or acknowledged before a
//     backup began), or above its first op that had to be out (started after a backup ended),
//   - a stored chunk not found by its own vector, both within its document (top-1) and in the
//     user's whole corpus (top-10, wide beam: the index agrees with storage),
//   - a chunk the search returns that no visible op wrote, or counters that disagree with rows.
//
// Thread-safety: one LoadWriter per thread; CheckOpLog runs alone.
#pragma once

#include <atomic>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "mnemo/client/client.h"

namespace mnemo::hardening {

using client::Client;
using client::Uuid;

enum class OpKind : uint8_t {
  kBatchConversation,   // ApplyBatch: a conversation + its first messages
  kAppend,              // AppendMessage to the conversation of an earlier op
  kAddChunks,           // AddChunks into the writer's long-lived document
  kBatchDocument,       // ApplyBatch: CreateDocument + AddChunk ops
  kDeleteConversation,  // HardDeleteConversation of an earlier kBatchConversation
  kDeleteDocument,      // HardDeleteDocument of an earlier kBatchDocument
};

inline constexpr uint64_t kNever = std::numeric_limits<uint64_t>::max();

struct Op {
  OpKind kind = OpKind::kBatchConversation;
  Uuid target;                              // the conversation or document the op writes into
  std::vector<Uuid> ids;                    // messages or chunks it creates
  std::vector<std::vector<float>> vectors;  // per chunk
  int owner = -1;  // deletes and appends: index of the op that created target
  bool acked = false;
  uint64_t started = 0;        // logical clock before the request was sent
  uint64_t acked_at = kNever;  // logical clock after the acknowledgement
};

struct WriterLog {
  std::string user;
  Uuid document;  // the long-lived document of kAddChunks
  std::vector<Op> ops;
  std::string unexpected;  // the first failure that was not UNAVAILABLE
  int searches = 0;
};

struct LoadOptions {
  uint32_t dimension = 16;
  int max_iterations = 300;  // per writer; bounds the check's work
  int chunks_per_op = 4;
  // Stop at the first UNAVAILABLE (the server was killed) instead of recording it as unexpected.
  bool stop_on_unavailable = true;
};

// Creates the writer's long-lived document (REQUIRES: server up); false with *error otherwise.
bool PrepareWriter(Client& client, WriterLog& log, std::string* error);

// Writes until `stop`, max_iterations, or (stop_on_unavailable) the first UNAVAILABLE.
void RunWriter(Client& client, WriterLog& log, const LoadOptions& options,
               std::atomic<uint64_t>& clock, std::atomic<int>& acked, const std::atomic<bool>& stop,
               uint64_t seed);

struct CheckBounds {
  // Ops acknowledged before this clock value must be visible (kNever: every acknowledged op).
  uint64_t must_include_acked_before = kNever;
  // Ops started after this clock value must not be visible (kNever: no such rule).
  uint64_t must_exclude_started_after = kNever;
};

struct CheckSummary {
  int ops = 0, visible_ops = 0, unacked_ops = 0, chunks_checked = 0;
  int graph_searches = 0;      // whole-corpus searches the planner answered by a graph walk
  int narrow_beam_misses = 0;  // ...that missed the chunk at the narrow beam (found when wide)
};

// Appends one line per violation to *failures (empty: the state is consistent).
void CheckOpLog(Client& client, const std::vector<WriterLog>& logs, const CheckBounds& bounds,
                std::vector<std::string>* failures, CheckSummary* summary);

}  // namespace mnemo::hardening
