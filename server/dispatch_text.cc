// Keyword and hybrid search requests.
#include "server/dispatch_internal.h"
#include "server/wire_in.h"

namespace mnemo::server::dispatch {

Result<Reply> TextSearch(Call& call) {
  const wire::Request& request = call.request;
  RankedSearchResponse response;
  if (request.body_type() == wire::RequestBody::SearchTextRequest) {
    MNEMO_ASSIGN_OR_RETURN(const TextSearchRequest input, FromWire(*request.body_as_SearchTextRequest()));
    MNEMO_ASSIGN_OR_RETURN(response, call.engine.SearchText(call.user_id, input));
  } else if (request.body_type() == wire::RequestBody::SearchHybridRequest) {
    MNEMO_ASSIGN_OR_RETURN(const HybridSearchRequest input, FromWire(*request.body_as_SearchHybridRequest()));
    MNEMO_ASSIGN_OR_RETURN(response, call.engine.SearchHybrid(call.user_id, input));
  } else {
    return Status::Internal("not a keyword search request");
  }
  return MakeReply(wire::ResponseBody::RankedSearchReply, BuildRankedSearchReply(call.fbb, response));
}

}  // namespace mnemo::server::dispatch
