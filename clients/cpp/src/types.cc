#include "mnemo/client/batch.h"
#include "mnemo/client/error.h"
#include "mnemo/client/types.h"

namespace mnemo::client {

// ---- roles ------------------------------------------------------------------------------------

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kUser: return "user";
    case Role::kAssistant: return "assistant";
    case Role::kSystem: return "system";
    case Role::kTool: return "tool";
  }
  return "user";
}

std::optional<Role> ParseRole(std::string_view name) {
  for (Role role : {Role::kUser, Role::kAssistant, Role::kSystem, Role::kTool}) {
    if (RoleName(role) == name) return role;
  }
  return std::nullopt;
}

// ---- errors -----------------------------------------------------------------------------------

std::string Error::ToString() const {
  std::string out(CodeName(code));
  if (!message.empty()) out += ": " + message;
  if (!field.empty()) out += " [" + field + "]";
  return out;
}

// ---- Batch ------------------------------------------------------------------------------------

Batch& Batch::CreateConversation(NewConversation conversation) {
  ops_.emplace_back(CreateConversationOp{std::move(conversation)});
  return *this;
}
Batch& Batch::UpsertConversation(NewConversation conversation) {
  ops_.emplace_back(UpsertConversationOp{std::move(conversation)});
  return *this;
}
Batch& Batch::AppendMessage(NewMessage message) {
  ops_.emplace_back(AppendMessageOp{std::move(message)});
  return *this;
}
Batch& Batch::UpsertMessage(NewMessage message) {
  ops_.emplace_back(UpsertMessageOp{std::move(message)});
  return *this;
}
Batch& Batch::CreateDocument(NewDocument document) {
  ops_.emplace_back(CreateDocumentOp{std::move(document)});
  return *this;
}
Batch& Batch::AddChunk(NewChunk chunk) {
  ops_.emplace_back(AddChunkOp{std::move(chunk)});
  return *this;
}

}  // namespace mnemo::client
