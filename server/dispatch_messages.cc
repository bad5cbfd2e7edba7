// Message requests: append/upsert/get/list/last/last-by-role/tool results/token stats/delete.
#include "server/dispatch_internal.h"
#include "server/wire_in.h"

namespace mnemo::server::dispatch {
namespace {

using B = wire::RequestBody;

Reply MessageReply(Builder& fbb, const std::optional<Message>& row) {
  const auto message = row ? BuildMessage(fbb, *row) : flatbuffers::Offset<wire::Message>();
  return MakeReply(wire::ResponseBody::MessageReply, wire::CreateMessageReply(fbb, message));
}

Reply ListReply(Builder& fbb, const std::vector<Message>& rows, int64_t total,
                const std::string& next_cursor) {
  std::vector<flatbuffers::Offset<wire::Message>> items;
  items.reserve(rows.size());
  for (const auto& row : rows) items.push_back(BuildMessage(fbb, row));
  const auto vector = fbb.CreateVector(items);
  const auto cursor = fbb.CreateString(next_cursor);
  return MakeReply(wire::ResponseBody::MessageList,
                   wire::CreateMessageList(fbb, vector, total, cursor));
}

Result<Reply> List(Call& call, const wire::ListMessagesRequest& in) {
  MNEMO_ASSIGN_OR_RETURN(const Uuid conversation_id,
                         RequireId(in.conversation_id(), "conversation_id"));
  MessageQuery query;
  query.order =
      in.order() == wire::SortOrder::descending ? SortOrder::kDescending : SortOrder::kAscending;
  query.skip = in.skip();
  query.limit = in.limit();
  query.cursor = StringOf(in.cursor());
  if (in.role() != nullptr) {
    MNEMO_ASSIGN_OR_RETURN(query.role, RoleFromString(in.role()->str()));
  }
  query.only_with_tool_calls = in.only_with_tool_calls();
  MNEMO_RETURN_IF_ERROR(ApplyFilter(in.filter(), &query));
  MNEMO_ASSIGN_OR_RETURN(const MessagePage page,
                         call.engine.ListMessages(call.user_id, conversation_id, query));
  return ListReply(call.fbb, page.items, page.total, page.next_cursor);
}

Reply TokenStatsReply(Builder& fbb, const TokenStats& stats) {
  std::vector<flatbuffers::Offset<wire::RoleTokens>> per_role;
  for (int i = 0; i < kRoleCount; ++i) {
    per_role.push_back(wire::CreateRoleTokens(fbb, ToWireRole(static_cast<Role>(i)),
                                              stats.per_role[i].message_count,
                                              stats.per_role[i].total_tokens));
  }
  const auto roles = fbb.CreateVector(per_role);
  return MakeReply(wire::ResponseBody::TokenStats,
                   wire::CreateTokenStats(fbb, stats.message_count, stats.messages_with_tokens,
                                          stats.total_tokens, stats.average_tokens, roles));
}

}  // namespace

Result<Reply> Messages(Call& call) {
  const wire::Request& request = call.request;
  Builder& fbb = call.fbb;
  switch (request.body_type()) {
    case B::AppendMessageRequest: {
      MNEMO_ASSIGN_OR_RETURN(
          const NewMessage input,
          FromWire(request.body_as_AppendMessageRequest()->message(), "message"));
      MNEMO_ASSIGN_OR_RETURN(const Message row, call.engine.AppendMessage(call.user_id, input));
      return MessageReply(fbb, row);
    }
    case B::UpsertMessageRequest: {
      MNEMO_ASSIGN_OR_RETURN(
          const NewMessage input,
          FromWire(request.body_as_UpsertMessageRequest()->message(), "message"));
      MNEMO_ASSIGN_OR_RETURN(const Message row, call.engine.UpsertMessage(call.user_id, input));
      return MessageReply(fbb, row);
    }
    case B::GetMessageRequest: {
      MNEMO_ASSIGN_OR_RETURN(const Uuid id,
                             RequireId(request.body_as_GetMessageRequest()->id(), "id"));
      MNEMO_ASSIGN_OR_RETURN(const Message row, call.engine.GetMessage(call.user_id, id));
      return MessageReply(fbb, row);
    }
    case B::ListMessagesRequest: return List(call, *request.body_as_ListMessagesRequest());
    case B::LastMessagesRequest: {
      const auto* in = request.body_as_LastMessagesRequest();
      MNEMO_ASSIGN_OR_RETURN(const Uuid conversation_id,
                             RequireId(in->conversation_id(), "conversation_id"));
      MNEMO_ASSIGN_OR_RETURN(const std::vector<Message> rows,
                             call.engine.LastMessages(call.user_id, conversation_id, in->count()));
      return ListReply(fbb, rows, static_cast<int64_t>(rows.size()), "");
    }
    case B::LastMessageByRoleRequest: {
      const auto* in = request.body_as_LastMessageByRoleRequest();
      MNEMO_ASSIGN_OR_RETURN(const Uuid conversation_id,
                             RequireId(in->conversation_id(), "conversation_id"));
      MNEMO_ASSIGN_OR_RETURN(const Role role, RoleFromString(StringOf(in->role())));
      MNEMO_ASSIGN_OR_RETURN(const std::optional<Message> row,
                             call.engine.LastMessageByRole(call.user_id, conversation_id, role));
      return MessageReply(fbb, row);
    }
    case B::SetToolResultsRequest: {
      const auto* in = request.body_as_SetToolResultsRequest();
      MNEMO_ASSIGN_OR_RETURN(const Uuid id, RequireId(in->message_id(), "message_id"));
      if (in->tool_results() == nullptr)
        return Status::ValidationError("tool_results", "tool_results is required");
      MNEMO_ASSIGN_OR_RETURN(
          const Message row,
          call.engine.SetToolResults(call.user_id, id, in->tool_results()->string_view()));
      return MessageReply(fbb, row);
    }
    case B::GetTokenStatsRequest: {
      MNEMO_ASSIGN_OR_RETURN(
          const Uuid conversation_id,
          RequireId(request.body_as_GetTokenStatsRequest()->conversation_id(), "conversation_id"));
      MNEMO_ASSIGN_OR_RETURN(const TokenStats stats,
                             call.engine.GetTokenStats(call.user_id, conversation_id));
      return TokenStatsReply(fbb, stats);
    }
    case B::DeleteMessagesRequest: {
      MNEMO_ASSIGN_OR_RETURN(
          const Uuid conversation_id,
          RequireId(request.body_as_DeleteMessagesRequest()->conversation_id(), "conversation_id"));
      MNEMO_ASSIGN_OR_RETURN(const int64_t deleted,
                             call.engine.DeleteAllMessages(call.user_id, conversation_id));
      return MakeReply(wire::ResponseBody::CountReply, wire::CreateCountReply(fbb, deleted));
    }
    case B::CountMessagesRequest: {
      const auto* in = request.body_as_CountMessagesRequest();
      MNEMO_ASSIGN_OR_RETURN(const Uuid conversation_id,
                             RequireId(in->conversation_id(), "conversation_id"));
      MessageQuery query;
      MNEMO_RETURN_IF_ERROR(ApplyFilter(in->filter(), &query));
      MNEMO_ASSIGN_OR_RETURN(const int64_t count,
                             call.engine.CountMessages(call.user_id, conversation_id, query,
                                                       in->exists_only() ? 1 : INT64_MAX));
      return MakeReply(wire::ResponseBody::CountReply, wire::CreateCountReply(fbb, count));
    }
    case B::UpdateMessageRequest: {
      const auto* in = request.body_as_UpdateMessageRequest();
      MNEMO_ASSIGN_OR_RETURN(const Uuid id, RequireId(in->id(), "id"));
      MNEMO_ASSIGN_OR_RETURN(const Message row,
                             call.engine.UpdateMessage(call.user_id, id, FromWire(*in)));
      return MessageReply(fbb, row);
    }
    case B::DeleteMessageRequest: {
      MNEMO_ASSIGN_OR_RETURN(const Uuid id,
                             RequireId(request.body_as_DeleteMessageRequest()->id(), "id"));
      MNEMO_ASSIGN_OR_RETURN(const Message row, call.engine.DeleteMessage(call.user_id, id));
      return MessageReply(fbb, row);
    }
    default: return Status::Internal("not a message request");
  }
}

}  // namespace mnemo::server::dispatch
