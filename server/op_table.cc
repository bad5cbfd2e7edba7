#include "server/op_table.h"

namespace mnemo::server {

OpGroup GroupOf(wire::RequestBody body) {
  using B = wire::RequestBody;
  switch (body) {
    case B::Hello:
      return OpGroup::kHello;
    case B::CreateConversationRequest:
    case B::UpsertConversationRequest:
    case B::GetConversationRequest:
    case B::ListConversationsRequest:
    case B::GetUserStatsRequest:
    case B::UpdateConversationRequest:
    case B::DeleteConversationRequest:
    case B::RestoreConversationRequest:
      return OpGroup::kConversations;
    case B::AppendMessageRequest:
    case B::UpsertMessageRequest:
    case B::GetMessageRequest:
    case B::ListMessagesRequest:
    case B::LastMessagesRequest:
    case B::LastMessageByRoleRequest:
    case B::SetToolResultsRequest:
    case B::GetTokenStatsRequest:
    case B::DeleteMessagesRequest:
      return OpGroup::kMessages;
    case B::CreateDocumentRequest:
    case B::GetDocumentRequest:
    case B::ListDocumentsRequest:
    case B::CountDocumentsRequest:
    case B::DeleteDocumentRequest:
    case B::RestoreDocumentRequest:
      return OpGroup::kDocuments;
    case B::AddChunksRequest:
    case B::SearchRequest:
    case B::SearchBatchRequest:
      return OpGroup::kSearch;
    case B::ApplyBatchRequest:
      return OpGroup::kBatch;
    case B::GetStatsRequest:
    case B::ListPartitionsRequest:
    case B::RebuildPartitionRequest:
    case B::ArchivePartitionRequest:
    case B::DropPartitionRequest:
    case B::AttachArchiveRequest:
    case B::CreateBackupRequest:
      return OpGroup::kAdmin;
    case B::NONE:
      return OpGroup::kUnknown;
  }
  return OpGroup::kUnknown;  // a value beyond the known ones (a newer client)
}

bool IsPointRead(wire::RequestBody body) {
  using B = wire::RequestBody;
  switch (body) {
    case B::GetConversationRequest:
    case B::GetUserStatsRequest:
    case B::GetMessageRequest:
    case B::GetDocumentRequest:
    case B::CountDocumentsRequest:
      return true;
    default:
      return false;
  }
}

std::string_view OpName(wire::RequestBody body) {
  if (GroupOf(body) == OpGroup::kUnknown) return "unknown";
  std::string_view name = wire::EnumNameRequestBody(body);
  constexpr std::string_view kSuffix = "Request";
  if (name.ends_with(kSuffix)) name.remove_suffix(kSuffix.size());
  return name;
}

}  // namespace mnemo::server
