// Context assembly (the conversation, its recent messages, the relevant chunks and memories in
// one reply) and the message search that finds its memories.
#include "server/dispatch_internal.h"
#include "server/wire_in.h"

namespace mnemo::server::dispatch {

Result<Reply> Context(Call& call) {
  const wire::AssembleContextRequest* in = call.request.body_as_AssembleContextRequest();
  if (in == nullptr) return Status::Internal("not a context request");
  MNEMO_ASSIGN_OR_RETURN(const ContextRequest input, FromWire(*in));
  MNEMO_ASSIGN_OR_RETURN(const ContextResponse response,
                         call.engine.AssembleContext(call.user_id, input));
  return MakeReply(wire::ResponseBody::ContextReply, BuildContextReply(call.fbb, response));
}

Result<Reply> MessageSearch(Call& call) {
  const wire::SearchMessagesRequest* in = call.request.body_as_SearchMessagesRequest();
  if (in == nullptr) return Status::Internal("not a message search request");
  MNEMO_ASSIGN_OR_RETURN(const MessageSearchRequest input, FromWire(*in));
  MNEMO_ASSIGN_OR_RETURN(const MessageSearchResponse response,
                         call.engine.SearchMessages(call.user_id, input));
  return MakeReply(wire::ResponseBody::MessageSearchReply,
                   BuildMessageSearchReply(call.fbb, response));
}

}  // namespace mnemo::server::dispatch
