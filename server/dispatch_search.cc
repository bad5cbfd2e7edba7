// Chunk and vector-search requests: add chunks, search, batch search.
#include "server/dispatch_internal.h"
#include "server/wire_in.h"

namespace mnemo::server::dispatch {
namespace {

using B = wire::RequestBody;

Result<Reply> AddChunks(Call& call, const wire::AddChunksRequest& in) {
  std::vector<NewChunk> chunks;
  if (in.chunks() != nullptr) {
    if (in.chunks()->size() > kMaxChunksPerWrite) {
      return Status::ValidationError("chunks", "at most " + std::to_string(kMaxChunksPerWrite) + " chunks per request");
    }
    chunks.reserve(in.chunks()->size());
    for (const wire::NewChunk* chunk : *in.chunks()) {
      MNEMO_ASSIGN_OR_RETURN(NewChunk input, FromWire(chunk, "chunks"));
      chunks.push_back(std::move(input));
    }
  }
  MNEMO_ASSIGN_OR_RETURN(const std::vector<Chunk> added, call.engine.AddChunks(call.user_id, chunks));
  std::vector<flatbuffers::Offset<wire::Chunk>> rows;
  rows.reserve(added.size());
  for (const auto& row : added) rows.push_back(BuildChunk(call.fbb, row));
  const auto vector = call.fbb.CreateVector(rows);
  return MakeReply(wire::ResponseBody::ChunkList, wire::CreateChunkList(call.fbb, vector));
}

Result<Reply> SearchBatch(Call& call, const wire::SearchBatchRequest& in) {
  std::vector<SearchRequest> queries;
  if (in.queries() != nullptr) {
    if (in.queries()->size() > kMaxSearchBatchQueries) {
      return Status::ValidationError(
          "queries", "at most " + std::to_string(kMaxSearchBatchQueries) + " queries per request");
    }
    queries.reserve(in.queries()->size());
    for (const wire::SearchQuery* query : *in.queries()) {
      MNEMO_ASSIGN_OR_RETURN(SearchRequest input, FromWire(query, "queries"));
      queries.push_back(std::move(input));
    }
  }
  MNEMO_ASSIGN_OR_RETURN(const std::vector<SearchResponse> responses, call.engine.SearchBatch(call.user_id, queries));
  std::vector<flatbuffers::Offset<wire::SearchReply>> results;
  results.reserve(responses.size());
  for (const auto& response : responses) results.push_back(BuildSearchReply(call.fbb, response));
  const auto vector = call.fbb.CreateVector(results);
  return MakeReply(wire::ResponseBody::SearchBatchReply, wire::CreateSearchBatchReply(call.fbb, vector));
}

}  // namespace

Result<Reply> Search(Call& call) {
  const wire::Request& request = call.request;
  switch (request.body_type()) {
    case B::AddChunksRequest:
      return AddChunks(call, *request.body_as_AddChunksRequest());
    case B::SearchRequest: {
      MNEMO_ASSIGN_OR_RETURN(const SearchRequest query, FromWire(request.body_as_SearchRequest()->query(), "query"));
      MNEMO_ASSIGN_OR_RETURN(const SearchResponse response, call.engine.Search(call.user_id, query));
      return MakeReply(wire::ResponseBody::SearchReply, BuildSearchReply(call.fbb, response));
    }
    case B::SearchBatchRequest:
      return SearchBatch(call, *request.body_as_SearchBatchRequest());
    case B::SearchTextRequest:
    case B::SearchHybridRequest:
      return TextSearch(call);
    default:
      return Status::Internal("not a search request");
  }
}

}  // namespace mnemo::server::dispatch
