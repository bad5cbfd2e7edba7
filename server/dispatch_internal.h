// Private to the dispatcher: the shape of a group handler.  Each dispatch_<group>.cc turns the
// requests of its group into engine calls and builds their replies in `fbb`.
#pragma once

#include <string>

#include "mnemo/engine.h"
#include "mnemo/result.h"
#include "mnemo/wire/mnemo_generated.h"
#include "server/cluster_node.h"
#include "server/replica_acks.h"
#include "server/snapshots.h"
#include "server/stats.h"
#include "server/wire_out.h"

namespace mnemo::server::dispatch {

struct Reply {
  wire::ResponseBody type = wire::ResponseBody::NONE;
  flatbuffers::Offset<void> body;
};

// One request being handled.  All references are borrowed for the duration of the call.
struct Call {
  Engine& engine;
  Builder& fbb;
  const wire::Request& request;
  const std::string& user_id;  // the user the request acts for (empty for admin requests)
};

template <typename T>
Reply MakeReply(wire::ResponseBody type, flatbuffers::Offset<T> body) {
  return Reply{type, body.Union()};
}
Reply DoneReply(Builder& fbb);

// Handlers by group.  REQUIRES: request.body_type() belongs to the group.
Result<Reply> Conversations(Call& call);
Result<Reply> Messages(Call& call);
Result<Reply> Documents(Call& call);
Result<Reply> Search(Call& call);
// Keyword and hybrid search (dispatch_text.cc), reached through Search.
Result<Reply> TextSearch(Call& call);
// Context assembly and message search (dispatch_context.cc), reached through Search.
Result<Reply> Context(Call& call);
Result<Reply> MessageSearch(Call& call);
Result<Reply> Batch(Call& call);

struct AdminContext {
  ServerStats& stats;
  const std::string& data_dir;
  const ClusterNode* cluster;  // null: single-node
  SnapshotStore& snapshots;
  ReplicaAcks& acks;
};
Result<Reply> Admin(Call& call, const AdminContext& admin);

}  // namespace mnemo::server::dispatch
