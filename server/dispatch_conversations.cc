// Conversation requests: create/upsert/get/list/search/stats/update/delete/restore.
#include "server/dispatch_internal.h"
#include "server/wire_in.h"

namespace mnemo::server::dispatch {
namespace {

using B = wire::RequestBody;

Reply ConversationReply(Builder& fbb, const Conversation& row) {
  return MakeReply(wire::ResponseBody::ConversationReply,
                   wire::CreateConversationReply(fbb, BuildConversation(fbb, row)));
}

Reply PageReply(Builder& fbb, const ConversationPage& page) {
  std::vector<flatbuffers::Offset<wire::Conversation>> items;
  items.reserve(page.items.size());
  for (const auto& row : page.items) items.push_back(BuildConversation(fbb, row));
  const auto vector = fbb.CreateVector(items);
  const auto cursor = fbb.CreateString(page.next_cursor);
  return MakeReply(wire::ResponseBody::ConversationPage,
                   wire::CreateConversationPage(fbb, vector, page.total, cursor));
}

Result<Reply> List(Call& call, const wire::ListConversationsRequest& in) {
  ConversationListOptions options;
  options.order = in.order() == wire::ConversationOrder::updated_desc
                      ? ConversationOrder::kUpdatedDesc
                      : ConversationOrder::kCreatedDesc;
  options.skip = in.skip();
  options.limit = in.limit();
  options.cursor = StringOf(in.cursor());
  options.include_deleted = in.include_deleted();
  MNEMO_ASSIGN_OR_RETURN(options.filter, FromWire(in.filter()));
  if (!options.filter.title_contains && in.title_contains() != nullptr) {
    options.filter.title_contains = in.title_contains()->str();
  }
  MNEMO_ASSIGN_OR_RETURN(const ConversationPage page,
                         call.engine.ListConversations(call.user_id, options));
  return PageReply(call.fbb, page);
}

Result<Reply> Update(Call& call, const wire::UpdateConversationRequest& in) {
  MNEMO_ASSIGN_OR_RETURN(const Uuid id, RequireId(in.id(), "id"));
  ConversationUpdate update;
  update.title = OptionalString(in.title());
  update.summary = OptionalString(in.summary());
  update.model = OptionalString(in.model());
  update.system_prompt = OptionalString(in.system_prompt());
  update.metadata = OptionalString(in.metadata());
  MNEMO_ASSIGN_OR_RETURN(const Conversation row,
                         call.engine.UpdateConversation(call.user_id, id, update));
  return ConversationReply(call.fbb, row);
}

Result<Reply> Delete(Call& call, const wire::DeleteConversationRequest& in) {
  MNEMO_ASSIGN_OR_RETURN(const Uuid id, RequireId(in.id(), "id"));
  if (in.hard()) {
    MNEMO_RETURN_IF_ERROR(call.engine.HardDeleteConversation(call.user_id, id));
    return DoneReply(call.fbb);
  }
  MNEMO_ASSIGN_OR_RETURN(const Conversation row,
                         call.engine.SoftDeleteConversation(call.user_id, id));
  return ConversationReply(call.fbb, row);
}

}  // namespace

Result<Reply> Conversations(Call& call) {
  const wire::Request& request = call.request;
  Builder& fbb = call.fbb;
  switch (request.body_type()) {
    case B::CreateConversationRequest: {
      MNEMO_ASSIGN_OR_RETURN(
          const NewConversation input,
          FromWire(request.body_as_CreateConversationRequest()->conversation(), "conversation"));
      MNEMO_ASSIGN_OR_RETURN(const Conversation row,
                             call.engine.CreateConversation(call.user_id, input));
      return ConversationReply(fbb, row);
    }
    case B::UpsertConversationRequest: {
      MNEMO_ASSIGN_OR_RETURN(
          const NewConversation input,
          FromWire(request.body_as_UpsertConversationRequest()->conversation(), "conversation"));
      MNEMO_ASSIGN_OR_RETURN(const Conversation row,
                             call.engine.UpsertConversation(call.user_id, input));
      return ConversationReply(fbb, row);
    }
    case B::GetConversationRequest: {
      const auto* in = request.body_as_GetConversationRequest();
      MNEMO_ASSIGN_OR_RETURN(const Uuid id, RequireId(in->id(), "id"));
      MNEMO_ASSIGN_OR_RETURN(const Conversation row,
                             call.engine.GetConversation(call.user_id, id, in->include_deleted()));
      return ConversationReply(fbb, row);
    }
    case B::ListConversationsRequest:
      return List(call, *request.body_as_ListConversationsRequest());
    case B::GetUserStatsRequest: {
      MNEMO_ASSIGN_OR_RETURN(const UserStats stats, call.engine.GetUserStats(call.user_id));
      return MakeReply(wire::ResponseBody::UserStats,
                       wire::CreateUserStats(fbb, stats.total, stats.active, stats.deleted,
                                             stats.last_activity));
    }
    case B::UpdateConversationRequest:
      return Update(call, *request.body_as_UpdateConversationRequest());
    case B::DeleteConversationRequest:
      return Delete(call, *request.body_as_DeleteConversationRequest());
    case B::RestoreConversationRequest: {
      MNEMO_ASSIGN_OR_RETURN(const Uuid id,
                             RequireId(request.body_as_RestoreConversationRequest()->id(), "id"));
      MNEMO_ASSIGN_OR_RETURN(const Conversation row,
                             call.engine.UndeleteConversation(call.user_id, id));
      return ConversationReply(fbb, row);
    }
    case B::CountConversationsRequest: {
      const auto* in = request.body_as_CountConversationsRequest();
      MNEMO_ASSIGN_OR_RETURN(const ConversationFilter filter, FromWire(in->filter()));
      MNEMO_ASSIGN_OR_RETURN(const int64_t count, call.engine.CountConversations(
                                                      call.user_id, filter, in->include_deleted(),
                                                      in->exists_only() ? 1 : INT64_MAX));
      return MakeReply(wire::ResponseBody::CountReply, wire::CreateCountReply(fbb, count));
    }
    default: return Status::Internal("not a conversation request");
  }
}

}  // namespace mnemo::server::dispatch
