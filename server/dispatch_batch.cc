// Atomic batches (SPEC §4 "Transactions").
#include "server/dispatch_internal.h"
#include "server/wire_in.h"

namespace mnemo::server::dispatch {

Result<Reply> Batch(Call& call) {
  const wire::ApplyBatchRequest& in = *call.request.body_as_ApplyBatchRequest();
  std::vector<WriteOp> ops;
  if (in.ops() != nullptr) {
    if (in.ops()->size() > kMaxBatchOps) {
      return Status::ValidationError("ops",
                                     "at most " + std::to_string(kMaxBatchOps) + " ops per batch");
    }
    ops.reserve(in.ops()->size());
    for (flatbuffers::uoffset_t i = 0; i < in.ops()->size(); ++i) {
      auto op = FromWire(in.ops()->Get(i), "op");
      if (!op.ok()) {
        const Status& status = op.status();
        return Status::FromCode(status.code(),
                                "op " + std::to_string(i) + ": " + std::string(status.message()),
                                status.field());
      }
      ops.push_back(std::move(op).value());
    }
  }
  MNEMO_ASSIGN_OR_RETURN(const BatchResult result, call.engine.ApplyBatch(call.user_id, ops));
  std::vector<wire::Id> ids;
  ids.reserve(result.ids.size());
  for (const Uuid& id : result.ids) ids.push_back(ToWireId(id));
  const auto vector = call.fbb.CreateVectorOfStructs(ids);
  return MakeReply(wire::ResponseBody::BatchReply, wire::CreateBatchReply(call.fbb, vector));
}

}  // namespace mnemo::server::dispatch
