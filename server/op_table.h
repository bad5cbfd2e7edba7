// The operation kinds of the wire protocol: which handler group owns each request body, and
// its name for logs and stats.
//
// Thread-safety: stateless.
#pragma once

#include <cstdint>
#include <string_view>

#include "mnemo/wire/mnemo_generated.h"

namespace mnemo::server {

enum class OpGroup : uint8_t {
  kUnknown,  // RequestBody::NONE or a value this server does not know
  kHello,
  kConversations,
  kMessages,
  kDocuments,
  kSearch,  // chunks, vector, keyword, hybrid and message search, context assembly
  kBatch,
  kAdmin,  // needs a service principal; not scoped to a user
};

OpGroup GroupOf(wire::RequestBody body);
// Reads bounded to a few index entries and rows: point reads (one row or counter record by key)
// and unfiltered pages of at most kMaxInlineRows rows (skip + limit).  They take microseconds,
// so the server runs them on the I/O thread instead of paying two thread hand-offs through the
// worker pool; everything else (writes, searches, scans, deep pages) goes to the workers.
inline constexpr int64_t kMaxInlineRows = 200;
bool RunsOnIoThread(const wire::Request& request);
// CPU-heavy requests of bounded size — a single search, a single-row write — that an I/O thread
// may run itself while it holds an inline slot (server/inline_slots.h) and the worker queue is
// empty; otherwise they go to the workers.  Batches, bulk inserts, scans, deep pages and admin
// work (backups, rebuilds) always go to the workers.
bool MayRunInline(const wire::Request& request);
// Requests that change stored data: in a cluster only the primary runs them (cluster_node.h).
// Reads, searches, stats, backups and index rebuilds (the same rows, a new graph) are not writes.
bool IsWrite(wire::RequestBody body);
// "CreateConversation", "Search", ...; "unknown" for kUnknown bodies.
std::string_view OpName(wire::RequestBody body);

}  // namespace mnemo::server
