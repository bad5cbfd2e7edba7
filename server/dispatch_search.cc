// Chunk and vector-search requests: add chunks, search, batch search.
#include "server/dispatch_internal.h"
#include "server/wire_in.h"

namespace mnemo::server::dispatch {
namespace {

using B = wire::RequestBody;

Reply ChunkListReply(Builder& fbb, const std::vector<Chunk>& chunks) {
  std::vector<flatbuffers::Offset<wire::Chunk>> rows;
  rows.reserve(chunks.size());
  for (const auto& row : chunks) rows.push_back(BuildChunk(fbb, row));
  const auto vector = fbb.CreateVector(rows);
  return MakeReply(wire::ResponseBody::ChunkList, wire::CreateChunkList(fbb, vector));
}

Reply ChunkReply(Builder& fbb, const Chunk& chunk) {
  return MakeReply(wire::ResponseBody::ChunkReply,
                   wire::CreateChunkReply(fbb, BuildChunk(fbb, chunk)));
}

Result<Reply> AddChunks(Call& call, const wire::AddChunksRequest& in) {
  MNEMO_ASSIGN_OR_RETURN(const std::vector<NewChunk> chunks, ChunksFromWire(in.chunks()));
  MNEMO_ASSIGN_OR_RETURN(const std::vector<Chunk> added,
                         call.engine.AddChunks(call.user_id, chunks));
  return ChunkListReply(call.fbb, added);
}

Result<Reply> ListChunks(Call& call, const wire::ListChunksRequest& in) {
  MNEMO_ASSIGN_OR_RETURN(const Uuid document_id, RequireId(in.document_id(), "document_id"));
  ChunkListOptions options;
  options.skip = in.skip();
  options.limit = in.limit();
  options.cursor = StringOf(in.cursor());
  options.include_deleted = in.include_deleted();
  MNEMO_ASSIGN_OR_RETURN(const ChunkPage page,
                         call.engine.ListChunks(call.user_id, document_id, options));
  std::vector<flatbuffers::Offset<wire::Chunk>> rows;
  rows.reserve(page.items.size());
  for (const auto& row : page.items) rows.push_back(BuildChunk(call.fbb, row));
  const auto vector = call.fbb.CreateVector(rows);
  const auto cursor = call.fbb.CreateString(page.next_cursor);
  return MakeReply(wire::ResponseBody::ChunkPage,
                   wire::CreateChunkPage(call.fbb, vector, page.total, cursor));
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
  MNEMO_ASSIGN_OR_RETURN(const std::vector<SearchResponse> responses,
                         call.engine.SearchBatch(call.user_id, queries));
  std::vector<flatbuffers::Offset<wire::SearchReply>> results;
  results.reserve(responses.size());
  for (const auto& response : responses) results.push_back(BuildSearchReply(call.fbb, response));
  const auto vector = call.fbb.CreateVector(results);
  return MakeReply(wire::ResponseBody::SearchBatchReply,
                   wire::CreateSearchBatchReply(call.fbb, vector));
}

}  // namespace

Result<Reply> Search(Call& call) {
  const wire::Request& request = call.request;
  switch (request.body_type()) {
    case B::AddChunksRequest: return AddChunks(call, *request.body_as_AddChunksRequest());
    case B::GetChunkRequest: {
      const auto* in = request.body_as_GetChunkRequest();
      MNEMO_ASSIGN_OR_RETURN(const Uuid id, RequireId(in->id(), "id"));
      MNEMO_ASSIGN_OR_RETURN(const Chunk chunk,
                             call.engine.GetChunk(call.user_id, id, in->include_deleted()));
      return ChunkReply(call.fbb, chunk);
    }
    case B::ListChunksRequest: return ListChunks(call, *request.body_as_ListChunksRequest());
    case B::DeleteChunkRequest: {
      const auto* in = request.body_as_DeleteChunkRequest();
      MNEMO_ASSIGN_OR_RETURN(const Uuid id, RequireId(in->id(), "id"));
      MNEMO_ASSIGN_OR_RETURN(const Chunk chunk,
                             in->hard() ? call.engine.DeleteChunk(call.user_id, id)
                                        : call.engine.SoftDeleteChunk(call.user_id, id));
      return ChunkReply(call.fbb, chunk);
    }
    case B::RestoreChunkRequest: {
      MNEMO_ASSIGN_OR_RETURN(const Uuid id,
                             RequireId(request.body_as_RestoreChunkRequest()->id(), "id"));
      MNEMO_ASSIGN_OR_RETURN(const Chunk chunk, call.engine.RestoreChunk(call.user_id, id));
      return ChunkReply(call.fbb, chunk);
    }
    case B::ReplaceChunksRequest: {
      const auto* in = request.body_as_ReplaceChunksRequest();
      MNEMO_ASSIGN_OR_RETURN(const Uuid document_id, RequireId(in->document_id(), "document_id"));
      MNEMO_ASSIGN_OR_RETURN(const std::vector<NewChunk> chunks, ChunksFromWire(in->chunks()));
      MNEMO_ASSIGN_OR_RETURN(const std::vector<Chunk> added,
                             call.engine.ReplaceChunks(call.user_id, document_id, chunks));
      return ChunkListReply(call.fbb, added);
    }
    case B::SearchRequest: {
      MNEMO_ASSIGN_OR_RETURN(const SearchRequest query,
                             FromWire(request.body_as_SearchRequest()->query(), "query"));
      MNEMO_ASSIGN_OR_RETURN(const SearchResponse response,
                             call.engine.Search(call.user_id, query));
      return MakeReply(wire::ResponseBody::SearchReply, BuildSearchReply(call.fbb, response));
    }
    case B::SearchBatchRequest: return SearchBatch(call, *request.body_as_SearchBatchRequest());
    case B::SearchTextRequest:
    case B::SearchHybridRequest: return TextSearch(call);
    case B::AssembleContextRequest: return Context(call);
    case B::SearchMessagesRequest: return MessageSearch(call);
    default: return Status::Internal("not a search request");
  }
}

}  // namespace mnemo::server::dispatch
