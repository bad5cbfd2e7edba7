// Document requests: create/get/list/filename search/count/delete/restore.
#include "server/dispatch_internal.h"
#include "server/wire_in.h"

namespace mnemo::server::dispatch {
namespace {

using B = wire::RequestBody;

Reply DocumentReply(Builder& fbb, const Document& row) {
  return MakeReply(wire::ResponseBody::DocumentReply,
                   wire::CreateDocumentReply(fbb, BuildDocument(fbb, row)));
}

Result<Reply> List(Call& call, const wire::ListDocumentsRequest& in) {
  DocumentListOptions options;
  options.skip = in.skip();
  options.limit = in.limit();
  options.cursor = StringOf(in.cursor());
  options.include_deleted = in.include_deleted();
  MNEMO_ASSIGN_OR_RETURN(options.filter, FromWire(in.filter()));
  if (!options.filter.filename_contains && in.filename_contains() != nullptr) {
    options.filter.filename_contains = in.filename_contains()->str();
  }
  auto page = call.engine.ListDocuments(call.user_id, options);
  if (!page.ok()) return page.status();
  std::vector<flatbuffers::Offset<wire::Document>> items;
  items.reserve(page->items.size());
  for (const auto& row : page->items) items.push_back(BuildDocument(call.fbb, row));
  const auto vector = call.fbb.CreateVector(items);
  const auto cursor = call.fbb.CreateString(page->next_cursor);
  return MakeReply(wire::ResponseBody::DocumentPage,
                   wire::CreateDocumentPage(call.fbb, vector, page->total, cursor));
}

Result<Reply> Delete(Call& call, const wire::DeleteDocumentRequest& in) {
  MNEMO_ASSIGN_OR_RETURN(const Uuid id, RequireId(in.id(), "id"));
  if (in.hard()) {
    MNEMO_RETURN_IF_ERROR(call.engine.HardDeleteDocument(call.user_id, id));
    return DoneReply(call.fbb);
  }
  MNEMO_ASSIGN_OR_RETURN(const Document row, call.engine.SoftDeleteDocument(call.user_id, id));
  return DocumentReply(call.fbb, row);
}

}  // namespace

Result<Reply> Documents(Call& call) {
  const wire::Request& request = call.request;
  Builder& fbb = call.fbb;
  switch (request.body_type()) {
    case B::CreateDocumentRequest: {
      MNEMO_ASSIGN_OR_RETURN(
          const NewDocument input,
          FromWire(request.body_as_CreateDocumentRequest()->document(), "document"));
      MNEMO_ASSIGN_OR_RETURN(const Document row, call.engine.CreateDocument(call.user_id, input));
      return DocumentReply(fbb, row);
    }
    case B::GetDocumentRequest: {
      const auto* in = request.body_as_GetDocumentRequest();
      MNEMO_ASSIGN_OR_RETURN(const Uuid id, RequireId(in->id(), "id"));
      MNEMO_ASSIGN_OR_RETURN(const Document row,
                             call.engine.GetDocument(call.user_id, id, in->include_deleted()));
      return DocumentReply(fbb, row);
    }
    case B::ListDocumentsRequest: return List(call, *request.body_as_ListDocumentsRequest());
    case B::CountDocumentsRequest: {
      MNEMO_ASSIGN_OR_RETURN(const DocumentCounts counts, call.engine.CountDocuments(call.user_id));
      return MakeReply(
          wire::ResponseBody::DocumentCounts,
          wire::CreateDocumentCounts(fbb, counts.total, counts.active, counts.deleted));
    }
    case B::DeleteDocumentRequest: return Delete(call, *request.body_as_DeleteDocumentRequest());
    case B::RestoreDocumentRequest: {
      MNEMO_ASSIGN_OR_RETURN(const Uuid id,
                             RequireId(request.body_as_RestoreDocumentRequest()->id(), "id"));
      MNEMO_ASSIGN_OR_RETURN(const Document row, call.engine.UndeleteDocument(call.user_id, id));
      return DocumentReply(fbb, row);
    }
    case B::CountMatchingDocumentsRequest: {
      const auto* in = request.body_as_CountMatchingDocumentsRequest();
      MNEMO_ASSIGN_OR_RETURN(const DocumentFilter filter, FromWire(in->filter()));
      MNEMO_ASSIGN_OR_RETURN(const int64_t count,
                             call.engine.CountDocuments(call.user_id, filter, in->include_deleted(),
                                                        in->exists_only() ? 1 : INT64_MAX));
      return MakeReply(wire::ResponseBody::CountReply, wire::CreateCountReply(fbb, count));
    }
    case B::UpdateDocumentRequest: {
      const auto* in = request.body_as_UpdateDocumentRequest();
      MNEMO_ASSIGN_OR_RETURN(const Uuid id, RequireId(in->id(), "id"));
      MNEMO_ASSIGN_OR_RETURN(const Document row,
                             call.engine.UpdateDocument(call.user_id, id, FromWire(*in)));
      return DocumentReply(fbb, row);
    }
    default: return Status::Internal("not a document request");
  }
}

}  // namespace mnemo::server::dispatch
