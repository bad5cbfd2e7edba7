#include "server/op_table.h"

namespace mnemo::server {

OpGroup GroupOf(wire::RequestBody body) {
  using B = wire::RequestBody;
  switch (body) {
    case B::Hello: return OpGroup::kHello;
    case B::CreateConversationRequest:
    case B::UpsertConversationRequest:
    case B::GetConversationRequest:
    case B::ListConversationsRequest:
    case B::GetUserStatsRequest:
    case B::UpdateConversationRequest:
    case B::DeleteConversationRequest:
    case B::RestoreConversationRequest:
    case B::CountConversationsRequest: return OpGroup::kConversations;
    case B::AppendMessageRequest:
    case B::UpsertMessageRequest:
    case B::GetMessageRequest:
    case B::ListMessagesRequest:
    case B::LastMessagesRequest:
    case B::LastMessageByRoleRequest:
    case B::SetToolResultsRequest:
    case B::GetTokenStatsRequest:
    case B::DeleteMessagesRequest:
    case B::CountMessagesRequest:
    case B::UpdateMessageRequest:
    case B::DeleteMessageRequest: return OpGroup::kMessages;
    case B::CreateDocumentRequest:
    case B::GetDocumentRequest:
    case B::ListDocumentsRequest:
    case B::CountDocumentsRequest:
    case B::DeleteDocumentRequest:
    case B::RestoreDocumentRequest:
    case B::CountMatchingDocumentsRequest:
    case B::UpdateDocumentRequest: return OpGroup::kDocuments;
    case B::AddChunksRequest:
    case B::SearchRequest:
    case B::SearchBatchRequest:
    case B::SearchTextRequest:
    case B::SearchHybridRequest:
    case B::GetChunkRequest:
    case B::ListChunksRequest:
    case B::DeleteChunkRequest:
    case B::RestoreChunkRequest:
    case B::ReplaceChunksRequest:
    case B::AssembleContextRequest:
    case B::SearchMessagesRequest: return OpGroup::kSearch;
    case B::ApplyBatchRequest: return OpGroup::kBatch;
    case B::GetStatsRequest:
    case B::ListPartitionsRequest:
    case B::RebuildPartitionRequest:
    case B::ArchivePartitionRequest:
    case B::DropPartitionRequest:
    case B::AttachArchiveRequest:
    case B::CreateBackupRequest:
    case B::ApplyRetentionRequest:
    case B::OpenSnapshotRequest:
    case B::ReadSnapshotRequest:
    case B::CloseSnapshotRequest:
    case B::FollowRequest: return OpGroup::kAdmin;
    case B::NONE: return OpGroup::kUnknown;
  }
  return OpGroup::kUnknown;  // a value beyond the known ones (a newer client)
}

namespace {

bool SmallPage(int64_t skip, int64_t limit) {
  return skip >= 0 && limit >= 0 && skip <= kMaxInlineRows && limit <= kMaxInlineRows - skip;
}

}  // namespace

bool RunsOnIoThread(const wire::Request& request) {
  using B = wire::RequestBody;
  switch (request.body_type()) {
    case B::GetConversationRequest:
    case B::GetUserStatsRequest:
    case B::GetMessageRequest:
    case B::GetDocumentRequest:
    case B::CountDocumentsRequest:
    case B::GetChunkRequest: return true;
    case B::ListConversationsRequest: {
      const auto* list = request.body_as_ListConversationsRequest();
      return list != nullptr && list->title_contains() == nullptr &&
             SmallPage(list->skip(), list->limit());
    }
    case B::ListDocumentsRequest: {
      const auto* list = request.body_as_ListDocumentsRequest();
      return list != nullptr && list->filename_contains() == nullptr &&
             SmallPage(list->skip(), list->limit());
    }
    case B::ListMessagesRequest: {
      const auto* list = request.body_as_ListMessagesRequest();
      return list != nullptr && list->role() == nullptr && !list->only_with_tool_calls() &&
             SmallPage(list->skip(), list->limit());
    }
    case B::LastMessagesRequest: {
      const auto* last = request.body_as_LastMessagesRequest();
      return last != nullptr && SmallPage(0, last->count());
    }
    default: return false;
  }
}

bool MayRunInline(const wire::Request& request) {
  using B = wire::RequestBody;
  switch (request.body_type()) {
    case B::SearchRequest:
    case B::SearchTextRequest:
    case B::SearchHybridRequest:
    case B::AssembleContextRequest:
    case B::SearchMessagesRequest:
    case B::CreateConversationRequest:
    case B::UpsertConversationRequest:
    case B::UpdateConversationRequest:
    case B::DeleteConversationRequest:
    case B::RestoreConversationRequest:
    case B::AppendMessageRequest:
    case B::UpsertMessageRequest:
    case B::SetToolResultsRequest:
    case B::CreateDocumentRequest:
    case B::UpdateMessageRequest:
    case B::DeleteMessageRequest:
    case B::UpdateDocumentRequest:
    case B::DeleteChunkRequest:
    case B::RestoreChunkRequest: return true;
    default: return false;
  }
}

bool IsWrite(wire::RequestBody body) {
  using B = wire::RequestBody;
  // No default: a new request kind must be classified here (-Wswitch).
  switch (body) {
    case B::CreateConversationRequest:
    case B::UpsertConversationRequest:
    case B::UpdateConversationRequest:
    case B::DeleteConversationRequest:
    case B::RestoreConversationRequest:
    case B::AppendMessageRequest:
    case B::UpsertMessageRequest:
    case B::SetToolResultsRequest:
    case B::DeleteMessagesRequest:
    case B::UpdateMessageRequest:
    case B::DeleteMessageRequest:
    case B::CreateDocumentRequest:
    case B::DeleteDocumentRequest:
    case B::RestoreDocumentRequest:
    case B::UpdateDocumentRequest:
    case B::AddChunksRequest:
    case B::DeleteChunkRequest:
    case B::RestoreChunkRequest:
    case B::ReplaceChunksRequest:
    case B::ApplyBatchRequest:
    case B::ArchivePartitionRequest:
    case B::DropPartitionRequest:
    case B::AttachArchiveRequest:
    case B::ApplyRetentionRequest: return true;
    case B::NONE:
    case B::Hello:
    case B::GetConversationRequest:
    case B::ListConversationsRequest:
    case B::GetUserStatsRequest:
    case B::CountConversationsRequest:
    case B::GetMessageRequest:
    case B::ListMessagesRequest:
    case B::LastMessagesRequest:
    case B::LastMessageByRoleRequest:
    case B::GetTokenStatsRequest:
    case B::CountMessagesRequest:
    case B::GetDocumentRequest:
    case B::ListDocumentsRequest:
    case B::CountDocumentsRequest:
    case B::CountMatchingDocumentsRequest:
    case B::GetChunkRequest:
    case B::ListChunksRequest:
    case B::SearchRequest:
    case B::SearchBatchRequest:
    case B::SearchTextRequest:
    case B::SearchHybridRequest:
    case B::AssembleContextRequest:
    case B::SearchMessagesRequest:
    case B::GetStatsRequest:
    case B::ListPartitionsRequest:
    case B::RebuildPartitionRequest:
    case B::CreateBackupRequest:
    case B::OpenSnapshotRequest:
    case B::ReadSnapshotRequest:
    case B::CloseSnapshotRequest:
    case B::FollowRequest: return false;
  }
  return false;  // a value beyond the known ones: answered VALIDATION_ERROR anyway
}

std::string_view OpName(wire::RequestBody body) {
  if (GroupOf(body) == OpGroup::kUnknown) return "unknown";
  std::string_view name = wire::EnumNameRequestBody(body);
  constexpr std::string_view kSuffix = "Request";
  if (name.ends_with(kSuffix)) name.remove_suffix(kSuffix.size());
  return name;
}

}  // namespace mnemo::server
